"""How staff appear to people outside the platform: by role and display name, never by email."""

from __future__ import annotations

from linkstar.core.identity.models import Account
from linkstar.core.identity.policy import Action, allowed
from linkstar.core.kernel.vocabulary import Role
from linkstar.schema import loaders
from linkstar.schema.nodes import Ctx, ctx

STAFF_ROLES = (Role.REVIEWER, Role.ADMIN)


async def shown_actor(info: Ctx, label: str, account_id: int | None) -> str:
    """`label` for staff viewers; for others a staff actor reads "Reviewer <display name>",
    and a staff label recorded without an account reads "Platform staff"."""
    if allowed(ctx(info).viewer, Action.READ_ANY_PROVIDER):
        return label
    if account_id is not None:
        account = await loaders.by_id(ctx(info), Account).load(account_id)
        if account is not None and account.role in STAFF_ROLES:
            return f"{account.role.value.title()} {account.display_name}"
        return label
    return "Platform staff" if "@" in label else label
