"""The root Query's own fields: `node` and `nodes`; every domain adds the rest."""

from __future__ import annotations

import strawberry
from strawberry import relay

from linkstar.core.kernel.errors import InvalidInput
from linkstar.schema.nodes import MAX_NODES, Ctx, parse_global_id, resolve_global_ids


@strawberry.type
class Query:
    @strawberry.field(description="Fetch any object by its global ID; null when it does not exist.")
    async def node(self, info: Ctx, id: strawberry.ID) -> relay.Node | None:
        return (await resolve_global_ids(info, [parse_global_id(id)]))[0]

    @strawberry.field(description=f"Fetch up to {MAX_NODES} objects by global ID, in order.")
    async def nodes(self, info: Ctx, ids: list[strawberry.ID]) -> list[relay.Node | None]:
        if len(ids) > MAX_NODES:
            raise InvalidInput(f"at most {MAX_NODES} ids per call, got {len(ids)}")
        return await resolve_global_ids(info, [parse_global_id(i) for i in ids])


@strawberry.type
class Mutation:
    """The root Mutation: it has no field of its own; every domain contributes its operations."""
