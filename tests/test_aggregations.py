"""Every built-in aggregation, checked by hand on data small enough to count on fingers.

Periods use the metric's time zone (Asia/Shanghai by default): October 2026 in Shanghai is
[2026-09-30T16:00Z, 2026-10-31T16:00Z).
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from linkstar.core.kernel.db import create_engine, session_factory
from linkstar.core.kernel.periods import period_containing, period_of
from linkstar.core.kernel.vocabulary import ObservationSource, Region
from linkstar.core.kpi.aggregations import AggregationKind, aggregate
from linkstar.core.kpi.metrics import Aggregation, Direction, MetricDefinition, PeriodKind
from linkstar.core.kpi.units import Unit
from linkstar.core.runtime import tables as models

OCT = period_of("2026-10", PeriodKind.MONTH, "Asia/Shanghai")


def metric(
    kind: AggregationKind, unit: Unit = Unit.HOURS, observed: Unit | None = None, **params: Decimal
) -> MetricDefinition:
    return MetricDefinition(
        key="m",
        name="M",
        description="d",
        unit=unit,
        observed_unit=observed or unit,
        direction=Direction.HIGHER_IS_BETTER,
        threshold=Decimal(0) if unit is not Unit.RATING else Decimal(1),
        aggregation=Aggregation(kind, params),
        weight=Decimal(100),
        min_sample_size=1,
    )


@pytest.fixture
def observe(db):
    """observe(provider, value, day=…, subject=…, when=…, attributable=…) → the row."""
    providers: dict[str, int] = {}
    counter = iter(range(1, 10**6))

    def add(
        name: str,
        value: str,
        day: int = 10,
        subject: str = "s",
        when: datetime | None = None,
        attributable: bool = True,
        supersedes: int | None = None,
    ):
        if name not in providers:
            row = models.Provider(
                legal_name=name, region=Region.OVERSEAS, registration_number=f"R-{name}"
            )
            db.add(row)
            db.flush()
            providers[name] = row.id
        observation = models.KpiObservation(
            provider_id=providers[name],
            category_key="c",
            metric_key="m",
            subject_ref=subject,
            observed_at=when or datetime(2026, 10, day, 4, tzinfo=UTC),
            value=Decimal(value),
            source=ObservationSource.PLATFORM,
            attributable=attributable,
            idempotency_key=f"k{next(counter)}",
            supersedes_id=supersedes,
        )
        db.add(observation)
        db.commit()
        return observation

    add.ids = providers  # type: ignore[attr-defined]
    return add


def run(
    migrated, definition: MetricDefinition, period=OCT
) -> dict[int, tuple[Decimal | None, int]]:
    async def go():
        engine = create_engine(migrated)
        try:
            async with session_factory(engine)() as session:
                return await aggregate(session, "c", definition, period)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_ratio_of_counts(observe, migrated) -> None:
    for v in ["1", "1", "1", "0"]:
        observe("a", v)
    observe("a", "0", attributable=False)  # the seller's fault: visible, not counted
    observe("b", "0")
    result = run(migrated, metric(AggregationKind.RATIO_OF_COUNTS, Unit.PERCENT, Unit.OUTCOME))
    assert result[observe.ids["a"]] == (Decimal("75.0000"), 4)
    assert result[observe.ids["b"]] == (Decimal("0.0000"), 1)


def test_share_at_or_above_counts_ties_at_the_cutoff(observe, migrated) -> None:
    for v in ["5", "4", "4", "3", "1", "2"]:
        observe("a", v)
    result = run(
        migrated,
        metric(AggregationKind.SHARE_AT_OR_ABOVE, Unit.PERCENT, Unit.RATING, cutoff=Decimal(4)),
    )
    assert result[observe.ids["a"]] == (Decimal("50.0000"), 6)  # 3 of 6 are >= 4


def test_mean_rounds_half_even_to_four_decimals(observe, migrated) -> None:
    for v in ["1", "1", "2"]:
        observe("a", v)
    assert run(migrated, metric(AggregationKind.MEAN))[observe.ids["a"]] == (Decimal("1.3333"), 3)


@pytest.mark.parametrize(
    ("p", "expected"), [("90", "9"), ("50", "5"), ("10", "1"), ("100", "10"), ("95", "10")]
)
def test_percentile_is_nearest_rank(observe, migrated, p: str, expected: str) -> None:
    for v in range(10, 0, -1):  # 10 values 1..10, reported out of order
        observe("a", str(v))
    result = run(migrated, metric(AggregationKind.PERCENTILE, percentile=Decimal(p)))
    assert result[observe.ids["a"]] == (Decimal(expected), 10)


def test_percentile_with_ties_and_fractional_hours(observe, migrated) -> None:
    for v in ["2.5", "2.5", "30", "2.5"]:
        observe("a", v)
    # n = 4, p90 → k = ceil(3.6) = 4 → the 4th smallest: 30
    assert run(migrated, metric(AggregationKind.PERCENTILE, percentile=Decimal(90)))[
        observe.ids["a"]
    ] == (Decimal(30), 4)
    # p75 → k = 3 → 2.5
    assert run(migrated, metric(AggregationKind.PERCENTILE, percentile=Decimal(75)))[
        observe.ids["a"]
    ] == (Decimal("2.5"), 4)


def test_maximum_and_latest(observe, migrated) -> None:
    observe("a", "7", day=3)
    observe("a", "48", day=5)
    observe("a", "12", day=20)
    assert run(migrated, metric(AggregationKind.MAXIMUM))[observe.ids["a"]] == (Decimal(48), 3)
    assert run(migrated, metric(AggregationKind.LATEST))[observe.ids["a"]] == (Decimal(12), 3)


def test_growth_per_store_then_mean_over_stores(observe, migrated) -> None:
    sept = lambda day: datetime(2026, 9, day, 4, tzinfo=UTC)  # noqa: E731
    observe("a", "1000", subject="store-1", when=sept(10))
    observe("a", "600", subject="store-1", day=5)
    observe("a", "600", subject="store-1", day=25)  # store-1: 1000 → 1200 = +20%
    observe("a", "500", subject="store-2", when=sept(12))
    observe("a", "550", subject="store-2", day=8)  # store-2: 500 → 550 = +10%
    observe("a", "900", subject="store-3", day=8)  # store-3: new this month, no base: not counted
    result = run(migrated, metric(AggregationKind.GROWTH, Unit.PERCENT_CHANGE, Unit.AMOUNT))
    assert result[observe.ids["a"]] == (Decimal("15.0000"), 2)


def test_a_correction_supersedes_the_original(observe, migrated) -> None:
    wrong = observe("a", "0")
    observe("a", "1", supersedes=wrong.id)
    observe("a", "1")
    result = run(migrated, metric(AggregationKind.RATIO_OF_COUNTS, Unit.PERCENT, Unit.OUTCOME))
    assert result[observe.ids["a"]] == (Decimal("100.0000"), 2)


def test_period_boundaries_follow_the_metrics_time_zone(observe, migrated) -> None:
    # 2026-10-31T17:00Z is Nov 1st 01:00 in Shanghai: November there, October in UTC
    observe("a", "5", when=datetime(2026, 10, 31, 17, tzinfo=UTC))
    # 2026-09-30T17:00Z is Oct 1st 01:00 in Shanghai: October there, September in UTC
    observe("a", "9", when=datetime(2026, 9, 30, 17, tzinfo=UTC))
    shanghai = run(migrated, metric(AggregationKind.MAXIMUM))
    utc = run(
        migrated, metric(AggregationKind.MAXIMUM), period_of("2026-10", PeriodKind.MONTH, "UTC")
    )
    assert shanghai[observe.ids["a"]] == (Decimal(9), 1)
    assert utc[observe.ids["a"]] == (Decimal(5), 1)


def test_an_empty_period_has_no_value(observe, migrated) -> None:
    observe("a", "1", when=datetime(2026, 8, 1, tzinfo=UTC))
    assert run(migrated, metric(AggregationKind.MEAN)) == {}


def test_periods_and_quarters() -> None:
    assert (OCT.start, OCT.end) == (
        datetime(2026, 9, 30, 16, tzinfo=UTC),
        datetime(2026, 10, 31, 16, tzinfo=UTC),
    )
    assert (
        OCT.previous().label == "2026-09"
        and period_of("2026-01", PeriodKind.MONTH, "UTC").previous().label == "2025-12"
    )
    q4 = period_of("2026-Q4", PeriodKind.QUARTER, "Asia/Shanghai")
    assert (q4.start, q4.end) == (
        datetime(2026, 9, 30, 16, tzinfo=UTC),
        datetime(2026, 12, 31, 16, tzinfo=UTC),
    )
    assert (
        period_containing(
            datetime(2026, 12, 31, 17, tzinfo=UTC), PeriodKind.QUARTER, "Asia/Shanghai"
        ).label
        == "2027-Q1"
    )


# --- a plugin's own aggregation ------------------------------------------------------------


async def _median(session, conditions, metric, period):
    """Lower median per provider, set-based: ROW_NUMBER and COUNT windows, as the core does."""
    from sqlalchemy import BigInteger, func, select, type_coerce

    raw = type_coerce(models.KpiObservation.value, BigInteger)
    rank = func.row_number().over(
        partition_by=models.KpiObservation.provider_id, order_by=(raw, models.KpiObservation.id)
    )
    size = func.count().over(partition_by=models.KpiObservation.provider_id)
    ranked = (
        select(
            models.KpiObservation.provider_id.label("pid"),
            raw.label("v"),
            rank.label("r"),
            size.label("n"),
        )
        .where(*conditions)
        .subquery()
    )
    stmt = select(ranked.c.pid, ranked.c.v, ranked.c.n).where(ranked.c.r == (ranked.c.n + 1) // 2)
    return {pid: (Decimal(v) / 10**6, n) for pid, v, n in (await session.execute(stmt)).all()}


def median_plugin():
    from linkstar.core.contract.hookspecs import hookimpl
    from linkstar.core.kpi.aggregations import CustomAggregation
    from linkstar.core.providers.categories import ServiceCategory

    median = CustomAggregation(
        kind="LOWER_MEDIAN", description="lower median of the observations", compute=_median
    )
    definition = MetricDefinition(
        key="lead_time",
        name="Lead time",
        description="Days to first sample.",
        unit=Unit.HOURS,
        observed_unit=Unit.HOURS,
        direction=Direction.LOWER_IS_BETTER,
        threshold=Decimal(48),
        aggregation=Aggregation("LOWER_MEDIAN"),
        weight=Decimal(100),
        min_sample_size=1,
    )

    class Plugin:
        @staticmethod
        @hookimpl
        def linkstar_aggregations():
            return [median]

        @staticmethod
        @hookimpl
        def linkstar_service_categories():
            return [ServiceCategory("cc", "C", "A category with a plugin aggregation.")]

        @staticmethod
        @hookimpl
        def linkstar_metric_definitions(category):
            return [definition] if category.key == "cc" else None

    return Plugin, definition


def test_a_plugin_aggregation_is_validated_and_computed_like_the_built_ins(
    observe, migrated
) -> None:
    from linkstar.core.contract.registry import PluginInfo, build_registry

    plugin, definition = median_plugin()
    registry = build_registry([PluginInfo("median", plugin)])
    assert registry.aggregations["LOWER_MEDIAN"].description == "lower median of the observations"
    for v in ["30", "10", "50", "20"]:
        observe("a", v)

    async def go():
        engine = create_engine(migrated)
        try:
            async with session_factory(engine)() as session:
                same_data = dataclasses.replace(
                    definition, key="m"
                )  # the fixture observes metric "m"
                return await aggregate(
                    session, "c", same_data, OCT, aggregations=registry.aggregations
                )
        finally:
            await engine.dispose()

    assert asyncio.run(go())[observe.ids["a"]] == (Decimal(20), 4)  # sorted 10 20 30 50 → 2nd


def test_an_unknown_or_clashing_aggregation_refuses_start_up() -> None:
    from linkstar.core.contract.registry import PluginInfo, build_registry
    from linkstar.core.kernel.errors import PluginContractError
    from linkstar.core.kpi.aggregations import CustomAggregation

    plugin, _ = median_plugin()
    plugin.linkstar_aggregations = staticmethod(
        __import__("linkstar.core.contract.hookspecs", fromlist=["hookimpl"]).hookimpl(
            lambda: [CustomAggregation(kind="MEAN", description="clash", compute=_median)]
        )
    )
    with pytest.raises(PluginContractError, match="'MEAN' is built in"):
        build_registry([PluginInfo("median", plugin)])
