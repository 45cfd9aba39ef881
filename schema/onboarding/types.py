"""GraphQL types of onboarding: applications, documents, checklists, interviews, the timeline."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from linkstar.core.identity.policy import Action as PolicyAction
from linkstar.core.identity.policy import allowed, can_read_private
from linkstar.core.kernel.errors import NotFound
from linkstar.core.kernel.events import DomainEvent
from linkstar.core.kernel.vocabulary import (
    ApplicationStatus,
    DocumentStatus,
    Region,
    Tier,
)
from linkstar.core.onboarding import applications as onboarding
from linkstar.core.onboarding.documents import DocumentRequirement as DocumentRequirementSpec
from linkstar.core.onboarding.models import Application, Document, Interview, ProviderBar
from linkstar.core.providers.models import Provider
from linkstar.core.standing import probation
from linkstar.core.standing.cards import recent_cards
from linkstar.core.standing.recommendations import strategic_eligibility
from linkstar.schema import loaders
from linkstar.schema.nodes import Ctx, ctx, page_of, rows_for_nodes, rows_resolver
from linkstar.schema.pagination import Connection, PageArgs
from linkstar.schema.people import shown_actor
from linkstar.schema.providers.types import ProviderType, ServiceCategoryType


@strawberry.type(description="A recommended decision and the reasons for it.")
class Recommendation:
    decision: str
    reasons: list[str]


@strawberry.type(
    name="DocumentRequirement", description="A document an applicant must or may provide."
)
class DocumentRequirementType:
    key: str
    name: str
    description: str
    mandatory: bool
    regions: list[Region] = strawberry.field(description="Regions asked for this document.")
    media_types: list[str]
    max_bytes: int
    expires: bool

    @classmethod
    def of(cls, spec: DocumentRequirementSpec) -> DocumentRequirementType:
        return cls(
            key=spec.key,
            name=spec.name,
            description=spec.description,
            mandatory=spec.mandatory,
            regions=[r for r in Region if spec.applies_to(r)],
            media_types=sorted(spec.media_types),
            max_bytes=spec.max_bytes,
            expires=spec.expires,
        )


@strawberry.type(
    name="AgreementTemplate",
    description="A versioned agreement text; sign it by echoing version and sha256.",
)
class AgreementTemplateType:
    key: str
    title: str
    version: str
    text: str
    sha256: str
    mandatory: bool

    @classmethod
    def of(cls, template: Any) -> AgreementTemplateType:
        return cls(
            key=template.key,
            title=template.title,
            version=template.version,
            text=template.text,
            sha256=template.sha256,
            mandatory=template.mandatory,
        )


@strawberry.type(description="How a category onboards applicants.")
class OnboardingTerms:
    interview_required: bool
    probation_days: int
    pilot_order_quota: int
    probation_extension_days: int
    reapply_cooldown_days: int


@strawberry.type(
    name="Application", description="A provider's application for, and membership of, one category."
)
class ApplicationType(relay.Node):
    id: relay.NodeID[int]
    status: ApplicationStatus
    tier: Tier
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    probation_started_at: datetime | None
    probation_ends_at: datetime | None
    pilot_order_quota: int | None
    probation_extended: bool
    version: int = strawberry.field(description="Changes with every update (optimistic locking).")
    category_key: strawberry.Private[str]
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: Application) -> ApplicationType:
        return cls(
            id=row.id,
            status=row.status,
            tier=row.tier,
            created_at=row.created_at,
            updated_at=row.updated_at,
            submitted_at=row.submitted_at,
            decided_at=row.decided_at,
            probation_started_at=row.probation_started_at,
            probation_ends_at=row.probation_ends_at,
            pilot_order_quota=row.pilot_order_quota,
            probation_extended=bool(row.probation_extended),
            version=row.version,
            category_key=row.category_key,
            provider_id=row.provider_id,
        )

    @strawberry.field(description="Whether a preferred provider qualifies as strategic partner.")
    async def strategic_eligibility(self, info: Ctx) -> Recommendation | None:

        if self.status is not ApplicationStatus.ACTIVE:
            return None
        async with ctx(info).session() as session:
            cards = (
                await recent_cards(session, self.category_key, [self.provider_id], None, 6)
            ).get(self.provider_id, [])
        result = strategic_eligibility(self.tier, cards)
        return Recommendation(decision=result.decision, reasons=list(result.reasons))

    @strawberry.field(
        description="During probation: PASS, FAIL or EXTEND from the probation scorecards."
    )
    async def probation_recommendation(self, info: Ctx) -> Recommendation | None:

        if self.status is not ApplicationStatus.PROBATION or self.probation_started_at is None:
            return None
        async with ctx(info).session() as session:
            row = await session.get(Application, self.id)
            assert row is not None
            result = await probation.recommendation_for(session, row)
        return Recommendation(decision=result.decision, reasons=list(result.reasons))

    @strawberry.field(description="What can be done next from the current state.")
    def allowed_actions(self) -> list[str]:
        return [a.value for a in onboarding.allowed_actions(self.status)]

    @strawberry.field(
        description="What is still missing or invalid: the self-check and the reviewer's list."
    )
    async def checklist(self, info: Ctx) -> ChecklistType:
        return await checklist_for(info, self.id)

    @strawberry.field(description="Documents uploaded for this application, oldest first.")
    async def documents(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[DocumentType]:
        args = PageArgs.parse(first, after, last, before)
        rows = await loaders.child_pages(ctx(info), Document, "application_id").load(
            (self.id, args)
        )

        async def count() -> int:
            return await loaders.child_counts(ctx(info), Document, "application_id").load(self.id)

        return page_of(rows, args, DocumentType.of, count)

    @strawberry.field(description="Interviews scheduled for this application.")
    async def interviews(self, info: Ctx) -> list[InterviewType]:
        rows = await loaders.children(ctx(info), Interview, "application_id").load(self.id)
        return [InterviewType.of(r) for r in rows]

    @strawberry.field(description="Everything that happened to this application, oldest first.")
    async def timeline(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[TimelineEntry]:
        return await timeline_page(
            info, "application_id", self.id, PageArgs.parse(first, after, last, before)
        )

    @strawberry.field(description="The category applied for (null if its plugin is disabled).")
    def category(self, info: Ctx) -> ServiceCategoryType | None:
        contribution = ctx(info).registry.categories.get(self.category_key)
        return ServiceCategoryType.of(contribution) if contribution else None

    @strawberry.field
    async def provider(self, info: Ctx) -> ProviderType:
        return ProviderType.of(await loaders.by_id(ctx(info), Provider).load(self.provider_id))

    resolve_nodes = rows_resolver(Application)


@strawberry.type(name="ChecklistItem", description="One thing an application needs, and its state.")
class ChecklistItemType:
    kind: str = strawberry.field(description="DOCUMENT, AGREEMENT, PROFILE or REGISTRATION.")
    key: str
    name: str
    mandatory: bool
    status: str = strawberry.field(
        description="OK, MISSING, PENDING_REVIEW, REJECTED, EXPIRED, INVALID or OUTDATED."
    )
    message: str


@strawberry.type(
    name="Checklist",
    description="The application's checklist; `ready` when nothing blocks submission.",
)
class ChecklistType:
    ready: bool
    items: list[ChecklistItemType]
    problems: list[ChecklistItemType]


def _checklist_item(item: onboarding.ChecklistItem) -> ChecklistItemType:
    return ChecklistItemType(
        kind=item.kind,
        key=item.key,
        name=item.name,
        mandatory=item.mandatory,
        status=item.status.value,
        message=item.message,
    )


async def checklist_for(info: Ctx, application_id: int) -> ChecklistType:
    """The checklist of an application the viewer may see (callers check visibility)."""
    context = ctx(info)
    async with context.session() as session:
        application = await session.get(Application, application_id)
        if application is None:
            raise NotFound("no such application")
        contribution = context.registry.category(application.category_key)
        result = await onboarding.checklist(
            session, application, contribution, contribution.onboarding
        )
    return ChecklistType(
        ready=result.ready,
        items=[_checklist_item(i) for i in result.items],
        problems=[_checklist_item(i) for i in result.problems],
    )


@strawberry.type(name="Interview", description="An applicant's interview.")
class InterviewType:
    scheduled_at: datetime
    channel: str
    outcome: str | None
    recorded_at: datetime | None
    interviewer_id: strawberry.Private[int]
    internal_notes: strawberry.Private[str | None]

    @strawberry.field(description="The interviewer's account id (staff only; null for others).")
    def interviewer_account_id(self, info: Ctx) -> int | None:
        return self.interviewer_id if _staff(info) else None

    @strawberry.field(description="The interviewer's notes (internal: staff only).")
    def notes(self, info: Ctx) -> str | None:
        return self.internal_notes if _staff(info) else None

    @classmethod
    def of(cls, row: Interview) -> InterviewType:
        return cls(
            scheduled_at=row.scheduled_at,
            channel=row.channel,
            interviewer_id=row.interviewer_account_id,
            outcome=row.outcome,
            internal_notes=row.notes,
            recorded_at=row.recorded_at,
        )


def _staff(info: Ctx) -> bool:
    return allowed(ctx(info).viewer, PolicyAction.READ_ANY_PROVIDER)


@strawberry.type(description="An append-only record of something that happened (who, when, what).")
class TimelineEntry(relay.Node):
    id: relay.NodeID[int]
    occurred_at: datetime
    event_type: str
    payload: JSON
    internal: bool = strawberry.field(
        description="Staff-only entry (e.g. an internal review note)."
    )
    provider_id: strawberry.Private[int | None]
    actor_label: strawberry.Private[str]
    actor_account_id: strawberry.Private[int | None]

    @strawberry.field(description="Who acted; staff appear to providers by role and display name.")
    async def actor(self, info: Ctx) -> str:
        return await shown_actor(info, self.actor_label, self.actor_account_id)

    @classmethod
    def of(cls, row: DomainEvent) -> TimelineEntry:
        return cls(
            id=row.id,
            occurred_at=row.occurred_at,
            event_type=row.event_type,
            actor_label=row.actor,
            actor_account_id=row.actor_account_id,
            payload=row.payload,
            internal=row.internal,
            provider_id=row.provider_id,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Ctx, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        rows = await rows_for_nodes(info, DomainEvent, node_ids)
        staff = allowed(ctx(info).viewer, PolicyAction.READ_ANY_PROVIDER)
        return [cls.of(r) if r and (staff or not r.internal) else None for r in rows]


async def timeline_page(
    info: Ctx, column: str, value: int, args: PageArgs
) -> Connection[TimelineEntry]:
    context = ctx(info)
    filters: tuple[tuple[str, Any], ...] = ()
    if not allowed(context.viewer, PolicyAction.READ_ANY_PROVIDER):
        filters = (("internal", False),)
    rows = await loaders.child_pages(context, DomainEvent, column, filters).load((value, args))

    async def count() -> int:
        return await loaders.child_counts(context, DomainEvent, column, filters).load(value)

    return page_of(rows, args, TimelineEntry.of, count)


@strawberry.type(
    name="Document", description="An uploaded document, addressed by the SHA-256 of its bytes."
)
class DocumentType(relay.Node):
    id: relay.NodeID[int]
    requirement_key: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    expires_on: date | None
    status: DocumentStatus
    uploaded_at: datetime
    review_reason: str | None
    reviewed_at: datetime | None
    purged_at: datetime | None = strawberry.field(
        description="When the category's retention ran out and the bytes were removed (the "
        "download then answers 410 DOCUMENT_PURGED); the metadata and SHA-256 stay."
    )
    provider_id: strawberry.Private[int]

    @strawberry.field(
        description="Where to download it (GET, with the same bearer token): the provider's "
        "members and staff only."
    )
    def download_path(self) -> str:
        return f"/documents/{relay.to_base64('Document', self.id)}"

    @strawberry.field(description="Whether the document's expiry date has passed.")
    def is_expired(self) -> bool:
        return self.expires_on is not None and self.expires_on <= datetime.now(UTC).date()

    @classmethod
    def of(cls, row: Document) -> DocumentType:
        return cls(
            review_reason=row.review_reason,
            reviewed_at=row.reviewed_at,
            id=row.id,
            requirement_key=row.requirement_key,
            filename=row.filename,
            media_type=row.media_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            expires_on=row.expires_on,
            status=row.status,
            uploaded_at=row.uploaded_at,
            purged_at=row.purged_at,
            provider_id=row.provider_id,
        )

    @strawberry.field
    async def provider(self, info: Ctx) -> ProviderType:
        return ProviderType.of(await loaders.by_id(ctx(info), Provider).load(self.provider_id))

    resolve_nodes = rows_resolver(Document)


async def visible_documents(info: Ctx, document_ids: Iterable[int]) -> list[DocumentType]:
    """The documents linked as evidence, those the viewer may see (the provider's members and
    staff), in the given order; a linked id always names a document (rows are never deleted
    short of the provider itself)."""
    viewer = ctx(info).viewer
    rows = await loaders.by_id(ctx(info), Document).load_many(list(document_ids))
    return [
        DocumentType.of(row)
        for row in rows
        if row is not None and can_read_private(viewer, row.provider_id)
    ]


async def visible_document(info: Ctx, document_id: int | None) -> DocumentType | None:
    """One linked document if there is one and the viewer may see it, else None."""
    if document_id is None:
        return None
    found = await visible_documents(info, [document_id])
    return found[0] if found else None


@strawberry.type(
    name="ProviderBar",
    description="A bar on a provider after a veto: no new application, its number not again.",
)
class ProviderBarType:
    reason: str
    created_at: datetime
    lifted_at: datetime | None
    lift_reason: str | None

    @classmethod
    def of(cls, row: ProviderBar) -> ProviderBarType:
        return cls(
            reason=row.reason,
            created_at=row.created_at,
            lifted_at=row.lifted_at,
            lift_reason=row.lift_reason,
        )
