"""Database plumbing: the declarative base, exact column types, the async engine.

Exactness: SQLite has no decimal type (SQLAlchemy's Numeric becomes a float there), so exact
quantities are stored as scaled integers (`ScaledDecimal`), identical on SQLite and PostgreSQL,
and sums stay exact in SQL. Time: every timestamp is timezone-aware UTC (`UTCDateTime`).
"""

from __future__ import annotations

import enum
import hashlib
import os
import sqlite3
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    Integer,
    MetaData,
    String,
    event,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy import any_ as sa_any
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from linkstar.core.kernel.errors import (
    ConfigurationError,
    Conflict,
    DatabaseUnavailable,
    TextTooLong,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, INTEGER on SQLite (only INTEGER PRIMARY KEY auto-increments there).
IdType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base shared by the core and plugins, so foreign keys across them resolve."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp; naive datetimes are refused at bind time."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ScaledDecimal(TypeDecorator[Decimal]):
    """An exact Decimal with a fixed number of decimals, stored as a scaled BIGINT.

    A value with more decimals than `scale` is refused rather than rounded.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale
        self._factor = Decimal(10) ** scale

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("floats are refused for exact quantities; pass a Decimal")
        scaled = Decimal(value) * self._factor
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimals")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return _trim(Decimal(int(value)).scaleb(-self.scale))


def _trim(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation: 1.500000 → 1.5, 10.0 → 10."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


_CLOCK_OFFSET: ContextVar[timedelta] = ContextVar("linkstar_clock_offset", default=timedelta(0))


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (shifted inside `as_of()`)."""
    return datetime.now(UTC) + _CLOCK_OFFSET.get()


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    """Run the block as if the clock read `moment` now (it keeps ticking from there), for
    this task only: the demo plays past months through the real core with it. Production
    code never calls it."""
    token = _CLOCK_OFFSET.set(moment - datetime.now(UTC))
    try:
        yield
    finally:
        _CLOCK_OFFSET.reset(token)


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """How long the app waits for the database before answering "unavailable" (seconds).

    | variable | default | bounds |
    |---|---|---|
    | LINKSTAR_DB_CONNECT_TIMEOUT | 5 | opening a connection (a frozen server never answers) |
    | LINKSTAR_DB_POOL_TIMEOUT | 10 | waiting for a pooled connection |
    | LINKSTAR_DB_STATEMENT_TIMEOUT | 60 | one statement (server side); with the connect |
    | | | timeout, one request's work (client side) |
    """

    connect: float = 5.0
    pool: float = 10.0
    statement: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DatabaseTimeouts:
        """Read the LINKSTAR_DB_*_TIMEOUT variables; a bad value is a ConfigurationError."""
        env = os.environ if env is None else env
        values: dict[str, float] = {}
        for name in ("connect", "pool", "statement"):
            variable = f"LINKSTAR_DB_{name.upper()}_TIMEOUT"
            raw = env.get(variable, "").strip()
            if not raw:
                continue
            try:
                value = float(raw)
            except ValueError:
                value = -1.0
            if not 0 < value <= 3600:
                raise ConfigurationError(
                    f"{variable}={raw!r} is not a number of seconds between 0 and 3600"
                )
            values[name] = value
        return cls(**values)


_TIMEOUTS: weakref.WeakKeyDictionary[Any, DatabaseTimeouts] = weakref.WeakKeyDictionary()


def create_engine(
    url: URL, *, echo: bool = False, timeouts: DatabaseTimeouts | None = None
) -> AsyncEngine:
    """Create the async engine with bounded waits (see `DatabaseTimeouts`).

    On SQLite, foreign keys and WAL for concurrent readers. On PostgreSQL, a server-side
    statement timeout and a connect timeout, so a stopped or frozen database fails requests
    quickly instead of holding them.
    """
    timeouts = timeouts or DatabaseTimeouts.from_env()
    # A ping per checkout is kept (one per request, now that a request reads through one
    # session): it is what lets the pool recover at once after a database restart. Idle
    # connections are recycled before a server or proxy would drop them.
    kwargs: dict[str, Any] = {
        "echo": echo,
        "pool_pre_ping": True,
        "pool_recycle": 1800,
        "pool_timeout": timeouts.pool,
    }
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
        kwargs.pop("pool_timeout")  # SQLite's default pool does not queue
        # a file has no server to restart or connection to drop: the ping would only cost
        # a hop to aiosqlite's thread and back on every checkout
        kwargs["pool_pre_ping"] = False
    else:
        kwargs["connect_args"] = {
            "connect_timeout": max(1, round(timeouts.connect)),
            "options": f"-c statement_timeout={int(timeouts.statement * 1000)}",
        }
    engine = create_async_engine(url, **kwargs)
    _TIMEOUTS[engine.sync_engine] = timeouts
    event.listen(engine.sync_engine, "before_cursor_execute", _refuse_overlong_text)
    if url.get_backend_name() == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

    return engine


def _refuse_overlong_text(
    _connection: Any,
    _cursor: Any,
    _statement: str,
    _parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    """Refuse a value longer than its column's declared length, on every database alike.

    PostgreSQL refuses it (varchar(255)), SQLite would store it: checked here, for every
    INSERT and UPDATE of every bounded string column, so both answer TEXT_TOO_LONG.
    """
    compiled = getattr(context, "compiled", None)
    if compiled is None or not (context.isinsert or context.isupdate):
        return
    if getattr(context, "_lengths_checked", False):
        return  # a many-row insert fires this once per batch of rows, each time with every row
    context._lengths_checked = True
    limits = {
        key: (bind.type.length, getattr(bind, "_orig_key", key))
        for key, bind in ((b.key, b) for b in compiled.binds.values())
        if isinstance(bind.type, String) and bind.type.length
    }
    if not limits:
        return
    rows = context.compiled_parameters
    # column by column first (10,000-row inserts are common); the refusal names the first
    # offending value in row order, as a row-by-row check would
    for key, (length, _) in limits.items():
        values = [row.get(key) for row in rows]
        if [value for value in values if isinstance(value, str) and len(value) > length]:
            break
    else:
        return
    for row in rows:
        for key, (length, name) in limits.items():
            value = row.get(key)
            if isinstance(value, str) and len(value) > length:
                raise TextTooLong(
                    f"{name} may have at most {length} characters (got {len(value)})",
                    details={"field": str(name), "maxLength": length},
                )


def timeouts_of(engine: AsyncEngine) -> DatabaseTimeouts:
    """The timeouts `engine` was created with."""
    return _TIMEOUTS.get(engine.sync_engine) or DatabaseTimeouts()


# PostgreSQL SQLSTATE classes that mean "the server cannot serve now": connection exception,
# insufficient resources, operator intervention (shutdown, cancel), system error.
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57", "58")
_SQLITE_OUTAGE_MESSAGES = ("database is locked", "unable to open", "disk i/o error")


def is_outage(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) means the database is unreachable right now.

    Stopped, frozen, restarting, out of connections, locked: an outage, answered with
    SERVICE_UNAVAILABLE. A missing table or a constraint violation is a bug or a bad
    request, not an outage.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sa_exc.TimeoutError | DatabaseUnavailable):
            return True
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        original = getattr(error, "orig", None)
        if isinstance(original, sqlite3.OperationalError):
            message = str(original).lower()
            return any(m in message for m in _SQLITE_OUTAGE_MESSAGES)
        if original is not None and type(original).__module__.startswith("psycopg"):
            import psycopg

            if isinstance(original, psycopg.OperationalError):
                state = getattr(original, "sqlstate", None)
                return state is None or state[:2] in _OUTAGE_SQLSTATE_CLASSES
            return isinstance(original, psycopg.InterfaceError)
        error = error.__cause__ or error.__context__
    return False


_READ_BIND = "_linkstar_read_bind"


def read_bind(engine: AsyncEngine) -> AsyncEngine:
    """The engine a read-only unit of work (a query's reads, the credential check) runs on.

    On PostgreSQL at READ COMMITTED (its default) every statement takes its own snapshot,
    inside a transaction or not, so a read-only transaction's BEGIN and ROLLBACK are two
    round trips that change no answer: reads run in autocommit there. Elsewhere (SQLite,
    where a transaction is one snapshot; a server set to REPEATABLE READ or stricter) reads
    keep their transaction. Decided once the engine has connected, then kept.
    """
    sync = engine.sync_engine
    chosen = sync.__dict__.get(_READ_BIND)
    if chosen is not None:
        return chosen
    dialect = sync.dialect
    level = getattr(dialect, "default_isolation_level", None)
    if level is None:  # not connected yet: the server's default is unknown
        return engine
    chosen = engine
    if dialect.name == "postgresql" and str(level).upper() == "READ COMMITTED":
        chosen = engine.execution_options(isolation_level="AUTOCOMMIT")
    sync.__dict__[_READ_BIND] = chosen  # (a cycle through the engine; freed with it)
    return chosen


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (resolvers read them afterwards)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def enum_column(cls: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR with a CHECK constraint: portable and readable in SQL."""
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=40)


def among(session: AsyncSession, column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    """`column IN ids` for a set of ids that may be large (every member of a category).

    On PostgreSQL: `column = ANY(:ids)`, ONE array parameter, so the statement text is the same
    whatever the number of ids (psycopg parses and the planner plans a short statement, not a
    10,000-element list, and the plan does not hinge on the list's length). SQLite has no
    arrays: an IN list there.
    """
    values = list(ids)
    if session.bind.dialect.name == "postgresql":
        return column == sa_any(literal(values, ARRAY(BigInteger)))
    return column.in_(values)


async def take_turns(session: AsyncSession, table: type[Base], key: str) -> None:
    """Make every transaction that calls this with the same `key` wait for the previous one.

    For work that reads and then writes what it read (the points before a new violation, the
    scorecards before a re-evaluation): call it before the reads, and concurrent callers run
    one after the other, each seeing what the previous one committed. The lock is held until
    the transaction ends. PostgreSQL: an advisory lock on `key`. SQLite admits one writer at a
    time: an empty UPDATE of `table` makes this transaction the writer now, so its later reads
    are current.
    """
    if session.bind.dialect.name == "postgresql":
        number = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), signed=True)
        await session.execute(select(func.pg_advisory_xact_lock(number)))
    else:
        await session.execute(text(f"UPDATE {table.__tablename__} SET id = id WHERE 1 = 0"))


async def claim(
    session: AsyncSession,
    model: type[Base],
    row_id: int,
    expected: Mapping[str, Any],
    changes: Mapping[str, Any],
    what: str,
) -> None:
    """Apply `changes` to one row only while it still has the `expected` values, else Conflict.

    The conditional UPDATE is the decision, so of concurrent deciders exactly one wins: on
    PostgreSQL the others wait for the winner's row lock, then find the condition false; SQLite
    runs writers one at a time. Loaded objects of the row are updated too.
    """
    conditions = [
        getattr(model, name).is_(None) if value is None else getattr(model, name) == value
        for name, value in expected.items()
    ]
    stmt = (
        update(model)
        .where(model.id == row_id, *conditions)  # type: ignore[attr-defined]
        .values(**changes)
        .returning(model.id)  # type: ignore[attr-defined]
        .execution_options(synchronize_session="evaluate")
    )
    if (await session.execute(stmt)).first() is None:
        raise Conflict(
            f"{what} was decided by someone else at the same time",
            suggestion="reload it to see the decision",
        )
