"""GraphQL type of early-warning alerts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry import relay

from linkstar.core.kpi.models import Alert
from linkstar.schema.nodes import rows_resolver


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
    def of(cls, row: Alert) -> AlertType:
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

    resolve_nodes = rows_resolver(Alert)
