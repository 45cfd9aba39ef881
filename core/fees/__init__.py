"""Fees: the fee and commission rules a category declares, and itemised quotes."""

# Plugins written against LinkStar 0.1 import `FeeKind`, `FeeRule`, … from `linkstar.core.fees`.
from linkstar.core.fees.rules import *  # noqa: F403
