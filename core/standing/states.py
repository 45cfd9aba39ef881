"""State tables of sanctions and appeals: (state, action) → state, nothing else moves them.

Every move is a conditional update (`claim`) from the state the table starts from, so of two
concurrent deciders exactly one wins and the other gets CONFLICT.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.orders import reverse_penalties
from linkstar.core.kernel.db import claim, utcnow
from linkstar.core.kernel.errors import Conflict, LinkStarError
from linkstar.core.kernel.vocabulary import SanctionKind, SanctionStatus
from linkstar.core.standing.models import Appeal, Sanction


class SanctionAction(enum.StrEnum):
    LIFT = "LIFT"  # recovery: a period without a failing metric lifts a restriction
    CONFIRM = "CONFIRM"  # a reviewer confirms a termination proposal
    REJECT = "REJECT"  # a reviewer rejects a termination proposal
    REVERSE = "REVERSE"  # an upheld appeal removed its basis


SANCTION_TRANSITIONS: dict[tuple[SanctionStatus, SanctionAction], SanctionStatus] = {
    (SanctionStatus.ACTIVE, SanctionAction.LIFT): SanctionStatus.LIFTED,
    (SanctionStatus.ACTIVE, SanctionAction.CONFIRM): SanctionStatus.CONFIRMED,
    (SanctionStatus.ACTIVE, SanctionAction.REJECT): SanctionStatus.REVERSED,
    (SanctionStatus.ACTIVE, SanctionAction.REVERSE): SanctionStatus.REVERSED,
    (SanctionStatus.CONFIRMED, SanctionAction.REVERSE): SanctionStatus.REVERSED,
    (SanctionStatus.LIFTED, SanctionAction.REVERSE): SanctionStatus.REVERSED,
}
# only a termination proposal is confirmed or rejected
DECIDED_KINDS = {
    SanctionAction.CONFIRM: {SanctionKind.TERMINATION_PROPOSED},
    SanctionAction.REJECT: {SanctionKind.TERMINATION_PROPOSED},
}


class AppealStatus(enum.StrEnum):
    OPEN = "OPEN"
    UPHELD = "UPHELD"
    REJECTED = "REJECTED"


class AppealAction(enum.StrEnum):
    UPHOLD = "UPHOLD"
    REJECT = "REJECT"


APPEAL_TRANSITIONS: dict[tuple[AppealStatus, AppealAction], AppealStatus] = {
    (AppealStatus.OPEN, AppealAction.UPHOLD): AppealStatus.UPHELD,
    (AppealStatus.OPEN, AppealAction.REJECT): AppealStatus.REJECTED,
}


class InvalidSanctionTransition(LinkStarError):
    """The action is not possible from the sanction's (or appeal's) current state."""

    code = "INVALID_TRANSITION"


def check_sanction_move(sanction: Sanction, action: SanctionAction) -> SanctionStatus:
    """The state `action` moves `sanction` to, or the error saying why it cannot."""
    target = SANCTION_TRANSITIONS.get((sanction.status, action))
    kinds = DECIDED_KINDS.get(action)
    if target is None and (SanctionStatus.ACTIVE, action) in SANCTION_TRANSITIONS:
        raise Conflict(
            f"the sanction was already {sanction.status.value.lower()} by {sanction.resolved_by}",
            suggestion="reload it to see the decision",
        )
    if target is None or (kinds is not None and sanction.kind not in kinds):
        raise InvalidSanctionTransition(
            f"cannot {action.value} a {sanction.kind.value} sanction that is "
            f"{sanction.status.value}"
        )
    return target


async def move_sanction(
    session: AsyncSession, sanction: Sanction, action: SanctionAction, actor: str, why: str
) -> SanctionStatus:
    """Apply `action` to `sanction` if the table allows it; exactly one concurrent mover wins."""
    target = check_sanction_move(sanction, action)
    changes: dict[str, Any] = {
        "status": target,
        "resolved_at": utcnow(),
        "resolved_by": actor,
        "resolution": why,
    }
    await claim(
        session, Sanction, sanction.id, {"status": sanction.status}, changes, "the sanction"
    )
    if target is SanctionStatus.REVERSED:
        # whatever the sanction cost the provider is given back, by reversing entries
        await reverse_penalties(session, "sanction", sanction.id, f"sanction reversed: {why}")
    return target


async def move_appeal(
    session: AsyncSession, appeal: Appeal, action: AppealAction, changes: dict[str, Any]
) -> AppealStatus:
    """Apply `action` to `appeal` if the table allows it; exactly one concurrent decider wins."""
    state = AppealStatus(appeal.status)
    target = APPEAL_TRANSITIONS.get((state, action))
    if target is None:
        raise Conflict(
            f"the appeal was already {state.value.lower()} by {appeal.decided_by}",
            suggestion="reload it to see the decision",
        )
    await claim(
        session,
        Appeal,
        appeal.id,
        {"status": state.value},
        {**changes, "status": target.value},
        "the appeal",
    )
    return target
