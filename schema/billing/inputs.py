"""Turning money inputs into exact Money, with codes a client can act on."""

from __future__ import annotations

from typing import Any

from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.money import Money


def money_of(value: Any) -> Money:
    """Exact Money from an input, or INVALID_AMOUNT naming what is wrong."""
    try:
        return Money(value.amount, value.currency)
    except (TypeError, ValueError) as error:
        raise InvalidInput(str(error), code="INVALID_AMOUNT") from None
