"""`linkstar accounts create-admin` and `linkstar plugins`: the installation's first account and
what it has loaded."""

from __future__ import annotations

import click

from linkstar.core.kernel.config import Settings
from linkstar.core.runtime.cli.base import check_database, fail_cleanly, in_transaction


@click.group()
def accounts() -> None:
    """Accounts."""


@accounts.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", "display_name", default="Administrator", show_default=True)
@click.password_option(
    envvar="LINKSTAR_ADMIN_PASSWORD",
    help="Prompted for when not given (or set LINKSTAR_ADMIN_PASSWORD).",
)
@fail_cleanly
def create_admin(email: str, display_name: str, password: str) -> None:
    """Create a platform admin (the first account of a fresh installation)."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from linkstar.core.identity import accounts as identity
    from linkstar.core.kernel.vocabulary import Role

    settings = Settings.from_env()
    check_database(settings.database_url, migrated=True)

    async def create(session: AsyncSession) -> int:
        account = await identity.create_account(
            session, email=email, password=password, display_name=display_name, role=Role.ADMIN
        )
        return account.id

    account_id = in_transaction(settings.database_url, create)
    click.echo(f"admin account {email} created (id {account_id})")


@click.command("plugins")
@fail_cleanly
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
