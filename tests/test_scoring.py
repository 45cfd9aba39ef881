"""Scores that discriminate (issue #9, point 1): each metric's curve, the pass mark, the cap.

The table below is the specification a person checks by hand, on the fixture category `sample`
(tests/fixture_category.py): on-time rate (≥ 90 %, 0 points at 50 %, 100 at 100 %, weight 50),
response time (≤ 24 h, 100 points at 12 h, 0 at 72 h, weight 30) and satisfaction (mean ≥ 4★,
the default curve: 0 points at 2★, 100 at 4.5★, weight 20). Each built-in category checks its
own table in plugins/<name>/tests/. The properties hold for every metric the suite loads.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkstar.core.kpi.aggregations import AggregationKind
from linkstar.core.kpi.metrics import (
    Aggregation,
    Direction,
    MetricDefinition,
    ResultStatus,
    ScoringCurve,
    curve_problems,
    default_curve,
    evaluate,
    metric_problems,
)
from linkstar.core.kpi.scoring import ScoringPolicy, attainment, composite, standing
from linkstar.core.kpi.units import UNIT_RANGES, Unit
from tests.fixture_category import KEY, METRICS, ON_TIME, RESPONSE, SATISFACTION
from tests.harness import registry_with_fixtures

POLICY = ScoringPolicy()
SAMPLE = METRICS[KEY]
# every metric of every category the suite loads: the installed plugins and the fixtures
ALL_METRICS = [m for c in registry_with_fixtures().categories.values() for m in c.metrics]


def card(on_time: str | None, response: str | None, satisfaction: str | None):
    """Score one `sample` month from each metric's value (None: too little data)."""
    values = (on_time, response, satisfaction)
    results = [
        evaluate(m, None, 0) if v is None else evaluate(m, Decimal(v), 100)
        for m, v in zip(SAMPLE, values, strict=True)
    ]
    score = composite(SAMPLE, results, POLICY)
    return score, standing(POLICY, score), [r.status for r in results]


# on-time %, response h, satisfaction ★ → composite (weights 50 30 20), standing
TABLE = [
    ("at every target", ("100", "12", "4.5"), "100.00", "EXCELLENT"),
    # points 92 90 92 → (4600 + 2700 + 1840) / 100
    ("excellent short of every target", ("98", "15", "4.4"), "91.40", "EXCELLENT"),
    # points 80 80 80
    ("solid, nothing failing", ("95", "18", "4.25"), "80.00", "GOOD"),
    ("exactly at every threshold", ("90", "24", "4"), "60.00", "WATCH"),
    # on time 1 below its line: 60 × 39 / 40 = 58.5 → (2925 + 3000 + 2000) / 100
    ("on-time rate just failing", ("89", "12", "4.5"), "79.25", "GOOD"),
    # satisfaction 3.9★: 60 × 1.9 / 2 = 57 → 91.40 uncapped; one failure: never the top band
    ("one failure among excellence", ("100", "12", "3.9"), "89.99", "GOOD"),
    # 58.5 and 60 × 47 / 48 = 58.75 → (2925 + 1762.5 + 2000) / 100 = 66.875, half to even
    ("two failures", ("89", "25", "4.5"), "66.88", "WATCH"),
    # 80 h is beyond the 72 h floor: 0 points → (5000 + 0 + 2000) / 100
    ("response beyond its floor", ("100", "80", "4.5"), "70.00", "WATCH"),
    # points 30 30 30
    ("failing across the board", ("70", "48", "3"), "30.00", "AT_RISK"),
    # too few ratings: the other two re-weighted, (50 × 60 + 30 × 100) / 80
    ("satisfaction not measurable", ("90", "12", None), "75.00", "GOOD"),
    ("no data at all", (None, None, None), None, "UNRATED"),
]


@pytest.mark.parametrize(("name", "values", "score", "expected"), TABLE, ids=[t[0] for t in TABLE])
def test_standings_a_person_would_agree_with(name, values, score, expected) -> None:
    composite_score, band, statuses = card(*values)
    assert (composite_score, band) == (None if score is None else Decimal(score), expected)
    if ResultStatus.FAIL in statuses:
        assert band != "EXCELLENT"


def test_points_on_the_sample_curves_by_hand() -> None:
    # higher is better: 0 at 50 %, 60 at 90 %, 100 at 100 %
    assert [attainment(ON_TIME, Decimal(v)) for v in ("40", "50", "70", "90", "95", "100")] == [
        Decimal(p) for p in ("0.00", "0.00", "30.00", "60.00", "80.00", "100.00")
    ]
    # lower is better: 100 at 12 h, 60 at 24 h, 0 at 72 h
    assert [attainment(RESPONSE, Decimal(v)) for v in ("6", "18", "24", "48", "80")] == [
        Decimal(p) for p in ("100.00", "80.00", "60.00", "30.00", "0.00")
    ]
    # the default curve of a rating ≥ 4: 0 at 2, 100 at 4.5
    assert [attainment(SATISFACTION, Decimal(v)) for v in ("1", "3", "4", "4.25", "5")] == [
        Decimal(p) for p in ("0.00", "30.00", "60.00", "80.00", "100.00")
    ]
    # a value a hair worse than the line never rounds up to the pass mark
    assert attainment(ON_TIME, Decimal("89.9999")) == Decimal("59.99")
    assert sum(m.weight for m in SAMPLE) == 100 and all(metric_problems(m) == [] for m in SAMPLE)


def test_default_curves_per_unit() -> None:
    higher, lower = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER
    assert default_curve(Unit.PERCENT, higher, Decimal(85)) == ScoringCurve(
        Decimal(55), Decimal("92.5")
    )
    assert default_curve(Unit.HOURS, lower, Decimal(24)) == ScoringCurve(Decimal(72), Decimal(12))
    assert default_curve(Unit.PERCENT_CHANGE, higher, Decimal(15)) == ScoringCurve(
        Decimal(-15), Decimal(30)
    )
    assert default_curve(Unit.RATING, higher, Decimal(4)) == ScoringCurve(
        Decimal(2), Decimal("4.5")
    )
    assert default_curve(Unit.PERCENT, lower, Decimal("0.5")) == ScoringCurve(
        Decimal("1.5"), Decimal("0.25")
    )


def test_a_curve_on_the_wrong_side_of_the_threshold_is_refused() -> None:
    wrong = MetricDefinition(
        **{
            **{f: getattr(ON_TIME, f) for f in ON_TIME.__dataclass_fields__},
            "curve": ScoringCurve(floor=Decimal(95), target=Decimal(85)),
        }
    )
    assert curve_problems(wrong) == [
        "metric 'on_time_rate': curve floor 95 must lie below the threshold 90 "
        "(the floor is where a HIGHER_IS_BETTER metric earns 0)",
        "metric 'on_time_rate': curve target 85 must lie at or above the threshold 90",
    ]


# ---- properties of the maths, for every declared metric and for default curves -------------


def values_of(unit: Unit) -> st.SearchStrategy[Decimal]:
    low, high = UNIT_RANGES[unit]
    return st.decimals(
        min_value=low if low is not None else Decimal(-1000),
        max_value=high if high is not None else Decimal(100000),
        places=4,
        allow_nan=False,
        allow_infinity=False,
    )


@st.composite
def metric_and_values(draw: st.DrawFn) -> tuple[MetricDefinition, Decimal, Decimal]:
    if draw(st.booleans()):
        metric = draw(st.sampled_from(ALL_METRICS))
    else:  # any unit, direction and threshold, with the default curve
        unit = draw(st.sampled_from([u for u in Unit if u is not Unit.OUTCOME]))
        metric = MetricDefinition(
            key="m",
            name="M",
            description="",
            unit=unit,
            observed_unit=unit,
            direction=draw(st.sampled_from(list(Direction))),
            threshold=draw(values_of(unit)),
            aggregation=Aggregation(AggregationKind.MEAN),
            weight=Decimal(100),
            min_sample_size=1,
        )
    return metric, draw(values_of(metric.unit)), draw(values_of(metric.unit))


@settings(max_examples=400, deadline=None)
@given(metric_and_values(), st.sampled_from([Decimal(50), Decimal(60), Decimal(75)]))
def test_points_are_bounded_monotone_and_failing_below_passing(case, pass_mark) -> None:
    metric, a, b = case
    points_a, points_b = attainment(metric, a, pass_mark), attainment(metric, b, pass_mark)
    assert Decimal(0) <= points_a <= Decimal(100)
    better = a >= b if metric.direction is Direction.HIGHER_IS_BETTER else a <= b
    if better:
        assert points_a >= points_b
    status = evaluate(metric, a, metric.min_sample_size).status
    if status is ResultStatus.FAIL:
        assert points_a < pass_mark
    else:
        assert points_a >= pass_mark


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["100", "96", "90", "89.99", "70", "30"]), min_size=6, max_size=6))
def test_a_failing_metric_never_reaches_the_top_band(values) -> None:
    # six metrics on the on-time curve (≥ 90 %), weighted 20 20 20 15 15 10
    metric = ON_TIME
    metrics = [
        MetricDefinition(
            **{
                **{f: getattr(metric, f) for f in metric.__dataclass_fields__},
                "key": f"m{i}",
                "weight": w,
            }
        )
        for i, w in enumerate(
            [Decimal(20), Decimal(20), Decimal(20), Decimal(15), Decimal(15), Decimal(10)]
        )
    ]
    results = [evaluate(m, Decimal(v), 100) for m, v in zip(metrics, values, strict=True)]
    score = composite(metrics, results, POLICY)
    failing = sum(r.status is ResultStatus.FAIL for r in results)
    assert score is not None and Decimal(0) <= score <= Decimal(100)
    if failing:
        assert standing(POLICY, score) != "EXCELLENT"
    if failing >= 2:
        assert standing(POLICY, score) in ("WATCH", "AT_RISK")
    if not failing:
        assert score >= POLICY.pass_mark
