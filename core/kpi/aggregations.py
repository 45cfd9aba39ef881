"""Aggregations: how one period's observations become a metric's value.

Every aggregation is one `CustomAggregation` object, registered through the
`linkstar_aggregations` hook: a plugin's own, and the built-in ones below, which the core's
default plugin (`linkstar.core.contract.defaults`) registers exactly as a plugin would. Adding a
built-in is adding one object to `BUILT_IN_AGGREGATIONS`; `AggregationKind` names them.

The built-ins are set-based SQL over every provider at once. Each returns
{provider_id: (value, sample_size)} for one metric and one period. SQL does the counting,
summing, ranking and grouping; Python only turns the few resulting integers into exact Decimals.
Observations count when they are attributable and not superseded by a correction (a provider's
own correction or not-attributable claim only once accepted by review).

Definitions, stated once (they are part of the API):
- RATIO_OF_COUNTS: 100 × (observations equal to 1) / observations.
- SHARE_AT_OR_ABOVE: 100 × (observations ≥ cutoff) / observations.
- MEAN: sum / count, rounded half-even to 4 decimals.
- PERCENTILE p: nearest rank — the k-th smallest value, k = ceil(p/100 × n).
- MAXIMUM: the largest value. LATEST: the value observed last (ties: the later report).
- GROWTH: per subject (store/client), 100 × (this period's sum − the previous period's sum) /
  the previous period's sum, for subjects with a positive previous sum; then the mean over those
  subjects (rounded half-even to 4 decimals). The sample size is the number of such subjects.
All percentages are rounded half-even to 4 decimals.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, and_, case, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.periods import Period
from linkstar.core.kernel.vocabulary import ObservationSource
from linkstar.core.kpi.models import OBSERVATION_SCALE, KpiObservation
from linkstar.core.kpi.units import Unit, in_unit_range

if TYPE_CHECKING:
    from linkstar.core.kpi.metrics import MetricDefinition

SCALE = 10**OBSERVATION_SCALE
QUANTUM = Decimal("0.0001")
# The stored scaled integer itself: SQL sums and compares integers exactly on both databases.
RAW = type_coerce(KpiObservation.value, BigInteger)
Result = dict[int, tuple[Decimal | None, int]]


def _q(value: Decimal) -> Decimal:
    return value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def _scaled(value: Decimal) -> int:
    return int(value * SCALE)


def _unscale(raw: Any) -> Decimal:
    return Decimal(int(raw)) / SCALE


def _counted(
    category: str, metric: str, start: Any, end: Any, provider_id: int | None
) -> list[Any]:
    """Conditions of an observation that counts in [start, end)."""
    # Uncorrelated: the set of corrected ids is computed once (and is small), whatever the
    # planner's statistics say about a mostly-NULL column.
    # A provider's own correction or not-attributable claim takes effect only once a reviewer
    # (or the category's auto-accept rule) accepted it: until then, and after a rejection, the
    # original record counts and a pending claim on a new record counts as attributable.
    status = KpiObservation.review_status
    effective = or_(status.is_(None), status == "ACCEPTED")
    corrected = select(KpiObservation.supersedes_id).where(
        KpiObservation.supersedes_id.is_not(None), effective
    )
    conditions = [
        KpiObservation.category_key == category,
        KpiObservation.metric_key == metric,
        KpiObservation.observed_at >= start,
        KpiObservation.observed_at < end,
        or_(
            and_(KpiObservation.attributable.is_(True), effective),
            and_(status.in_(("PENDING", "REJECTED")), KpiObservation.supersedes_id.is_(None)),
        ),
        KpiObservation.id.not_in(corrected.scalar_subquery()),
    ]
    if provider_id is not None:
        conditions.append(KpiObservation.provider_id == provider_id)
    return conditions


async def _share(session: AsyncSession, where: list[Any], hit: Any) -> Result:
    pid = KpiObservation.provider_id
    stmt = select(pid, func.sum(case((hit, 1), else_=0)), func.count()).where(*where).group_by(pid)
    rows = (await session.execute(stmt)).all()
    return {p: (_q(Decimal(100 * int(hits)) / n), n) for p, hits, n in rows}


async def _ratio_of_counts(
    session: AsyncSession, where: list[Any], metric: MetricDefinition, period: Period
) -> Result:
    return await _share(session, where, RAW == SCALE)


async def _share_at_or_above(
    session: AsyncSession, where: list[Any], metric: MetricDefinition, period: Period
) -> Result:
    return await _share(session, where, _scaled(metric.aggregation.params["cutoff"]) <= RAW)


async def _mean(
    session: AsyncSession, where: list[Any], metric: MetricDefinition, period: Period
) -> Result:
    pid = KpiObservation.provider_id
    stmt = select(pid, func.sum(RAW), func.count()).where(*where).group_by(pid)
    rows = (await session.execute(stmt)).all()
    return {p: (_q(_unscale(total) / n), n) for p, total, n in rows}


async def _maximum(
    session: AsyncSession, where: list[Any], metric: MetricDefinition, period: Period
) -> Result:
    pid = KpiObservation.provider_id
    stmt = select(pid, func.max(RAW), func.count()).where(*where).group_by(pid)
    return {p: (_unscale(top), n) for p, top, n in (await session.execute(stmt)).all()}


async def _percentile(
    session: AsyncSession, where: list[Any], metric: MetricDefinition, period: Period
) -> Result:
    # k = ceil(p/100 × n) in integers: p is held as hundredths (90 → 9000, 99.5 → 9950).
    p = int(metric.aggregation.params["percentile"] * 100)
    rank = func.row_number().over(
        partition_by=KpiObservation.provider_id, order_by=(RAW, KpiObservation.id)
    )
    size = func.count().over(partition_by=KpiObservation.provider_id)
    ranked = (
        select(
            KpiObservation.provider_id.label("pid"),
            RAW.label("value"),
            rank.label("rank"),
            size.label("n"),
        )
        .where(*where)
        .subquery()
    )
    stmt = select(ranked.c.pid, ranked.c.value, ranked.c.n).where(
        ranked.c.rank == (ranked.c.n * p + 9999) // 10000
    )
    return {pid: (_unscale(v), n) for pid, v, n in (await session.execute(stmt)).all()}


async def _latest(
    session: AsyncSession, where: list[Any], metric: MetricDefinition, period: Period
) -> Result:
    rank = func.row_number().over(
        partition_by=KpiObservation.provider_id,
        order_by=(
            KpiObservation.observed_at.desc(),
            KpiObservation.reported_at.desc(),
            KpiObservation.id.desc(),
        ),
    )
    size = func.count().over(partition_by=KpiObservation.provider_id)
    ranked = (
        select(
            KpiObservation.provider_id.label("pid"),
            RAW.label("value"),
            rank.label("rank"),
            size.label("n"),
        )
        .where(*where)
        .subquery()
    )
    stmt = select(ranked.c.pid, ranked.c.value, ranked.c.n).where(ranked.c.rank == 1)
    return {pid: (_unscale(v), n) for pid, v, n in (await session.execute(stmt)).all()}


async def _growth(
    session: AsyncSession, where: list[Any], metric: MetricDefinition, period: Period
) -> Result:
    # `where` reaches back one period (GROWTH.reaches_back): the previous sums are in it too
    current = KpiObservation.observed_at >= period.start
    stmt = (
        select(
            KpiObservation.provider_id,
            KpiObservation.subject_ref,
            func.sum(case((current, RAW), else_=0)),
            func.sum(case((~current, RAW), else_=0)),
            func.sum(case((current, 1), else_=0)),
        )
        .where(*where)
        .group_by(KpiObservation.provider_id, KpiObservation.subject_ref)
        .having(
            and_(
                func.sum(case((~current, RAW), else_=0)) > 0,
                func.sum(case((current, 1), else_=0)) > 0,
            )
        )
    )
    growth: dict[int, list[Decimal]] = defaultdict(list)
    for pid, _subject, now, before, _ in (await session.execute(stmt)).all():
        growth[pid].append(Decimal(100 * (int(now) - int(before))) / int(before))
    return {
        pid: (_q(sum(values, Decimal(0)) / len(values)), len(values))
        for pid, values in growth.items()
    }


@dataclass(frozen=True, slots=True)
class CustomAggregation:
    """An aggregation, registered through the hook `linkstar_aggregations` (built-ins too).

    `compute(session, conditions, metric, period)` receives the core's SQLAlchemy conditions that
    select the observations that count (attributable, not superseded, in the period, and
    `reaches_back` periods before it) and must return {provider_id: (value, sample_size)} —
    computed set-based, for all providers at once. `description` may name the parameters in
    braces ("p{percentile} of the observations"); `check(metric)` returns further problems of a
    metric that uses the aggregation (e.g. a parameter out of range), as sentences.
    """

    kind: str
    description: str
    compute: Callable[..., Awaitable[dict[int, tuple[Decimal | None, int]]]]
    result_units: frozenset[Unit] | None = None  # None: the observed unit is kept
    observed_units: frozenset[Unit] | None = None  # None: any
    params: frozenset[str] = frozenset()
    reaches_back: int = 0  # earlier periods the conditions also select (GROWTH: 1)
    check: Callable[[MetricDefinition], list[str]] | None = None

    def describe(self, params: Mapping[str, Decimal]) -> str:
        """The description, with the metric's parameters filled in."""
        if not self.params:
            return self.description
        try:
            return self.description.format_map(params)
        except (KeyError, IndexError, ValueError):
            return self.description


CUSTOM_KIND = re.compile(r"^[A-Z][A-Z0-9_]{2,40}$")


def custom_aggregation_problems(custom: CustomAggregation) -> list[str]:
    """Everything wrong with an aggregation as declared."""
    problems = []
    if not CUSTOM_KIND.match(custom.kind):
        problems.append(f"aggregation kind {custom.kind!r} must be UPPER_SNAKE_CASE (3-41 chars)")
    if not custom.description.strip():
        problems.append(f"aggregation {custom.kind!r} needs a description")
    if not callable(custom.compute):
        problems.append(f"aggregation {custom.kind!r}: compute must be an async function")
    if not isinstance(custom.reaches_back, int) or custom.reaches_back < 0:
        problems.append(f"aggregation {custom.kind!r}: reaches_back must be an integer >= 0")
    return problems


async def aggregate(
    session: AsyncSession,
    category: str,
    metric: MetricDefinition,
    period: Period,
    provider_id: int | None = None,
    aggregations: Mapping[str, CustomAggregation] | None = None,
) -> Result:
    """Value and sample size per provider for `metric` over `period` (providers with data only).

    `aggregations` are the registry's (built-in and plugins' alike; None: the built-ins). Each
    gets the same counting conditions and computes its own SQL.
    """
    known = BUILT_IN if aggregations is None else aggregations
    kind = metric.aggregation.name
    if kind not in known:
        raise ValueError(f"no aggregation {kind!r} is registered")
    method = known[kind]
    start = period
    for _ in range(method.reaches_back):
        start = start.previous()
    where = _counted(category, metric.key, start.start, period.end, provider_id)
    if metric.platform_only:
        where.append(KpiObservation.source == ObservationSource.PLATFORM)
    return await method.compute(session, where, metric, period)


def _percentile_in_range(metric: MetricDefinition) -> list[str]:
    percentile = metric.aggregation.params["percentile"]
    return [] if 0 < percentile <= 100 else ["percentile must be in (0, 100]"]


def _cutoff_in_range(metric: MetricDefinition) -> list[str]:
    cutoff = metric.aggregation.params["cutoff"]
    if in_unit_range(metric.observed_unit, cutoff):
        return []
    return [f"cutoff {cutoff} is outside the range of {metric.observed_unit.value}"]


BUILT_IN_AGGREGATIONS = (
    CustomAggregation(
        "RATIO_OF_COUNTS",
        "share of observations where the counted event happened (value 1), in percent",
        _ratio_of_counts,
        result_units=frozenset({Unit.PERCENT}),
        observed_units=frozenset({Unit.OUTCOME}),
    ),
    CustomAggregation(
        "SHARE_AT_OR_ABOVE",
        "share of observations at or above {cutoff}, in percent",
        _share_at_or_above,
        result_units=frozenset({Unit.PERCENT}),
        params=frozenset({"cutoff"}),
        check=_cutoff_in_range,
    ),
    CustomAggregation("MEAN", "arithmetic mean of the observations", _mean),
    CustomAggregation(
        "PERCENTILE",
        "p{percentile} of the observations (nearest rank)",
        _percentile,
        params=frozenset({"percentile"}),
        check=_percentile_in_range,
    ),
    CustomAggregation("MAXIMUM", "largest observation (worst case)", _maximum),
    CustomAggregation(
        "GROWTH",
        "growth over the previous period per subject (store/client), then the mean over subjects",
        _growth,
        result_units=frozenset({Unit.PERCENT_CHANGE}),
        observed_units=frozenset({Unit.AMOUNT, Unit.COUNT}),
        reaches_back=1,
    ),
    CustomAggregation("LATEST", "most recent observation in the window", _latest),
)
BUILT_IN: Mapping[str, CustomAggregation] = MappingProxyType(
    {a.kind: a for a in BUILT_IN_AGGREGATIONS}
)
# The built-ins' names, for `Aggregation(AggregationKind.MEAN)`; a plain "MEAN" works as well.
AggregationKind = enum.StrEnum(  # type: ignore[misc]
    "AggregationKind", [(a.kind, a.kind) for a in BUILT_IN_AGGREGATIONS], module=__name__
)
