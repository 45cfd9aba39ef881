"""The built-in aggregations, as set-based SQL over every provider at once.

Each returns {provider_id: (value, sample_size)} for one metric and one period. SQL does the
counting, summing, ranking and grouping; Python only turns the few resulting integers into exact
Decimals. Observations count when they are attributable and not superseded by a correction
(a provider's own correction or not-attributable claim only once accepted by review).

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

from collections import defaultdict
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, and_, case, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.periods import Period
from linkstar.core.kernel.vocabulary import ObservationSource
from linkstar.core.kpi.metrics import AggregationKind, CustomAggregation, MetricDefinition
from linkstar.core.kpi.models import OBSERVATION_SCALE, KpiObservation

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


async def aggregate(
    session: AsyncSession,
    category: str,
    metric: MetricDefinition,
    period: Period,
    provider_id: int | None = None,
    custom: Mapping[str, CustomAggregation] | None = None,
) -> Result:
    """Value and sample size per provider for `metric` over `period` (providers with data only).

    A plugin's aggregation (`custom`) gets the same counting conditions and computes its own SQL.
    """
    kind = metric.aggregation.kind
    where = _counted(category, metric.key, period.start, period.end, provider_id)
    if metric.platform_only:
        where.append(KpiObservation.source == ObservationSource.PLATFORM)
    if not isinstance(kind, AggregationKind):
        if custom is None or kind not in custom:
            raise ValueError(f"no aggregation {kind!r} is registered")
        return await custom[kind].compute(session, where, metric, period)
    value = RAW
    pid = KpiObservation.provider_id
    if kind in (AggregationKind.RATIO_OF_COUNTS, AggregationKind.SHARE_AT_OR_ABOVE):
        hit = (
            value == SCALE
            if kind is AggregationKind.RATIO_OF_COUNTS
            else value >= _scaled(metric.aggregation.params["cutoff"])
        )
        stmt = (
            select(pid, func.sum(case((hit, 1), else_=0)), func.count()).where(*where).group_by(pid)
        )
        rows = (await session.execute(stmt)).all()
        return {p: (_q(Decimal(100 * int(hits)) / n), n) for p, hits, n in rows}
    if kind is AggregationKind.MEAN:
        stmt = select(pid, func.sum(value), func.count()).where(*where).group_by(pid)
        rows = (await session.execute(stmt)).all()
        return {p: (_q(_unscale(total) / n), n) for p, total, n in rows}
    if kind is AggregationKind.MAXIMUM:
        stmt = select(pid, func.max(value), func.count()).where(*where).group_by(pid)
        return {p: (_unscale(top), n) for p, top, n in (await session.execute(stmt)).all()}
    if kind is AggregationKind.PERCENTILE:
        return await _percentile(session, where, metric.aggregation.params["percentile"])
    if kind is AggregationKind.LATEST:
        return await _latest(session, where)
    if kind is AggregationKind.GROWTH:
        return await _growth(session, category, metric, period, provider_id)
    raise ValueError(f"no built-in aggregation {kind}")


async def _percentile(session: AsyncSession, where: list[Any], percentile: Decimal) -> Result:
    # k = ceil(p/100 × n) in integers: p is held as hundredths (90 → 9000, 99.5 → 9950).
    p = int(percentile * 100)
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


async def _latest(session: AsyncSession, where: list[Any]) -> Result:
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
    session: AsyncSession,
    category: str,
    metric: MetricDefinition,
    period: Period,
    provider_id: int | None,
) -> Result:
    previous = period.previous()
    where = _counted(category, metric.key, previous.start, period.end, provider_id)
    if metric.platform_only:
        where.append(KpiObservation.source == ObservationSource.PLATFORM)
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
