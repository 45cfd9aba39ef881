"""Fields the kpi domain adds to ServiceCategory."""

from __future__ import annotations

import strawberry

from linkstar.schema.kpi.types import MetricDefinitionType
from linkstar.schema.nodes import Ctx, ctx


@strawberry.type
class KpiCategoryFields:
    @strawberry.field(description="The KPI metrics providers of this category are scored on.")
    def metrics(self, info: Ctx) -> list[MetricDefinitionType]:
        custom = ctx(info).registry.aggregations
        pass_mark = self.contribution.scoring.pass_mark
        return [MetricDefinitionType.of(m, custom, pass_mark) for m in self.contribution.metrics]
