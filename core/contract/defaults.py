"""The core's default plugins: built-in features that go through the same hooks as a plugin's.

pytest registers its own features as default plugins and datasette ships its facets the same
way; here the built-in aggregations are contributed through `linkstar_aggregations`, so a
plugin's aggregation and a built-in one are the same kind of object, validated and looked up
the same way. `build_registry` registers these before any installed plugin.
"""

from __future__ import annotations

from linkstar.core.contract.hookspecs import hookimpl
from linkstar.core.kpi.aggregations import BUILT_IN_AGGREGATIONS, CustomAggregation


class BuiltInAggregations:
    """The aggregations every installation has (RATIO_OF_COUNTS, MEAN, PERCENTILE, …)."""

    @hookimpl
    def linkstar_aggregations(self) -> list[CustomAggregation]:
        return list(BUILT_IN_AGGREGATIONS)


DEFAULT_PLUGINS = (("linkstar.aggregations", BuiltInAggregations()),)
