"""Early-warning mutations: a provider's own alert lines, marking alerts read."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from linkstar.core.kpi import alerts as warnings
from linkstar.schema.kpi.alert_types import AlertType
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.resolving import parse_id, require_provider_member, write


@strawberry.type
class AlertMutation:
    @strawberry.mutation(
        description="Set your own early-warning line for a metric (stricter than the platform's)."
    )
    async def set_alert_threshold(
        self, info: Ctx, category: str, metric: str, threshold: Decimal
    ) -> bool:
        provider_id = require_provider_member(info)
        definition = ctx(info).registry.category(category).metric(metric)
        async with write(info) as session:
            await warnings.set_internal_threshold(
                session, provider_id, category, definition, threshold
            )
        return True

    @strawberry.mutation(description="Mark one of your alerts read.")
    async def mark_alert_read(self, info: Ctx, alert: strawberry.ID) -> AlertType:
        provider_id = require_provider_member(info)
        async with write(info) as session:
            row = await warnings.mark_read(session, provider_id, parse_id(alert, "Alert"))
        return AlertType.of(row)
