"""`linkstar db upgrade` and `linkstar demo`: the database's schema and the demo data set."""

from __future__ import annotations

import click

from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.errors import ConfigurationError, LinkStarError
from linkstar.core.runtime.cli.base import (
    check_database,
    fail_cleanly,
    in_transaction,
    safe_url,
)


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@fail_cleanly
def db_upgrade(revision: str) -> None:
    """Apply the core's and every installed plugin's migrations.

    Disabled plugins are migrated too: their tables stay consistent, so disabling a plugin
    never strands a revision Alembic can no longer find.
    """
    from linkstar.core.contract.registry import load_registry
    from linkstar.core.runtime.migrate import upgrade

    settings = Settings.from_env()
    registry = load_registry()
    check_database(settings.database_url)
    try:
        upgrade(settings.database_url, registry, revision)
    except LinkStarError:
        raise
    except Exception as exc:  # a failed migration is reported in one line; the database rolled back
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigurationError(
            f"migration failed: {type(exc).__name__}: {reason}",
            suggestion="the failing revision was rolled back; fix the cause and run it again",
        ) from None
    click.echo(f"database at {safe_url(settings.database_url)} is at {revision}")


@click.command()
@click.option(
    "--if-empty", is_flag=True, help="Kept for scripts: the demo never loads twice anyway."
)
@click.option("--seed", default=2026, show_default=True, type=int)
@fail_cleanly
def demo(if_empty: bool, seed: int) -> None:
    """Load the demo data set (providers in every category and region, six months of KPIs)."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from linkstar.core.contract.registry import load_registry
    from linkstar.core.kpi.catalog import record_metric_versions
    from linkstar.core.runtime.demo import has_providers, load_demo
    from linkstar.core.runtime.progress import job_progress

    settings = Settings.from_env()
    registry = load_registry(settings.disabled_plugins)
    check_database(settings.database_url, migrated=True)

    with job_progress() as progress:

        async def load(session: AsyncSession) -> dict[str, int] | None:
            if await has_providers(session):
                return None
            await record_metric_versions(session, registry)
            return await load_demo(session, registry, seed=seed, progress=progress)

        counts = in_transaction(settings.database_url, load)
    if counts is None:
        click.echo(
            "demo: providers already exist (the demo is loaded, or real data is); nothing loaded"
        )
    else:
        click.echo("demo: loaded " + ", ".join(f"{v} {k}" for k, v in counts.items()))
