"""GraphQL types of KPIs: metric definitions, scorecards, observations, public standings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay

from linkstar.core.kernel.errors import NotFound
from linkstar.core.kernel.vocabulary import (
    ObservationSource,
    Tier,
)
from linkstar.core.kpi.metrics import Direction, PeriodKind
from linkstar.core.kpi.metrics import MetricDefinition as MetricSpec
from linkstar.core.kpi.models import KpiObservation, Scorecard
from linkstar.core.kpi.scoring import PASS_MARK
from linkstar.core.kpi.units import Unit
from linkstar.core.providers.models import Provider
from linkstar.schema import loaders
from linkstar.schema.kpi.sources import MetricSources, metric_sources
from linkstar.schema.nodes import Ctx, ctx, rows_resolver
from linkstar.schema.onboarding.types import DocumentType, visible_document
from linkstar.schema.providers.types import ProviderType


@strawberry.type(description="A named parameter of an aggregation, e.g. percentile = 90.")
class AggregationParam:
    name: str
    value: Decimal


@strawberry.type(description="How a metric's observations become its value.")
class Aggregation:
    kind: str = strawberry.field(description="A built-in AggregationKind, or a plugin's own kind.")
    params: list[AggregationParam]
    description: str


@strawberry.type(
    description="The period a metric is evaluated over and the time zone of its boundaries."
)
class EvaluationWindow:
    period: PeriodKind
    timezone: str


@strawberry.type(
    name="ScoringCurve",
    description=(
        "How a metric's value becomes 0–100 points: 0 at the floor (or worse), the pass mark "
        "exactly at the threshold, 100 at the target (or better), linear in between. A failing "
        "value always scores below the pass mark."
    ),
)
class ScoringCurveType:
    floor: Decimal = strawberry.field(description="At this value or worse the metric earns 0.")
    threshold: Decimal
    target: Decimal = strawberry.field(description="At this value or better it earns 100.")
    pass_mark: Decimal = strawberry.field(
        description="Points at exactly the threshold (the category's policy)."
    )
    declared: bool = strawberry.field(
        description="False: the default curve for the metric's unit and direction."
    )


@strawberry.type(
    name="MetricDefinition", description="A KPI of a category, as its plugin declares it."
)
class MetricDefinitionType:
    key: str
    name: str
    description: str
    unit: Unit
    observed_unit: Unit
    direction: Direction
    threshold: Decimal
    aggregation: Aggregation
    weight: Decimal
    min_sample_size: int
    window: EvaluationWindow
    warning_band: Decimal
    scoring_curve: ScoringCurveType
    version: str = strawberry.field(description="Fingerprint of this exact definition (SHA-256).")

    @classmethod
    def of(
        cls, spec: MetricSpec, custom: Any = None, pass_mark: Decimal = PASS_MARK
    ) -> MetricDefinitionType:
        curve = spec.scoring_curve()
        return cls(
            key=spec.key,
            name=spec.name,
            description=spec.description,
            unit=spec.unit,
            observed_unit=spec.observed_unit,
            direction=spec.direction,
            threshold=spec.threshold,
            aggregation=Aggregation(
                kind=spec.aggregation.name,
                params=[
                    AggregationParam(name=k, value=v)
                    for k, v in sorted(spec.aggregation.params.items())
                ],
                description=spec.aggregation.describe(custom),
            ),
            weight=spec.weight,
            min_sample_size=spec.min_sample_size,
            window=EvaluationWindow(period=spec.window.period, timezone=spec.window.timezone),
            warning_band=spec.warning_band,
            scoring_curve=ScoringCurveType(
                floor=curve.floor,
                threshold=spec.threshold,
                target=curve.target,
                pass_mark=pass_mark,
                declared=spec.curve is not None,
            ),
            version=spec.fingerprint(),
        )


@strawberry.type(description="What sellers see of a provider's KPIs in one category.")
class PublicStanding:
    category: str
    period: str
    composite: Decimal | None
    standing: str
    tier: Tier


@strawberry.type(description="A metric's value in one period, as scored.")
class TrendPoint:
    period: str
    value: Decimal | None
    threshold: Decimal
    status: str
    sample_size: int


@strawberry.type(
    name="MetricResult", description="One metric's verdict in a scorecard, with its evidence."
)
class MetricResultType:
    metric: str
    period: str = strawberry.field(
        description="The metric's own window (a month, or the quarter holding it)."
    )
    value: Decimal | None
    sample_size: int
    threshold: Decimal
    status: str = strawberry.field(description="PASS, WARNING, FAIL or INSUFFICIENT_DATA.")
    margin: Decimal | None = strawberry.field(
        description="Positive: better than the threshold by this much."
    )
    attainment: Decimal | None = strawberry.field(
        description="0–100 points of this metric on its scoring curve."
    )
    weight: Decimal
    definition_version: str = strawberry.field(
        description="Fingerprint of the exact definition used."
    )


@strawberry.type(
    name="KpiProjection",
    description=(
        "PROJECTION, not a scorecard: the open month's running values, scored the way its "
        "scorecard will be once the month closes. Recomputed on every read; it sets no "
        "standing, sanction or tier."
    ),
)
class KpiProjectionType:
    category_key: str
    period: str = strawberry.field(description="The open month (in the category's time zone).")
    as_of: datetime = strawberry.field(description="When these running values were computed.")
    closes_at: datetime = strawberry.field(
        description="When the month closes for evaluation (its end plus the grace period)."
    )
    composite: Decimal | None = strawberry.field(description="Projected composite so far.")
    standing: str = strawberry.field(description="Projected standing so far (not public).")
    metrics: list[MetricResultType]


def metric_results(rows: list[dict[str, Any]]) -> list[MetricResultType]:
    """A scorecard's (or projection's) stored results rows as GraphQL values."""
    return [
        MetricResultType(
            metric=r["metric"],
            period=r["period"],
            value=None if r["value"] is None else Decimal(r["value"]),
            sample_size=r["sampleSize"],
            threshold=Decimal(r["threshold"]),
            status=r["status"],
            margin=None if r["margin"] is None else Decimal(r["margin"]),
            attainment=None if r["attainment"] is None else Decimal(r["attainment"]),
            weight=Decimal(r["weight"]),
            definition_version=r["definition"],
        )
        for r in rows
    ]


@strawberry.type(
    name="Scorecard",
    description="A provider's evaluation of one category for one month (immutable).",
)
class ScorecardType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    period: str
    revision: int
    period_start: datetime
    period_end: datetime
    composite: Decimal | None = strawberry.field(
        description=(
            "Weighted points 0–100 of metrics with a verdict; each failing metric lowers the "
            "best reachable standing band by one."
        )
    )
    history_score: Decimal | None = strawberry.field(
        description="Composite blended with past periods (decay)."
    )
    standing: str
    computed_at: datetime
    metrics: list[MetricResultType]
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: Scorecard) -> ScorecardType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            period=row.period,
            revision=row.revision,
            period_start=row.period_start,
            period_end=row.period_end,
            composite=row.composite,
            history_score=row.history_score,
            standing=row.standing,
            computed_at=row.computed_at,
            metrics=metric_results(row.results),
            provider_id=row.provider_id,
        )

    @strawberry.field(
        description="Per metric, in the scorecard's windows: how many of the observations that "
        "count came from the platform's order data and how many were self-reported (counted "
        "now: a later revision's corrections show here before the card is re-evaluated)."
    )
    async def sources(self, info: Ctx) -> list[MetricSources]:
        return await metric_sources(ctx(info), self.provider_id, self.category_key, self.period)

    resolve_nodes = rows_resolver(Scorecard)


@strawberry.type(
    name="KpiObservation", description="One observed fact about a provider for one metric."
)
class KpiObservationType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    metric_key: str
    subject_ref: str = strawberry.field(description="Client, store or shipment the fact is about.")
    observed_at: datetime
    value: Decimal
    source: ObservationSource
    attributable: bool = strawberry.field(description="False: visible, but excluded from scoring.")
    non_attributable_reason: str | None
    evidence_ref: str | None
    reported_by: str | None
    reported_at: datetime
    correction_reason: str | None
    review_status: str | None = strawberry.field(
        description=(
            "A provider's correction or not-attributable claim on its own data: PENDING (the "
            "original still counts), ACCEPTED or REJECTED; null when nothing needs review."
        )
    )
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    provider_id: strawberry.Private[int]
    supersedes_id: strawberry.Private[int | None]
    evidence_document_id: strawberry.Private[int | None] = None

    @classmethod
    def of(cls, row: KpiObservation) -> KpiObservationType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            metric_key=row.metric_key,
            subject_ref=row.subject_ref,
            observed_at=row.observed_at,
            value=row.value,
            source=row.source,
            attributable=row.attributable,
            non_attributable_reason=row.non_attributable_reason,
            evidence_ref=row.evidence_ref,
            reported_by=row.reported_by,
            reported_at=row.reported_at,
            correction_reason=row.correction_reason,
            review_status=row.review_status,
            reviewed_by=row.reviewed_by,
            reviewed_at=row.reviewed_at,
            review_note=row.review_note,
            provider_id=row.provider_id,
            supersedes_id=row.supersedes_id,
            evidence_document_id=row.evidence_document_id,
        )

    @strawberry.field(
        description="The metric's current definition (null if its plugin is disabled)."
    )
    def metric(self, info: Ctx) -> MetricDefinitionType | None:
        contribution = ctx(info).registry.categories.get(self.category_key)
        if contribution is None:
            return None
        try:
            return MetricDefinitionType.of(
                contribution.metric(self.metric_key),
                ctx(info).registry.aggregations,
                contribution.scoring.pass_mark,
            )
        except NotFound:
            return None

    @strawberry.field(
        description="The uploaded document given as evidence (downloadPath opens it), for the "
        "provider's members and staff; null when none was linked."
    )
    async def evidence_document(self, info: Ctx) -> DocumentType | None:
        return await visible_document(info, self.evidence_document_id)

    @strawberry.field(description="The observation this one corrects, if any.")
    async def supersedes(self, info: Ctx) -> KpiObservationType | None:
        if self.supersedes_id is None:
            return None
        row = await loaders.by_id(ctx(info), KpiObservation).load(self.supersedes_id)
        return KpiObservationType.of(row) if row else None

    @strawberry.field
    async def provider(self, info: Ctx) -> ProviderType:
        return ProviderType.of(await loaders.by_id(ctx(info), Provider).load(self.provider_id))

    resolve_nodes = rows_resolver(KpiObservation)
