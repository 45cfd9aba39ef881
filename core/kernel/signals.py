"""In-process signals: a lower domain announces a fact, a higher domain reacts in the same
transaction, without the lower one importing the higher (blinker's pattern, async).

A domain owns its signal and sends it where the fact happens; a domain allowed to import it
connects a receiver. Receivers run in connection order, awaited, with the sender's session,
so their writes commit or roll back with the fact itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

Receiver = Callable[..., Awaitable[Any]]


class Signal:
    """A named fact other domains may react to."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc
        self._receivers: dict[str, Receiver] = {}

    def connect(self, receiver: Receiver) -> Receiver:
        """Add `receiver` (once: connecting the same function again changes nothing)."""
        self._receivers[f"{receiver.__module__}.{receiver.__qualname__}"] = receiver
        return receiver

    @property
    def receivers(self) -> tuple[Receiver, ...]:
        return tuple(self._receivers.values())

    async def send(self, session: AsyncSession, **facts: Any) -> None:
        """Await every receiver with `session` and the facts, in the caller's transaction."""
        for receiver in self.receivers:
            await receiver(session, **facts)
