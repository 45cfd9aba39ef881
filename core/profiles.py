"""Stable import path for plugins written against LinkStar 0.1.

Now `linkstar.core.providers.profiles`; new plugins import from `linkstar.schema.plugin_api`.
"""

from linkstar.core.providers.profiles import *  # noqa: F403
