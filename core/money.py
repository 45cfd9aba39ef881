"""Stable import path for plugins written against LinkStar 0.1.

Now `linkstar.core.kernel.money`; new plugins import from `linkstar.schema.plugin_api`.
"""

from linkstar.core.kernel.money import *  # noqa: F403
