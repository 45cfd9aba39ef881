"""GraphQL for consequences: sanctions, violations, tier history, probation and renewal advice."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from sqlalchemy import select
from strawberry import relay
from strawberry.scalars import JSON

from linkstar.core import appeals, models, standing, warnings
from linkstar.core.db import claim, utcnow
from linkstar.core.errors import InvalidInput, NotFound
from linkstar.core.vocabulary import ApplicationStatus, SanctionKind, SanctionStatus, Severity, Tier
from linkstar.schema.onboarding import _id, _require_provider_member, _require_reviewer, write
from linkstar.schema.types import ApplicationType, Ctx, ctx, rows_resolver

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
    cause: JSON
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: models.Sanction) -> SanctionType:
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

    resolve_nodes = rows_resolver(models.Sanction)


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
    def of(cls, row: models.Violation) -> ViolationType:
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

    resolve_nodes = rows_resolver(models.Violation)


@strawberry.type(
    name="TierChange", description="One step of the tier history, why, and whether it was reversed."
)
class TierChangeType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    from_tier: Tier
    to_tier: Tier
    reason: str
    cause: JSON
    decided_by: str
    created_at: datetime
    reversed_at: datetime | None
    reversal_reason: str | None
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: models.TierChange) -> TierChangeType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            from_tier=row.from_tier,
            to_tier=row.to_tier,
            reason=row.reason,
            cause=row.cause,
            decided_by=row.decided_by,
            created_at=row.created_at,
            reversed_at=row.reversed_at,
            reversal_reason=row.reversal_reason,
            provider_id=row.provider_id,
        )

    resolve_nodes = rows_resolver(models.TierChange)


@strawberry.type(description="A recommended decision and the reasons for it.")
class Recommendation:
    decision: str
    reasons: list[str]


STANDING_TYPES = (SanctionType, ViolationType, TierChangeType)


@strawberry.type
class StandingMutation:
    @strawberry.mutation(
        description="Record a compliance violation (reviewers). A VETO terminates at once."
    )
    async def record_violation(
        self,
        info: Ctx,
        provider: strawberry.ID,
        category: str,
        severity: Severity,
        description: str,
        occurred_at: datetime,
        evidence_ref: str | None = None,
    ) -> ViolationType:
        _require_reviewer(info)
        context = ctx(info)
        context.registry.category(category)
        if not description.strip():
            raise InvalidInput("describe the violation")
        if occurred_at.tzinfo is None or occurred_at > utcnow():
            raise InvalidInput("occurredAt needs a time zone and must not be in the future")
        async with write(info) as session:
            provider_id = _id(provider, "Provider")
            if await session.get(models.Provider, provider_id) is None:
                raise NotFound("no such provider")
            violation, _ = await standing.record_violation(
                session,
                provider_id,
                category,
                severity,
                description.strip(),
                evidence_ref,
                occurred_at,
                context.viewer.account_id,
                context.viewer.label,
                context.registry.category(category).scoring,
            )
        return ViolationType.of(violation)

    @strawberry.mutation(description="Confirm or reject a proposed termination, with the reason.")
    async def decide_termination(
        self, info: Ctx, sanction: strawberry.ID, confirm: bool, reason: str
    ) -> SanctionType:
        _require_reviewer(info)
        if not reason.strip():
            raise InvalidInput("give the reason for the decision")
        async with write(info) as session:
            row = await session.get(models.Sanction, _id(sanction, "Sanction"))
            if row is None:
                raise NotFound("no such sanction")
            if (
                row.kind is not SanctionKind.TERMINATION_PROPOSED
                or row.status is not SanctionStatus.ACTIVE
            ):
                raise InvalidInput(
                    "only an open termination proposal can be decided", code="INVALID_TRANSITION"
                )
            await claim(
                session,
                models.Sanction,
                row.id,
                {"kind": SanctionKind.TERMINATION_PROPOSED, "status": SanctionStatus.ACTIVE},
                {
                    "status": SanctionStatus.CONFIRMED if confirm else SanctionStatus.REVERSED,
                    "resolved_at": utcnow(),
                    "resolved_by": ctx(info).viewer.label,
                    "resolution": reason.strip(),
                },
                "the termination proposal",
            )
            if confirm:
                for application in (
                    (
                        await session.execute(
                            select(models.Application).where(
                                models.Application.provider_id == row.provider_id,
                                models.Application.category_key == row.category_key,
                                models.Application.status.in_(
                                    (ApplicationStatus.PROBATION, ApplicationStatus.ACTIVE)
                                ),
                            )
                        )
                    )
                    .scalars()
                    .all()
                ):
                    application.status = ApplicationStatus.TERMINATED
                    application.decided_at = utcnow()
            standing._event(
                session,
                row.provider_id,
                "termination.confirmed" if confirm else "termination.rejected",
                {"category": row.category_key, "sanction": row.id, "reason": reason.strip()},
                ctx(info).viewer.label,
            )
        return SanctionType.of(row)

    @strawberry.mutation(
        description="Reverse a tier change made by policy, with the reason (reviewers)."
    )
    async def reverse_tier_change(
        self, info: Ctx, tier_change: strawberry.ID, reason: str
    ) -> TierChangeType:
        _require_reviewer(info)
        if not reason.strip():
            raise InvalidInput("give the reason for the reversal")
        async with write(info) as session:
            change = await session.get(models.TierChange, _id(tier_change, "TierChange"))
            if change is None:
                raise NotFound("no such tier change")
            application = await session.get(models.Application, change.application_id)
            assert application is not None
            if change.reversed_at is not None or application.tier is not change.to_tier:
                raise InvalidInput(
                    "only the latest, unreversed tier change can be reversed",
                    code="INVALID_TRANSITION",
                )
            await claim(
                session,
                models.TierChange,
                change.id,
                {"reversed_at": None},
                {
                    "reversed_at": utcnow(),
                    "reversed_by": ctx(info).viewer.label,
                    "reversal_reason": reason.strip(),
                },
                "the tier change",
            )
            application.tier = change.from_tier
            application.updated_at = utcnow()
            standing._event(
                session,
                change.provider_id,
                "tier.reversed",
                {
                    "category": change.category_key,
                    "tierChange": change.id,
                    "restored": change.from_tier.value,
                    "reason": reason.strip(),
                },
                ctx(info).viewer.label,
                application.id,
            )
        return TierChangeType.of(change)

    @strawberry.mutation(
        description="Move an application one tier up or down (e.g. to strategic partner), with why."
    )
    async def set_tier(
        self, info: Ctx, application: strawberry.ID, tier: Tier, reason: str
    ) -> ApplicationType:
        _require_reviewer(info)
        if not reason.strip():
            raise InvalidInput("give the reason for the tier decision")
        async with write(info) as session:
            row = await session.get(models.Application, _id(application, "Application"))
            if row is None:
                raise NotFound("no such application")
            if row.status is not ApplicationStatus.ACTIVE:
                raise InvalidInput(
                    "only a provider in the pool has a tier to change", code="INVALID_TRANSITION"
                )
            await standing.change_tier(
                session, row, tier, reason.strip(), {"decision": "reviewer"}, ctx(info).viewer.label
            )
        return ApplicationType.of(row)


@strawberry.type(
    name="Alert", description="A running metric value crossed a line in the open period."
)
class AlertType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    metric_key: str
    period: str
    line: str = strawberry.field(description="INTERNAL, PLATFORM_WARNING or PLATFORM_THRESHOLD.")
    value: Decimal
    threshold: Decimal
    sample_size: int
    created_at: datetime
    read_at: datetime | None
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: models.Alert) -> AlertType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            metric_key=row.metric_key,
            period=row.period,
            line=row.line,
            value=row.value,
            threshold=row.threshold,
            sample_size=row.sample_size,
            created_at=row.created_at,
            read_at=row.read_at,
            provider_id=row.provider_id,
        )

    resolve_nodes = rows_resolver(models.Alert)


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
    round: int
    status: str
    decision_reason: str | None
    effects: JSON
    created_at: datetime
    decided_at: datetime | None
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: models.Appeal) -> AppealType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            subject_type=row.subject_type,
            metric_key=row.metric_key,
            reason_code=row.reason_code,
            statement=row.statement,
            evidence=list(row.evidence),
            round=row.round,
            status=row.status,
            decision_reason=row.decision_reason,
            effects=row.effects,
            created_at=row.created_at,
            decided_at=row.decided_at,
            provider_id=row.provider_id,
        )

    resolve_nodes = rows_resolver(models.Appeal)


AppealReasonEnum = strawberry.enum(
    appeals.AppealReason, description="Why a provider appeals (each needs its evidence)."
)
AppealSubjectEnum = strawberry.enum(appeals.SubjectType, description="What an appeal contests.")


@strawberry.type
class WarningAndAppealMutation:
    @strawberry.mutation(
        description="Set your own early-warning line for a metric (stricter than the platform's)."
    )
    async def set_alert_threshold(
        self, info: Ctx, category: str, metric: str, threshold: Decimal
    ) -> bool:
        provider_id = _require_provider_member(info)
        definition = ctx(info).registry.category(category).metric(metric)
        warnings.check_internal_threshold(definition, threshold)
        async with write(info) as session:
            row = (
                await session.execute(
                    select(models.AlertThreshold).where(
                        models.AlertThreshold.provider_id == provider_id,
                        models.AlertThreshold.category_key == category,
                        models.AlertThreshold.metric_key == metric,
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                session.add(
                    models.AlertThreshold(
                        provider_id=provider_id,
                        category_key=category,
                        metric_key=metric,
                        threshold=threshold,
                    )
                )
            else:
                row.threshold = threshold
                row.updated_at = utcnow()
        return True

    @strawberry.mutation(description="Mark one of your alerts read.")
    async def mark_alert_read(self, info: Ctx, alert: strawberry.ID) -> AlertType:
        provider_id = _require_provider_member(info)
        async with write(info) as session:
            row = await session.get(models.Alert, _id(alert, "Alert"))
            if row is None or row.provider_id != provider_id:
                raise NotFound("no such alert")
            row.read_at = row.read_at or utcnow()
        return AlertType.of(row)

    @strawberry.mutation(
        description="Appeal a metric result, a violation or a sanction within 30 days."
    )
    async def file_appeal(
        self,
        info: Ctx,
        subject_type: appeals.SubjectType,
        subject: strawberry.ID,
        reason: appeals.AppealReason,
        statement: str,
        evidence: list[str],
        metric: str | None = None,
        observations: list[strawberry.ID] | None = None,
    ) -> AppealType:
        _require_provider_member(info)
        type_name = {
            "METRIC_RESULT": "Scorecard",
            "VIOLATION": "Violation",
            "SANCTION": "Sanction",
        }[subject_type.value]
        async with write(info) as session:
            appeal = await appeals.file_appeal(
                session,
                ctx(info).viewer,
                subject_type,
                _id(subject, type_name),
                reason,
                statement,
                evidence,
                metric,
                [_id(o, "KpiObservation") for o in observations or []],
            )
        return AppealType.of(appeal)

    @strawberry.mutation(
        description="Uphold (undoing every downstream effect) or reject an appeal, with the reason."
    )
    async def decide_appeal(
        self, info: Ctx, appeal: strawberry.ID, uphold: bool, reason: str
    ) -> AppealType:
        _require_reviewer(info)
        async with write(info) as session:
            row = await session.get(models.Appeal, _id(appeal, "Appeal"))
            if row is None:
                raise NotFound("no such appeal")
            await appeals.decide_appeal(
                session, ctx(info).registry, ctx(info).viewer, row, uphold, reason
            )
        return AppealType.of(row)
