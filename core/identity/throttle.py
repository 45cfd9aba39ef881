"""Sign-in throttling after OWASP's authentication guidance.

Failures are counted per (account, address) pair: after `FREE_FAILURES` the pair must wait,
and every further failure doubles the wait (capped). A correct password from an address with
no failures is never slowed by someone else's guessing, so nobody can lock another person
out. A separate ceiling on failures per address, whatever the account, stops password
spraying from one place.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from linkstar.core.identity import ratelimit
from linkstar.core.identity.models import LoginThrottle
from linkstar.core.kernel.db import utcnow

FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)  # a pair with no failure for this long starts afresh
UNKNOWN_ADDRESS = "unknown"


def delay_after(failures: int) -> timedelta | None:
    """How long a pair waits after its `failures`-th failure (None: not yet)."""
    if failures < FREE_FAILURES:
        return None
    return min(FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 20), MAX_DELAY)


def _key(account: str) -> str:
    account = account.strip().lower()
    if len(account) > 120:
        return account[:40] + hashlib.sha256(account.encode()).hexdigest()
    return account


def _address(address: str | None) -> str:
    return (address or UNKNOWN_ADDRESS)[:64]


def _address_key(address: str | None) -> str:
    return f"login:failures:address:{_address(address)}"


def _retry_after(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() + 0.999))


async def check(
    sessions: async_sessionmaker[AsyncSession], account: str, address: str | None
) -> None:
    """RateLimited if this pair must still wait or the address spent its failure ceiling."""
    now = utcnow()
    async with sessions() as session:
        locked_until = (
            await session.execute(
                select(LoginThrottle.locked_until).where(
                    LoginThrottle.account_key == _key(account),
                    LoginThrottle.address == _address(address),
                )
            )
        ).scalar_one_or_none()
    if locked_until is not None and locked_until > now:
        raise ratelimit.RateLimited(
            "failed sign-ins for this account from this address",
            _retry_after(locked_until, now),
        )
    await ratelimit.spent(
        sessions,
        _address_key(address),
        ratelimit.LOGIN_FAILURES_PER_ADDRESS,
        "failed sign-ins from this address",
    )


async def failed(
    sessions: async_sessionmaker[AsyncSession], account: str, address: str | None
) -> int:
    """Count a failure for the pair and the address; returns the pair's failures so far."""
    now = utcnow()
    key, where = _key(account), _address(address)
    async with sessions() as session, session.begin():
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        stale = LoginThrottle.last_failure_at < now - FORGET_AFTER
        stmt = (
            insert(LoginThrottle)
            .values(account_key=key, address=where, failures=1, last_failure_at=now)
            .on_conflict_do_update(
                index_elements=["account_key", "address"],
                set_={
                    "failures": case((stale, 1), else_=LoginThrottle.failures + 1),
                    "last_failure_at": now,
                },
            )
            .returning(LoginThrottle.failures)
        )
        failures = (await session.execute(stmt)).scalar_one()
        wait = delay_after(failures)
        if wait is not None:
            await session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.account_key == key, LoginThrottle.address == where)
                .values(locked_until=now + wait)
            )
    await ratelimit.count(
        sessions, _address_key(address), ratelimit.LOGIN_FAILURES_PER_ADDRESS.window
    )
    return failures


async def succeeded(
    sessions: async_sessionmaker[AsyncSession], account: str, address: str | None
) -> None:
    """A correct password clears the pair's failures."""
    async with sessions() as session, session.begin():
        await session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.account_key == _key(account),
                LoginThrottle.address == _address(address),
            )
        )
