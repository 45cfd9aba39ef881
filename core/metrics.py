"""Stable import path for plugins written against LinkStar 0.1.

Now `linkstar.core.kpi.metrics` (aggregations in `kpi.aggregations`, units in `kpi.units`);
new plugins import from `linkstar.schema.plugin_api`.
"""

from linkstar.core.kpi.aggregations import AggregationKind, CustomAggregation  # noqa: F401
from linkstar.core.kpi.metrics import *  # noqa: F403
from linkstar.core.kpi.units import UNIT_RANGES, Unit, in_unit_range  # noqa: F401
