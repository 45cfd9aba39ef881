"""Stable import path for plugins written against LinkStar 0.1.

Now `linkstar.core.contract.hookspecs`; new plugins import from `linkstar.schema.plugin_api`.
"""

from linkstar.core.contract.hookspecs import *  # noqa: F403
