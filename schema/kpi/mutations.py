"""KPI mutations: reporting observations, evaluating a period."""

from __future__ import annotations

import enum

import strawberry

from linkstar.core.identity import ratelimit
from linkstar.core.identity.policy import Action, require
from linkstar.core.kernel.periods import PeriodKind, period_containing
from linkstar.core.kernel.vocabulary import ObservationSource
from linkstar.core.kpi import corrections, reporting
from linkstar.core.kpi.evaluation import evaluated
from linkstar.core.standing.verdicts import evaluate_category, evaluate_period
from linkstar.schema.kpi.inputs import EvaluationRun, ObservationInput, ReportResultType
from linkstar.schema.kpi.types import KpiObservationType
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.resolving import parse_id, write


@strawberry.enum(description="A reviewer's decision on a provider's claim about its own data.")
class ClaimDecision(enum.Enum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"


@strawberry.type
class KpiMutation:
    @strawberry.mutation(
        description="Report up to 10,000 KPI observations, validated whole; re-sending is harmless."
    )
    async def report_observations(
        self, info: Ctx, records: list[ObservationInput], provider: strawberry.ID | None = None
    ) -> ReportResultType:

        context = ctx(info)
        viewer = context.viewer
        if provider is None:
            require(viewer, Action.REPORT_KPI, viewer.provider_id)
            provider_id, source = viewer.provider_id, ObservationSource.SELF_REPORTED
        else:
            require(viewer, Action.REPORT_PLATFORM_KPI)
            provider_id, source = parse_id(provider, "Provider"), ObservationSource.PLATFORM
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
                supersedes_id=parse_id(r.supersedes, "KpiObservation") if r.supersedes else None,
                correction_reason=r.correction_reason,
                evidence_document_id=(
                    parse_id(r.evidence_document, "Document") if r.evidence_document else None
                ),
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

    @strawberry.mutation(
        description=(
            "Evaluate a closed month for all providers (admins). Idempotent. A month that has "
            "not closed (its end plus the category's reporting grace period) is refused with "
            "PERIOD_NOT_CLOSED."
        )
    )
    async def evaluate_period(
        self, info: Ctx, period: str, category: str | None = None
    ) -> list[EvaluationRun]:

        context = ctx(info)
        require(context.viewer, Action.RUN_EVALUATION)
        async with write(info) as session:
            summaries = await evaluate_period(
                session,
                context.registry,
                period,
                category,
                by=f"account:{context.viewer.account_id}",
            )
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
        description=(
            "Accept or reject a provider's pending correction of its own observation or its "
            "not-attributable claim (staff). Until accepted, the original record counts. If "
            "the month was already evaluated, it is evaluated again for the provider."
        )
    )
    async def review_observation_claim(
        self, info: Ctx, observation: strawberry.ID, decision: ClaimDecision, reason: str
    ) -> KpiObservationType:
        context = ctx(info)
        require(context.viewer, Action.REVIEW)
        observation_id = parse_id(observation, "KpiObservation")
        async with write(info) as session:
            row = await corrections.review_claim(
                session, context.viewer, observation_id, decision is ClaimDecision.ACCEPT, reason
            )
            contribution = context.registry.category(row.category_key)
            label = period_containing(
                row.observed_at, PeriodKind.MONTH, contribution.metrics[0].window.timezone
            ).label
            if decision is ClaimDecision.ACCEPT and await evaluated(
                session, row.category_key, label
            ):
                await evaluate_category(
                    session,
                    contribution,
                    label,
                    row.provider_id,
                    context.registry.aggregations,
                )
            return KpiObservationType.of(row)
