"""Onboarding mutations: applications, documents, agreements, review, probation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from linkstar.core.identity.models import Account
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.storage import LocalDirectoryStore
from linkstar.core.kernel.vocabulary import (
    Role,
)
from linkstar.core.onboarding import admission, evidence, profiles, review, submission
from linkstar.core.onboarding import applications as onboarding
from linkstar.core.onboarding.applications import Action as Step
from linkstar.core.onboarding.models import AgreementSignature, Document
from linkstar.core.standing import probation
from linkstar.schema.billing.approval import charge_on_approval
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.onboarding.inputs import (
    MAX_UPLOAD_BYTES,
    UNSAFE_IN_FILENAME,
    DocumentDecision,
    InterviewChannel,
    InterviewOutcome,
    ProbationDecision,
)
from linkstar.schema.onboarding.types import ApplicationType, DocumentType, ProviderBarType
from linkstar.schema.providers.types import CategoryProfile, profile_node
from linkstar.schema.resolving import (
    application_of,
    parse_id,
    require_provider_member,
    require_reviewer,
    write,
)


@strawberry.type
class OnboardingMutation:
    @strawberry.mutation(description="Start a draft application for a category.")
    async def start_application(self, info: Ctx, category: str) -> ApplicationType:
        require_provider_member(info)
        context = ctx(info)
        contribution = context.registry.category(category)
        async with write(info) as session:
            application = await admission.start_application(
                session, context.viewer, category, contribution.onboarding.reapply_cooldown_days
            )
        return ApplicationType.of(application)

    @strawberry.mutation(
        description="Lift the bar a veto put on a provider (reviewers), with the reason; "
        "recorded on the timeline."
    )
    async def lift_provider_bar(
        self, info: Ctx, provider: strawberry.ID, reason: str
    ) -> ProviderBarType:
        require_reviewer(info)
        async with write(info) as session:
            provider_id = parse_id(provider, "Provider")
            bar = await admission.active_bar(session, provider_id) or await admission.latest_bar(
                session, provider_id
            )
            if bar is None:
                raise NotFound("the provider has no bar")
            await admission.lift_bar(session, bar, ctx(info).viewer, reason)
        return ProviderBarType.of(bar)

    @strawberry.mutation(
        description="Fill in (or replace) your category profile; validated by the category."
    )
    async def save_category_profile(self, info: Ctx, category: str, data: JSON) -> CategoryProfile:
        provider_id = require_provider_member(info)
        context = ctx(info)
        spec = context.registry.category(category).profile
        async with write(info) as session:
            row = await profiles.save_profile(
                session, context.viewer, provider_id, category, spec, data
            )
        node = profile_node(context, row)
        assert node is not None
        return node

    @strawberry.mutation(
        description="Upload a document for an application (GraphQL multipart request)."
    )
    async def upload_document(
        self,
        info: Ctx,
        application: strawberry.ID,
        requirement: str,
        file: Upload,
        expires_on: date | None = None,
    ) -> DocumentType:
        require_provider_member(info)
        context = ctx(info)
        data = await file.read(MAX_UPLOAD_BYTES + 1)  # type: ignore[attr-defined]
        filename = UNSAFE_IN_FILENAME.sub("_", getattr(file, "filename", None) or "upload")[:200]
        async with write(info) as session:
            app = await application_of(session, info, application)
            document = await evidence.upload_document(
                session,
                context.viewer,
                app,
                context.registry.category(app.category_key).documents,
                requirement,
                filename,
                data,
                expires_on,
                LocalDirectoryStore(context.settings.storage_dir),
            )
        return DocumentType.of(document)

    @strawberry.mutation(
        description="Sign an agreement: echo the version and SHA-256 of the exact text you read."
    )
    async def sign_agreement(
        self, info: Ctx, application: strawberry.ID, agreement: str, version: str, text_sha256: str
    ) -> ApplicationType:
        require_provider_member(info)
        context = ctx(info)
        async with write(info) as session:
            app = await application_of(session, info, application)
            policy = context.registry.category(app.category_key).onboarding
            template = next((a for a in policy.agreements if a.key == agreement), None)
            if template is None:
                raise NotFound(f"no agreement {agreement!r} for {app.category_key}")
            if version != template.version or text_sha256 != template.sha256:
                raise InvalidInput(
                    f"{template.title}: the current text is version {template.version} "
                    f"(sha256 {template.sha256}); sign exactly that",
                    code="AGREEMENT_VERSION_MISMATCH",
                )
            session.add(
                AgreementSignature(
                    provider_id=app.provider_id,
                    application_id=app.id,
                    agreement_key=agreement,
                    version=version,
                    text_sha256=text_sha256,
                    signer_account_id=context.viewer.account_id,
                )
            )
            onboarding.timeline(
                session,
                app,
                app.provider_id,
                context.viewer,
                "agreement.signed",
                {"agreement": agreement, "version": version, "sha256": text_sha256},
            )
        return ApplicationType.of(app)

    @strawberry.mutation(
        description="Submit for review; refused with the full checklist if anything is missing."
    )
    async def submit_application(self, info: Ctx, application: strawberry.ID) -> ApplicationType:
        context = ctx(info)
        async with write(info) as session:
            app = await application_of(session, info, application)
            contribution = context.registry.category(app.category_key)
            await submission.submit(session, context.viewer, app, contribution)
        return ApplicationType.of(app)

    @strawberry.mutation(description="Withdraw your application.")
    async def withdraw_application(
        self, info: Ctx, application: strawberry.ID, reason: str
    ) -> ApplicationType:
        async with write(info) as session:
            app = await application_of(session, info, application)
            await submission.withdraw(session, ctx(info).viewer, app, reason)
        return ApplicationType.of(app)

    @strawberry.mutation(
        description="Pick up a submitted application for review (you become its reviewer)."
    )
    async def start_review(self, info: Ctx, application: strawberry.ID) -> ApplicationType:
        require_reviewer(info)
        async with write(info) as session:
            app = await application_of(session, info, application)
            await review.start_review(session, ctx(info).viewer, app)
        return ApplicationType.of(app)

    @strawberry.mutation(
        description="Assign an application to a reviewer: admins (re)assign; a reviewer takes an "
        "unassigned one. Only the assignee reviews and decides it."
    )
    async def assign_reviewer(
        self,
        info: Ctx,
        application: strawberry.ID,
        reviewer: strawberry.ID,
        expected_version: Annotated[
            int | None,
            strawberry.argument(
                description="The application version you saw: refused (CONFLICT) if it changed."
            ),
        ] = None,
    ) -> ApplicationType:
        require_reviewer(info)
        async with write(info) as session:
            app = await application_of(session, info, application)
            account = await session.get(Account, parse_id(reviewer, "Account"))
            if account is None or account.role not in (Role.REVIEWER, Role.ADMIN):
                raise InvalidInput("the assignee must be a reviewer or an admin")
            await review.assign(
                session, app, ctx(info).viewer, account.id, account.email, expected_version
            )
        return ApplicationType.of(app)

    @strawberry.mutation(
        description="Accept or reject one document, with a reason (required to reject)."
    )
    async def review_document(
        self,
        info: Ctx,
        document: strawberry.ID,
        decision: DocumentDecision,
        reason: str | None = None,
    ) -> DocumentType:
        require_reviewer(info)
        async with write(info) as session:
            row = await session.get(Document, parse_id(document, "Document"))
            if row is None:
                raise NotFound("no such document")
            accept = decision is DocumentDecision.ACCEPT
            await review.review_document(session, ctx(info).viewer, row, accept, reason)
        return DocumentType.of(row)

    @strawberry.mutation(
        description="Leave a review note on the application or one of its documents."
    )
    async def add_review_note(
        self,
        info: Ctx,
        application: strawberry.ID,
        text: str,
        document: strawberry.ID | None = None,
        visible_to_provider: bool = False,
    ) -> ApplicationType:
        require_reviewer(info)
        if not text.strip() or len(text) > 4000:
            raise InvalidInput("a note has 1 to 4000 characters")
        async with write(info) as session:
            app = await application_of(session, info, application)
            payload: dict[str, Any] = {"note": text.strip()}
            if document is not None:
                row = await session.get(Document, parse_id(document, "Document"))
                if row is None or row.application_id != app.id:
                    raise NotFound("no such document on this application")
                payload["document"] = row.requirement_key
            onboarding.timeline(
                session,
                app,
                app.provider_id,
                ctx(info).viewer,
                "review.note",
                payload,
                internal=not visible_to_provider,
            )
        return ApplicationType.of(app)

    @strawberry.mutation(
        description="Send the application back to the provider with what is needed."
    )
    async def request_information(
        self, info: Ctx, application: strawberry.ID, reason: str
    ) -> ApplicationType:
        require_reviewer(info)
        async with write(info) as session:
            app = await application_of(session, info, application)
            await onboarding.transition(
                session, app, ctx(info).viewer, Step.REQUEST_INFORMATION, reason
            )
        return ApplicationType.of(app)

    @strawberry.mutation(
        description="Schedule (or reschedule) the interview the category requires."
    )
    async def schedule_interview(
        self,
        info: Ctx,
        application: strawberry.ID,
        at: datetime,
        interviewer: strawberry.ID,
        channel: InterviewChannel,
    ) -> ApplicationType:
        require_reviewer(info)
        context = ctx(info)
        async with write(info) as session:
            app = await application_of(session, info, application)
            await review.schedule_interview(
                session,
                context.viewer,
                app,
                context.registry.category(app.category_key).category.interview_required,
                at,
                await session.get(Account, parse_id(interviewer, "Account")),
                channel.value,
            )
        return ApplicationType.of(app)

    @strawberry.mutation(description="Record the interview's outcome and notes.")
    async def record_interview(
        self, info: Ctx, application: strawberry.ID, outcome: InterviewOutcome, notes: str
    ) -> ApplicationType:
        require_reviewer(info)
        async with write(info) as session:
            app = await application_of(session, info, application)
            await review.record_interview(session, ctx(info).viewer, app, outcome.value, notes)
        return ApplicationType.of(app)

    @strawberry.mutation(
        description="Approve into probation: mandatory documents accepted, interview passed."
    )
    async def approve_application(
        self, info: Ctx, application: strawberry.ID, reason: str | None = None
    ) -> ApplicationType:
        require_reviewer(info)
        context = ctx(info)
        async with write(info) as session:
            app = await application_of(session, info, application)
            await review.approve(
                session,
                context.viewer,
                app,
                context.registry.category(app.category_key),
                reason,
            )
            await charge_on_approval(session, context.registry, app, context.viewer.account_id)
        return ApplicationType.of(app)

    @strawberry.mutation(description="Reject the application with the reason.")
    async def reject_application(
        self, info: Ctx, application: strawberry.ID, reason: str
    ) -> ApplicationType:
        require_reviewer(info)
        async with write(info) as session:
            app = await application_of(session, info, application)
            await review.reject(session, ctx(info).viewer, app, reason)
        return ApplicationType.of(app)

    @strawberry.mutation(
        description="End probation: PASS (joins the pool), FAIL (rejected) or EXTEND (once)."
    )
    async def decide_probation(
        self,
        info: Ctx,
        application: strawberry.ID,
        decision: ProbationDecision,
        reason: str,
        admin_override: Annotated[
            bool,
            strawberry.argument(
                description="Admins only: pass against the recommendation before the end."
            ),
        ] = False,
    ) -> ApplicationType:
        require_reviewer(info)
        context = ctx(info)
        step = {
            ProbationDecision.PASS: Step.PASS_PROBATION,
            ProbationDecision.FAIL: Step.FAIL_PROBATION,
            ProbationDecision.EXTEND: Step.EXTEND_PROBATION,
        }[decision]
        async with write(info) as session:
            app = await application_of(session, info, application)
            await probation.decide_probation(
                session,
                context.viewer,
                app,
                step,
                reason,
                context.registry.category(app.category_key).onboarding,
                admin_override,
            )
        return ApplicationType.of(app)
