"""Consequences of scores and violations: the sanction ladder, tiers, probation and renewal advice.

Performance ladder (per category, after each evaluation; a period *fails* when any metric
FAILs): 1 failing period → WARNING; 2 in a row → RESTRICTED_INTAKE and DOWNGRADE by one tier;
3 in a row → TERMINATION_PROPOSED, which a reviewer confirms or rejects. A period without a
failure lifts the restriction. Promotion: composite ≥ 90 in 3 consecutive periods with no
failing metric → one tier up (regular → preferred); strategic partner is a reviewer's decision.

Violation ledger: points by severity (MINOR 1, MAJOR 3, SEVERE 6) expire after 90 days;
reaching 3 points → WARNING, 6 → RESTRICTED_INTAKE, 10 → TERMINATION_PROPOSED. A VETO (fake
orders, review manipulation) terminates at once, whatever the KPIs.

Every sanction and tier change names what caused it; re-running adds nothing twice.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.orders import penalize
from linkstar.core.billing.settlement import SETTLEMENT_TIMEZONE
from linkstar.core.fees.rules import PenaltyRule
from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.db import take_turns, utcnow
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.periods import PeriodKind, period_of
from linkstar.core.kernel.timeline import record
from linkstar.core.kernel.vocabulary import (
    ApplicationStatus,
    SanctionKind,
    SanctionStatus,
    Severity,
    Tier,
)
from linkstar.core.kpi.models import Scorecard
from linkstar.core.kpi.scoring import ScoringPolicy
from linkstar.core.onboarding.admission import bar_provider
from linkstar.core.onboarding.applications import end_memberships
from linkstar.core.onboarding.models import Application
from linkstar.core.standing.basis import failing, voided_metrics
from linkstar.core.standing.models import Sanction, TierChange, Violation
from linkstar.core.standing.states import SanctionAction, move_sanction

TIERS = [Tier.REGULAR, Tier.PREFERRED, Tier.STRATEGIC_PARTNER]


@dataclass(frozen=True, slots=True)
class CardSummary:
    id: int
    period: str
    composite: Decimal | None
    failing: bool


def consecutive(periods: list[str]) -> bool:
    """Whether month labels (newest first) follow each other without a gap."""
    for newer, older in itertools.pairwise(periods):
        year, month = map(int, newer.split("-"))
        expected = f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"
        if older != expected:
            return False
    return True


async def recent_cards(
    session: AsyncSession, category: str, providers: list[int], label: str | None, count: int
) -> dict[int, list[CardSummary]]:
    """Latest-revision scorecards up to `label` (None: all), newest first, at most `count` per
    provider."""
    bounds = [Scorecard.category_key == category, Scorecard.provider_id.in_(providers)]
    if label is not None:
        bounds.append(Scorecard.period <= label)
    latest = (
        select(
            Scorecard.provider_id, Scorecard.period, func.max(Scorecard.revision).label("revision")
        )
        .where(*bounds)
        .group_by(Scorecard.provider_id, Scorecard.period)
        .subquery()
    )
    stmt = (
        select(Scorecard)
        .join(
            latest,
            (latest.c.provider_id == Scorecard.provider_id)
            & (latest.c.period == Scorecard.period)
            & (latest.c.revision == Scorecard.revision),
        )
        .where(Scorecard.category_key == category)
        .order_by(Scorecard.provider_id, Scorecard.period.desc())
    )
    voided = await voided_metrics(session, providers, category)
    cards: dict[int, list[CardSummary]] = defaultdict(list)
    for card in (await session.execute(stmt)).scalars().all():
        if len(cards[card.provider_id]) < count:
            void = voided.get((card.provider_id, card.period), set())
            cards[card.provider_id].append(
                CardSummary(card.id, card.period, card.composite, failing(card.results, void))
            )
    return cards


@dataclass
class Ladder:
    """The sanctions and tier changes one provider's recent cards call for."""

    sanctions: list[tuple[SanctionKind, str, str, list[int]]] = field(
        default_factory=list
    )  # kind, dedupe, reason, cards
    lift_restriction: bool = False
    tier_step: int = 0  # -1 demote, +1 promote
    tier_reason: str = ""
    tier_cause: list[int] = field(default_factory=list)
    tier_key: str = ""


def ladder(cards: list[CardSummary], label: str, policy: ScoringPolicy | None = None) -> Ladder:
    """What the performance ladder says for the period `label` (cards newest first)."""
    policy = policy or ScoringPolicy()
    promotion_score, promotion_periods = policy.promotion_score, policy.promotion_periods
    result = Ladder()
    if not cards or cards[0].period != label:
        return result
    streak: list[CardSummary] = []
    for card in cards:
        if not card.failing or (streak and not consecutive([streak[-1].period, card.period])):
            break
        streak.append(card)
    ids = [c.id for c in streak]
    if not streak:
        result.lift_restriction = True
        window = cards[:promotion_periods]
        if (
            len(window) == promotion_periods
            and consecutive([c.period for c in window])
            and all(
                c.composite is not None and c.composite >= promotion_score and not c.failing
                for c in window
            )
        ):
            result.tier_step = 1
            result.tier_reason = (
                f"composite ≥ {promotion_score} in {promotion_periods} consecutive periods, "
                "no failing metric"
            )
            result.tier_cause = [c.id for c in window]
            result.tier_key = f"promote:{label}"
        return result
    start = streak[-1].period
    result.sanctions.append(
        (SanctionKind.WARNING, f"warning:{label}", f"a metric failed in {label}", ids[:1])
    )
    if len(streak) >= policy.restrict_after:
        result.sanctions.append(
            (
                SanctionKind.RESTRICTED_INTAKE,
                f"restricted:{start}",
                f"failing periods in a row since {start}",
                ids[: policy.restrict_after],
            )
        )
        if len(streak) == policy.restrict_after:  # once per streak
            result.tier_step = -1
        periods = ", ".join(c.period for c in reversed(streak[: policy.restrict_after]))
        result.tier_reason = f"{policy.restrict_after} consecutive failing periods ({periods})"
        result.tier_cause = ids[: policy.restrict_after]
        result.tier_key = f"demote:{start}"
    if len(streak) >= policy.terminate_after:
        result.sanctions.append(
            (
                SanctionKind.TERMINATION_PROPOSED,
                f"terminate:{start}",
                f"{policy.terminate_after} consecutive failing periods since {start}",
                ids[: policy.terminate_after],
            )
        )
    return result


POLICY = Viewer(label="policy")  # the platform's rules acting, with no account behind them


def _event(
    session: AsyncSession,
    actor: Viewer,
    provider_id: int,
    event_type: str,
    payload: dict,
    application_id: int | None = None,
) -> None:
    """Record on the provider's timeline (the one timeline writer), with the acting account."""
    record(
        session,
        actor,
        event_type,
        payload,
        provider_id=provider_id,
        application_id=application_id,
    )


async def _existing_keys(session: AsyncSession, model: type, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 900):
        chunk = keys[start : start + 900]
        found.update(
            (await session.execute(select(model.dedupe_key).where(model.dedupe_key.in_(chunk))))
            .scalars()
            .all()
        )
    return found


async def apply_ladder(
    session: AsyncSession,
    category: str,
    label: str,
    providers: list[int],
    policy: ScoringPolicy | None = None,
    penalties: Sequence[PenaltyRule] = (),
) -> int:
    """Apply the category's performance ladder for `label`; returns the sanctions added.

    Each sanction added brings the category's penalties for its kind (`penalties`), deducted
    from the provider's payable and linked to the sanction."""
    policy = policy or ScoringPolicy()
    depth = max(policy.terminate_after, policy.promotion_periods)
    cards = await recent_cards(session, category, providers, label, depth)
    plans = {pid: ladder(cards.get(pid, []), label, policy) for pid in providers}
    for pid, plan in plans.items():  # keys are unique per provider and category
        prefix = f"{pid}:{category}:"
        plan.sanctions = [
            (kind, prefix + key, reason, cause) for kind, key, reason, cause in plan.sanctions
        ]
        plan.tier_key = prefix + plan.tier_key if plan.tier_key else ""
    keys = [k for plan in plans.values() for _, k, _, _ in plan.sanctions]
    tier_keys = [p.tier_key for p in plans.values() if p.tier_key]
    known = await _existing_keys(session, Sanction, keys)
    known_tiers = await _existing_keys(session, TierChange, tier_keys)
    applications = {
        a.provider_id: a
        for a in (
            await session.execute(
                select(Application).where(
                    Application.provider_id.in_(providers),
                    Application.category_key == category,
                    Application.status.in_((ApplicationStatus.PROBATION, ApplicationStatus.ACTIVE)),
                )
            )
        )
        .scalars()
        .all()
    }
    restricted = defaultdict(list)
    for sanction in (
        (
            await session.execute(
                select(Sanction).where(
                    Sanction.provider_id.in_(providers),
                    Sanction.category_key == category,
                    Sanction.kind == SanctionKind.RESTRICTED_INTAKE,
                    Sanction.status == SanctionStatus.ACTIVE,
                )
            )
        )
        .scalars()
        .all()
    ):
        restricted[sanction.provider_id].append(sanction)
    proposals = set(
        (
            await session.execute(
                select(Sanction.provider_id).where(
                    Sanction.provider_id.in_(providers),
                    Sanction.category_key == category,
                    Sanction.kind == SanctionKind.TERMINATION_PROPOSED,
                    Sanction.status.in_((SanctionStatus.ACTIVE, SanctionStatus.CONFIRMED)),
                )
            )
        )
        .scalars()
        .all()
    )
    added = 0
    for pid, plan in plans.items():
        for kind, key, reason, cause in plan.sanctions:
            if key in known:
                continue
            # one open restriction and one open termination proposal at a time
            if kind is SanctionKind.RESTRICTED_INTAKE and restricted.get(pid):
                continue
            if kind is SanctionKind.TERMINATION_PROPOSED and pid in proposals:
                continue
            sanction = Sanction(
                provider_id=pid,
                category_key=category,
                kind=kind,
                status=SanctionStatus.ACTIVE,
                dedupe_key=key,
                period=label,
                cause={"scorecards": cause, "violations": []},
                reason=reason,
            )
            session.add(sanction)
            if any(rule.on == kind.value for rule in penalties):
                await session.flush()
                month = period_of(label, PeriodKind.MONTH, SETTLEMENT_TIMEZONE)
                await penalize(
                    session,
                    penalties,
                    on=kind.value,
                    provider_id=pid,
                    category=category,
                    cause_type="sanction",
                    cause_id=sanction.id,
                    period_start=month.start,
                    period_end=month.end,
                )
            _event(
                session,
                POLICY,
                pid,
                f"sanction.{kind.value.lower()}",
                {"category": category, "period": label, "reason": reason, "scorecards": cause},
            )
            added += 1
        if plan.lift_restriction:
            for sanction in restricted.get(pid, []):
                await move_sanction(
                    session,
                    sanction,
                    SanctionAction.LIFT,
                    POLICY.label,
                    f"no failing metric in {label}",
                )
                _event(
                    session,
                    POLICY,
                    pid,
                    "sanction.lifted",
                    {"category": category, "sanction": sanction.id, "period": label},
                )
        application = applications.get(pid)
        if plan.tier_step and plan.tier_key not in known_tiers and application is not None:
            position = TIERS.index(application.tier) + plan.tier_step
            if plan.tier_step > 0 and application.tier is not Tier.REGULAR:
                continue  # scores promote to preferred; strategic partner is a reviewer's call
            if 0 <= position < len(TIERS):
                await change_tier(
                    session,
                    application,
                    TIERS[position],
                    plan.tier_reason,
                    {"scorecards": plan.tier_cause},
                    POLICY,
                    plan.tier_key,
                )
    return added


async def change_tier(
    session: AsyncSession,
    application: Application,
    tier: Tier,
    reason: str,
    cause: dict,
    actor: Viewer,
    dedupe_key: str | None = None,
) -> TierChange:
    """Move an application's tier (never skipping a level) and record it in the tier history."""
    step = TIERS.index(tier) - TIERS.index(application.tier)
    if abs(step) != 1:
        raise InvalidInput(
            f"a tier changes one level at a time ({application.tier.value} → {tier.value})",
            code="TIER_SKIP",
        )
    change = TierChange(
        application_id=application.id,
        provider_id=application.provider_id,
        category_key=application.category_key,
        from_tier=application.tier,
        to_tier=tier,
        reason=reason,
        cause=cause,
        decided_by=actor.label,
        decided_by_account_id=actor.account_id,
        dedupe_key=dedupe_key,
    )
    session.add(change)
    application.tier = tier
    application.updated_at = utcnow()
    _event(
        session,
        actor,
        application.provider_id,
        "tier.changed",
        {
            "category": application.category_key,
            "from": change.from_tier.value,
            "to": tier.value,
            "reason": reason,
            **cause,
        },
        application.id,
    )
    await session.flush()
    return change


def active_points(violations: list[Violation], at: datetime) -> int:
    """Points of violations not overturned and not yet expired at `at`."""
    return sum(
        v.points
        for v in violations
        if v.overturned_at is None and (v.expires_at is None or v.expires_at > at)
    )


async def record_violation(
    session: AsyncSession,
    provider_id: int,
    category: str,
    severity: Severity,
    description: str,
    evidence_ref: str | None,
    occurred_at: datetime,
    actor: Viewer,
    policy: ScoringPolicy | None = None,
) -> tuple[Violation, list[Sanction]]:
    """Record a violation and apply the milestones it crosses.

    A VETO binds the provider, not one application: every open application of every
    category is terminated (through the onboarding state table), each category gets a
    TERMINATED sanction naming the violation, and the provider is barred from applying again.
    """
    policy = policy or ScoringPolicy()
    # the points before this violation decide its milestones: count them one recording at a time
    await take_turns(session, Violation, f"violations:{provider_id}:{category}")
    earlier = list(
        (
            await session.execute(
                select(Violation).where(
                    Violation.provider_id == provider_id, Violation.category_key == category
                )
            )
        )
        .scalars()
        .all()
    )
    now = utcnow()
    before = active_points(earlier, now)
    violation = Violation(
        provider_id=provider_id,
        category_key=category,
        severity=severity,
        points=policy.points(severity),
        description=description,
        evidence_ref=evidence_ref,
        occurred_at=occurred_at,
        expires_at=None
        if severity is Severity.VETO
        else occurred_at + timedelta(days=policy.point_expiry_days),
        recorded_by=actor.account_id,
    )
    session.add(violation)
    await session.flush()
    after = before + (
        violation.points if violation.expires_at is None or violation.expires_at > now else 0
    )
    sanctions: list[Sanction] = []
    cause = {"scorecards": [], "violations": [violation.id]}
    if severity is Severity.VETO:
        why = f"one-vote veto: {description}"
        ended = await end_memberships(
            session, provider_id, actor, why, payload={"violation": violation.id}
        )
        for key in sorted({category} | {a.category_key for a in ended}):
            sanctions.append(
                Sanction(
                    provider_id=provider_id,
                    category_key=key,
                    kind=SanctionKind.TERMINATED,
                    status=SanctionStatus.CONFIRMED,
                    dedupe_key=f"veto:{violation.id}"
                    if key == category
                    else f"veto:{violation.id}:{key}",
                    cause=cause,
                    reason=why,
                )
            )
        await bar_provider(session, provider_id, actor, why, violation.id)
    for threshold, kind in policy.point_milestones:
        if before < threshold <= after:
            sanctions.append(
                Sanction(
                    provider_id=provider_id,
                    category_key=category,
                    kind=kind,
                    status=SanctionStatus.ACTIVE,
                    dedupe_key=f"points:{threshold}:{violation.id}",
                    cause=cause,
                    reason=f"violation points reached {after} (milestone {threshold})",
                )
            )
    session.add_all(sanctions)
    _event(
        session,
        actor,
        provider_id,
        "violation.recorded",
        {
            "category": category,
            "severity": severity.value,
            "points": violation.points,
            "activePoints": after,
            "description": description,
        },
    )
    for sanction in sanctions:
        _event(
            session,
            actor,
            provider_id,
            f"sanction.{sanction.kind.value.lower()}",
            {
                "category": sanction.category_key,
                "reason": sanction.reason,
                "violation": violation.id,
            },
        )
    await session.flush()
    return violation, sanctions


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
