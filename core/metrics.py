"""Stable import path for plugins written against LinkStar 0.1.

Now `linkstar.core.kpi.metrics`; new plugins import from `linkstar.schema.plugin_api`.
"""

from linkstar.core.kpi.metrics import *  # noqa: F403
