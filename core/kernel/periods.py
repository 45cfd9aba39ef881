"""Evaluation periods: a calendar month or quarter in a stated time zone, as UTC bounds.

"2026-10" in Asia/Shanghai is [2026-09-30T16:00Z, 2026-10-31T16:00Z): an observation at
2026-10-31T17:00Z (Nov 1st, 01:00 in Shanghai) belongs to November.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from linkstar.core.kernel.errors import InvalidInput


class PeriodKind(enum.StrEnum):
    """Length of one evaluation period."""

    MONTH = "MONTH"
    QUARTER = "QUARTER"


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True, slots=True)
class Period:
    """One evaluation period: its label, kind, time zone and UTC bounds [start, end)."""

    label: str
    kind: PeriodKind
    timezone: str
    start: datetime
    end: datetime

    def previous(self) -> Period:
        """The period just before this one (same kind and zone)."""
        year, index = _split(self.label, self.kind)
        index -= 1
        if index == 0:
            year, index = year - 1, (12 if self.kind is PeriodKind.MONTH else 4)
        return period_of(_label(year, index, self.kind), self.kind, self.timezone)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _split(label: str, kind: PeriodKind) -> tuple[int, int]:
    match = (_MONTH if kind is PeriodKind.MONTH else _QUARTER).match(label)
    if not match:
        example = "2026-10" if kind is PeriodKind.MONTH else "2026-Q4"
        raise InvalidInput(
            f"{label!r} is not a {kind.value.lower()} period", suggestion=f"e.g. {example}"
        )
    return int(match.group(1)), int(match.group(2))


def _label(year: int, index: int, kind: PeriodKind) -> str:
    return f"{year:04d}-{index:02d}" if kind is PeriodKind.MONTH else f"{year:04d}-Q{index}"


@functools.lru_cache(maxsize=4096)  # a Period is immutable; a bulk report asks for few of them
def period_of(label: str, kind: PeriodKind, timezone: str) -> Period:
    """Parse "2026-10" (month) or "2026-Q4" (quarter) in `timezone`."""
    year, index = _split(label, kind)
    zone = ZoneInfo(timezone)
    first_month = index if kind is PeriodKind.MONTH else 3 * index - 2
    months = 1 if kind is PeriodKind.MONTH else 3
    end_month = first_month + months
    end_year = year + (end_month - 1) // 12
    end_month = (end_month - 1) % 12 + 1
    start = datetime(year, first_month, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(end_year, end_month, 1, tzinfo=zone).astimezone(UTC)
    return Period(_label(year, index, kind), kind, timezone, start, end)


def period_containing(moment: datetime, kind: PeriodKind, timezone: str) -> Period:
    """The period that contains `moment` (aware)."""
    local = moment.astimezone(ZoneInfo(timezone))
    index = local.month if kind is PeriodKind.MONTH else (local.month - 1) // 3 + 1
    return period_of(_label(local.year, index, kind), kind, timezone)


@functools.lru_cache(maxsize=4096)  # asked for every metric of every provider in a run
def month_to_period(label: str, kind: PeriodKind, timezone: str) -> Period:
    """A month label mapped to the period of `kind` that contains it (quarter metrics)."""
    month = period_of(label, PeriodKind.MONTH, timezone)
    return period_containing(month.start, kind, timezone)
