"""Fields the kpi domain adds to Provider."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kpi.evaluation import project
from linkstar.core.kpi.models import Alert, KpiObservation, Scorecard
from linkstar.core.standing import cards as standing_cards
from linkstar.schema import loaders
from linkstar.schema.kpi.alert_types import AlertType
from linkstar.schema.kpi.types import (
    KpiObservationType,
    KpiProjectionType,
    PublicStanding,
    ScorecardType,
    TrendPoint,
    metric_results,
)
from linkstar.schema.nodes import Ctx, child_connection, ctx
from linkstar.schema.pagination import Connection, PageArgs


@strawberry.type
class KpiProviderFields:
    @strawberry.field(
        description="Public KPI summary: latest standing in each category it is in the pool for."
    )
    async def public_standings(self, info: Ctx) -> list[PublicStanding]:
        rows = await loaders.public_standings(ctx(info)).load(self.id)
        order = {key: n for n, key in enumerate(ctx(info).registry.categories)}
        return [
            PublicStanding(
                category=row.category_key,
                period=row.period,
                composite=row.composite,
                standing=row.standing,
                tier=row.tier,
            )
            for row in sorted(rows, key=lambda r: order.get(r.category_key, 99))
        ]

    @strawberry.field(description="The latest scorecard of a category for a month (e.g. 2026-10).")
    async def scorecard(self, info: Ctx, category: str, period: str) -> ScorecardType | None:
        ctx(info).registry.category(category)
        if not self._private(info):
            return None
        async with ctx(info).session() as session:
            row = await standing_cards.latest_scorecard(session, self.id, category, period)
        return ScorecardType.of(row) if row else None

    @strawberry.field(
        description=(
            "PROJECTION of the open month (not a scorecard): running values scored as the "
            "scorecard will be at close. Provider members and staff only."
        )
    )
    async def kpi_projection(self, info: Ctx, category: str) -> KpiProjectionType | None:
        contribution = ctx(info).registry.category(category)
        if not self._private(info):
            return None
        async with ctx(info).session() as session:
            found = await project(
                session, contribution, self.id, aggregations=ctx(info).registry.aggregations
            )
        return KpiProjectionType(
            category_key=category,
            period=found.period,
            as_of=found.as_of,
            closes_at=found.closes_at,
            composite=found.composite,
            standing=found.standing,
            metrics=metric_results(found.results),
        )

    @strawberry.field(description="Every scorecard and revision, oldest first.")
    async def scorecards(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ScorecardType]:
        return await child_connection(
            info,
            self.id,
            Scorecard,
            ScorecardType.of,
            PageArgs.parse(first, after, last, before),
            unread=("definitions",),  # kilobytes of JSON per card that the type never shows
        )

    @strawberry.field(description="One metric over the last periods, oldest first (for charts).")
    async def metric_trend(
        self, info: Ctx, category: str, metric: str, periods: int = 12
    ) -> list[TrendPoint]:

        ctx(info).registry.category(category).metric(metric)
        if not 1 <= periods <= 36:
            raise InvalidInput("periods must be between 1 and 36")
        if not self._private(info):
            return []
        async with ctx(info).session() as session:
            rows = await standing_cards.latest_scorecards(session, self.id, category, periods)
        points = []
        for card in rows:
            result = next((r for r in card.results if r["metric"] == metric), None)
            if result is None:
                continue
            points.append(
                TrendPoint(
                    period=card.period,
                    value=None if result["value"] is None else Decimal(result["value"]),
                    threshold=Decimal(result["threshold"]),
                    status=result["status"],
                    sample_size=result["sampleSize"],
                )
            )
        return points

    @strawberry.field(
        description="Early-warning alerts, oldest first; only unread ones when asked."
    )
    async def alerts(
        self,
        info: Ctx,
        unread_only: bool = False,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AlertType]:

        args = PageArgs.parse(first, after, last, before)
        filters = (("read_at", None),) if unread_only else ()
        return await child_connection(info, self.id, Alert, AlertType.of, args, filters)

    @strawberry.field(
        description=(
            "KPI observations, optionally of one metric or one review status (e.g. PENDING "
            "claims), oldest first."
        )
    )
    async def observations(
        self,
        info: Ctx,
        metric: str | None = None,
        review_status: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[KpiObservationType]:
        filters = (("metric_key", metric),) if metric else ()
        if review_status is not None:
            filters = (*filters, ("review_status", review_status))
        return await child_connection(
            info,
            self.id,
            KpiObservation,
            KpiObservationType.of,
            PageArgs.parse(first, after, last, before),
            filters,
        )
