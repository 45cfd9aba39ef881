"""Fixed-window rate limits whose counters live in the database, shared by every app process."""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from linkstar.core.identity.models import RateLimitWindow
from linkstar.core.kernel.errors import LinkStarError


class RateLimited(LinkStarError):
    """Too many attempts; `retry_after` says when to try again."""

    code = "RATE_LIMITED"

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(
            f"too many {what}; retry in {retry_after} s",
            details={"retryAfterSeconds": retry_after},
        )
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `hits` per `window` seconds."""

    hits: int
    window: int


STALE_AFTER = 86_400  # longer than every window
# Failed sign-ins from one address, whatever the account: the ceiling against password
# spraying. Successful sign-ins do not count, so an office behind one NAT is not locked out.
LOGIN_FAILURES_PER_ADDRESS = Limit(hits=30, window=900)
# Self-service sign-ups, registrations, invitation acceptances and address confirmations.
SIGN_UPS_PER_ADDRESS = Limit(hits=20, window=3600)
REQUESTS_PER_API_TOKEN = Limit(hits=600, window=60)
REPORT_BATCHES_PER_TOKEN = Limit(hits=60, window=60)
REPORT_BATCHES_PER_ACCOUNT = Limit(hits=120, window=60)


def _short(key: str) -> str:
    if len(key) > 120:  # attacker-chosen parts (emails) must not overflow the column
        return key[:40] + hashlib.sha256(key.encode()).hexdigest()
    return key


async def spent(
    sessions: async_sessionmaker[AsyncSession],
    key: str,
    limit: Limit,
    what: str,
    now: float | None = None,
) -> None:
    """Raise RateLimited when the current window of `key` is used up; count nothing."""
    now = time.time() if now is None else now
    window_start = int(now // limit.window * limit.window)
    async with sessions() as session:
        hits = (
            await session.execute(
                select(RateLimitWindow.hits).where(
                    RateLimitWindow.key == _short(key), RateLimitWindow.window_start == window_start
                )
            )
        ).scalar_one_or_none()
    if hits is not None and hits >= limit.hits:
        raise RateLimited(what, max(1, int(window_start + limit.window - now)))


async def count(
    sessions: async_sessionmaker[AsyncSession], key: str, window: int, now: float | None = None
) -> int:
    """Add one hit to `key`'s current window of `window` seconds; returns the window's hits."""
    now = time.time() if now is None else now
    window_start = int(now // window * window)
    key = _short(key)
    async with sessions() as session, session.begin():
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        stmt = (
            insert(RateLimitWindow)
            .values(key=key, window_start=window_start, hits=1)
            .on_conflict_do_update(
                index_elements=["key", "window_start"], set_={"hits": RateLimitWindow.hits + 1}
            )
            .returning(RateLimitWindow.hits)
        )
        hits = (await session.execute(stmt)).scalar_one()
        if hits == 1 and random.random() < 0.05:  # a new window: now and then, purge stale ones
            await session.execute(
                delete(RateLimitWindow).where(RateLimitWindow.window_start < now - STALE_AFTER)
            )
    return hits


async def hit(
    sessions: async_sessionmaker[AsyncSession],
    key: str,
    limit: Limit,
    what: str,
    now: float | None = None,
) -> None:
    """Count one hit on `key`; raise RateLimited when the window's allowance is spent."""
    now = time.time() if now is None else now
    hits = await count(sessions, key, limit.window, now)
    if hits > limit.hits:
        window_start = int(now // limit.window * limit.window)
        raise RateLimited(what, max(1, int(window_start + limit.window - now)))
