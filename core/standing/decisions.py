"""Staff decisions on standing: a termination proposal, a tier change, a tier reversal.

Each is a move in a state table (sanctions, applications) claimed by a conditional update, so
of two staff deciding at once exactly one wins; each is recorded on the timeline.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.db import claim, utcnow
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.vocabulary import ApplicationStatus, Tier
from linkstar.core.onboarding.applications import end_memberships
from linkstar.core.onboarding.models import Application
from linkstar.core.standing.consequences import _event, change_tier
from linkstar.core.standing.models import Sanction, TierChange
from linkstar.core.standing.states import SanctionAction, move_sanction


def _reason(reason: str, what: str) -> str:
    if not reason.strip():
        raise InvalidInput(f"give the reason for {what}")
    return reason.strip()


async def decide_termination(
    session: AsyncSession, viewer: Viewer, sanction_id: int, confirm: bool, reason: str
) -> Sanction:
    """Confirm (ending the category's membership) or reject a termination proposal."""
    why = _reason(reason, "the decision")
    sanction = await session.get(Sanction, sanction_id)
    if sanction is None:
        raise NotFound("no such sanction")
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
    _event(
        session,
        viewer,
        sanction.provider_id,
        "termination.confirmed" if confirm else "termination.rejected",
        {"category": sanction.category_key, "sanction": sanction.id, "reason": why},
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
    _event(
        session,
        viewer,
        change.provider_id,
        "tier.reversed",
        {
            "category": change.category_key,
            "tierChange": change.id,
            "restored": change.from_tier.value,
            "reason": why,
        },
        application.id,
    )
    return change


async def set_tier(
    session: AsyncSession, viewer: Viewer, application_id: int, tier: Tier, reason: str
) -> Application:
    """A reviewer moves a provider in the pool one tier up or down."""
    why = _reason(reason, "the tier decision")
    application = await session.get(Application, application_id)
    if application is None:
        raise NotFound("no such application")
    if application.status is not ApplicationStatus.ACTIVE:
        raise InvalidInput(
            "only a provider in the pool has a tier to change", code="INVALID_TRANSITION"
        )
    await change_tier(session, application, tier, why, {"decision": "reviewer"}, viewer)
    return application
