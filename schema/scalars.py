"""The schema's DateTime and Date scalars, bounded to plausible values.

Python's datetime reaches from year 1 to 9999; `0001-01-01T00:00:00+01:00` cannot even be
converted to UTC (OverflowError), and a violation "occurred" in year 1 is a typo or an
attack. Every DateTime and Date input is checked here, before any resolver runs, and refused
with DATE_OUT_OF_RANGE. The SDL is unchanged: same names, same descriptions.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime

from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition

from linkstar.core.kernel.errors import DateOutOfRange

# Instants the platform records (observations, violations, deadlines): this century and next.
EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC)
# Calendar dates may be older (a business licence issued in 1990).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def _out_of_range(value: object, low: object, high: object) -> DateOutOfRange:
    return DateOutOfRange(
        f"{value} is outside the accepted range {low} to {high}", suggestion="check the year"
    )


# The common shape, `2026-11-29T10:00:00[.ffffff](Z|±hh:mm)`: read by the C parser of the standard
# library, which gives the same instant as strawberry's dateutil parser (ten times slower, most
# of a 10,000-record report's parsing). Anything else goes through strawberry's parser.
_PLAIN_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?", re.ASCII
)


def _parse_datetime(value: object) -> datetime:
    if isinstance(value, str) and _PLAIN_DATETIME.fullmatch(value):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:  # month 13, hour 25, …: strawberry's parser words the refusal
            parsed = DateTimeDefinition.parse_value(value)  # type: ignore[misc]
    else:
        parsed = DateTimeDefinition.parse_value(value)  # type: ignore[misc]
    try:
        instant = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise _out_of_range(value, EARLIEST_INSTANT, LATEST_INSTANT) from None
    if not EARLIEST_INSTANT <= instant <= LATEST_INSTANT:
        raise _out_of_range(value, EARLIEST_INSTANT, LATEST_INSTANT)
    return parsed


def _parse_date(value: object) -> date:
    parsed = DateDefinition.parse_value(value)  # type: ignore[misc]
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise _out_of_range(value, EARLIEST_DATE, LATEST_DATE)
    return parsed


BoundedDateTime = dataclasses.replace(DateTimeDefinition, parse_value=_parse_datetime)
BoundedDate = dataclasses.replace(DateDefinition, parse_value=_parse_date)
SCALAR_OVERRIDES = {datetime: BoundedDateTime, date: BoundedDate}
