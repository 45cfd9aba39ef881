"""Stable import path for plugins written against LinkStar 0.1.

Now `linkstar.core.kernel.vocabulary`; new plugins import from `linkstar.schema.plugin_api`.
"""

from linkstar.core.kernel.vocabulary import *  # noqa: F403
