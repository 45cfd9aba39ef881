"""The performance ladder: what consecutive failing (or excellent) months lead to.

Per category, after each evaluation; a period *fails* when any metric FAILs: 1 failing period →
WARNING; 2 in a row → RESTRICTED_INTAKE and DOWNGRADE by one tier; 3 in a row →
TERMINATION_PROPOSED, which a reviewer confirms or rejects. A period without a failure lifts the
restriction. Promotion: composite ≥ 90 in 3 consecutive periods with no failing metric → one tier
up (regular → preferred); strategic partner is a reviewer's decision. (The numbers are the default
`ScoringPolicy`; a category may set its own.)

Every sanction and tier change names what caused it; re-running adds nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.orders import penalize
from linkstar.core.billing.settlement import SETTLEMENT_TIMEZONE
from linkstar.core.fees.rules import PenaltyRule
from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.db import among
from linkstar.core.kernel.periods import PeriodKind, period_of
from linkstar.core.kernel.timeline import record
from linkstar.core.kernel.vocabulary import (
    ApplicationStatus,
    SanctionKind,
    SanctionStatus,
    Tier,
)
from linkstar.core.kpi.scoring import ScoringPolicy
from linkstar.core.onboarding.models import Application
from linkstar.core.standing.cards import CardSummary, consecutive, recent_cards
from linkstar.core.standing.models import Sanction, TierChange
from linkstar.core.standing.states import SanctionAction, move_sanction
from linkstar.core.standing.tiers import TIERS, change_tier


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
                    among(session, Application.provider_id, providers),
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
                    among(session, Sanction.provider_id, providers),
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
                    among(session, Sanction.provider_id, providers),
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
            record(
                session,
                POLICY,
                f"sanction.{kind.value.lower()}",
                {"category": category, "period": label, "reason": reason, "scorecards": cause},
                provider_id=pid,
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
                record(
                    session,
                    POLICY,
                    "sanction.lifted",
                    {"category": category, "sanction": sanction.id, "period": label},
                    provider_id=pid,
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
