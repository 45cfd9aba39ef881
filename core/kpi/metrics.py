"""KPI metric definitions (declarative, contributed by plugins) and the evaluation primitive.

A metric says what is observed, how observations are aggregated over an evaluation window,
the platform threshold, which direction is better, its weight in the category's composite
score and the minimum sample below which no verdict is given.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from linkstar.core.kernel.periods import PeriodKind
from linkstar.core.kernel.vocabulary import KEY_PATTERN
from linkstar.core.kpi.aggregations import BUILT_IN, CustomAggregation
from linkstar.core.kpi.units import UNIT_RANGES, Unit, in_unit_range


class Direction(enum.StrEnum):
    """Which way is better; decides how the threshold is compared (inclusive)."""

    HIGHER_IS_BETTER = "HIGHER_IS_BETTER"  # pass when value >= threshold
    LOWER_IS_BETTER = "LOWER_IS_BETTER"  # pass when value <= threshold


@dataclass(frozen=True, slots=True)
class Aggregation:
    """An aggregation kind with its parameters, e.g. PERCENTILE with {"percentile": 90}.

    `kind` names a registered aggregation: a built-in one (`AggregationKind.MEAN`, or simply
    "MEAN") or a plugin's own `CustomAggregation`.
    """

    kind: str
    params: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.kind)

    def describe(self, aggregations: Mapping[str, CustomAggregation] = BUILT_IN) -> str:
        """One human sentence, shown next to a metric so its number explains itself."""
        found = aggregations.get(self.name)
        return found.describe(self.params) if found else f"plugin aggregation {self.kind}"


@dataclass(frozen=True, slots=True)
class EvaluationWindow:
    """The period a metric is evaluated over, and the time zone that defines its boundaries."""

    period: PeriodKind = PeriodKind.MONTH
    timezone: str = "Asia/Shanghai"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class ScoringCurve:
    """How a metric's value becomes points 0–100: a line through three anchors.

    At the `floor` (or worse) the metric earns 0 points, exactly at the threshold it earns the
    category's pass mark, at the `target` (or better) it earns 100; in between the points move
    linearly. For a lower-is-better metric the floor lies above the threshold and the target
    below it. A value worse than the threshold always earns less than the pass mark.
    """

    floor: Decimal
    target: Decimal


def default_curve(unit: Unit, direction: Direction, threshold: Decimal) -> ScoringCurve:
    """The curve of a metric that declares none, from its unit's range and its threshold.

    Where the unit has a best end (100% for a higher-is-better percentage, 0 hours for a
    response time) the target lies halfway from the threshold to it; otherwise one threshold's
    distance further. The floor lies twice that step on the bad side, clipped to the unit's
    range: satisfaction ≥ 85% scores 0 at 55% and 100 at 92.5%; a response time ≤ 24 h scores
    100 at 12 h and 0 at 72 h; sales growth ≥ 15% scores 0 at −15% and 100 at 30%.
    """
    low, high = UNIT_RANGES[unit]
    higher = direction is Direction.HIGHER_IS_BETTER
    best, worst = (high, low) if higher else (low, high)
    span = high - low if low is not None and high is not None else None
    fallback = abs(threshold) or (span / 10 if span else Decimal(1))
    if best is not None:
        room = abs(best - threshold)
        step = room or (span / 10 if span else fallback)
        target = threshold + (room / 2 if higher else -room / 2)
    else:
        step = fallback
        target = threshold + step if higher else threshold - step
    floor = threshold - 2 * step if higher else threshold + 2 * step
    if worst is not None:
        floor = max(floor, worst) if higher else min(floor, worst)
    return ScoringCurve(floor=floor, target=target)


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    """One KPI of a category, as declared by its plugin.

    `curve` says how the value scores (see `ScoringCurve`); None takes `default_curve()`.
    """

    key: str
    name: str
    description: str
    unit: Unit
    observed_unit: Unit
    direction: Direction
    threshold: Decimal
    aggregation: Aggregation
    weight: Decimal
    min_sample_size: int
    window: EvaluationWindow = field(default_factory=EvaluationWindow)
    warning_band: Decimal = Decimal(0)
    curve: ScoringCurve | None = None

    def scoring_curve(self) -> ScoringCurve:
        """The declared curve, or the default for the metric's unit and direction."""
        if self.curve is not None:
            return self.curve
        return default_curve(self.unit, self.direction, self.threshold)

    # Only the platform's own data (e.g. from orders) counts; self-reports are kept, not scored.
    platform_only: bool = False

    def as_dict(self) -> dict[str, object]:
        """JSON-safe canonical form, stored with each definition version."""
        extra: dict[str, object] = {"platform_only": True} if self.platform_only else {}
        return {
            **extra,
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "unit": self.unit.value,
            "observed_unit": self.observed_unit.value,
            "direction": self.direction.value,
            "threshold": str(self.threshold),
            "aggregation": {
                "kind": self.aggregation.name,
                "params": {k: str(v) for k, v in sorted(self.aggregation.params.items())},
            },
            "weight": str(self.weight),
            "min_sample_size": self.min_sample_size,
            "window": {"period": self.window.period.value, "timezone": self.window.timezone},
            "warning_band": str(self.warning_band),
            "curve": {
                "floor": str(self.scoring_curve().floor),
                "target": str(self.scoring_curve().target),
            },
        }

    def fingerprint(self) -> str:
        """SHA-256 of the canonical form; a changed threshold gives a new definition version."""
        blob = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def metric_problems(
    metric: MetricDefinition, aggregations: Mapping[str, CustomAggregation] = BUILT_IN
) -> list[str]:
    """Everything wrong with a definition, as sentences; empty when it is valid."""
    problems: list[str] = []
    key = metric.key
    for name, kind in (("unit", Unit), ("observed_unit", Unit), ("direction", Direction)):
        value = getattr(metric, name)
        if not isinstance(value, kind):
            problems.append(f"metric {key!r}: {name} must be a {kind.__name__}, not {value!r}")
    window = metric.window
    if not isinstance(window, EvaluationWindow) or not isinstance(window.period, PeriodKind):
        problems.append(f"metric {key!r}: window must be an EvaluationWindow with a PeriodKind")
    if any(not isinstance(v, Decimal) for v in metric.aggregation.params.values()):
        problems.append(f"metric {metric.key!r}: aggregation parameters must be Decimals")
    if problems:
        return problems
    if metric.observed_unit is Unit.OUTCOME and metric.unit is not Unit.PERCENT:
        problems.append(f"metric {metric.key!r}: outcomes (0/1) are aggregated into a PERCENT")
    if not KEY_PATTERN.match(metric.key):
        problems.append(
            f"metric key {metric.key!r} must be lowercase snake_case (2-63 chars, a-z0-9_)"
        )
    if not metric.name.strip():
        problems.append(f"metric {metric.key!r} has an empty name")
    for name in ("threshold", "weight", "warning_band"):
        value = getattr(metric, name)
        if not isinstance(value, Decimal) or not value.is_finite():
            problems.append(f"metric {metric.key!r}: {name} must be a finite Decimal")
            return problems
    if not in_unit_range(metric.unit, metric.threshold):
        low, high = UNIT_RANGES[metric.unit]
        problems.append(
            f"metric {metric.key!r}: threshold {metric.threshold} is outside the range of unit "
            f"{metric.unit.value} ({'-inf' if low is None else low}.."
            f"{'+inf' if high is None else high})"
        )
    if metric.weight <= 0 or metric.weight > 100:
        problems.append(f"metric {metric.key!r}: weight {metric.weight} must be in (0, 100]")
    if metric.warning_band < 0:
        problems.append(f"metric {metric.key!r}: warning_band must not be negative")
    problems.extend(curve_problems(metric))
    if not isinstance(metric.min_sample_size, int) or metric.min_sample_size < 1:
        problems.append(f"metric {metric.key!r}: min_sample_size must be an integer >= 1")
    try:
        metric.window.zone  # noqa: B018 - resolving the zone is the check
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"metric {metric.key!r}: unknown time zone {metric.window.timezone!r}")
    kind = metric.aggregation.name
    if kind not in aggregations:
        problems.append(f"metric {metric.key!r}: unknown aggregation {kind!r}")
        return problems
    method = aggregations[kind]
    result_units = set(method.result_units) if method.result_units else None
    observed_units = set(method.observed_units) if method.observed_units else None
    required = set(method.params)
    if result_units is not None and metric.unit not in result_units:
        problems.append(
            f"metric {metric.key!r}: aggregation {kind} yields "
            f"{'/'.join(sorted(u.value for u in result_units))}, not {metric.unit.value}"
        )
    if observed_units is not None and metric.observed_unit not in observed_units:
        problems.append(
            f"metric {metric.key!r}: aggregation {kind} needs observations in "
            f"{'/'.join(sorted(u.value for u in observed_units))}, not {metric.observed_unit.value}"
        )
    if result_units is None and metric.unit != metric.observed_unit:
        problems.append(
            f"metric {metric.key!r}: aggregation {kind} keeps the unit, so unit and "
            f"observed_unit must match ({metric.unit.value} != {metric.observed_unit.value})"
        )
    given = set(metric.aggregation.params)
    if given != required:
        problems.append(
            f"metric {metric.key!r}: aggregation {kind} takes parameters "
            f"{sorted(required) or 'none'}, got {sorted(given) or 'none'}"
        )
    elif method.check is not None:
        problems.extend(f"metric {metric.key!r}: {p}" for p in method.check(metric))
    return problems


def curve_problems(metric: MetricDefinition) -> list[str]:
    """A declared curve must be finite, inside the unit's range and ordered around the threshold:
    floor at or on the bad side of it, target at or on the good side."""
    curve = metric.curve
    if curve is None:
        return []
    if not isinstance(curve, ScoringCurve):
        return [f"metric {metric.key!r}: curve must be a ScoringCurve, not {curve!r}"]
    key = metric.key
    for name in ("floor", "target"):
        value = getattr(curve, name)
        if not isinstance(value, Decimal) or not value.is_finite():
            return [f"metric {key!r}: curve {name} must be a finite Decimal"]
    problems = [
        f"metric {key!r}: curve {name} {value} is outside the range of unit {metric.unit.value}"
        for name, value in (("floor", curve.floor), ("target", curve.target))
        if not in_unit_range(metric.unit, value)
    ]
    sign = 1 if metric.direction is Direction.HIGHER_IS_BETTER else -1
    if sign * (metric.threshold - curve.floor) <= 0:
        side = "below" if sign > 0 else "above"
        problems.append(
            f"metric {key!r}: curve floor {curve.floor} must lie {side} the threshold "
            f"{metric.threshold} (the floor is where a {metric.direction.value} metric earns 0)"
        )
    if sign * (curve.target - metric.threshold) < 0:
        side = "at or above" if sign > 0 else "at or below"
        problems.append(
            f"metric {key!r}: curve target {curve.target} must lie {side} the threshold "
            f"{metric.threshold}"
        )
    return problems


class ResultStatus(enum.StrEnum):
    """The verdict on one metric for one period."""

    PASS = "PASS"
    WARNING = "WARNING"  # passes, but within the warning band of the threshold
    FAIL = "FAIL"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"  # below the minimum sample: no verdict


@dataclass(frozen=True, slots=True)
class MetricResult:
    """A value judged against a definition. `margin` > 0 means better than the threshold."""

    metric_key: str
    status: ResultStatus
    value: Decimal | None
    sample_size: int
    threshold: Decimal
    margin: Decimal | None


def evaluate(metric: MetricDefinition, value: Decimal | None, sample_size: int) -> MetricResult:
    """Judge `value` (aggregated over `sample_size` observations) against `metric`.

    Thresholds are inclusive: ">= 85%" passes at exactly 85. Below the metric's minimum sample
    size, or with no value at all, the result is INSUFFICIENT_DATA, never pass or fail.
    """
    if sample_size < 0:
        raise ValueError("sample_size must not be negative")
    if value is None or sample_size < metric.min_sample_size:
        return MetricResult(
            metric.key, ResultStatus.INSUFFICIENT_DATA, value, sample_size, metric.threshold, None
        )
    if metric.direction is Direction.HIGHER_IS_BETTER:
        margin = value - metric.threshold
    else:
        margin = metric.threshold - value
    if margin < 0:
        status = ResultStatus.FAIL
    elif margin < metric.warning_band:
        status = ResultStatus.WARNING
    else:
        status = ResultStatus.PASS
    return MetricResult(metric.key, status, value, sample_size, metric.threshold, margin)
