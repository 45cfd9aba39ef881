"""The append-only audit log: every mutation and every security event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from linkstar.core.identity.models import AuditEntry
from linkstar.core.identity.policy import ANONYMOUS, Viewer
from linkstar.core.kernel.db import take_turns, utcnow
from linkstar.core.kernel.errors import InvalidInput
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


SECURITY_WINDOW_SECONDS = 300


async def record_security_event(
    sessions: async_sessionmaker[AsyncSession],
    action: str,
    *,
    viewer: Viewer = ANONYMOUS,
    client_address: str | None = None,
    reason: str | None = None,
) -> None:
    """Count a repeated security event instead of writing a row for each one.

    One row per (action, actor, address) per SECURITY_WINDOW_SECONDS window: the first
    event writes it (outcome DENIED, `details.count` 1), the next ones in the window add to
    its count and note the last time and reason. A flood of bad tokens costs one row per
    window, and the log still says who, from where, how often and since when.
    """
    now = utcnow()
    start = datetime.fromtimestamp(
        now.timestamp() // SECURITY_WINDOW_SECONDS * SECURITY_WINDOW_SECONDS, UTC
    )
    address = client_address[:64] if client_address else None
    async with sessions() as session, session.begin():
        await take_turns(session, AuditEntry, f"audit:{action}:{viewer.account_id}:{address}")
        existing = (
            await session.execute(
                select(AuditEntry)
                .where(
                    AuditEntry.action == action[:80],
                    AuditEntry.actor_account_id.is_(None)
                    if viewer.account_id is None
                    else AuditEntry.actor_account_id == viewer.account_id,
                    AuditEntry.client_address.is_(None)
                    if address is None
                    else AuditEntry.client_address == address,
                    AuditEntry.occurred_at >= start,
                )
                .order_by(AuditEntry.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if existing is None:
            session.add(
                entry(
                    viewer,
                    action,
                    AuditOutcome.DENIED,
                    client_address=address,
                    details={"count": 1, "reason": reason, "last": now.isoformat()},
                )
            )
            return
        count = int((existing.details or {}).get("count", 1)) + 1
        existing.details = {"count": count, "reason": reason, "last": now.isoformat()}


def audit_log(
    *,
    action: str | None = None,
    actor_account_id: int | None = None,
    outcome: AuditOutcome | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[Select[tuple[AuditEntry]], Select[tuple[int]]]:
    """The audit entries matching every filter given (`since` inclusive, `until` exclusive,
    both aware), and the query counting them."""
    if any(moment is not None and moment.tzinfo is None for moment in (since, until)):
        raise InvalidInput("give since/until with a time zone offset")
    conditions: list[Any] = []
    if action:
        conditions.append(AuditEntry.action == action)
    if actor_account_id is not None:
        conditions.append(AuditEntry.actor_account_id == actor_account_id)
    if outcome is not None:
        conditions.append(AuditEntry.outcome == outcome)
    if since is not None:
        conditions.append(AuditEntry.occurred_at >= since)
    if until is not None:
        conditions.append(AuditEntry.occurred_at < until)
    return (
        select(AuditEntry).where(*conditions),
        select(func.count()).select_from(AuditEntry).where(*conditions),
    )
