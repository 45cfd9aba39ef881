"""Applies the policy (`linkstar.core.identity.policy`) to GraphQL objects, core and plugin alike.

Objects enter the graph through a few doors: `node`/`nodes`, root lists, a provider's private
fields, and fields plugins add. Each door asks `visible` or `can_read_private`; an object the
viewer may not see is answered exactly like one that does not exist.

How a type states its owner (checked for plugin types when the schema is composed):
- `provider_id` attribute: private to that provider (and staff);
- `owner_account_id` attribute: private to that account (and admins);
- `linkstar_public = True` class attribute: visible to everyone;
- `linkstar_admin_only = True` class attribute: admins only;
- `linkstar_two_party = True` with `owner_account_id` and `provider_id`: both parties and staff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from strawberry.permission import BasePermission

from linkstar.core.identity.policy import Action, allowed, can_read_private
from linkstar.core.onboarding import directory
from linkstar.schema.context import Context

_MISSING = object()


def declares_owner(cls: type) -> bool:
    """Whether a node type says who may see it (plugin node types must)."""
    fields = getattr(getattr(cls, "__strawberry_definition__", None), "fields", [])
    names = {f.python_name for f in fields} | set(getattr(cls, "__dataclass_fields__", {}))
    return (
        getattr(cls, "linkstar_public", False)
        or getattr(cls, "linkstar_admin_only", False)
        or "provider_id" in names
        or "owner_account_id" in names
    )


def listed(context: Context) -> Any:
    """Loader: whether a provider is in the public directory (holds an ACTIVE membership)."""

    async def batch(ids: Sequence[int]) -> list[bool]:
        async with context.session() as session:
            found = await directory.listed_among(session, ids)
        return [i in found for i in ids]

    return context.loader("listed", batch)


async def visible(context: Context, node: Any) -> bool:
    """Whether the viewer may see `node` at all."""
    viewer = context.viewer
    cls = type(node)
    if getattr(cls, "linkstar_public", False):
        return True
    if getattr(cls, "linkstar_admin_only", False):
        return allowed(viewer, Action.READ_AUDIT_LOG)
    if getattr(cls, "linkstar_directory", False):  # providers: the public directory
        return can_read_private(viewer, node.id) or await listed(context).load(node.id)
    if getattr(cls, "linkstar_two_party", False):  # orders: the seller, the provider, staff
        return viewer.account_id == node.owner_account_id or can_read_private(
            viewer, node.provider_id
        )
    owner_account = getattr(node, "owner_account_id", _MISSING)
    if owner_account is not _MISSING:
        return viewer.account_id == owner_account or allowed(viewer, Action.READ_AUDIT_LOG)
    owner = getattr(node, "provider_id", _MISSING)
    if owner is not _MISSING and owner is not None:
        return can_read_private(viewer, owner)
    return allowed(viewer, Action.READ_ANY_PROVIDER)  # ownership unknown: staff only


async def filter_visible(context: Context, nodes: Sequence[Any]) -> list[Any]:
    """`nodes` with every node the viewer may not see replaced by None.

    Checked concurrently, so the directory loader batches them into one query.
    """

    async def check(node: Any) -> Any:
        return node if node is not None and await visible(context, node) else None

    return list(await asyncio.gather(*(check(node) for node in nodes)))


class ProviderPrivate(BasePermission):
    """A plugin field on Provider that was not declared public: the provider and staff only."""

    message = "this field is private to the provider"
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012 - strawberry reads it as is

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return can_read_private(info.context.viewer, source.id)


class StaffOnly(BasePermission):
    """A plugin field elsewhere that was not declared public: staff only."""

    message = "this field is for platform staff"
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return allowed(info.context.viewer, Action.STAFF_ONLY_FIELD)
