"""Onboarding mutations: applications, documents, agreements, review, probation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from linkstar.core.identity.models import Account
from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.storage import LocalDirectoryStore
from linkstar.core.kernel.vocabulary import (
    ApplicationStatus,
    DocumentStatus,
    Role,
)
from linkstar.core.onboarding import admission, evidence, review
from linkstar.core.onboarding import applications as onboarding
from linkstar.core.onboarding.applications import Action as Step
from linkstar.core.onboarding.models import AgreementSignature, Application, Document
from linkstar.core.providers.models import CategoryProfileRow
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
        contribution = context.registry.category(category)
        if contribution.profile is None:
            raise InvalidInput(f"category {category!r} has no profile")
        normalised = contribution.profile.validate(data)
        async with write(info) as session:
            row = (
                await session.execute(
                    select(CategoryProfileRow).where(
                        CategoryProfileRow.provider_id == provider_id,
                        CategoryProfileRow.category_key == category,
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                row = CategoryProfileRow(
                    provider_id=provider_id, category_key=category, data=normalised
                )
                session.add(row)
            else:
                row.data = normalised
                row.updated_at = utcnow()
            await session.flush()
            onboarding.timeline(
                session, None, provider_id, context.viewer, "profile.saved", {"category": category}
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
            checklist = await onboarding.checklist(
                session, app, contribution, contribution.onboarding
            )
            if (
                app.status
                in (ApplicationStatus.DRAFT, ApplicationStatus.MORE_INFORMATION_REQUESTED)
                and not checklist.ready
            ):
                raise onboarding.ChecklistIncomplete(checklist.problems)
            await onboarding.transition(session, app, context.viewer, Step.SUBMIT)
            app.submitted_at = utcnow()
        return ApplicationType.of(app)

    @strawberry.mutation(description="Withdraw your application.")
    async def withdraw_application(
        self, info: Ctx, application: strawberry.ID, reason: str
    ) -> ApplicationType:
        async with write(info) as session:
            app = await application_of(session, info, application)
            await onboarding.transition(session, app, ctx(info).viewer, Step.WITHDRAW, reason)
            app.decided_at = utcnow()
        return ApplicationType.of(app)

    @strawberry.mutation(
        description="Pick up a submitted application for review (you become its reviewer)."
    )
    async def start_review(self, info: Ctx, application: strawberry.ID) -> ApplicationType:
        require_reviewer(info)
        async with write(info) as session:
            app = await application_of(session, info, application)
            await onboarding.transition(session, app, ctx(info).viewer, Step.START_REVIEW)
            app.reviewer_account_id = ctx(info).viewer.account_id
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
            if row is None or row.application_id is None:
                raise NotFound("no such document")
            app = await session.get(Application, row.application_id)
            assert app is not None
            if app.status not in (
                ApplicationStatus.IN_REVIEW,
                ApplicationStatus.INTERVIEW_SCHEDULED,
                ApplicationStatus.INTERVIEWED,
                ApplicationStatus.PROBATION,
                ApplicationStatus.ACTIVE,
            ):
                raise InvalidInput(
                    "documents are reviewed once the application is in review "
                    f"(it is {app.status.value})",
                    code="APPLICATION_NOT_IN_REVIEW",
                )
            if decision is DocumentDecision.REJECT and not (reason and reason.strip()):
                raise InvalidInput("rejecting a document needs a reason the provider can act on")
            row.status = (
                DocumentStatus.ACCEPTED
                if decision is DocumentDecision.ACCEPT
                else DocumentStatus.REJECTED
            )
            row.review_reason = reason
            row.reviewed_by = ctx(info).viewer.account_id
            row.reviewed_at = utcnow()
            app.updated_at = utcnow()  # bumps the version: a concurrent transition sees the change
            onboarding.timeline(
                session,
                app,
                app.provider_id,
                ctx(info).viewer,
                f"document.{row.status.value.lower()}",
                {"document": row.requirement_key, "sha256": row.sha256, "reason": reason},
            )
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
        if at.tzinfo is None:
            raise InvalidInput("give the interview time with its time zone offset")
        async with write(info) as session:
            app = await application_of(session, info, application)
            if not context.registry.category(app.category_key).category.interview_required:
                raise InvalidInput(
                    f"{app.category_key} requires no interview; approve or reject instead",
                    code="NO_INTERVIEW",
                )
            account = await session.get(Account, parse_id(interviewer, "Account"))
            if account is None or account.role not in (Role.REVIEWER, Role.ADMIN):
                raise InvalidInput("the interviewer must be a reviewer or an admin")
            await onboarding.transition(
                session,
                app,
                context.viewer,
                Step.SCHEDULE_INTERVIEW,
                payload={
                    "at": at.isoformat(),
                    "interviewer": f"{account.role.value.title()} {account.display_name}",
                    "channel": channel.value,
                },
            )
            session.add(review.new_interview(app, at, account.id, channel.value))
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
            await onboarding.transition(session, app, ctx(info).viewer, Step.REJECT, reason)
            app.decided_at = utcnow()
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
