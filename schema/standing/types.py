"""GraphQL types of standing: sanctions, violations, tier changes, appeals, advice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from linkstar.core.identity.policy import Action, allowed
from linkstar.core.kernel.vocabulary import (
    SanctionKind,
    SanctionStatus,
    Severity,
    Tier,
)
from linkstar.core.standing import appeals
from linkstar.core.standing.models import Appeal, ApprovalRequest, Sanction, TierChange, Violation
from linkstar.schema.nodes import Ctx, ctx, rows_for_nodes, rows_resolver
from linkstar.schema.onboarding.types import visible_documents
from linkstar.schema.people import shown_actor

if TYPE_CHECKING:
    from linkstar.schema.onboarding.types import DocumentType


def _gids(type_name: str, ids: Iterable[Any]) -> list[relay.GlobalID]:
    return [relay.GlobalID(type_name, str(i)) for i in ids]


@strawberry.type(description="What caused a sanction or a tier change.")
class Cause:
    scorecards: list[relay.GlobalID] = strawberry.field(
        description="Scorecard ids (resolve with node/nodes)."
    )
    violations: list[relay.GlobalID] = strawberry.field(
        description="Violation ids (resolve with node/nodes)."
    )

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> Cause:
        raw = raw or {}
        return cls(
            scorecards=_gids("Scorecard", raw.get("scorecards", [])),
            violations=_gids("Violation", raw.get("violations", [])),
        )


@strawberry.type(description="What deciding an appeal changed (all empty until it is upheld).")
class AppealEffects:
    excluded_observations: list[relay.GlobalID] = strawberry.field(
        description="KpiObservation ids excluded by appended corrections."
    )
    reversed_sanctions: list[relay.GlobalID] = strawberry.field(description="Sanction ids.")
    reversed_tier_changes: list[relay.GlobalID] = strawberry.field(description="TierChange ids.")
    overturned_violation: relay.GlobalID | None = strawberry.field(description="A Violation id.")
    reevaluated_period: str | None = strawberry.field(
        description="The period evaluated again after the correction."
    )
    scorecards_written: int | None = strawberry.field(
        description="Scorecards that re-evaluation wrote (a changed result is a new revision)."
    )

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> AppealEffects:
        raw = raw or {}
        overturned = raw.get("overturnedViolation")
        reevaluated = raw.get("reevaluated") or {}
        return cls(
            excluded_observations=_gids("KpiObservation", raw.get("excludedObservations", [])),
            reversed_sanctions=_gids("Sanction", raw.get("reversedSanctions", [])),
            reversed_tier_changes=_gids("TierChange", raw.get("reversedTierChanges", [])),
            overturned_violation=(
                relay.GlobalID("Violation", str(overturned)) if overturned is not None else None
            ),
            reevaluated_period=reevaluated.get("period"),
            scorecards_written=reevaluated.get("written"),
        )


CAUSE_DEPRECATED = "raw database ids; use causedBy (global ids)"


SeverityEnum = strawberry.enum(Severity, description="Violation severity; VETO terminates at once.")


SanctionKindEnum = strawberry.enum(SanctionKind, description="A consequence, mildest first.")


SanctionStatusEnum = strawberry.enum(SanctionStatus, description="Where a sanction stands.")


@strawberry.type(
    name="Sanction", description="A consequence and what caused it (scorecards, violations)."
)
class SanctionType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    kind: SanctionKind
    status: SanctionStatus
    period: str | None
    reason: str
    cause: JSON = strawberry.field(deprecation_reason=CAUSE_DEPRECATED)
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: Sanction) -> SanctionType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            kind=row.kind,
            status=row.status,
            period=row.period,
            reason=row.reason,
            cause=row.cause,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            resolution=row.resolution,
            provider_id=row.provider_id,
        )

    @strawberry.field(description="The scorecards and violations that caused it.")
    def caused_by(self) -> Cause:
        return Cause.of(self.cause)

    resolve_nodes = rows_resolver(Sanction)


@strawberry.type(name="Violation", description="A recorded compliance violation and its points.")
class ViolationType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    severity: Severity
    points: int
    description: str
    evidence_ref: str | None
    occurred_at: datetime
    expires_at: datetime | None
    overturned_at: datetime | None
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: Violation) -> ViolationType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            severity=row.severity,
            points=row.points,
            description=row.description,
            evidence_ref=row.evidence_ref,
            occurred_at=row.occurred_at,
            expires_at=row.expires_at,
            overturned_at=row.overturned_at,
            provider_id=row.provider_id,
        )

    resolve_nodes = rows_resolver(Violation)


@strawberry.type(
    name="TierChange", description="One step of the tier history, why, and whether it was reversed."
)
class TierChangeType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    from_tier: Tier
    to_tier: Tier
    reason: str
    cause: JSON = strawberry.field(deprecation_reason=CAUSE_DEPRECATED)
    created_at: datetime
    reversed_at: datetime | None
    reversal_reason: str | None
    provider_id: strawberry.Private[int]
    decided_by_label: strawberry.Private[str]
    decided_by_account_id: strawberry.Private[int | None]

    @strawberry.field(
        description='Who decided: "policy", or staff by role and display name (staff see more).'
    )
    async def decided_by(self, info: Ctx) -> str:
        return await shown_actor(info, self.decided_by_label, self.decided_by_account_id)

    @classmethod
    def of(cls, row: TierChange) -> TierChangeType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            from_tier=row.from_tier,
            to_tier=row.to_tier,
            reason=row.reason,
            cause=row.cause,
            decided_by_label=row.decided_by,
            decided_by_account_id=row.decided_by_account_id,
            created_at=row.created_at,
            reversed_at=row.reversed_at,
            reversal_reason=row.reversal_reason,
            provider_id=row.provider_id,
        )

    @strawberry.field(description="The scorecards and violations that caused it.")
    def caused_by(self) -> Cause:
        return Cause.of(self.cause)

    resolve_nodes = rows_resolver(TierChange)


AppealReasonEnum = strawberry.enum(
    appeals.AppealReason, description="Why a provider appeals (each needs its evidence)."
)


AppealSubjectEnum = strawberry.enum(appeals.SubjectType, description="What an appeal contests.")


@strawberry.type(
    name="Appeal", description="An appeal, its evidence, the decision and what it undid."
)
class AppealType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    subject_type: str
    metric_key: str | None
    reason_code: str
    statement: str
    evidence: list[str]
    evidence_documents: list[strawberry.ID] = strawberry.field(
        description="Uploaded documents linked as evidence (Document ids: node(id:), downloadPath)."
    )
    round: int
    status: str
    decision_reason: str | None
    effects: JSON = strawberry.field(
        deprecation_reason="raw database ids; use outcome (typed, global ids)"
    )
    created_at: datetime
    decided_at: datetime | None
    provider_id: strawberry.Private[int]
    document_ids: strawberry.Private[list[int]]

    @classmethod
    def of(cls, row: Appeal) -> AppealType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            subject_type=row.subject_type,
            metric_key=row.metric_key,
            reason_code=row.reason_code,
            statement=row.statement,
            evidence=list(row.evidence),
            evidence_documents=[
                strawberry.ID(relay.to_base64("Document", i)) for i in row.document_ids or []
            ],
            round=row.round,
            status=row.status,
            decision_reason=row.decision_reason,
            effects=row.effects,
            created_at=row.created_at,
            decided_at=row.decided_at,
            provider_id=row.provider_id,
            document_ids=list(row.document_ids or []),
        )

    @strawberry.field(
        description="The uploaded documents linked as evidence, for the provider's members and "
        "staff (each with its downloadPath)."
    )
    async def documents(
        self, info: Ctx
    ) -> list[Annotated[DocumentType, strawberry.lazy("linkstar.schema.onboarding.types")]]:
        return await visible_documents(info, self.document_ids)

    @strawberry.field(description="What deciding the appeal changed, as global ids.")
    def outcome(self) -> AppealEffects:
        return AppealEffects.of(self.effects)

    resolve_nodes = rows_resolver(Appeal)


@strawberry.type(
    name="ApprovalRequest",
    description="A decision one staff member asked for that a second one must approve "
    "(TIER_RAISE, TERMINATION, APPEAL_SECOND_ROUND). Staff only.",
)
class ApprovalRequestType(relay.Node):
    id: relay.NodeID[int]
    kind: str
    subject_id: int = strawberry.field(description="The application, sanction or appeal number.")
    payload: JSON
    status: str
    requested_by: str
    decided_by: str | None
    decision_reason: str | None
    created_at: datetime
    decided_at: datetime | None
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: ApprovalRequest) -> ApprovalRequestType:
        return cls(
            id=row.id,
            kind=row.kind,
            subject_id=row.subject_id,
            payload=row.payload,
            status=row.status,
            requested_by=row.requested_by,
            decided_by=row.decided_by,
            decision_reason=row.decision_reason,
            created_at=row.created_at,
            decided_at=row.decided_at,
            provider_id=row.provider_id,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Ctx, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        if not allowed(ctx(info).viewer, Action.READ_ANY_PROVIDER):
            return [None for _ in node_ids]
        return [
            cls.of(r) if r else None for r in await rows_for_nodes(info, ApprovalRequest, node_ids)
        ]
