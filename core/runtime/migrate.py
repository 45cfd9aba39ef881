"""Schema migrations: the core's Alembic revisions plus every enabled plugin's own."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL

from linkstar.core.contract.registry import Registry

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CORE_BASE_REVISION = "0001_core"


def alembic_config(url: URL, registry: Registry) -> Config:
    """An Alembic config over the core's revisions and the plugins' version locations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    locations = [str(MIGRATIONS / "versions")] + [path for _, path in registry.migration_locations]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    config.attributes["database_url"] = url
    return config


def upgrade(url: URL, registry: Registry, revision: str = "heads") -> None:
    """Apply every pending revision (core and enabled plugins). Runs its own event loop."""
    command.upgrade(alembic_config(url, registry), revision)


async def upgrade_async(url: URL, registry: Registry, revision: str = "heads") -> None:
    """`upgrade` for callers already inside an event loop."""
    await asyncio.to_thread(upgrade, url, registry, revision)
