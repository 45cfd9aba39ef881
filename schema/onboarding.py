"""GraphQL for onboarding: registration, applications, documents, agreements, review, probation."""

from __future__ import annotations

import enum
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from linkstar.core import identity, models, onboarding, registration
from linkstar.core.db import utcnow
from linkstar.core.errors import Conflict, InvalidInput, NotFound
from linkstar.core.onboarding import Action as Step
from linkstar.core.policy import Action, require
from linkstar.core.storage import LocalDirectoryStore, sniff_media_type
from linkstar.core.vocabulary import ApplicationStatus, DocumentStatus, Marketplace, Region, Role
from linkstar.schema.identity import AuthPayload
from linkstar.schema.pagination import Connection, PageArgs, node_int, paginate
from linkstar.schema.types import (
    ApplicationType,
    CategoryProfile,
    ChecklistType,
    Ctx,
    DocumentType,
    checklist_for,
    ctx,
    profile_node,
)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._\- ()\u4e00-\u9fff]")


@asynccontextmanager
async def write(info: Ctx) -> AsyncIterator[AsyncSession]:
    """One transaction for one mutation; a lost optimistic-lock race becomes CONFLICT."""
    try:
        async with ctx(info).session() as session, session.begin():
            yield session
    except StaleDataError:
        raise Conflict(
            "the application was changed by someone else at the same time",
            suggestion="reload it and try again",
        ) from None


def _id(value: strawberry.ID, type_name: str) -> int:
    from linkstar.schema.query import parse_global_id  # query composes this module's fields

    gid = parse_global_id(value)
    number = node_int(gid.node_id)
    if gid.type_name != type_name or number is None:
        raise InvalidInput(f"{value!r} is not a {type_name} id", code="INVALID_ID")
    return number


async def _application(
    session: AsyncSession, info: Ctx, value: strawberry.ID
) -> models.Application:
    return await onboarding.load_application(session, _id(value, "Application"), ctx(info).viewer)


def _require_provider_member(info: Ctx) -> int:
    """The viewer's provider, if the policy lets it act for it (no API-token scope does)."""
    viewer = ctx(info).viewer
    require(viewer, Action.ACT_FOR_OWN_PROVIDER, viewer.provider_id)
    assert viewer.provider_id is not None
    return viewer.provider_id


def _require_reviewer(info: Ctx) -> None:
    """Review work is for staff signed in with a session (no API-token scope includes it)."""
    require(ctx(info).viewer, Action.REVIEW)


# --- inputs --------------------------------------------------------------------------------


@strawberry.enum(description="Kinds of identity document.")
class IdType(enum.StrEnum):
    MAINLAND_RESIDENT_ID = "MAINLAND_RESIDENT_ID"
    PASSPORT = "PASSPORT"
    HK_MACAU_TAIWAN_PERMIT = "HK_MACAU_TAIWAN_PERMIT"


@strawberry.input(description="A person: name and identity document.")
class PersonInput:
    name: str
    id_type: IdType
    id_number: str
    phone: str | None = None
    email: str | None = None


@strawberry.input
class TeamRoleInput:
    role: str
    headcount: int


@strawberry.input(description="Team composition and professional background.")
class TeamInput:
    roles: list[TeamRoleInput]
    background: str


@strawberry.input(description="A past service case with its results.")
class ServiceCaseInput:
    client: str
    product_categories: list[str]
    results: str


@strawberry.input
class MoneyInput:
    amount: Decimal
    currency: str


@strawberry.input(description="A service offered and its price.")
class ServiceInput:
    name: str
    price: MoneyInput
    billing_basis: str


@strawberry.input(description="Everything a provider registers about itself.")
class RegistrationDetailsInput:
    legal_representative: PersonInput
    contact_person: PersonInput
    business_description: str
    team: TeamInput
    service_cases: list[ServiceCaseInput]
    services: list[ServiceInput]
    saas_tool: str | None = None
    certifications: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class ProviderInput:
    legal_name: str
    region: Region
    registration_number: str = strawberry.field(description="USCC for mainland entities (checked).")
    marketplaces: list[Marketplace]
    details: RegistrationDetailsInput


@strawberry.input
class AccountInput:
    email: str
    password: str
    display_name: str


def _as_dict(value: Any) -> Any:
    """Strawberry input objects → plain data for core validation."""
    if isinstance(value, list):
        return [_as_dict(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "__dataclass_fields__"):
        return {k: _as_dict(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, Decimal):
        return str(value)
    return value


@strawberry.enum
class DocumentDecision(enum.StrEnum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"


@strawberry.enum
class InterviewChannel(enum.StrEnum):
    VIDEO = "VIDEO"
    PHONE = "PHONE"
    ON_SITE = "ON_SITE"


@strawberry.enum
class InterviewOutcome(enum.StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"


@strawberry.enum
class ProbationDecision(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    EXTEND = "EXTEND"


@strawberry.input
class ApplicationFilter:
    status: ApplicationStatus | None = None
    category: str | None = None
    mine: bool = strawberry.field(default=False, description="Only applications I review.")


@strawberry.type
class OnboardingQuery:
    @strawberry.field(
        description="What an application still lacks (the self-check and the reviewer's list)."
    )
    async def application_checklist(self, info: Ctx, application: strawberry.ID) -> ChecklistType:
        async with ctx(info).session() as session:
            app = await _application(session, info, application)
        return await checklist_for(info, app.id)

    @strawberry.field(description="Applications across providers, for reviewers (oldest first).")
    async def applications(
        self,
        info: Ctx,
        filter: ApplicationFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ApplicationType]:
        _require_reviewer(info)
        context = ctx(info)
        conditions = []
        if filter is not None:
            if filter.status is not None:
                conditions.append(models.Application.status == filter.status)
            if filter.category is not None:
                conditions.append(models.Application.category_key == filter.category)
            if filter.mine:
                conditions.append(
                    models.Application.reviewer_account_id == context.viewer.account_id
                )

        async def count() -> int:
            async with context.session() as session:
                stmt = select(func.count()).select_from(models.Application).where(*conditions)
                return (await session.execute(stmt)).scalar_one()

        async with context.session() as session:
            return await paginate(
                session,
                select(models.Application).where(*conditions),
                models.Application.id,
                PageArgs.parse(first, after, last, before),
                ApplicationType.of,
                count,
            )


@strawberry.input(description="One KPI observation being reported.")
class ObservationInput:
    category: str
    metric: str
    subject_ref: str = strawberry.field(description="Client, store or shipment the fact is about.")
    observed_at: datetime
    value: Decimal = strawberry.field(
        description="In the metric's observed unit (OUTCOME: 0 or 1)."
    )
    idempotency_key: str = strawberry.field(
        description="Unique per provider; re-sending is harmless."
    )
    evidence_ref: str | None = None
    not_attributable_reason: str | None = strawberry.field(
        default=None,
        description="Set when the provider is not to blame; the record is kept but not scored.",
    )
    supersedes: strawberry.ID | None = strawberry.field(
        default=None, description="The observation this corrects."
    )
    correction_reason: str | None = None


@strawberry.type(description="What a report stored: new observations and harmless re-sends.")
class ReportResultType:
    accepted: int
    duplicates: int
    alerts: int = strawberry.field(description="Early-warning alerts this report raised.")


@strawberry.type(description="What one evaluation run did for a category.")
class EvaluationRun:
    category: str
    period: str
    evaluated: int
    written: int
    unchanged: int


@strawberry.type
class OnboardingMutation:
    @strawberry.mutation(
        description="Report up to 10,000 KPI observations, validated whole; re-sending is harmless."
    )
    async def report_observations(
        self, info: Ctx, records: list[ObservationInput], provider: strawberry.ID | None = None
    ) -> ReportResultType:
        from linkstar.core import ratelimit, reporting
        from linkstar.core.vocabulary import ObservationSource

        context = ctx(info)
        viewer = context.viewer
        if provider is None:
            require(viewer, Action.REPORT_KPI, viewer.provider_id)
            provider_id, source = viewer.provider_id, ObservationSource.SELF_REPORTED
        else:
            require(viewer, Action.REPORT_PLATFORM_KPI)
            provider_id, source = _id(provider, "Provider"), ObservationSource.PLATFORM
        assert provider_id is not None
        if viewer.token_id is not None:
            await ratelimit.hit(
                context.sessionmaker,
                f"report:token:{viewer.token_id}",
                ratelimit.REPORT_BATCHES_PER_TOKEN,
                "reports with this API token",
            )
        await ratelimit.hit(
            context.sessionmaker,
            f"report:account:{viewer.account_id}",
            ratelimit.REPORT_BATCHES_PER_ACCOUNT,
            "reports from this account",
        )
        parsed = [
            reporting.ObservationRecord(
                category=r.category,
                metric=r.metric,
                subject_ref=r.subject_ref,
                observed_at=r.observed_at,
                value=str(r.value),
                idempotency_key=r.idempotency_key,
                evidence_ref=r.evidence_ref,
                not_attributable_reason=r.not_attributable_reason,
                supersedes_id=_id(r.supersedes, "KpiObservation") if r.supersedes else None,
                correction_reason=r.correction_reason,
            )
            for r in records
        ]
        async with write(info) as session:
            result = await reporting.report(
                session, context.registry, viewer, provider_id, parsed, source
            )
        return ReportResultType(
            accepted=result.accepted, duplicates=result.duplicates, alerts=result.alerts
        )

    @strawberry.mutation(description="Evaluate a month for all providers (admins). Idempotent.")
    async def evaluate_period(
        self, info: Ctx, period: str, category: str | None = None
    ) -> list[EvaluationRun]:
        from linkstar.core.evaluation import evaluate_period

        context = ctx(info)
        require(context.viewer, Action.RUN_EVALUATION)
        async with write(info) as session:
            summaries = await evaluate_period(session, context.registry, period, category)
        return [
            EvaluationRun(
                category=k,
                period=v.period,
                evaluated=v.evaluated,
                written=v.written,
                unchanged=v.unchanged,
            )
            for k, v in summaries.items()
        ]

    @strawberry.mutation(
        description="Register a provider and its owner account in one step; signs the owner in."
    )
    async def register_provider(
        self, info: Ctx, account: AccountInput, provider: ProviderInput
    ) -> AuthPayload:
        context = ctx(info)
        if context.viewer.authenticated:
            raise InvalidInput("sign out first: registration creates a new owner account")
        number = registration.registration_number(provider.region, provider.registration_number)
        details = registration.validate_details(provider.region, _as_dict(provider.details))
        marketplaces = registration.marketplaces(list(provider.marketplaces))
        if not 2 <= len(provider.legal_name.strip()) <= 200:
            raise registration.RegistrationInvalid({"legalName": "must have 2 to 200 characters"})
        async with write(info) as session:
            row = models.Provider(
                legal_name=provider.legal_name.strip(),
                region=provider.region,
                registration_number=number,
                details=details,
            )
            row.marketplaces = [models.ProviderMarketplace(marketplace=m) for m in marketplaces]
            session.add(row)
            try:
                async with session.begin_nested():
                    await session.flush()
            except IntegrityError:
                raise InvalidInput(
                    f"a provider with registration number {number} is already registered",
                    code="DUPLICATE_REGISTRATION",
                    suggestion="ask its owner to invite you instead",
                ) from None
            await identity.create_account(
                session,
                email=account.email,
                password=account.password,
                display_name=account.display_name,
                role=Role.PARTNER,
                provider_id=row.id,
                is_provider_owner=True,
            )
            onboarding.timeline(
                session,
                None,
                row.id,
                context.viewer,
                "provider.registered",
                {
                    "legalName": row.legal_name,
                    "region": row.region.value,
                    "registrationNumber": number,
                },
            )
            issued = await identity.login(
                session, account.email, account.password, context.settings.secret_key
            )
        return AuthPayload.of(issued)

    @strawberry.mutation(description="Start a draft application for a category.")
    async def start_application(self, info: Ctx, category: str) -> ApplicationType:
        provider_id = _require_provider_member(info)
        context = ctx(info)
        contribution = context.registry.category(category)
        async with write(info) as session:
            previous = (
                (
                    await session.execute(
                        select(models.Application)
                        .where(
                            models.Application.provider_id == provider_id,
                            models.Application.category_key == category,
                        )
                        .order_by(models.Application.id.desc())
                    )
                )
                .scalars()
                .all()
            )
            for app in previous:
                if app.status in onboarding.OPEN_STATES:
                    raise InvalidInput(
                        f"there is already an application for {category} ({app.status.value})",
                        code="APPLICATION_EXISTS",
                    )
            rejected = [
                a for a in previous if a.status is ApplicationStatus.REJECTED and a.decided_at
            ]
            if rejected:
                available = rejected[0].decided_at + timedelta(
                    days=contribution.onboarding.reapply_cooldown_days
                )
                if available > utcnow():
                    raise InvalidInput(
                        f"after a rejection, {category} accepts a new application from "
                        f"{available.date().isoformat()}",
                        code="REAPPLY_COOLDOWN",
                        details={"availableFrom": available.isoformat()},
                    )
            application = models.Application(
                provider_id=provider_id, category_key=category, status=ApplicationStatus.DRAFT
            )
            session.add(application)
            await session.flush()
            onboarding.timeline(
                session,
                application,
                provider_id,
                context.viewer,
                "application.started",
                {"category": category},
            )
        return ApplicationType.of(application)

    @strawberry.mutation(
        description="Fill in (or replace) your category profile; validated by the category."
    )
    async def save_category_profile(self, info: Ctx, category: str, data: JSON) -> CategoryProfile:
        provider_id = _require_provider_member(info)
        context = ctx(info)
        contribution = context.registry.category(category)
        if contribution.profile is None:
            raise InvalidInput(f"category {category!r} has no profile")
        normalised = contribution.profile.validate(data)
        async with write(info) as session:
            row = (
                await session.execute(
                    select(models.CategoryProfileRow).where(
                        models.CategoryProfileRow.provider_id == provider_id,
                        models.CategoryProfileRow.category_key == category,
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                row = models.CategoryProfileRow(
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
        _require_provider_member(info)
        context = ctx(info)
        data = await file.read(MAX_UPLOAD_BYTES + 1)  # type: ignore[attr-defined]
        async with write(info) as session:
            app = await _application(session, info, application)
            if app.status not in (
                ApplicationStatus.DRAFT,
                ApplicationStatus.MORE_INFORMATION_REQUESTED,
                ApplicationStatus.PROBATION,
                ApplicationStatus.ACTIVE,
            ):
                raise InvalidInput(
                    f"documents cannot change while the application is {app.status.value}",
                    code="APPLICATION_LOCKED",
                )
            contribution = context.registry.category(app.category_key)
            spec = next((d for d in contribution.documents if d.key == requirement), None)
            if spec is None:
                raise InvalidInput(
                    f"{app.category_key} asks for no document {requirement!r}",
                    suggestion=f"documents: {[d.key for d in contribution.documents]}",
                )
            if len(data) > spec.max_bytes:
                raise InvalidInput(
                    f"{spec.name} may be at most {spec.max_bytes} bytes", code="FILE_TOO_LARGE"
                )
            if not data:
                raise InvalidInput("the file is empty", code="FILE_EMPTY")
            media_type = sniff_media_type(data)
            if media_type not in spec.media_types:
                raise InvalidInput(
                    f"the file's content is {media_type or 'of an unknown type'}, "
                    f"not one of {sorted(spec.media_types)}",
                    code="FILE_TYPE_NOT_ALLOWED",
                    suggestion="the type is read from the bytes, not the file name",
                )
            if spec.expires and expires_on is None:
                raise InvalidInput(f"{spec.name} expires: give its expiry date (expiresOn)")
            if expires_on is not None and expires_on <= utcnow().date():
                raise InvalidInput(
                    f"{spec.name} expired on {expires_on.isoformat()}", code="DOCUMENT_EXPIRED"
                )
            key = LocalDirectoryStore(context.settings.storage_dir).put(data)
            filename = _SAFE_NAME.sub("_", getattr(file, "filename", None) or "upload")[:200]
            document = models.Document(
                provider_id=app.provider_id,
                application_id=app.id,
                requirement_key=requirement,
                filename=filename,
                media_type=media_type,
                size_bytes=len(data),
                sha256=key,
                storage_key=key,
                expires_on=expires_on,
                uploaded_by=context.viewer.account_id,
            )
            session.add(document)
            await session.flush()
            onboarding.timeline(
                session,
                app,
                app.provider_id,
                context.viewer,
                "document.uploaded",
                {
                    "requirement": requirement,
                    "sha256": key,
                    "size": len(data),
                    "mediaType": media_type,
                },
            )
        return DocumentType.of(document)

    @strawberry.mutation(
        description="Sign an agreement: echo the version and SHA-256 of the exact text you read."
    )
    async def sign_agreement(
        self, info: Ctx, application: strawberry.ID, agreement: str, version: str, text_sha256: str
    ) -> ApplicationType:
        _require_provider_member(info)
        context = ctx(info)
        async with write(info) as session:
            app = await _application(session, info, application)
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
                models.AgreementSignature(
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
            app = await _application(session, info, application)
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
            app = await _application(session, info, application)
            await onboarding.transition(session, app, ctx(info).viewer, Step.WITHDRAW, reason)
            app.decided_at = utcnow()
        return ApplicationType.of(app)

    @strawberry.mutation(
        description="Pick up a submitted application for review (you become its reviewer)."
    )
    async def start_review(self, info: Ctx, application: strawberry.ID) -> ApplicationType:
        _require_reviewer(info)
        async with write(info) as session:
            app = await _application(session, info, application)
            await onboarding.transition(session, app, ctx(info).viewer, Step.START_REVIEW)
            app.reviewer_account_id = ctx(info).viewer.account_id
        return ApplicationType.of(app)

    @strawberry.mutation(description="Assign an application to a reviewer (admins and reviewers).")
    async def assign_reviewer(
        self, info: Ctx, application: strawberry.ID, reviewer: strawberry.ID
    ) -> ApplicationType:
        _require_reviewer(info)
        async with write(info) as session:
            app = await _application(session, info, application)
            account = await session.get(models.Account, _id(reviewer, "Account"))
            if account is None or account.role not in (Role.REVIEWER, Role.ADMIN):
                raise InvalidInput("the assignee must be a reviewer or an admin")
            app.reviewer_account_id = account.id
            app.updated_at = utcnow()
            onboarding.timeline(
                session,
                app,
                app.provider_id,
                ctx(info).viewer,
                "application.assigned",
                {"reviewer": account.email},
                internal=True,
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
        _require_reviewer(info)
        async with write(info) as session:
            row = await session.get(models.Document, _id(document, "Document"))
            if row is None or row.application_id is None:
                raise NotFound("no such document")
            app = await session.get(models.Application, row.application_id)
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
        _require_reviewer(info)
        if not text.strip() or len(text) > 4000:
            raise InvalidInput("a note has 1 to 4000 characters")
        async with write(info) as session:
            app = await _application(session, info, application)
            payload: dict[str, Any] = {"note": text.strip()}
            if document is not None:
                row = await session.get(models.Document, _id(document, "Document"))
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
        _require_reviewer(info)
        async with write(info) as session:
            app = await _application(session, info, application)
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
        _require_reviewer(info)
        context = ctx(info)
        if at.tzinfo is None:
            raise InvalidInput("give the interview time with its time zone offset")
        async with write(info) as session:
            app = await _application(session, info, application)
            if not context.registry.category(app.category_key).category.interview_required:
                raise InvalidInput(
                    f"{app.category_key} requires no interview; approve or reject instead",
                    code="NO_INTERVIEW",
                )
            account = await session.get(models.Account, _id(interviewer, "Account"))
            if account is None or account.role not in (Role.REVIEWER, Role.ADMIN):
                raise InvalidInput("the interviewer must be a reviewer or an admin")
            await onboarding.transition(
                session,
                app,
                context.viewer,
                Step.SCHEDULE_INTERVIEW,
                payload={
                    "at": at.isoformat(),
                    "interviewer": account.email,
                    "channel": channel.value,
                },
            )
            session.add(onboarding.new_interview(app, at, account.id, channel.value))
        return ApplicationType.of(app)

    @strawberry.mutation(description="Record the interview's outcome and notes.")
    async def record_interview(
        self, info: Ctx, application: strawberry.ID, outcome: InterviewOutcome, notes: str
    ) -> ApplicationType:
        _require_reviewer(info)
        if not notes.strip():
            raise InvalidInput("record what the interview showed (notes)")
        async with write(info) as session:
            app = await _application(session, info, application)
            interview = (
                (
                    await session.execute(
                        select(models.Interview)
                        .where(models.Interview.application_id == app.id)
                        .order_by(models.Interview.id.desc())
                    )
                )
                .scalars()
                .first()
            )
            await onboarding.transition(
                session,
                app,
                ctx(info).viewer,
                Step.RECORD_INTERVIEW,
                payload={"outcome": outcome.value},
            )
            assert interview is not None
            interview.outcome = outcome.value
            interview.notes = notes.strip()
            interview.recorded_at = utcnow()
        return ApplicationType.of(app)

    @strawberry.mutation(
        description="Approve into probation: mandatory documents accepted, interview passed."
    )
    async def approve_application(
        self, info: Ctx, application: strawberry.ID, reason: str | None = None
    ) -> ApplicationType:
        _require_reviewer(info)
        context = ctx(info)
        async with write(info) as session:
            app = await _application(session, info, application)
            contribution = context.registry.category(app.category_key)
            checklist = await onboarding.checklist(
                session, app, contribution, contribution.onboarding
            )
            blocking = [
                i
                for i in checklist.items
                if i.mandatory and i.status is not onboarding.ItemStatus.OK
            ]
            if blocking and app.status in (
                ApplicationStatus.IN_REVIEW,
                ApplicationStatus.INTERVIEWED,
            ):
                raise onboarding.ChecklistIncomplete(blocking)
            if (
                contribution.category.interview_required
                and app.status is ApplicationStatus.INTERVIEWED
            ):
                interview = (
                    (
                        await session.execute(
                            select(models.Interview)
                            .where(models.Interview.application_id == app.id)
                            .order_by(models.Interview.id.desc())
                        )
                    )
                    .scalars()
                    .first()
                )
                if interview is None or interview.outcome != InterviewOutcome.PASSED.value:
                    raise InvalidInput(
                        "the interview was not passed; reject instead", code="INTERVIEW_NOT_PASSED"
                    )
            if (
                contribution.category.interview_required
                and app.status is ApplicationStatus.IN_REVIEW
            ):
                raise InvalidInput(
                    f"{app.category_key} requires an interview before approval",
                    code="INTERVIEW_REQUIRED",
                )
            await onboarding.transition(session, app, context.viewer, Step.APPROVE, reason)
            await onboarding.start_probation(app, contribution.onboarding)
        return ApplicationType.of(app)

    @strawberry.mutation(description="Reject the application with the reason.")
    async def reject_application(
        self, info: Ctx, application: strawberry.ID, reason: str
    ) -> ApplicationType:
        _require_reviewer(info)
        async with write(info) as session:
            app = await _application(session, info, application)
            await onboarding.transition(session, app, ctx(info).viewer, Step.REJECT, reason)
            app.decided_at = utcnow()
        return ApplicationType.of(app)

    @strawberry.mutation(
        description="End probation: PASS (joins the pool), FAIL (rejected) or EXTEND (once)."
    )
    async def decide_probation(
        self, info: Ctx, application: strawberry.ID, decision: ProbationDecision, reason: str
    ) -> ApplicationType:
        _require_reviewer(info)
        context = ctx(info)
        step = {
            ProbationDecision.PASS: Step.PASS_PROBATION,
            ProbationDecision.FAIL: Step.FAIL_PROBATION,
            ProbationDecision.EXTEND: Step.EXTEND_PROBATION,
        }[decision]
        async with write(info) as session:
            app = await _application(session, info, application)
            policy = context.registry.category(app.category_key).onboarding
            if step is Step.EXTEND_PROBATION and app.status is ApplicationStatus.PROBATION:
                onboarding.extend_probation(app, policy)
            from linkstar.core import standing as rules

            cards = (
                await rules.recent_cards(session, app.category_key, [app.provider_id], "9999-12", 6)
            ).get(app.provider_id, [])
            started = app.probation_started_at.strftime("%Y-%m") if app.probation_started_at else ""
            in_probation = [c for c in cards if c.period >= started]
            advice = rules.probation_recommendation(in_probation, app.probation_extended)
            basis = {
                "recommendation": advice.decision,
                "recommendationReasons": list(advice.reasons),
                "scorecards": [c.id for c in in_probation],
            }
            await onboarding.transition(session, app, context.viewer, step, reason, payload=basis)
            if step is not Step.EXTEND_PROBATION:
                app.decided_at = utcnow()
        return ApplicationType.of(app)
