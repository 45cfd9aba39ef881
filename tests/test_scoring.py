"""Scores that discriminate (issue #9, point 1): each metric's curve, the pass mark, the cap.

The table below is the specification a person checks by hand: the values of six agency
metrics, the points each earns on its curve, and the standing that follows.
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
from linkstar.plugins.agency import plugin as agency
from linkstar.plugins.erp import plugin as erp
from linkstar.plugins.logistics import plugin as logistics
from linkstar.plugins.training import plugin as training

POLICY = ScoringPolicy()
ALL_METRICS = [*agency.METRICS, *erp.METRICS, *logistics.METRICS, *training.METRICS]
AGENCY = [m.key for m in agency.METRICS]


def card(values: dict[str, str | None]) -> tuple[Decimal | None, str, list[ResultStatus]]:
    """Score one agency month: each metric's value (None: too little data)."""
    results = [
        evaluate(m, None if values[m.key] is None else Decimal(values[m.key]), 100)
        if values[m.key] is not None
        else evaluate(m, None, 0)
        for m in agency.METRICS
    ]
    score = composite(agency.METRICS, results, POLICY)
    return score, standing(POLICY, score), [r.status for r in results]


def row(sat, on_time, gmv, response, renewal, complaints) -> dict[str, str | None]:
    return dict(zip(AGENCY, (sat, on_time, gmv, response, renewal, complaints), strict=True))


# satisfaction %, on-time %, GMV growth %, p90 response h, renewal %, complaint %
#   thresholds:  ≥ 85, ≥ 90, ≥ 15, ≤ 24, ≥ 70, ≤ 3   weights 20 20 20 15 15 10
TABLE = [
    ("at every target", row("95", "98", "30", "8", "90", "1"), "100.00", "EXCELLENT"),
    # points 88 85 84 90 80 80 → (1760 + 1700 + 1680 + 1350 + 1200 + 800) / 100
    ("solid, nothing failing", row("92", "95", "24", "12", "80", "2"), "84.90", "GOOD"),
    ("exactly at every threshold", row("85", "90", "15", "24", "70", "3"), "60.00", "WATCH"),
    (
        "90 points on every metric",
        row("92.5", "96", "26.25", "12", "85", "1.5"),
        "90.00",
        "EXCELLENT",
    ),
    # satisfaction 0.1 below its line: 60 × 24.9 / 25 = 59.76 → (1195.2 + 7200) / 100
    (
        "the same, satisfaction just failing",
        row("84.9", "96", "26.25", "12", "85", "1.5"),
        "83.95",
        "GOOD",
    ),
    # excellent everywhere but 4% complaints (60 × 6 / 7 = 51.43): 95.14 uncapped
    ("one failure among excellence", row("95", "98", "30", "8", "90", "4"), "89.99", "GOOD"),
    # the October case: two of the metrics fail; 78.60 uncapped
    ("two failures", row("80", "85", "30", "8", "90", "1"), "74.99", "WATCH"),
    # three failures, otherwise perfect: 73.74 uncapped
    ("three failures", row("80", "85", "30", "8", "90", "4"), "59.99", "AT_RISK"),
    # points 24 30 24 30 20 34.29 → 26.53
    ("failing across the board", row("70", "80", "0", "48", "50", "6"), "26.53", "AT_RISK"),
    # only the monthly metrics with data: the quarter's renewal rate does not drag
    ("renewal not yet measurable", row("95", "98", "30", "8", None, "1"), "100.00", "EXCELLENT"),
    ("no data at all", row(None, None, None, None, None, None), None, "UNRATED"),
]


@pytest.mark.parametrize(("name", "values", "score", "expected"), TABLE, ids=[t[0] for t in TABLE])
def test_standings_a_person_would_agree_with(name, values, score, expected) -> None:
    composite_score, band, statuses = card(values)
    assert (composite_score, band) == (None if score is None else Decimal(score), expected)
    if ResultStatus.FAIL in statuses:
        assert band != "EXCELLENT"


def test_points_on_the_agency_curves_by_hand() -> None:
    satisfaction = agency.METRICS[0]  # 0 at 60, 60 at 85, 100 at 95
    assert [
        attainment(satisfaction, Decimal(v)) for v in ("50", "60", "72.5", "85", "90", "99")
    ] == [Decimal(p) for p in ("0.00", "0.00", "30.00", "60.00", "80.00", "100.00")]
    response = agency.METRICS[3]  # lower is better: 100 at 8 h, 60 at 24 h, 0 at 72 h
    assert [attainment(response, Decimal(v)) for v in ("4", "16", "24", "48", "80")] == [
        Decimal(p) for p in ("100.00", "80.00", "60.00", "30.00", "0.00")
    ]
    # a value a hair worse than the line never rounds up to the pass mark
    assert attainment(satisfaction, Decimal("84.9999")) == Decimal("59.99")


def test_complaint_rate_is_an_agency_metric_lower_is_better() -> None:
    complaints = next(m for m in agency.METRICS if m.key == "complaint_rate")
    assert complaints.direction is Direction.LOWER_IS_BETTER
    assert (complaints.threshold, complaints.unit) == (Decimal(3), Unit.PERCENT)
    assert sum(m.weight for m in agency.METRICS) == 100 and metric_problems(complaints) == []


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
    base = agency.METRICS[0]
    wrong = MetricDefinition(
        **{
            **{f: getattr(base, f) for f in base.__dataclass_fields__},
            "curve": ScoringCurve(floor=Decimal(90), target=Decimal(80)),
        }
    )
    assert curve_problems(wrong) == [
        "metric 'customer_satisfaction': curve floor 90 must lie below the threshold 85 "
        "(the floor is where a HIGHER_IS_BETTER metric earns 0)",
        "metric 'customer_satisfaction': curve target 80 must lie at or above the threshold 85",
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
@given(st.lists(st.sampled_from(["95", "92", "85", "84.99", "70", "30"]), min_size=6, max_size=6))
def test_a_failing_metric_never_reaches_the_top_band(values) -> None:
    # six metrics on the satisfaction curve (≥ 85%) with the agency's weights
    metric = agency.METRICS[0]
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
