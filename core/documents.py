"""Stable import path for plugins written against LinkStar 0.1.

Now `linkstar.core.onboarding.documents`; new plugins import from `linkstar.schema.plugin_api`.
"""

from linkstar.core.onboarding.documents import *  # noqa: F403
