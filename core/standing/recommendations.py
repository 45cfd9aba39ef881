"""Advice from the scorecards: probation (pass / fail / extend), renewal and strategic partner."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from linkstar.core.kernel.vocabulary import SanctionKind, Severity, Tier
from linkstar.core.standing.cards import CardSummary, consecutive
from linkstar.core.standing.models import Sanction, Violation


@dataclass(frozen=True, slots=True)
class Recommendation:
    decision: str
    reasons: tuple[str, ...]


def probation_recommendation(cards: list[CardSummary], extended: bool) -> Recommendation:
    """PASS / FAIL / EXTEND from the scorecards of the probation (newest first)."""
    rated = [c for c in cards if c.composite is not None]
    if not rated:
        if extended:
            return Recommendation("FAIL", ("no KPI data after the extension",))
        return Recommendation("EXTEND", ("not enough KPI data yet to judge",))
    latest = rated[0]
    if latest.failing:
        if extended:
            return Recommendation(
                "FAIL", (f"a metric failed in {latest.period}, after the extension",)
            )
        return Recommendation(
            "EXTEND", (f"a metric failed in {latest.period}; one extension is allowed",)
        )
    if latest.composite is not None and latest.composite >= 75:
        return Recommendation(
            "PASS", (f"composite {latest.composite} in {latest.period}, no failing metric",)
        )
    return Recommendation(
        "EXTEND" if not extended else "FAIL",
        (f"composite {latest.composite} in {latest.period} is below 75",),
    )


RENEWAL_CLOSED_PERIODS = 3  # closed months a renewal needs before it can be judged


def renewal_recommendation(
    cards: list[CardSummary],
    active_sanctions: list[Sanction],
    live_violations: list[Violation],
    current_period: str,
) -> Recommendation:
    """RENEW / RENEW_WITH_CONDITIONS / DO_NOT_RENEW / INSUFFICIENT_HISTORY, with reasons.

    Only closed periods count (a month counts once it has ended: the running month is a
    projection, not a result), at least RENEWAL_CLOSED_PERIODS of them; live violations weigh:
    a SEVERE one (or 6 points) means DO_NOT_RENEW, a MAJOR one (or 3 points) caps the advice at
    RENEW_WITH_CONDITIONS.
    """
    closed = [c for c in cards if c.period < current_period]
    rated = [c.composite for c in closed if c.composite is not None]
    failing = sum(1 for c in closed if c.failing)
    points = sum(v.points for v in live_violations)
    worst = max((v.severity for v in live_violations), key=_SEVERITY_ORDER.index, default=None)
    reasons = [
        f"{len(closed)} closed period(s) considered",
        f"{failing} with a failing metric",
        f"{len(live_violations)} live violation(s), {points} point(s)",
    ]
    severe = [
        s
        for s in active_sanctions
        if s.kind in (SanctionKind.TERMINATION_PROPOSED, SanctionKind.TERMINATED)
    ]
    if severe:
        return Recommendation(
            "DO_NOT_RENEW",
            (*reasons, f"{severe[0].kind.value.lower()} on record: {severe[0].reason}"),
        )
    if worst in (Severity.SEVERE, Severity.VETO) or points >= 6:
        return Recommendation("DO_NOT_RENEW", (*reasons, "serious compliance violations are live"))
    if len(rated) < RENEWAL_CLOSED_PERIODS:
        return Recommendation(
            "INSUFFICIENT_HISTORY",
            (*reasons, f"renewal is judged on at least {RENEWAL_CLOSED_PERIODS} closed periods"),
        )
    average = (sum(rated, Decimal(0)) / len(rated)).quantize(Decimal("0.01"))
    reasons.append(f"average composite {average}")
    conditional = worst is Severity.MAJOR or points >= 3
    if average >= 75 and failing <= 1 and not conditional:
        return Recommendation("RENEW", tuple(reasons))
    if average >= 60 and failing <= len(closed) // 2:
        conditions = "improvement plan for the failing metrics, reviewed quarterly"
        if conditional:
            conditions = "compliance plan for the live violations, reviewed quarterly"
        return Recommendation("RENEW_WITH_CONDITIONS", (*reasons, conditions))
    return Recommendation("DO_NOT_RENEW", (*reasons, "persistently below the standard"))


_SEVERITY_ORDER = [Severity.MINOR, Severity.MAJOR, Severity.SEVERE, Severity.VETO]


STRATEGIC_SCORE = Decimal(95)
STRATEGIC_PERIODS = 6


def strategic_eligibility(tier: Tier, cards: list[CardSummary]) -> Recommendation:
    """ELIGIBLE: preferred, composite ≥ 95 and no failing metric in 6 consecutive periods."""
    if tier is Tier.STRATEGIC_PARTNER:
        return Recommendation("ALREADY_STRATEGIC", ("the provider is a strategic partner",))
    if tier is not Tier.PREFERRED:
        return Recommendation(
            "NOT_ELIGIBLE", ("only preferred providers move up to strategic partner",)
        )
    window = cards[:STRATEGIC_PERIODS]
    if len(window) < STRATEGIC_PERIODS or not consecutive([c.period for c in window]):
        return Recommendation(
            "NOT_ELIGIBLE", (f"needs {STRATEGIC_PERIODS} consecutive scored periods",)
        )
    weak = [
        c.period
        for c in window
        if c.failing or c.composite is None or c.composite < STRATEGIC_SCORE
    ]
    if weak:
        return Recommendation(
            "NOT_ELIGIBLE", (f"below {STRATEGIC_SCORE} or failing in {', '.join(weak)}",)
        )
    return Recommendation(
        "ELIGIBLE",
        (f"composite ≥ {STRATEGIC_SCORE}, no failing metric in {STRATEGIC_PERIODS} periods",),
    )
