"""The per-request GraphQL context: registry, settings, sessions and the request's DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session
from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from linkstar.core.contract.registry import Registry
from linkstar.core.identity import addresses
from linkstar.core.identity.models import AuditEntry
from linkstar.core.identity.policy import ANONYMOUS, Viewer
from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.db import read_bind

BatchFn = Callable[[Sequence[Any]], Awaitable[Sequence[Any]]]


class SharedReadSession(AsyncSession):
    """The one session all reads of a query share: its statements take turns.

    Sibling fields and loader batches resolve concurrently, and an AsyncSession must not run
    two statements at once; a lock around each statement (not around each caller's block)
    serialises them without ever making one caller wait for another caller's block, so
    nested use (a block that awaits a loader) cannot deadlock. Results are pre-buffered by
    AsyncSession, so nothing is read from the connection after a statement's turn ends.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turn = asyncio.Lock()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn:
            return await super().execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn:
            return await super().scalar(*args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        async with self._turn:
            return await super().get(*args, **kwargs)


@dataclass
class Context:
    """Everything a resolver may use. Created fresh for every request."""

    registry: Registry
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    request: Request | None = None
    response: Response | None = None
    viewer: Viewer = ANONYMOUS
    # The audit entry of the root mutation field now running (see hardening.AuditedMutation):
    # the first transaction that commits through `session()` writes it, atomically.
    pending_audit: AuditEntry | None = None
    connection_params: dict[str, Any] | None = None  # a websocket's connection_init payload
    _loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)
    share_reads: bool = False
    _reads: SharedReadSession | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for a loader batch, a resolver's reads, or a mutation.

        In a query (`share_reads`, set by `SharedReads`), every caller gets the request's one
        read session: one connection checkout and one transaction per request, whatever the
        number of loaders. In a mutation each caller gets a short-lived session of its own,
        so a write transaction is never mixed with reads made before it.
        """
        if not self.share_reads:
            async with self.sessionmaker() as session:
                if self.pending_audit is not None:
                    _carry_audit(session.sync_session, self)
                yield session
            return
        if self._reads is None:
            options = self.sessionmaker.kw
            self._reads = SharedReadSession(**{**options, "bind": read_bind(options["bind"])})
        yield self._reads

    async def close(self) -> None:
        """End the request's read session (its transaction, its connection checkout)."""
        reads, self._reads = self._reads, None
        if reads is not None:
            await reads.close()

    def loader(self, key: Hashable, batch: BatchFn) -> DataLoader[Any, Any]:
        """The request's DataLoader for `key`, created on first use from `batch`.

        `batch(keys)` must return one result per key, in order. Plugins use this for their
        own tables, so their fields are batched like the core's.
        """
        existing = self._loaders.get(key)
        if existing is None:
            existing = DataLoader(load_fn=batch)
            self._loaders[key] = existing
        return existing

    @property
    def client_address(self) -> str | None:
        """The caller's address; `X-Forwarded-For` counts only from LINKSTAR_TRUSTED_PROXIES."""
        if self.request is None or self.request.client is None:
            return None
        return addresses.client_address(
            self.request.client.host,
            self.request.headers.getlist("x-forwarded-for"),
            self.settings.trusted_proxies,
        )


def _carry_audit(session: Session, context: Context) -> None:
    """Make the first transaction of `session` that writes something also write the running
    mutation's audit entry (a read-only transaction stays read-only: no write lock taken)."""
    wrote = False

    def on_execute(state: ORMExecuteState) -> None:
        nonlocal wrote
        wrote = wrote or state.is_insert or state.is_update or state.is_delete

    def before_flush(flushing: Session, *_: Any) -> None:
        nonlocal wrote
        wrote = wrote or bool(flushing.new or flushing.dirty or flushing.deleted)

    def before_commit(committing: Session) -> None:
        nonlocal wrote
        entry = context.pending_audit
        if not wrote:
            before_flush(committing)
        if wrote and entry is not None and not inspect(entry).has_identity:
            committing.add(entry)  # (a no-op when already pending in this session)
        wrote = False

    event.listen(session, "do_orm_execute", on_execute)
    event.listen(session, "before_flush", before_flush)
    event.listen(session, "before_commit", before_commit)


class SharedReads(SchemaExtension):
    """Lets a query's reads share one session, and ends it when the operation ends."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            context.share_reads = self.execution_context.operation_type is OperationType.QUERY
        yield

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, Context):
            await context.close()
