"""Fields the marketplace adds to Provider: where its KPI data comes from."""

from __future__ import annotations

import strawberry

from linkstar.core.identity.policy import can_read_private
from linkstar.core.kernel.periods import month_to_period
from linkstar.core.kernel.vocabulary import ObservationSource
from linkstar.core.kpi.public import source_counts
from linkstar.schema.nodes import Ctx, ctx


@strawberry.type(description="How a metric's counted observations in a period were sourced.")
class MetricSources:
    metric: str
    period: str
    platform: int = strawberry.field(description="From the platform's own order data.")
    self_reported: int


@strawberry.type
class MarketplaceProviderFields:
    @strawberry.field(
        description="Per metric, platform-sourced vs self-reported observations in a month "
        "(the provider and staff)."
    )
    async def observation_sources(
        self, info: Ctx, category: str, period: str
    ) -> list[MetricSources]:
        context = ctx(info)
        if not can_read_private(context.viewer, self.id):
            return []
        contribution = context.registry.category(category)
        periods = {
            m.key: month_to_period(period, m.window.period, m.window.timezone)
            for m in contribution.metrics
        }
        async with context.session() as session:
            counts = await source_counts(
                session, self.id, category, {k: (p.start, p.end) for k, p in periods.items()}
            )
        return [
            MetricSources(
                metric=key,
                period=periods[key].label,
                platform=counts[key][ObservationSource.PLATFORM],
                self_reported=counts[key][ObservationSource.SELF_REPORTED],
            )
            for key in periods
        ]
