"""Early-warning mutations: a provider's own alert lines, marking alerts read."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from sqlalchemy import select

from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import NotFound
from linkstar.core.kpi import alerts as warnings
from linkstar.core.kpi.models import Alert, AlertThreshold
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
        warnings.check_internal_threshold(definition, threshold)
        async with write(info) as session:
            row = (
                await session.execute(
                    select(AlertThreshold).where(
                        AlertThreshold.provider_id == provider_id,
                        AlertThreshold.category_key == category,
                        AlertThreshold.metric_key == metric,
                    )
                )
            ).scalar_one_or_none()
            if row is None:
                session.add(
                    AlertThreshold(
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
        provider_id = require_provider_member(info)
        async with write(info) as session:
            row = await session.get(Alert, parse_id(alert, "Alert"))
            if row is None or row.provider_id != provider_id:
                raise NotFound("no such alert")
            row.read_at = row.read_at or utcnow()
        return AlertType.of(row)
