"""What counts as valid text anywhere in LinkStar: no NUL, no lone surrogates.

PostgreSQL refuses both (a NUL in a text column, a surrogate that is not UTF-8), SQLite
stores them, and neither is ever meaningful in a name, an id or a note; so both are refused
at the edge, the same on both databases, before any resolver runs.
"""

from __future__ import annotations

import re

_INVALID = re.compile("[\x00\ud800-\udfff]")


def is_valid_text(value: str) -> bool:
    """True when `value` holds no NUL character and no lone surrogate."""
    return _INVALID.search(value) is None
