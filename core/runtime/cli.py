"""The `linkstar` command line."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import text
from sqlalchemy.engine import URL

from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.errors import ConfigurationError, LinkStarError

F = TypeVar("F", bound=Callable[..., Any])
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


def _fail_cleanly(func: F) -> F:
    """Turn our errors into one line on stderr and exit status 2 (never a traceback)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LinkStarError as exc:
            click.echo(f"linkstar: error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


async def _check_database(url: URL) -> None:
    from linkstar.core.kernel.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigurationError(
            f"cannot connect to the database at {_safe_url(url)}: {reason}",
            suggestion="check LINKSTAR_DATABASE_URL and that the server is running",
        ) from None
    finally:
        await engine.dispose()


def check_database(url: URL) -> None:
    """Raise ConfigurationError with one clear line if the database cannot be reached."""
    asyncio.run(_check_database(url))


@click.group()
def main() -> None:
    """LinkStar: service-provider onboarding and KPI management."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@_fail_cleanly
def serve(host: str, port: int, workers: int) -> None:
    """Serve the GraphQL API with uvicorn."""
    import uvicorn

    from linkstar.core.contract.registry import load_registry
    from linkstar.core.runtime.app import create_app
    from linkstar.schema.compose import compose_schema

    settings = Settings.from_env()
    compose_schema(load_registry(settings.disabled_plugins))  # fail here, not in a worker
    check_database(settings.database_url)
    click.echo(f"LinkStar ({settings.environment}) on http://{host}:{port}/graphql", err=True)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
    else:
        uvicorn.run(
            "linkstar.core.runtime.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
        )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@_fail_cleanly
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
    click.echo(f"database at {_safe_url(settings.database_url)} is at {revision}")


@main.command()
@click.option("--if-empty", is_flag=True, help="Do nothing when providers already exist.")
@click.option("--seed", default=2026, show_default=True, type=int)
@_fail_cleanly
def demo(if_empty: bool, seed: int) -> None:
    """Load the demo data set (providers in every category and region, six months of KPIs)."""
    from linkstar.core.contract.registry import load_registry
    from linkstar.core.kernel.db import create_engine, session_factory
    from linkstar.core.kpi.catalog import record_metric_versions
    from linkstar.core.runtime.demo import has_providers, load_demo

    settings = Settings.from_env()
    registry = load_registry(settings.disabled_plugins)
    check_database(settings.database_url)

    async def run() -> dict[str, int] | None:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                if if_empty and await has_providers(session):
                    return None
                await record_metric_versions(session, registry)
                return await load_demo(session, registry, seed=seed)
        finally:
            await engine.dispose()

    counts = asyncio.run(run())
    if counts is None:
        click.echo("demo: providers already exist; nothing loaded")
    else:
        click.echo("demo: loaded " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@main.group("dispatch")
def dispatch_group() -> None:
    """The marketplace's dispatch: offers and their deadlines."""


@dispatch_group.command("expire")
@click.option("--limit", default=500, show_default=True, help="Most offers expired in one run.")
@_fail_cleanly
def dispatch_expire(limit: int) -> None:
    """Expire offers past their deadline and offer their requests to the next provider.

    Safe to run from cron while servers run the same sweep: no offer is expired twice.
    """
    from linkstar.core.contract.registry import load_registry
    from linkstar.core.kernel.db import create_engine, session_factory
    from linkstar.core.marketplace.dispatch import expire_due

    settings = Settings.from_env()
    registry = load_registry(settings.disabled_plugins)
    check_database(settings.database_url)

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                return await expire_due(session, registry, limit=limit)
        finally:
            await engine.dispose()

    click.echo(f"expired {asyncio.run(run())} offers")


@main.command("evaluate")
@click.option(
    "--period", required=True, help="Month to evaluate, e.g. 2026-10 (in each metric's time zone)."
)
@click.option("--category", default=None, help="Only this category.")
@click.option(
    "--provider", "provider_id", default=None, type=int, help="Only this provider (database id)."
)
@_fail_cleanly
def evaluate_command(period: str, category: str | None, provider_id: int | None) -> None:
    """Evaluate a period: scorecards for every provider in probation or in the pool."""
    import time

    from linkstar.core.contract.registry import load_registry
    from linkstar.core.kernel.db import create_engine, session_factory
    from linkstar.core.standing.verdicts import evaluate_period

    settings = Settings.from_env()
    registry = load_registry(settings.disabled_plugins)
    check_database(settings.database_url)

    async def run() -> dict[str, Any]:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                return await evaluate_period(session, registry, period, category, provider_id)
        finally:
            await engine.dispose()

    started = time.perf_counter()
    summaries = asyncio.run(run())
    for key, summary in summaries.items():
        click.echo(
            f"{key}\t{summary.period}\tevaluated {summary.evaluated}\twritten {summary.written}"
            f"\tunchanged {summary.unchanged}"
        )
    click.echo(f"done in {time.perf_counter() - started:.2f} s")


@main.group()
def accounts() -> None:
    """Accounts."""


@accounts.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", "display_name", default="Administrator", show_default=True)
@click.password_option(
    envvar="LINKSTAR_ADMIN_PASSWORD",
    help="Prompted for when not given (or set LINKSTAR_ADMIN_PASSWORD).",
)
@_fail_cleanly
def create_admin(email: str, display_name: str, password: str) -> None:
    """Create a platform admin (the first account of a fresh installation)."""
    from linkstar.core.identity import accounts as identity
    from linkstar.core.kernel.db import create_engine, session_factory
    from linkstar.core.kernel.vocabulary import Role

    settings = Settings.from_env()
    check_database(settings.database_url)

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                account = await identity.create_account(
                    session,
                    email=email,
                    password=password,
                    display_name=display_name,
                    role=Role.ADMIN,
                )
                return account.id
        finally:
            await engine.dispose()

    account_id = asyncio.run(run())
    click.echo(f"admin account {email} created (id {account_id})")


@main.group()
def schema() -> None:
    """The composed GraphQL schema."""


def _composed_sdl() -> str:
    from linkstar.core.contract.registry import load_registry
    from linkstar.schema.compose import compose_schema, sdl

    settings = Settings.from_env()
    return sdl(compose_schema(load_registry(settings.disabled_plugins)))


@schema.command("export")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=SCHEMA_FILE,
    show_default=True,
)
@_fail_cleanly
def schema_export(output: Path) -> None:
    """Write the composed schema's SDL (commit schema/schema.graphql)."""
    output.write_text(_composed_sdl())
    click.echo(f"wrote {output}")


@main.command("plugins")
@_fail_cleanly
def plugins() -> None:
    """List loaded plugins, in load order, with the categories they own."""
    from linkstar.core.contract.registry import load_registry

    settings = Settings.from_env()
    registry = load_registry(settings.disabled_plugins)
    for plugin in registry.plugins:
        owned = [k for k, c in registry.categories.items() if c.owner == plugin.name]
        click.echo(
            f"{plugin.name}\t{plugin.distribution or '-'} {plugin.version or ''}"
            f"\t{', '.join(owned)}"
        )
    if settings.disabled_plugins:
        click.echo(f"disabled: {', '.join(settings.disabled_plugins)}")
