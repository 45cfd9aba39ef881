"""Four eyes: decisions that a second, different staff member must approve.

Raising a tier above what the KPIs make the provider eligible for, confirming a termination,
and deciding the second round of an appeal are *requested* by one staff member and take
effect only when another approves. The request's state table is (PENDING, APPROVE) →
APPROVED and (PENDING, REJECT) → REJECTED; the decision is claimed, so of two approvers
exactly one wins. The requester approving their own request is refused with SAME_APPROVER.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Forbidden, Viewer
from linkstar.core.kernel.db import claim, utcnow
from linkstar.core.kernel.errors import Conflict, InvalidInput, LinkStarError
from linkstar.core.kernel.timeline import record
from linkstar.core.standing.models import ApprovalRequest


class ApprovalKind(enum.StrEnum):
    TIER_RAISE = "TIER_RAISE"  # subject: an application
    TERMINATION = "TERMINATION"  # subject: a termination proposal (sanction)
    APPEAL_SECOND_ROUND = "APPEAL_SECOND_ROUND"  # subject: an appeal


class ApprovalStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


APPROVAL_TRANSITIONS: dict[tuple[ApprovalStatus, bool], ApprovalStatus] = {
    (ApprovalStatus.PENDING, True): ApprovalStatus.APPROVED,
    (ApprovalStatus.PENDING, False): ApprovalStatus.REJECTED,
}


class SameApprover(LinkStarError):
    """The staff member who asked for a decision cannot also approve it."""

    code = "SAME_APPROVER"


class ApprovalPending(LinkStarError):
    """A request for the same decision already waits for a second staff member."""

    code = "APPROVAL_PENDING"


async def request_approval(
    session: AsyncSession,
    viewer: Viewer,
    kind: ApprovalKind,
    provider_id: int,
    subject_id: int,
    payload: dict[str, Any],
) -> ApprovalRequest:
    """Record a pending request for a second staff member; one pending per subject."""
    row = ApprovalRequest(
        provider_id=provider_id,
        kind=kind.value,
        subject_id=subject_id,
        payload=payload,
        status=ApprovalStatus.PENDING.value,
        pending_key=f"{kind.value}:{subject_id}",
        requested_by=viewer.label,
        requested_by_account_id=viewer.account_id,
    )
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise ApprovalPending(
            "this decision already waits for a second staff member's approval",
            suggestion="approve or reject the pending request (decideApproval)",
        ) from None
    record(
        session,
        viewer,
        "approval.requested",
        {"request": row.id, "kind": kind.value, "subject": subject_id, **payload},
        provider_id=provider_id,
    )
    return row


async def settle(
    session: AsyncSession, viewer: Viewer, row: ApprovalRequest, approve: bool, reason: str
) -> ApprovalRequest:
    """Approve or reject a pending request (another staff member than the requester)."""
    if not viewer.is_staff or viewer.scopes is not None:
        raise Forbidden("only staff approve decisions")
    if not reason.strip():
        raise InvalidInput("give the reason for the approval decision")
    if viewer.account_id is not None and viewer.account_id == row.requested_by_account_id:
        raise SameApprover(
            "a second, different staff member must approve this decision",
            suggestion="ask a colleague to approve or reject it",
        )
    target = APPROVAL_TRANSITIONS.get((ApprovalStatus(row.status), approve))
    if target is None:
        raise Conflict(
            f"the request was already {row.status.lower()} by {row.decided_by}",
            suggestion="reload it to see the decision",
        )
    await claim(
        session,
        ApprovalRequest,
        row.id,
        {"status": ApprovalStatus.PENDING.value},
        {
            "status": target.value,
            "pending_key": None,
            "decided_by": viewer.label,
            "decided_by_account_id": viewer.account_id,
            "decision_reason": reason.strip(),
            "decided_at": utcnow(),
        },
        "the approval request",
    )
    record(
        session,
        viewer,
        f"approval.{target.value.lower()}",
        {"request": row.id, "kind": row.kind, "reason": reason.strip()},
        provider_id=row.provider_id,
    )
    return row


async def pending(session: AsyncSession, provider_id: int | None = None) -> list[ApprovalRequest]:
    """Pending requests, oldest first (of one provider, or all)."""
    stmt = select(ApprovalRequest).where(ApprovalRequest.status == ApprovalStatus.PENDING.value)
    if provider_id is not None:
        stmt = stmt.where(ApprovalRequest.provider_id == provider_id)
    return list((await session.execute(stmt.order_by(ApprovalRequest.id))).scalars().all())


async def pending_for(
    session: AsyncSession, kind: ApprovalKind, subject_id: int
) -> ApprovalRequest | None:
    """The pending request of `kind` on `subject_id`, if any."""
    return (
        await session.execute(
            select(ApprovalRequest).where(
                ApprovalRequest.pending_key == f"{kind.value}:{subject_id}"
            )
        )
    ).scalar_one_or_none()
