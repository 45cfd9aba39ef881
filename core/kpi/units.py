"""Units of measure: what a metric's or an observation's number means, and its possible values."""

from __future__ import annotations

import enum
from decimal import Decimal


class Unit(enum.StrEnum):
    """What a number means, and so which values it may take."""

    PERCENT = "PERCENT"  # 0..100
    PERCENT_CHANGE = "PERCENT_CHANGE"  # -100..+inf (growth)
    HOURS = "HOURS"  # 0..+inf
    RATING = "RATING"  # 1..5 stars
    COUNT = "COUNT"  # 0..+inf
    AMOUNT = "AMOUNT"  # 0..+inf, a monetary or volume quantity in the subject's own currency
    OUTCOME = "OUTCOME"  # 0 or 1: whether the counted event happened (task on time, parcel lost, …)


UNIT_RANGES: dict[Unit, tuple[Decimal | None, Decimal | None]] = {
    Unit.PERCENT: (Decimal(0), Decimal(100)),
    Unit.PERCENT_CHANGE: (Decimal(-100), None),
    Unit.HOURS: (Decimal(0), None),
    Unit.RATING: (Decimal(1), Decimal(5)),
    Unit.COUNT: (Decimal(0), None),
    Unit.AMOUNT: (Decimal(0), None),
    Unit.OUTCOME: (Decimal(0), Decimal(1)),
}


def in_unit_range(unit: Unit, value: Decimal) -> bool:
    """Whether `value` is a possible value of `unit` (bounds inclusive)."""
    low, high = UNIT_RANGES[unit]
    if unit is Unit.OUTCOME:
        return value in (Decimal(0), Decimal(1))
    return (low is None or value >= low) and (high is None or value <= high)
