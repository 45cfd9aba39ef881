"""The one timeline writer: every domain appends what happened, who did it and to what.

The timeline is append-only; it is the evidence a dispute needs, so each entry records the
acting account (when there is one) beside the label shown to people.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.events import DomainEvent


class Actor(Protocol):
    """Who acts: a signed-in viewer, or the platform's policy (no account)."""

    @property
    def label(self) -> str: ...

    @property
    def account_id(self) -> int | None: ...


def record(
    session: AsyncSession,
    actor: Actor,
    event_type: str,
    payload: dict[str, Any],
    *,
    provider_id: int,
    application_id: int | None = None,
    internal: bool = False,
) -> None:
    """Append a timeline entry about a provider (and one of its applications, if given)."""
    session.add(
        DomainEvent(
            event_type=event_type,
            subject_type="Application" if application_id else "Provider",
            subject_id=application_id or provider_id,
            provider_id=provider_id,
            application_id=application_id,
            actor=actor.label,
            actor_account_id=actor.account_id,
            payload=payload,
            internal=internal,
        )
    )


async def history(session: AsyncSession, subject_type: str, subject_id: int) -> list[DomainEvent]:
    """Everything recorded about one subject, oldest first."""
    rows = await session.scalars(
        select(DomainEvent)
        .where(DomainEvent.subject_type == subject_type, DomainEvent.subject_id == subject_id)
        .order_by(DomainEvent.id)
    )
    return list(rows)
