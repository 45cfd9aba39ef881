"""The append-only audit log: every mutation and every security event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from linkstar.core.identity.models import AuditEntry
from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.vocabulary import AuditOutcome


def entry(
    viewer: Viewer,
    action: str,
    outcome: AuditOutcome,
    *,
    target: str | None = None,
    client_address: str | None = None,
    label: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """An audit row for `viewer` doing `action` (not yet added to a session)."""
    return AuditEntry(
        actor_account_id=viewer.account_id,
        actor_token_id=viewer.token_id,
        actor_label=(label or viewer.label)[:254],
        action=action[:80],
        target=target[:254] if target else None,
        outcome=outcome,
        client_address=client_address[:64] if client_address else None,
        details=details or {},
    )


async def record(sessions: async_sessionmaker[AsyncSession], *entries: AuditEntry) -> None:
    """Write entries in a transaction of their own, so they survive the caller's rollback."""
    if not entries:
        return
    async with sessions() as session, session.begin():
        session.add_all(entries)


async def settle(
    sessions: async_sessionmaker[AsyncSession],
    entry_id: int,
    outcome: AuditOutcome,
    details: dict[str, Any],
) -> None:
    """Give a write-ahead entry (written before its action ran) the action's outcome."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.id == entry_id)
            .values(outcome=outcome, details=details)
        )
