"""Where a provider's counted KPI data came from: the platform's order data or its own reports."""

from __future__ import annotations

import strawberry

from linkstar.core.identity.policy import can_read_private
from linkstar.core.kernel.periods import month_to_period
from linkstar.core.kernel.vocabulary import ObservationSource
from linkstar.core.kpi.public import source_counts
from linkstar.schema.context import Context


@strawberry.type(description="How a metric's counted observations in a period were sourced.")
class MetricSources:
    metric: str
    period: str
    platform: int = strawberry.field(description="From the platform's own order data.")
    self_reported: int


async def metric_sources(
    context: Context, provider_id: int, category: str, month: str
) -> list[MetricSources]:
    """Per metric of `category`, in its own window holding `month`: platform-sourced vs
    self-reported observations that count (nothing for a viewer who may not read them)."""
    if not can_read_private(context.viewer, provider_id):
        return []
    contribution = context.registry.category(category)
    periods = {
        m.key: month_to_period(month, m.window.period, m.window.timezone)
        for m in contribution.metrics
    }
    async with context.session() as session:
        counts = await source_counts(
            session, provider_id, category, {k: (p.start, p.end) for k, p in periods.items()}
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
