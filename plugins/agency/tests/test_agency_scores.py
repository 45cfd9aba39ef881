"""The agency's scores by hand (issue #9, point 1): its curves, the pass mark, the cap.

The table below is the specification a person checks by hand: the values of the six agency
metrics, the points each earns on its curve, and the standing that follows. The core's own
scoring tests (tests/test_scoring.py) use the fixture category instead.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from linkstar.core.kpi.metrics import Direction, ResultStatus, evaluate, metric_problems
from linkstar.core.kpi.scoring import ScoringPolicy, attainment, composite, standing
from linkstar.core.kpi.units import Unit
from linkstar.plugins.agency import plugin as agency

POLICY = ScoringPolicy()
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
