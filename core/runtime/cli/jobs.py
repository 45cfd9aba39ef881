"""Jobs an operator or cron runs: evaluate months, settle cycles, expire offers, drain the mail
and webhook outboxes."""

from __future__ import annotations

from typing import Any

import click

from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.errors import ConfigurationError
from linkstar.core.runtime.cli.base import (
    check_database,
    fail_cleanly,
    in_transaction,
    with_sessions,
)


@click.command("evaluate")
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
@fail_cleanly
def evaluate_command(
    period: str | None, due: bool, category: str | None, provider: str | None
) -> None:
    """Evaluate a closed month (--period) or every closed month that is due (--due)."""
    import time

    from sqlalchemy.ext.asyncio import AsyncSession

    from linkstar.core.contract.registry import load_registry
    from linkstar.core.kernel.errors import InvalidInput
    from linkstar.core.runtime.progress import job_progress
    from linkstar.core.standing.verdicts import evaluate_due, evaluate_period

    if due == (period is not None) or (due and (category or provider)):
        raise InvalidInput(
            "give either --period MONTH (optionally with --category/--provider) or --due",
            suggestion="e.g. linkstar evaluate --period 2026-10, or linkstar evaluate --due",
        )
    settings = Settings.from_env()
    registry = load_registry(settings.disabled_plugins)
    check_database(settings.database_url, migrated=True)

    started = time.perf_counter()
    with job_progress() as progress:
        categories = progress.add_task(f"evaluating {period}", total=None, unit="categories")
        providers = progress.add_task("providers scored", total=None, unit="providers")

        def done(key: str, summary: Any, total: int) -> None:
            progress.update(categories, total=total, advance=1)
            progress.update(providers, advance=summary.evaluated)

        async def one_period(session: AsyncSession) -> list[tuple[str, Any]]:
            provider_id = await provider_id_of(session, provider) if provider else None
            summaries = await evaluate_period(
                session, registry, period or "", category, provider_id, by="cli", on_category=done
            )
            return list(summaries.items())

        if due:
            summaries = with_sessions(
                settings.database_url, lambda sessions: evaluate_due(sessions, registry, by="cli")
            )
        else:
            summaries = in_transaction(settings.database_url, one_period)
    if due and not summaries:
        click.echo("nothing due: every closed month is evaluated")
    for key, summary in summaries:
        click.echo(
            f"{key}\t{summary.period}\tevaluated {summary.evaluated}\twritten {summary.written}"
            f"\tunchanged {summary.unchanged}"
        )
    click.echo(f"done in {time.perf_counter() - started:.2f} s")


async def provider_id_of(session: Any, given: str) -> int:
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


@click.command("settle")
@click.option("--cycle", required=True, help="A closed cycle: 2026-10 (month) or 2026-Q4.")
@fail_cleanly
def settle_command(cycle: str) -> None:
    """Settle a closed cycle: one statement and payout per provider and currency."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from linkstar.core.billing.settlement import settle_cycle
    from linkstar.core.contract.registry import load_registry
    from linkstar.core.kernel.money import Money

    settings = Settings.from_env()
    registry = load_registry(settings.disabled_plugins)
    check_database(settings.database_url, migrated=True)

    async def settle(session: AsyncSession) -> list[tuple[int, str, str, str]]:
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

    rows = in_transaction(settings.database_url, settle)
    for provider_id, currency, closing, payout in rows:
        click.echo(f"provider {provider_id}\t{currency}\tclosing {closing}\tpayout {payout}")
    click.echo(f"{cycle}: {len(rows)} statements")


@click.group("dispatch")
def dispatch_group() -> None:
    """The marketplace's dispatch: offers and their deadlines."""


@dispatch_group.command("expire")
@click.option("--limit", default=500, show_default=True, help="Most offers expired in one run.")
@fail_cleanly
def dispatch_expire(limit: int) -> None:
    """Expire offers past their deadline and offer their requests to the next provider.

    Safe to run from cron while servers run the same sweep: no offer is expired twice.
    """
    from linkstar.core.contract.registry import load_registry
    from linkstar.core.marketplace.dispatch import expire_due

    settings = Settings.from_env()
    registry = load_registry(settings.disabled_plugins)
    check_database(settings.database_url)
    expired = in_transaction(
        settings.database_url, lambda session: expire_due(session, registry, limit=limit)
    )
    click.echo(f"expired {expired} offers")


@click.group()
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
@fail_cleanly
def mail_drain(smtp: str | None, sender: str) -> None:
    """Send every pending outbox message once, oldest first, and mark it sent."""
    from email.message import EmailMessage

    from linkstar.core.identity import outbox

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

    sent = with_sessions(
        settings.database_url, lambda sessions: outbox.drain(sessions, deliver, limit=10_000)
    )
    click.echo(f"mail: {sent} message(s) sent", err=True)


@click.group()
def webhooks() -> None:
    """Webhook deliveries."""


@webhooks.command("drain")
@click.option("--limit", default=1000, show_default=True, help="Stop after this many attempts.")
@fail_cleanly
def webhooks_drain(limit: int) -> None:
    """Attempt every delivery that is due now (safe to run beside the servers)."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from linkstar.core.live.webhooks import DrainResult, deliver_due

    settings = Settings.from_env()
    check_database(settings.database_url)

    async def drain(sessions: async_sessionmaker[AsyncSession]) -> DrainResult:
        total = DrainResult()
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
        return total

    result = with_sessions(settings.database_url, drain)
    click.echo(f"delivered {result.delivered}\tretry later {result.failed}\tdead {result.dead}")
