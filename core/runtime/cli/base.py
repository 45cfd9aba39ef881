"""What every command shares: errors told in one line, the database check, and one helper that
runs a command's async work on a fresh engine (disposed afterwards).

Imports inside the command functions of this package are there only to keep `linkstar --help`
and every other command fast to start: each command loads only what it uses. None dodges an
import cycle.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from sqlalchemy import text
from sqlalchemy.engine import URL

from linkstar.core.kernel.errors import ConfigurationError, LinkStarError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
SCHEMA_FILE = Path(__file__).resolve().parents[3] / "schema" / "schema.graphql"


def fail_cleanly(func: F) -> F:
    """Turn our errors into one line on stderr and exit status 2 (never a traceback)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LinkStarError as exc:
            click.echo(f"linkstar: error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def safe_url(url: URL) -> str:
    """The database URL as it may be printed (no password)."""
    return url.render_as_string(hide_password=True)


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, with database errors told in one line (no traceback)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return asyncio.run(coroutine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigurationError(
            f"database error: {reason}",
            suggestion="run `linkstar db upgrade` if the database is not migrated",
        ) from None


def with_sessions(url: URL, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run `work` with a session factory on a new engine for `url`, disposed afterwards."""
    from linkstar.core.kernel.db import create_engine, session_factory

    async def run() -> T:
        engine = create_engine(url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return run_async(run())


def in_transaction(url: URL, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one session and one transaction, committed when it returns."""

    async def once(sessions: async_sessionmaker[AsyncSession]) -> T:
        async with sessions() as session, session.begin():
            return await work(session)

    return with_sessions(url, once)


async def _check_database(url: URL, heads: set[str] | None) -> None:
    from linkstar.core.kernel.db import create_engine
    from linkstar.core.runtime.revisions import applied_revisions

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            applied = await connection.run_sync(applied_revisions) if heads else None
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigurationError(
            f"cannot connect to the database at {safe_url(url)}: {reason}",
            suggestion="check LINKSTAR_DATABASE_URL and that the server is running",
        ) from None
    finally:
        await engine.dispose()
    if heads and not applied:
        raise ConfigurationError(
            f"the database at {safe_url(url)} is not migrated",
            suggestion="run `linkstar db upgrade` first",
        )
    if heads and applied is not None and heads - applied:
        raise ConfigurationError(
            f"the database at {safe_url(url)} is not up to date "
            f"(missing {', '.join(sorted(heads - applied))})",
            suggestion="run `linkstar db upgrade`",
        )


def check_database(url: URL, migrated: bool = False) -> None:
    """Raise ConfigurationError with one clear line if the database cannot be reached, or
    (`migrated`) if it lacks any revision `linkstar db upgrade` would apply."""
    heads = None
    if migrated:
        from linkstar.core.contract.registry import load_registry
        from linkstar.core.runtime.revisions import head_revisions

        heads = head_revisions(load_registry())  # as `db upgrade`: every installed plugin
    run_async(_check_database(url, heads))
