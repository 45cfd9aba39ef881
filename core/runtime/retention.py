"""Running the document purge: once (`linkstar purge-documents`, for cron) and in every server,
hourly, like the other periodic jobs. Several processes may run it at once (see
core/onboarding/retention.py)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from linkstar.core.contract.registry import Registry, load_registry
from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.db import create_engine, session_factory
from linkstar.core.kernel.storage import EvidenceStore, LocalDirectoryStore
from linkstar.core.kernel.telemetry import log_failure
from linkstar.core.onboarding.retention import PurgeResult, purge_due

log = logging.getLogger("linkstar")
PURGE_INTERVAL_SECONDS = 3600


def retention_days(registry: Registry) -> dict[str, int]:
    """Each enabled category's document retention, as its plugin declared it."""
    return {
        key: contribution.category.document_retention_days
        for key, contribution in registry.categories.items()
    }


async def purge_documents_once(settings: Settings, registry: Registry | None = None) -> PurgeResult:
    """One purge run against the configured database and storage directory."""
    registry = registry or load_registry(settings.disabled_plugins)
    engine = create_engine(settings.database_url)
    try:
        return await purge_due(
            session_factory(engine),
            retention_days(registry),
            LocalDirectoryStore(settings.storage_dir),
        )
    finally:
        await engine.dispose()


async def purge_documents_forever(
    sessions: Any,
    registry: Registry,
    store: EvidenceStore,
    interval: float = PURGE_INTERVAL_SECONDS,
) -> None:
    """The in-server purge: every `interval` seconds; a failure is logged and retried at the
    next tick, never fatal to the server."""
    retention = retention_days(registry)
    while True:
        await asyncio.sleep(interval)
        try:
            result = await purge_due(sessions, retention, store)
            if result.purged:
                log.info("purged %d documents past their retention", result.purged)
        except Exception:  # the server keeps serving; the next tick retries
            log_failure(log, "document purge failed")
