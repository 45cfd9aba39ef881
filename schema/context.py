"""The per-request GraphQL context: registry, settings, sessions and the request's DataLoaders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from linkstar.core.contract.registry import Registry
from linkstar.core.identity.policy import ANONYMOUS, Viewer
from linkstar.core.kernel.config import Settings

BatchFn = Callable[[Sequence[Any]], Awaitable[Sequence[Any]]]


@dataclass
class Context:
    """Everything a resolver may use. Created fresh for every request."""

    registry: Registry
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    request: Request | None = None
    response: Response | None = None
    viewer: Viewer = ANONYMOUS
    connection_params: dict[str, Any] | None = None  # a websocket's connection_init payload
    _loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A short-lived session of its own: one per loader batch or per mutation.

        An AsyncSession must not be shared by concurrently resolved sibling fields.
        """
        async with self.sessionmaker() as session:
            yield session

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
        """The caller's address as seen by this process (behind a proxy: the proxy's)."""
        if self.request is None or self.request.client is None:
            return None
        return self.request.client.host
