"""Standing mutations: violations, terminations, tiers, appeals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.vocabulary import (
    Severity,
    Tier,
)
from linkstar.core.kpi.scoring import ScoringPolicy
from linkstar.core.onboarding.models import Application
from linkstar.core.providers.models import Provider
from linkstar.core.standing import appeals, approvals, decisions, violations
from linkstar.core.standing.models import Appeal
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.onboarding.types import ApplicationType
from linkstar.schema.resolving import parse_id, require_provider_member, require_reviewer, write
from linkstar.schema.standing.types import (
    AppealType,
    ApprovalRequestType,
    SanctionType,
    TierChangeType,
    ViolationType,
)


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
        require_reviewer(info)
        context = ctx(info)
        context.registry.category(category)
        if not description.strip():
            raise InvalidInput("describe the violation")
        if occurred_at.tzinfo is None or occurred_at > utcnow():
            raise InvalidInput("occurredAt needs a time zone and must not be in the future")
        async with write(info) as session:
            provider_id = parse_id(provider, "Provider")
            if await session.get(Provider, provider_id) is None:
                raise NotFound("no such provider")
            violation, _ = await violations.record_violation(
                session,
                provider_id,
                category,
                severity,
                description.strip(),
                evidence_ref,
                occurred_at,
                context.viewer,
                context.registry.category(category).scoring,
            )
        return ViolationType.of(violation)

    @strawberry.mutation(description="Confirm or reject a proposed termination, with the reason.")
    async def decide_termination(
        self, info: Ctx, sanction: strawberry.ID, confirm: bool, reason: str
    ) -> SanctionType:
        require_reviewer(info)
        async with write(info) as session:
            row = await decisions.decide_termination(
                session, ctx(info).viewer, parse_id(sanction, "Sanction"), confirm, reason
            )
        return SanctionType.of(row)

    @strawberry.mutation(
        description="Reverse a tier change made by policy, with the reason (reviewers)."
    )
    async def reverse_tier_change(
        self, info: Ctx, tier_change: strawberry.ID, reason: str
    ) -> TierChangeType:
        require_reviewer(info)
        async with write(info) as session:
            change = await decisions.reverse_tier_change(
                session, ctx(info).viewer, parse_id(tier_change, "TierChange"), reason
            )
        return TierChangeType.of(change)

    @strawberry.mutation(
        description="Move an application one tier up or down, with why; a raise above the computed "
        "eligibility waits for a second staff member (pendingApprovals, decideApproval)."
    )
    async def set_tier(
        self,
        info: Ctx,
        application: strawberry.ID,
        tier: Tier,
        reason: str,
        expected_version: Annotated[
            int | None,
            strawberry.argument(
                description="The application version you saw: refused (CONFLICT) if it changed."
            ),
        ] = None,
    ) -> ApplicationType:
        require_reviewer(info)
        async with write(info) as session:
            application_id = parse_id(application, "Application")
            row = await decisions.set_tier(
                session,
                ctx(info).viewer,
                application_id,
                tier,
                reason,
                await _scoring_policy(session, info, application_id),
                expected_version,
            )
        return ApplicationType.of(row)

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
        documents: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Uploaded documents (your own) that prove the case."),
        ] = None,
    ) -> AppealType:
        require_provider_member(info)
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
                parse_id(subject, type_name),
                reason,
                statement,
                evidence,
                metric,
                [parse_id(o, "KpiObservation") for o in observations or []],
                [parse_id(d, "Document") for d in documents or []],
            )
        return AppealType.of(appeal)

    @strawberry.mutation(
        description="Uphold (undoing every downstream effect) or reject an appeal, with the reason."
    )
    async def decide_appeal(
        self, info: Ctx, appeal: strawberry.ID, uphold: bool, reason: str
    ) -> AppealType:
        require_reviewer(info)
        async with write(info) as session:
            row = await session.get(Appeal, parse_id(appeal, "Appeal"))
            if row is None:
                raise NotFound("no such appeal")
            await appeals.decide_appeal(
                session, ctx(info).registry, ctx(info).viewer, row, uphold, reason
            )
        return AppealType.of(row)

    @strawberry.mutation(
        description="Approve (the decision takes effect now) or reject a decision another staff "
        "member asked for; the requester cannot approve their own (SAME_APPROVER)."
    )
    async def decide_approval(
        self, info: Ctx, request: strawberry.ID, approve: bool, reason: str
    ) -> ApprovalRequestType:
        require_reviewer(info)
        context = ctx(info)
        async with write(info) as session:
            row = await decisions.decide_approval(
                session,
                context.registry,
                context.viewer,
                parse_id(request, "ApprovalRequest"),
                approve,
                reason,
            )
        return ApprovalRequestType.of(row)


@strawberry.type
class StandingQuery:
    @strawberry.field(description="Decisions waiting for a second staff member, oldest first.")
    async def pending_approvals(self, info: Ctx) -> list[ApprovalRequestType]:
        require_reviewer(info)
        async with ctx(info).session() as session:
            rows = await approvals.pending(session)
        return [ApprovalRequestType.of(r) for r in rows]


async def _scoring_policy(session: AsyncSession, info: Ctx, application_id: int) -> ScoringPolicy:
    """The scoring policy of the application's category (the default for an unknown id)."""
    row = await session.get(Application, application_id)
    if row is None:
        return ScoringPolicy()
    return ctx(info).registry.category(row.category_key).scoring
