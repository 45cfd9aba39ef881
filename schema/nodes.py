"""What every resolver shares: the typed `info`, nodes built from rows, private child lists."""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from strawberry import relay
from strawberry.relay.types import GlobalIDValueError
from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition

from linkstar.core.identity.policy import can_read_private
from linkstar.core.kernel.errors import InvalidInput
from linkstar.schema import loaders
from linkstar.schema.access import filter_visible
from linkstar.schema.context import Context
from linkstar.schema.pagination import Connection, PageArgs, build_connection, node_int

Ctx = Info[Context, None]


def ctx(info: Ctx) -> Context:
    return info.context


def parse_int_ids(node_ids: Iterable[str]) -> list[int | None]:
    return [node_int(node_id) for node_id in node_ids]


async def rows_for_nodes(info: Ctx, model: type[Any], node_ids: Iterable[str]) -> list[Any]:
    ids = parse_int_ids(node_ids)
    valid = [i for i in ids if i is not None]
    rows = await loaders.by_id(ctx(info), model).load_many(valid)
    found = {row.id: row for row in rows if row is not None}
    return [found.get(i) if i is not None else None for i in ids]


def rows_resolver(model: type[Any]) -> Any:
    """`resolve_nodes` for a node type built `of` one row of `model`: batched, and None for an
    id that does not parse or does not exist (visibility is applied by the caller, `node()`)."""

    async def resolve_nodes(
        cls: Any, *, info: Ctx, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        return [cls.of(r) if r else None for r in await rows_for_nodes(info, model, node_ids)]

    return classmethod(resolve_nodes)


async def zero() -> int:
    return 0


def page_of(rows: Sequence[Any], args: PageArgs, to_node: Any, count: Any) -> Connection[Any]:
    return build_connection(rows, args, lambda r: r.id, to_node, count)


async def child_connection(
    info: Ctx,
    parent_id: int,
    model: type[Any],
    to_node: Any,
    args: PageArgs,
    filters: tuple[tuple[str, Any], ...] = (),
    unread: tuple[str, ...] = (),
) -> Connection[Any]:
    """A provider's private list: filtered to nothing for viewers who may not see it.

    `unread`: columns `to_node` never reads, not fetched."""
    context = ctx(info)
    if not can_read_private(context.viewer, parent_id):
        return page_of([], args, to_node, zero)
    rows = await loaders.child_pages(context, model, "provider_id", filters, unread).load(
        (parent_id, args)
    )

    async def count() -> int:
        return await loaders.child_counts(context, model, "provider_id", filters).load(parent_id)

    return page_of(rows, args, to_node, count)


MAX_NODES = 100


class InvalidId(InvalidInput):
    """A global ID that is not one we issued."""

    code = "INVALID_ID"


def parse_global_id(value: str) -> relay.GlobalID:
    """Decode a Relay global ID or raise InvalidId."""
    try:
        return relay.GlobalID.from_id(value)
    except GlobalIDValueError:
        raise InvalidId(
            f"{value!r} is not a valid global ID",
            suggestion="pass an `id` exactly as the API returned it",
        ) from None


async def resolve_global_ids(info: Ctx, ids: list[relay.GlobalID]) -> list[Any]:
    """Resolve global IDs to nodes, one `resolve_nodes` call per type; unknown → None."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for gid in ids:
        by_type[gid.type_name].append(gid.node_id)
    resolved: dict[tuple[str, str], Any] = {}
    for type_name, node_ids in by_type.items():
        definition = info.schema.get_type_by_name(type_name)
        origin = getattr(definition, "origin", None)
        if (
            not isinstance(definition, StrawberryObjectDefinition)
            or definition.is_interface
            or not isinstance(origin, type)
            or not issubclass(origin, relay.Node)
        ):
            continue
        nodes = origin.resolve_nodes(info=info, node_ids=node_ids, required=False)
        if inspect.isawaitable(nodes):
            nodes = await nodes
        for node_id, node in zip(node_ids, nodes, strict=True):
            resolved[(type_name, node_id)] = node
    # A node the viewer may not see is answered exactly like one that does not exist.
    return await filter_visible(
        info.context, [resolved.get((gid.type_name, gid.node_id)) for gid in ids]
    )
