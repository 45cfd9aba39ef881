"""Staff decisions on standing: a termination proposal, a tier change, a tier reversal.

Each is a move in a state table (sanctions, applications) claimed by a conditional update, so
of two staff deciding at once exactly one wins; each is recorded on the timeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.db import claim, take_turns, utcnow
from linkstar.core.kernel.errors import Conflict, InvalidInput, NotFound
from linkstar.core.kernel.timeline import record
from linkstar.core.kernel.vocabulary import ApplicationStatus, Tier
from linkstar.core.kpi.scoring import ScoringPolicy
from linkstar.core.onboarding.applications import end_memberships
from linkstar.core.onboarding.models import Application
from linkstar.core.standing import appeals, approvals
from linkstar.core.standing.approvals import ApprovalKind, request_approval, settle
from linkstar.core.standing.cards import consecutive, recent_cards
from linkstar.core.standing.models import Appeal, ApprovalRequest, Sanction, TierChange
from linkstar.core.standing.recommendations import Recommendation, strategic_eligibility
from linkstar.core.standing.states import SanctionAction, check_sanction_move, move_sanction
from linkstar.core.standing.tiers import TIERS, change_tier

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import Registry


def _reason(reason: str, what: str) -> str:
    if not reason.strip():
        raise InvalidInput(f"give the reason for {what}")
    return reason.strip()


async def decide_termination(
    session: AsyncSession, viewer: Viewer, sanction_id: int, confirm: bool, reason: str
) -> Sanction:
    """Reject a termination proposal at once, or ask a second staff member to confirm it.

    Decisions on one proposal take turns, so a rejection and a confirmation request made at
    the same moment cannot both stand: the second sees the first and gets CONFLICT.
    """
    why = _reason(reason, "the decision")
    await take_turns(session, Sanction, f"sanction:{sanction_id}")
    sanction = await session.get(Sanction, sanction_id)
    if sanction is None:
        raise NotFound("no such sanction")
    waiting = await approvals.pending_for(session, ApprovalKind.TERMINATION, sanction.id)
    if waiting is not None:
        raise Conflict(
            f"{waiting.requested_by} already asked to confirm this termination",
            suggestion="approve or reject that request (decideApproval)",
        )
    if confirm:
        check_sanction_move(sanction, SanctionAction.CONFIRM)
        await request_approval(
            session,
            viewer,
            ApprovalKind.TERMINATION,
            sanction.provider_id,
            sanction.id,
            {"reason": why},
        )
        return sanction
    return await settle_termination(session, viewer, sanction, False, why)


async def settle_termination(
    session: AsyncSession, viewer: Viewer, sanction: Sanction, confirm: bool, why: str
) -> Sanction:
    """Confirm (ending the category's membership) or reject a termination proposal."""
    await move_sanction(
        session,
        sanction,
        SanctionAction.CONFIRM if confirm else SanctionAction.REJECT,
        viewer.label,
        why,
    )
    if confirm:
        await end_memberships(
            session,
            sanction.provider_id,
            viewer,
            why,
            category=sanction.category_key,
            payload={"sanction": sanction.id},
        )
    record(
        session,
        viewer,
        "termination.confirmed" if confirm else "termination.rejected",
        {"category": sanction.category_key, "sanction": sanction.id, "reason": why},
        provider_id=sanction.provider_id,
    )
    return sanction


async def reverse_tier_change(
    session: AsyncSession, viewer: Viewer, change_id: int, reason: str
) -> TierChange:
    """Undo the latest, unreversed tier change of an application, with the reason."""
    why = _reason(reason, "the reversal")
    change = await session.get(TierChange, change_id)
    if change is None:
        raise NotFound("no such tier change")
    application = await session.get(Application, change.application_id)
    assert application is not None  # the foreign key cascades
    if change.reversed_at is not None or application.tier is not change.to_tier:
        raise InvalidInput(
            "only the latest, unreversed tier change can be reversed", code="INVALID_TRANSITION"
        )
    await claim(
        session,
        TierChange,
        change.id,
        {"reversed_at": None},
        {"reversed_at": utcnow(), "reversed_by": viewer.label, "reversal_reason": why},
        "the tier change",
    )
    application.tier = change.from_tier
    application.updated_at = utcnow()
    record(
        session,
        viewer,
        "tier.reversed",
        {
            "category": change.category_key,
            "tierChange": change.id,
            "restored": change.from_tier.value,
            "reason": why,
        },
        provider_id=change.provider_id,
        application_id=application.id,
    )
    return change


async def set_tier(
    session: AsyncSession,
    viewer: Viewer,
    application_id: int,
    tier: Tier,
    reason: str,
    policy: ScoringPolicy,
    expected_version: int | None = None,
) -> Application:
    """A reviewer moves a provider in the pool one tier up or down; a raise above what the
    closed periods make it eligible for waits for a second staff member's approval.

    With `expected_version` (the application version the caller saw) the decision is claimed
    on it: of two staff deciding on the same view exactly one wins, the other gets CONFLICT.
    """
    why = _reason(reason, "the tier decision")
    application = await session.get(Application, application_id)
    if application is None:
        raise NotFound("no such application")
    if expected_version is not None:
        if not 1 <= expected_version < application.version + 1:
            # a version the application never had (or cannot reach): someone else's view, or
            # nonsense; either way not the current one
            raise Conflict(
                f"the application is at version {application.version}, not {expected_version}",
                suggestion="reload the application and decide on its current version",
            )
        await claim(
            session,
            Application,
            application.id,
            {"version": expected_version},
            {"version": expected_version + 1, "updated_at": utcnow()},
            "the application's tier",
        )
    if application.status is not ApplicationStatus.ACTIVE:
        raise InvalidInput(
            "only a provider in the pool has a tier to change", code="INVALID_TRANSITION"
        )
    if TIERS.index(tier) == TIERS.index(application.tier) + 1:
        eligibility = await tier_eligibility(session, application, tier, policy)
        if eligibility.decision != "ELIGIBLE":
            await request_approval(
                session,
                viewer,
                ApprovalKind.TIER_RAISE,
                application.provider_id,
                application.id,
                {
                    "tier": tier.value,
                    "from": application.tier.value,
                    "reason": why,
                    "eligibility": list(eligibility.reasons),
                },
            )
            return application
    await change_tier(session, application, tier, why, {"decision": "reviewer"}, viewer)
    return application


async def tier_eligibility(
    session: AsyncSession, application: Application, tier: Tier, policy: ScoringPolicy
) -> Recommendation:
    """Whether the closed periods make the provider eligible for `tier` (one step up)."""
    current = utcnow().strftime("%Y-%m")
    cards = (
        await recent_cards(session, application.category_key, [application.provider_id], None, 7)
    ).get(application.provider_id, [])
    closed = [c for c in cards if c.period < current]
    if tier is Tier.STRATEGIC_PARTNER:
        return strategic_eligibility(application.tier, closed)
    window = closed[: policy.promotion_periods]
    if (
        len(window) == policy.promotion_periods
        and consecutive([c.period for c in window])
        and all(
            c.composite is not None and c.composite >= policy.promotion_score and not c.failing
            for c in window
        )
    ):
        return Recommendation("ELIGIBLE", ("the promotion rule is met",))
    return Recommendation(
        "NOT_ELIGIBLE",
        (
            f"needs composite ≥ {policy.promotion_score} with no failing metric in "
            f"{policy.promotion_periods} consecutive closed periods",
        ),
    )


async def decide_approval(
    session: AsyncSession,
    registry: Registry,
    viewer: Viewer,
    request_id: int,
    approve: bool,
    reason: str,
) -> ApprovalRequest:
    """A second staff member approves (the decision takes effect now) or rejects a request."""
    row = await session.get(ApprovalRequest, request_id)
    if row is None:
        raise NotFound("no such approval request")
    await settle(session, viewer, row, approve, reason)
    if not approve:
        return row
    why = f"{row.payload['reason']} (requested by {row.requested_by}, approved by {viewer.label})"
    if row.kind == ApprovalKind.TERMINATION.value:
        sanction = await session.get(Sanction, row.subject_id)
        assert sanction is not None
        await settle_termination(session, viewer, sanction, True, why)
    elif row.kind == ApprovalKind.TIER_RAISE.value:
        application = await session.get(Application, row.subject_id)
        assert application is not None
        if application.status is not ApplicationStatus.ACTIVE or (
            application.tier.value != row.payload["from"]
        ):
            raise InvalidInput(
                "the application changed since the request; ask again",
                code="INVALID_TRANSITION",
            )
        await change_tier(
            session,
            application,
            Tier(row.payload["tier"]),
            why,
            {"decision": "reviewer", "approvalRequest": row.id},
            viewer,
        )
    else:
        appeal = await session.get(Appeal, row.subject_id)
        assert appeal is not None
        await appeals.decide_appeal(
            session, registry, viewer, appeal, row.payload["uphold"], why, approved=True
        )
    return row
