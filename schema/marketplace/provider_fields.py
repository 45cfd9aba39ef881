"""Fields the marketplace adds to Provider: where its KPI data comes from."""

from __future__ import annotations

import strawberry

from linkstar.schema.kpi.sources import MetricSources, metric_sources
from linkstar.schema.nodes import Ctx, ctx


@strawberry.type
class MarketplaceProviderFields:
    @strawberry.field(
        description="Per metric, platform-sourced vs self-reported observations in a month "
        "(the provider and staff)."
    )
    async def observation_sources(
        self, info: Ctx, category: str, period: str
    ) -> list[MetricSources]:
        return await metric_sources(ctx(info), self.id, category, period)
