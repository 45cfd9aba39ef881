"""The `linkstar` command line."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
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
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"


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


async def _check_database(url: URL, heads: set[str] | None) -> None:
    from linkstar.core.kernel.db import create_engine
    from linkstar.core.runtime.migrate import applied_revisions

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            applied = await connection.run_sync(applied_revisions) if heads else None
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigurationError(
            f"cannot connect to the database at {_safe_url(url)}: {reason}",
            suggestion="check LINKSTAR_DATABASE_URL and that the server is running",
        ) from None
    finally:
        await engine.dispose()
    if heads and not applied:
        raise ConfigurationError(
            f"the database at {_safe_url(url)} is not migrated",
            suggestion="run `linkstar db upgrade` first",
        )
    if heads and applied is not None and heads - applied:
        raise ConfigurationError(
            f"the database at {_safe_url(url)} is not up to date "
            f"(missing {', '.join(sorted(heads - applied))})",
            suggestion="run `linkstar db upgrade`",
        )


def check_database(url: URL, migrated: bool = False) -> None:
    """Raise ConfigurationError with one clear line if the database cannot be reached, or
    (`migrated`) if it lacks any revision `linkstar db upgrade` would apply."""
    heads = None
    if migrated:
        from linkstar.core.contract.registry import load_registry
        from linkstar.core.runtime.migrate import head_revisions

        heads = head_revisions(load_registry())  # as `db upgrade`: every installed plugin
    _run(_check_database(url, heads))


def _run(coroutine: Any) -> Any:
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


METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _share_metrics_between_workers(workers: int) -> Path | None:
    """Before starting several workers: give them a shared, empty metrics directory.

    Must run before `prometheus_client` is first imported in this process (the client picks
    its storage at import time); the workers inherit the variable. A directory named by the
    operator loses its old sample files (a previous run's would be summed in); otherwise a new
    temporary one is made. Returns a temporary directory to remove afterwards, else None.
    """
    if workers <= 1:
        return None
    named = os.environ.get(METRICS_DIR_ENV)
    if named:
        directory = Path(named)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return None
    directory = Path(tempfile.mkdtemp(prefix="linkstar-metrics-"))
    os.environ[METRICS_DIR_ENV] = str(directory)
    return directory


@click.group()
def main() -> None:
    """LinkStar: service-provider onboarding and KPI management."""
    from linkstar.core.live import outbox

    outbox.install()  # every command that writes events also fills the webhook outbox


def _check_port(host: str, port: int) -> None:
    """One clear line for a port out of range or already in use (before uvicorn starts)."""
    import socket

    if not 0 <= port <= 65535:
        raise ConfigurationError(
            f"--port must be between 1 and 65535 (0: any free port), not {port}"
        )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigurationError(f"cannot resolve --host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot listen on {host}:{port}: {exc.strerror}",
                suggestion="stop what uses that port or choose another with --port",
            ) from None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@_fail_cleanly
def serve(host: str, port: int, workers: int) -> None:
    """Serve the GraphQL API with uvicorn (JSON logs on stderr, metrics at /metrics)."""
    temporary = _share_metrics_between_workers(workers)  # before the metrics client loads
    import uvicorn

    from linkstar.core.contract.registry import load_registry
    from linkstar.core.runtime.app import create_app
    from linkstar.core.runtime.edge import HTTP_PROTOCOL
    from linkstar.core.runtime.observability import log_config
    from linkstar.schema.compose import compose_schema

    settings = Settings.from_env()
    # Plugins and the schema fail here, not in a worker. One worker serves the app built by
    # this very check, so the schema is composed once (composing is a good part of start-up).
    app = create_app(settings) if workers == 1 else None
    if app is None:
        compose_schema(load_registry(settings.disabled_plugins))
    _check_port(host, port)
    check_database(settings.database_url, migrated=True)
    click.echo(f"LinkStar ({settings.environment}) on http://{host}:{port}/graphql", err=True)
    logging = {"log_config": log_config(), "access_log": False}  # one record per request
    # proxy_headers=False: the app believes X-Forwarded-For only from LINKSTAR_TRUSTED_PROXIES
    if app is not None:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="info",
            http=HTTP_PROTOCOL,
            proxy_headers=False,
            **logging,
        )
    else:
        try:
            uvicorn.run(
                "linkstar.core.runtime.app:create_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                http=HTTP_PROTOCOL,
                proxy_headers=False,
                **logging,
            )
        finally:
            if temporary is not None:
                shutil.rmtree(temporary, ignore_errors=True)


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
@click.option(
    "--if-empty", is_flag=True, help="Kept for scripts: the demo never loads twice anyway."
)
@click.option("--seed", default=2026, show_default=True, type=int)
@_fail_cleanly
def demo(if_empty: bool, seed: int) -> None:
    """Load the demo data set (providers in every category and region, six months of KPIs)."""
    from linkstar.core.contract.registry import load_registry
    from linkstar.core.kernel.db import create_engine, session_factory
    from linkstar.core.kpi.catalog import record_metric_versions
    from linkstar.core.runtime.demo import has_providers, load_demo
    from linkstar.core.runtime.progress import Progress, job_progress

    settings = Settings.from_env()
    registry = load_registry(settings.disabled_plugins)
    check_database(settings.database_url, migrated=True)

    async def run(progress: Progress) -> dict[str, int] | None:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                if await has_providers(session):
                    return None
                await record_metric_versions(session, registry)
                return await load_demo(session, registry, seed=seed, progress=progress)
        finally:
            await engine.dispose()

    with job_progress() as progress:
        counts = _run(run(progress))
    if counts is None:
        click.echo(
            "demo: providers already exist (the demo is loaded, or real data is); nothing loaded"
        )
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
    "--period", default=None, help="Month to evaluate, e.g. 2026-10 (in each metric's time zone)."
)
@click.option(
    "--due",
    is_flag=True,
    help="Evaluate every closed month not evaluated yet (for cron; safe to run concurrently).",
)
@click.option("--category", default=None, help="Only this category.")
@click.option(
    "--provider",
    "provider",
    default=None,
    help="Only this provider: its global id (as the API gives it) or its registration number.",
)
@_fail_cleanly
def evaluate_command(
    period: str | None, due: bool, category: str | None, provider: str | None
) -> None:
    """Evaluate a closed month (--period) or every closed month that is due (--due)."""
    import time

    from linkstar.core.contract.registry import load_registry
    from linkstar.core.kernel.db import create_engine, session_factory
    from linkstar.core.kernel.errors import InvalidInput
    from linkstar.core.runtime.progress import Progress, job_progress
    from linkstar.core.standing.verdicts import evaluate_due, evaluate_period

    if due == (period is not None) or (due and (category or provider)):
        raise InvalidInput(
            "give either --period MONTH (optionally with --category/--provider) or --due",
            suggestion="e.g. linkstar evaluate --period 2026-10, or linkstar evaluate --due",
        )
    settings = Settings.from_env()
    registry = load_registry(settings.disabled_plugins)
    check_database(settings.database_url, migrated=True)

    async def run(progress: Progress) -> list[tuple[str, Any]]:
        categories = progress.add_task(f"evaluating {period}", total=None, unit="categories")
        providers = progress.add_task("providers scored", total=None, unit="providers")

        def done(key: str, summary: Any, total: int) -> None:
            progress.update(categories, total=total, advance=1)
            progress.update(providers, advance=summary.evaluated)

        engine = create_engine(settings.database_url)
        try:
            if due:
                return await evaluate_due(session_factory(engine), registry, by="cli")
            async with session_factory(engine)() as session, session.begin():
                provider_id = await _provider_id(session, provider) if provider else None
                summaries = await evaluate_period(
                    session,
                    registry,
                    period or "",
                    category,
                    provider_id,
                    by="cli",
                    on_category=done,
                )
                return list(summaries.items())
        finally:
            await engine.dispose()

    started = time.perf_counter()
    with job_progress() as progress:
        summaries = _run(run(progress))
    if due and not summaries:
        click.echo("nothing due: every closed month is evaluated")
    for key, summary in summaries:
        click.echo(
            f"{key}\t{summary.period}\tevaluated {summary.evaluated}\twritten {summary.written}"
            f"\tunchanged {summary.unchanged}"
        )
    click.echo(f"done in {time.perf_counter() - started:.2f} s")


@main.command("settle")
@click.option("--cycle", required=True, help="A closed cycle: 2026-10 (month) or 2026-Q4.")
@_fail_cleanly
def settle_command(cycle: str) -> None:
    """Settle a closed cycle: one statement and payout per provider and currency."""
    from linkstar.core.billing.settlement import settle_cycle
    from linkstar.core.contract.registry import load_registry
    from linkstar.core.kernel.db import create_engine, session_factory
    from linkstar.core.kernel.money import Money

    settings = Settings.from_env()
    registry = load_registry(settings.disabled_plugins)
    check_database(settings.database_url, migrated=True)

    async def run() -> list[tuple[int, str, str, str]]:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                rows = await settle_cycle(
                    session, cycle, [c.category for c in registry.categories.values()]
                )
                return [
                    (
                        r.provider_id,
                        r.currency,
                        str(Money(r.closing, r.currency).amount),
                        str(Money(r.payout, r.currency).amount),
                    )
                    for r in rows
                ]
        finally:
            await engine.dispose()

    rows = _run(run())
    for provider_id, currency, closing, payout in rows:
        click.echo(f"provider {provider_id}\t{currency}\tclosing {closing}\tpayout {payout}")
    click.echo(f"{cycle}: {len(rows)} statements")


async def _provider_id(session: Any, given: str) -> int:
    """The provider named by a global id (`Provider:…` in base64) or a registration number."""
    import base64
    import binascii

    from sqlalchemy import select

    from linkstar.core.providers.models import Provider

    given = given.strip()
    found = (
        await session.execute(select(Provider.id).where(Provider.registration_number == given))
    ).scalar_one_or_none()
    if found is not None:
        return found
    try:
        kind, _, node = base64.b64decode(given, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        kind, node = "", ""
    if kind == "Provider" and node.isdigit() and await session.get(Provider, int(node)):
        return int(node)
    raise ConfigurationError(
        f"no provider has the id or registration number {given!r}",
        suggestion="pass a Provider id as the API returns it, or its registration number",
    )


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
    check_database(settings.database_url, migrated=True)

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

    account_id = _run(run())
    click.echo(f"admin account {email} created (id {account_id})")


@main.group()
def mail() -> None:
    """The mail outbox (address confirmations, invitations, notices)."""


@mail.command("drain")
@click.option(
    "--smtp",
    default=None,
    metavar="HOST[:PORT]",
    help="Send through this SMTP server; without it, print the messages (development).",
)
@click.option("--sender", default="LinkStar <no-reply@localhost>", show_default=True)
@_fail_cleanly
def mail_drain(smtp: str | None, sender: str) -> None:
    """Send every pending outbox message once, oldest first, and mark it sent."""
    from email.message import EmailMessage

    from linkstar.core.identity import outbox
    from linkstar.core.kernel.db import create_engine, session_factory

    settings = Settings.from_env()
    check_database(settings.database_url, migrated=True)

    def deliver(message: Any) -> None:
        if smtp is None:
            click.echo(f"To: {message.recipient}\nSubject: {message.subject}\n\n{message.body}")
            return
        import smtplib

        host, _, port = smtp.partition(":")
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = sender, message.recipient, message.subject
        email.set_content(message.body)
        try:
            with smtplib.SMTP(host, int(port or 25), timeout=30) as client:
                client.send_message(email)
        except (OSError, smtplib.SMTPException) as exc:
            raise ConfigurationError(f"cannot send mail through {smtp}: {exc}") from None

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            return await outbox.drain(session_factory(engine), deliver, limit=10_000)
        finally:
            await engine.dispose()

    sent = _run(run())
    click.echo(f"mail: {sent} message(s) sent", err=True)


@main.group()
def schema() -> None:
    """The composed GraphQL schema."""


def _composed_sdl(installed: bool) -> str:
    from linkstar.core.contract.registry import load_built_in_registry, load_registry
    from linkstar.schema.compose import compose_schema, sdl

    if not installed:
        return sdl(compose_schema(load_built_in_registry()))
    settings = Settings.from_env()
    return sdl(compose_schema(load_registry(settings.disabled_plugins)))


@schema.command("export")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Where to write [default: {SCHEMA_FILE} for the core's SDL, stdout with --installed].",
)
@click.option(
    "--installed",
    is_flag=True,
    help="Compose every installed and enabled plugin (a plugin author's view), not only the "
    "built-in ones that the committed SDL describes.",
)
@_fail_cleanly
def schema_export(output: Path | None, installed: bool) -> None:
    """Write the SDL of the core and its built-in plugins (commit schema/schema.graphql).

    With --installed, the graph as this installation serves it, third-party plugins included:
    never written over the core's committed SDL.
    """
    text_out = _composed_sdl(installed)
    if output is None and installed:
        click.echo(text_out, nl=False)
        return
    output = output or SCHEMA_FILE
    if installed and output.resolve() == SCHEMA_FILE:
        raise ConfigurationError(
            f"{SCHEMA_FILE} describes the built-in plugins only",
            suggestion="write the installed graph elsewhere with --output, or to stdout",
        )
    try:
        output.write_text(text_out)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output}")


@main.group()
def docs() -> None:
    """Documentation generated from the code."""


README_FILE = SCHEMA_FILE.parent.parent / "README.md"
CODES_START, CODES_END = "<!-- error-codes:start -->\n", "<!-- error-codes:end -->"


@docs.command("error-codes")
@click.option(
    "--readme",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Rewrite the list between the error-codes markers of this file (e.g. {README_FILE}).",
)
@_fail_cleanly
def docs_error_codes(readme: Path | None) -> None:
    """Print every `extensions.code` with its meaning (from core/kernel/errors.py)."""
    from linkstar.core.kernel.errors import error_code_table

    table = error_code_table()
    if readme is None:
        click.echo(table, nl=False)
        return
    try:
        text_in = readme.read_text()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {readme}: {exc.strerror}") from None
    if CODES_START not in text_in or CODES_END not in text_in:
        raise ConfigurationError(
            f"{readme} has no {CODES_START.strip()} … {CODES_END} markers",
            suggestion="add both markers, on lines of their own, where the list belongs",
        )
    head, rest = text_in.split(CODES_START, 1)
    _, tail = rest.split(CODES_END, 1)
    readme.write_text(head + CODES_START + table + CODES_END + tail)
    click.echo(f"wrote the error codes into {readme}")


@main.command("money-sweep")
@_fail_cleanly
def money_sweep_command() -> None:
    """Charge renewals, tier changes and deposit top-ups; refund deposits after exit (daily)."""
    from linkstar.core.contract.registry import load_registry
    from linkstar.core.kernel.db import create_engine, session_factory
    from linkstar.core.runtime.money_sweep import sweep

    settings = Settings.from_env()
    registry = load_registry(settings.disabled_plugins)
    check_database(settings.database_url, migrated=True)

    async def run() -> Any:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session, session.begin():
                return await sweep(session, registry)
        finally:
            await engine.dispose()

    done = _run(run())
    click.echo(
        f"renewal charges {done.renewal_charges}\ttier-change charges "
        f"{done.tier_change_charges}\ttop-ups {done.top_ups}"
        f"\tdeposit refunds {done.deposit_refunds}"
    )


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


@main.group()
def webhooks() -> None:
    """Webhook deliveries."""


@webhooks.command("drain")
@click.option("--limit", default=1000, show_default=True, help="Stop after this many attempts.")
@_fail_cleanly
def webhooks_drain(limit: int) -> None:
    """Attempt every delivery that is due now (safe to run beside the servers)."""
    from linkstar.core.kernel.db import create_engine, session_factory
    from linkstar.core.live.webhooks import DrainResult, deliver_due

    settings = Settings.from_env()
    check_database(settings.database_url)

    async def drain() -> DrainResult:
        engine = create_engine(settings.database_url)
        total = DrainResult()
        try:
            sessions = session_factory(engine)
            while total.attempted < limit:
                batch = await deliver_due(
                    sessions,
                    production=not settings.development,
                    limit=min(20, limit - total.attempted),
                )
                if not batch.attempted:
                    break
                total.delivered += batch.delivered
                total.failed += batch.failed
                total.dead += batch.dead
        finally:
            await engine.dispose()
        return total

    result = asyncio.run(drain())
    click.echo(f"delivered {result.delivered}\tretry later {result.failed}\tdead {result.dead}")
