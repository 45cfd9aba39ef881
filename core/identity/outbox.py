"""The mail outbox: messages are written in the same transaction as the change that needs
them and sent later by whoever drains the table (`linkstar mail drain`, or a mail sender)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from linkstar.core.identity.models import OutboxMessage
from linkstar.core.kernel.db import utcnow

Sender = Callable[[OutboxMessage], Awaitable[None] | None]


def queue(session: AsyncSession, recipient: str, subject: str, body: str) -> OutboxMessage:
    """Add a message to the outbox (sent only if the surrounding transaction commits)."""
    message = OutboxMessage(recipient=recipient, subject=subject[:200], body=body)
    session.add(message)
    return message


async def drain(sessions: async_sessionmaker[AsyncSession], send: Sender, limit: int = 100) -> int:
    """Send up to `limit` pending messages, oldest first; returns how many were sent.

    Each message is claimed and marked sent in its own transaction once `send` returns, so a
    failing send leaves it (and the ones after it) pending for the next drain. Rows are
    locked while sent (PostgreSQL), so two drains never send the same message.
    """
    sent = 0
    for _ in range(limit):
        async with sessions() as session, session.begin():
            message = (
                await session.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.sent_at.is_(None))
                    .order_by(OutboxMessage.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).scalar_one_or_none()
            if message is None:
                break
            outcome = send(message)
            if outcome is not None:
                await outcome
            message.sent_at = utcnow()
        sent += 1
    return sent
