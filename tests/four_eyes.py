"""Test helper: a second staff member approves what another asked for (four eyes)."""

from __future__ import annotations

from typing import Any

PENDING = "{ pendingApprovals { id kind subjectId requestedBy payload } }"
APPROVE = 'mutation($r: ID!, $y: Boolean!) { decideApproval(request: $r, approve: $y, reason: "Second pair of eyes.") { id status } }'


def approve_pending(second: Any, kind: str) -> dict[str, Any]:
    """Approve the one pending request of `kind` as `second`; the request approved."""
    pending = [r for r in second(PENDING)["pendingApprovals"] if r["kind"] == kind]
    assert len(pending) == 1, pending
    return second(APPROVE, {"r": pending[0]["id"], "y": True})["decideApproval"]
