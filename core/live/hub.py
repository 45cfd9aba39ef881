"""Fan-out of domain events to live subscribers in this process.

Every process that serves subscriptions runs one `EventHub`. The hub learns of new rows in the
append-only `domain_events` table, whichever process wrote them:

- on PostgreSQL, a row trigger (migration 0007) sends `NOTIFY linkstar_events, '<id>'` when the
  writing transaction commits; the hub LISTENs on its own psycopg connection and loads each
  announced event. Notifications arrive in commit order, so an event whose id was taken before a
  later one's but committed after it is still delivered;
- on SQLite (one machine, writes serialised, ids in commit order) the hub polls for ids above
  the highest it has seen, so events written by the CLI in another process arrive too.

A subscriber that resumes after event N first reads what it missed from the table, then
continues live; events it read during the catch-up are not delivered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from linkstar.core.kernel.events import DomainEvent
from linkstar.core.kernel.telemetry import EVENTS_PUBLISHED, log_failure

log = logging.getLogger("linkstar.live")

CHANNEL = "linkstar_events"
POLL_SECONDS = 0.5
CATCH_UP_BATCH = 500
QUEUE_LIMIT = 1_000  # a subscriber this far behind is cut off (it can resume with `after`)


@dataclass(frozen=True)
class LiveEvent:
    """A domain event as it is handed to subscribers and webhooks."""

    id: int
    event_type: str
    occurred_at: datetime
    subject_type: str
    subject_id: int
    provider_id: int | None
    application_id: int | None
    payload: dict[str, Any]
    internal: bool

    @classmethod
    def of(cls, row: DomainEvent) -> LiveEvent:
        return cls(
            id=row.id,
            event_type=row.event_type,
            occurred_at=row.occurred_at,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            provider_id=row.provider_id,
            application_id=row.application_id,
            payload=dict(row.payload or {}),
            internal=row.internal,
        )


@dataclass(frozen=True)
class Interest:
    """Which events a subscriber wants: some providers (None: all), some kinds (None: all).

    A kind is an exact event type (`alert.raised`) or a family ending in `.*` (`sanction.*`).
    """

    provider_ids: frozenset[int] | None = None
    kinds: frozenset[str] | None = None
    include_internal: bool = False

    def matches(self, event: LiveEvent) -> bool:
        if event.internal and not self.include_internal:
            return False
        if self.provider_ids is not None and event.provider_id not in self.provider_ids:
            return False
        if self.kinds is None:
            return True
        family = event.event_type.split(".", 1)[0] + ".*"
        return event.event_type in self.kinds or family in self.kinds


class SubscriberTooSlow(Exception):
    """The subscriber's queue overflowed; it must resubscribe with the last id it saw."""


class _Subscriber:
    def __init__(self, interest: Interest) -> None:
        self.interest = interest
        self.queue: asyncio.Queue[LiveEvent] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = False

    def offer(self, event: LiveEvent) -> None:
        if self.overflowed or not self.interest.matches(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


class EventHub:
    """This process's subscribers and the task that feeds them."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.poll_seconds = poll_seconds
        self._subscribers: set[_Subscriber] = set()
        self._high_water = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.listening = asyncio.Event()  # set once the hub is receiving events

    @property
    def on_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def start(self) -> None:
        """Start following the event log (from its current end)."""
        self._high_water = await self._max_id()
        runner = self._listen if self.on_postgres else self._poll
        self._task = asyncio.create_task(runner(), name="linkstar-event-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Poll now (SQLite): this process has just committed events."""
        self._wake.set()

    async def stream(
        self, interest: Interest, after: int | None = None
    ) -> AsyncIterator[LiveEvent]:
        """Events matching `interest`: first those after id `after` (if given), then live."""
        subscriber = _Subscriber(interest)
        self._subscribers.add(subscriber)  # first, so nothing committed meanwhile is missed
        try:
            replayed: set[int] = set()
            if after is not None:
                cursor = after
                while True:
                    batch = await self.events_after(cursor, interest)
                    for event in batch:
                        replayed.add(event.id)
                        yield event
                    if len(batch) < CATCH_UP_BATCH:
                        break
                    cursor = batch[-1].id
            while True:
                if subscriber.overflowed and subscriber.queue.empty():
                    raise SubscriberTooSlow("too many undelivered events")
                event = await subscriber.queue.get()
                if event.id in replayed:
                    continue
                yield event
        finally:
            self._subscribers.discard(subscriber)

    async def events_after(self, after: int, interest: Interest) -> list[LiveEvent]:
        """Up to CATCH_UP_BATCH stored events after id `after` that match, oldest first."""
        query = select(DomainEvent).where(DomainEvent.id > after)
        if interest.provider_ids is not None:
            query = query.where(DomainEvent.provider_id.in_(interest.provider_ids))
        if not interest.include_internal:
            query = query.where(DomainEvent.internal.is_(False))
        if interest.kinds is not None:
            exact = [k for k in interest.kinds if not k.endswith(".*")]
            families = [k[:-1] for k in interest.kinds if k.endswith(".*")]
            query = query.where(
                or_(
                    DomainEvent.event_type.in_(exact),
                    *(DomainEvent.event_type.startswith(f, autoescape=True) for f in families),
                )
            )
        async with self.sessions() as session:
            rows = (
                (await session.execute(query.order_by(DomainEvent.id).limit(CATCH_UP_BATCH)))
                .scalars()
                .all()
            )
        return [LiveEvent.of(r) for r in rows]

    def _publish(self, events: list[LiveEvent]) -> None:
        for event in events:
            self._high_water = max(self._high_water, event.id)
            EVENTS_PUBLISHED.labels(event.event_type).inc()
            for subscriber in list(self._subscribers):
                subscriber.offer(event)

    async def _max_id(self) -> int:
        async with self.sessions() as session:
            return int((await session.execute(select(func.max(DomainEvent.id)))).scalar() or 0)

    async def _load(self, ids: list[int]) -> list[LiveEvent]:
        async with self.sessions() as session:
            rows = (
                (
                    await session.execute(
                        select(DomainEvent).where(DomainEvent.id.in_(ids)).order_by(DomainEvent.id)
                    )
                )
                .scalars()
                .all()
            )
        return [LiveEvent.of(r) for r in rows]

    async def _poll(self) -> None:
        while True:
            try:
                async with self.sessions() as session:
                    rows = (
                        (
                            await session.execute(
                                select(DomainEvent)
                                .where(DomainEvent.id > self._high_water)
                                .order_by(DomainEvent.id)
                                .limit(CATCH_UP_BATCH)
                            )
                        )
                        .scalars()
                        .all()
                    )
                self._publish([LiveEvent.of(r) for r in rows])
                self.listening.set()
                if len(rows) == CATCH_UP_BATCH:
                    continue
                if not rows and await self._max_id() < self._high_water:
                    # The log was emptied (tests truncate it; a restore may) and its ids start
                    # again: every row there now was written after that, so none was delivered.
                    self._high_water = 0
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be briefly away; keep following
                log_failure(log, "polling domain events failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def _listen(self) -> None:
        import psycopg

        conninfo = self.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    conninfo, autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    # what was committed while this connection was not listening
                    missed = await self.events_after(
                        self._high_water, Interest(include_internal=True)
                    )
                    self._publish(missed)
                    self.listening.set()
                    async for notice in connection.notifies():
                        ids = [int(notice.payload)]
                        self._publish(await self._load(ids))
            except asyncio.CancelledError:
                raise
            except Exception:
                self.listening.clear()
                log_failure(log, "listening for domain events failed; reconnecting")
                await asyncio.sleep(1)
