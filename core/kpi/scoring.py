"""Scorecards: per-metric points on each metric's curve, a weighted composite 0–100, a history
score and a standing. The whole method, with a worked example, is in docs/scoring.md.

How a metric scores (its "attainment", 0–100, two decimals): piecewise linear on the metric's
`ScoringCurve` — 0 points at the floor (or worse), the category's pass mark (60 by default)
exactly at the threshold, 100 at the target (or better). A metric that FAILs always scores
below the pass mark, one that passes at or above it. A metric with insufficient data does not
score; the composite re-weights the others.
Composite = Σ weightᵢ × attainmentᵢ / Σ weightᵢ over metrics with a verdict, then capped: each
failing metric lowers the best reachable standing band by one (one failure: never the top band;
two: at most the third band from the top; …).
History score = linear decay over the category's history window: the current period weighs N,
the one before N−1, … (periods without a scorecard are skipped).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from linkstar.core.kernel.vocabulary import SanctionKind, Severity
from linkstar.core.kpi.metrics import Direction, MetricDefinition, MetricResult, ResultStatus

CENT = Decimal("0.01")
PASS_MARK = Decimal(60)


@dataclass(frozen=True, slots=True)
class StandingBand:
    """Composite scores in [low, high) (high = 100 is inclusive) map to this standing."""

    name: str
    low: Decimal
    high: Decimal


@dataclass(frozen=True, slots=True)
class ScoringPolicy:
    """A category's standing bands and history window."""

    bands: tuple[StandingBand, ...] = (
        StandingBand("EXCELLENT", Decimal(90), Decimal(100)),
        StandingBand("GOOD", Decimal(75), Decimal(90)),
        StandingBand("WATCH", Decimal(60), Decimal(75)),
        StandingBand("AT_RISK", Decimal(0), Decimal(60)),
    )
    history_periods: int = 12
    # points a metric earns exactly at its threshold; a failing metric earns less. Must be the
    # lower bound of a band, so every band from it up is a passing band.
    pass_mark: Decimal = PASS_MARK
    # a period closes for evaluation this many days after it ends (late reports still count)
    reporting_grace_days: int = 7
    # a provider's corrections of its own records and not-attributable claims wait for a
    # reviewer, except up to this share (percent) of the provider's records of the month,
    # which are accepted at once (0: every claim is reviewed)
    auto_accept_claims_percent: Decimal = Decimal(0)
    # the performance ladder (article defaults): 1 failing period → warning, then…
    restrict_after: int = 2  # consecutive failing periods → restricted intake + one tier down
    terminate_after: int = 3  # consecutive failing periods → termination proposed
    promotion_score: Decimal = Decimal(90)
    promotion_periods: int = 3  # consecutive periods ≥ promotion_score, no failing metric
    # the violation ledger
    violation_points: tuple[tuple[Severity, int], ...] = (
        (Severity.MINOR, 1),
        (Severity.MAJOR, 3),
        (Severity.SEVERE, 6),
    )
    point_expiry_days: int = 90
    point_milestones: tuple[tuple[int, SanctionKind], ...] = (
        (3, SanctionKind.WARNING),
        (6, SanctionKind.RESTRICTED_INTAKE),
        (10, SanctionKind.TERMINATION_PROPOSED),
    )

    def points(self, severity: Severity) -> int:
        """Points of a violation of `severity` (a VETO terminates instead of scoring points)."""
        return dict(self.violation_points).get(severity, 0)


def scoring_problems(policy: ScoringPolicy) -> list[str]:
    """Bands must cover 0–100 exactly once; the history window is 1–60 periods."""
    problems = []
    bands = sorted(policy.bands, key=lambda b: b.low)
    if not bands or bands[0].low != 0 or bands[-1].high != 100:
        problems.append("standing bands must start at 0 and end at 100")
    for before, after in itertools.pairwise(bands):
        if before.high != after.low:
            problems.append(f"standing bands {before.name} and {after.name} leave a gap or overlap")
    if any(b.low >= b.high for b in bands):
        problems.append("every standing band needs low < high")
    if len({b.name for b in bands}) != len(bands):
        problems.append("standing band names must be unique")
    if not 0 < policy.pass_mark < 100 or policy.pass_mark not in {b.low for b in bands}:
        problems.append("pass_mark must be between 0 and 100 and the lower bound of a band")
    if not 0 <= policy.reporting_grace_days <= 60:
        problems.append("reporting_grace_days must be between 0 and 60")
    if not 0 <= policy.auto_accept_claims_percent <= 20:
        problems.append("auto_accept_claims_percent must be between 0 and 20")
    if not 1 <= policy.history_periods <= 60:
        problems.append("history_periods must be between 1 and 60")
    if not 1 <= policy.restrict_after <= policy.terminate_after <= 12:
        problems.append("need 1 <= restrict_after <= terminate_after <= 12")
    if not (0 <= policy.promotion_score <= 100 and 1 <= policy.promotion_periods <= 12):
        problems.append("promotion_score must be 0-100 and promotion_periods 1-12")
    if {s for s, _ in policy.violation_points} != {Severity.MINOR, Severity.MAJOR, Severity.SEVERE}:
        problems.append("violation_points must give points for MINOR, MAJOR and SEVERE")
    if any(p < 1 for _, p in policy.violation_points) or not 1 <= policy.point_expiry_days <= 3650:
        problems.append("violation points must be positive and expire within 1-3650 days")
    thresholds = [t for t, _ in policy.point_milestones]
    if thresholds != sorted(set(thresholds)) or any(t < 1 for t in thresholds):
        problems.append("point milestones must be positive and strictly increasing")
    return problems


def attainment(metric: MetricDefinition, value: Decimal, pass_mark: Decimal = PASS_MARK) -> Decimal:
    """The metric's 0–100 points for `value` on its curve (see the module docstring)."""
    curve = metric.scoring_curve()
    # measure everything as "better than": higher-is-better as is, lower-is-better mirrored
    sign = 1 if metric.direction is Direction.HIGHER_IS_BETTER else -1
    gain, floor, target = (
        sign * (value - metric.threshold),
        sign * (curve.floor - metric.threshold),
        sign * (curve.target - metric.threshold),
    )
    full = Decimal(100)
    if gain >= 0:
        score = full if gain >= target else pass_mark + (full - pass_mark) * gain / target
    elif gain <= floor:
        score = Decimal(0)
    else:
        score = pass_mark * (gain - floor) / -floor
    score = score.quantize(CENT, rounding=ROUND_HALF_EVEN)
    if gain < 0:  # a failing value never rounds up into the pass mark
        score = min(score, pass_mark - CENT)
    return score


def failing_cap(policy: ScoringPolicy, failing: int) -> Decimal | None:
    """The highest composite a scorecard with `failing` FAILed metrics may show: each failure
    lowers the best reachable band by one; None when nothing fails."""
    if failing <= 0:
        return None
    bands = sorted(policy.bands, key=lambda b: b.low, reverse=True)
    return bands[min(failing, len(bands) - 1)].high - CENT


def composite(
    metrics: Sequence[MetricDefinition],
    results: Sequence[MetricResult],
    policy: ScoringPolicy | None = None,
) -> Decimal | None:
    """Weighted points of the metrics that have a verdict, capped by the failing ones; None
    when no metric has a verdict."""
    policy = policy or ScoringPolicy()
    weights = Decimal(0)
    total = Decimal(0)
    failing = 0
    for metric, result in zip(metrics, results, strict=True):
        if result.status is ResultStatus.INSUFFICIENT_DATA or result.value is None:
            continue
        weights += metric.weight
        total += metric.weight * attainment(metric, result.value, policy.pass_mark)
        failing += result.status is ResultStatus.FAIL
    if weights == 0:
        return None
    score = (total / weights).quantize(CENT, rounding=ROUND_HALF_EVEN)
    cap = failing_cap(policy, failing)
    return score if cap is None else min(score, cap)


def history_score(
    current: Decimal | None, previous: Sequence[Decimal | None], periods: int
) -> Decimal | None:
    """Linear decay: current weighs `periods`, the one before `periods − 1`, …; gaps skipped."""
    scores = [current, *previous[: periods - 1]]
    weighted = Decimal(0)
    weights = Decimal(0)
    for age, score in enumerate(scores):
        if score is None:
            continue
        weight = Decimal(periods - age)
        weighted += weight * score
        weights += weight
    if weights == 0:
        return None
    return (weighted / weights).quantize(CENT, rounding=ROUND_HALF_EVEN)


def standing(policy: ScoringPolicy, score: Decimal | None) -> str:
    """The band `score` falls in; UNRATED without a score."""
    if score is None:
        return "UNRATED"
    for band in policy.bands:
        if band.low <= score < band.high or (score == 100 and band.high == 100):
            return band.name
    raise ValueError(f"no band covers {score}")


def digest(payload: Any) -> str:
    """Canonical SHA-256 of a JSON-able payload (idempotent re-evaluation compares these)."""
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()
