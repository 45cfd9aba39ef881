"""Scorecards: per-metric verdicts, a weighted composite 0–100, a history score and a standing.

How a metric scores (its "attainment", 0–100, two decimals):
- higher is better: 100 × value / threshold, capped at 100 (0 when the value is ≤ 0);
- lower is better: 100 when value ≤ threshold, else 100 × threshold / value;
- a metric with insufficient data does not score; the composite re-weights the others.
Composite = Σ weightᵢ × attainmentᵢ / Σ weightᵢ over metrics with a verdict.
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


def attainment(metric: MetricDefinition, value: Decimal) -> Decimal:
    """The metric's 0–100 score for `value` (see the module docstring)."""
    threshold = metric.threshold
    if metric.direction is Direction.HIGHER_IS_BETTER:
        if threshold <= 0:
            score = Decimal(100) if value >= threshold else Decimal(0)
        else:
            score = max(Decimal(0), min(Decimal(100), Decimal(100) * value / threshold))
    elif value <= threshold:
        score = Decimal(100)
    else:
        score = Decimal(100) * threshold / value if value > 0 else Decimal(0)
    return score.quantize(CENT, rounding=ROUND_HALF_EVEN)


def composite(
    metrics: Sequence[MetricDefinition], results: Sequence[MetricResult]
) -> Decimal | None:
    """Weighted attainment of the metrics that have a verdict; None when none has."""
    weights = Decimal(0)
    total = Decimal(0)
    for metric, result in zip(metrics, results, strict=True):
        if result.status is ResultStatus.INSUFFICIENT_DATA or result.value is None:
            continue
        weights += metric.weight
        total += metric.weight * attainment(metric, result.value)
    if weights == 0:
        return None
    return (total / weights).quantize(CENT, rounding=ROUND_HALF_EVEN)


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
