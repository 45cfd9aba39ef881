"""The core's root Query fields."""

from __future__ import annotations

import inspect
from collections import defaultdict
from typing import Any

import strawberry
from sqlalchemy import exists, func, or_, select
from strawberry import relay
from strawberry.relay.types import GlobalIDValueError
from strawberry.types.base import StrawberryObjectDefinition

from linkstar.core.fees import rules as fees
from linkstar.core.identity.policy import Action, allowed, can_read_private
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.vocabulary import ApplicationStatus, Marketplace, Region, Tier
from linkstar.core.runtime import tables as models
from linkstar.schema.access import filter_visible
from linkstar.schema.identity import IdentityQuery
from linkstar.schema.onboarding import OnboardingQuery
from linkstar.schema.pagination import Connection, PageArgs, list_connection, paginate
from linkstar.schema.types import (
    Ctx,
    FeeQuoteType,
    ProviderType,
    ServiceCategoryType,
    ctx,
)

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


@strawberry.input(description="Narrow the provider list; all given conditions must hold.")
class ProviderFilter:
    category: str | None = strawberry.field(
        default=None, description="Has applied for this category."
    )
    region: Region | None = None
    marketplace: Marketplace | None = None
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the legal name."
    )


@strawberry.input(description="Choose an option of a fee option group (else its default applies).")
class FeeOptionInput:
    group: str
    value: str


@strawberry.input(description="How many units a per-unit fee counts (else 1).")
class FeeQuantityInput:
    unit: str
    quantity: int


def _provider_conditions(info: Ctx, flt: ProviderFilter | None) -> list[Any]:
    conditions: list[Any] = []
    viewer = ctx(info).viewer
    if not allowed(viewer, Action.READ_ANY_PROVIDER):
        # The public directory (providers in the pool), plus the viewer's own provider.
        listed = exists().where(
            models.Application.provider_id == models.Provider.id,
            models.Application.status == ApplicationStatus.ACTIVE,
        )
        own = (
            viewer.provider_id
            if viewer.provider_id and can_read_private(viewer, viewer.provider_id)
            else None
        )
        conditions.append(or_(listed, models.Provider.id == own) if own else listed)
    if flt is None:
        return conditions
    if flt.category is not None:
        ctx(info).registry.category(flt.category)
        membership = [
            models.Application.provider_id == models.Provider.id,
            models.Application.category_key == flt.category,
        ]
        if not allowed(viewer, Action.READ_ANY_PROVIDER):
            # others see a provider under a category only once it is in that category's pool
            own = (
                viewer.provider_id
                if viewer.provider_id and can_read_private(viewer, viewer.provider_id)
                else None
            )
            in_pool = models.Application.status == ApplicationStatus.ACTIVE
            membership.append(or_(in_pool, models.Provider.id == own) if own else in_pool)
        conditions.append(exists().where(*membership))
    if flt.region is not None:
        conditions.append(models.Provider.region == flt.region)
    if flt.marketplace is not None:
        conditions.append(
            exists().where(
                models.ProviderMarketplace.provider_id == models.Provider.id,
                models.ProviderMarketplace.marketplace == flt.marketplace,
            )
        )
    if flt.name_contains:
        if len(flt.name_contains) > 200:
            raise InvalidInput("nameContains is longer than 200 characters")
        escaped = (
            flt.name_contains.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        conditions.append(func.lower(models.Provider.legal_name).like(f"%{escaped}%", escape="\\"))
    return conditions


@strawberry.type
class Query(IdentityQuery, OnboardingQuery):
    @strawberry.field(description="Fetch any object by its global ID; null when it does not exist.")
    async def node(self, info: Ctx, id: strawberry.ID) -> relay.Node | None:
        return (await resolve_global_ids(info, [parse_global_id(id)]))[0]

    @strawberry.field(description=f"Fetch up to {MAX_NODES} objects by global ID, in order.")
    async def nodes(self, info: Ctx, ids: list[strawberry.ID]) -> list[relay.Node | None]:
        if len(ids) > MAX_NODES:
            raise InvalidInput(f"at most {MAX_NODES} ids per call, got {len(ids)}")
        return await resolve_global_ids(info, [parse_global_id(i) for i in ids])

    @strawberry.field(description="Service categories, in their declared order.")
    def service_categories(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ServiceCategoryType]:
        items = list(ctx(info).registry.categories.values())
        return list_connection(
            items, PageArgs.parse(first, after, last, before), ServiceCategoryType.of
        )

    @strawberry.field(description="One service category by key; null when there is none.")
    def service_category(self, info: Ctx, key: str) -> ServiceCategoryType | None:
        contribution = ctx(info).registry.categories.get(key)
        return ServiceCategoryType.of(contribution) if contribution else None

    @strawberry.field(
        description="Itemised fees for a category, region and tier; each line names its rule."
    )
    def fee_quote(
        self,
        info: Ctx,
        category: str,
        region: Region,
        tier: Tier,
        options: list[FeeOptionInput] | None = None,
        quantities: list[FeeQuantityInput] | None = None,
    ) -> FeeQuoteType:
        contribution = ctx(info).registry.category(category)
        chosen = {}
        for option in options or []:
            if option.group in chosen:
                raise InvalidInput(f"option group {option.group!r} is chosen twice")
            chosen[option.group] = option.value
        counted = {}
        for item in quantities or []:
            if item.unit in counted:
                raise InvalidInput(f"unit {item.unit!r} is counted twice")
            counted[item.unit] = item.quantity
        value = fees.quote(category, contribution.fee_rules, region, tier, chosen, counted)
        return FeeQuoteType.of(value)

    @strawberry.field(
        description="Providers, oldest first, filtered by category, region, marketplace or name."
    )
    async def providers(
        self,
        info: Ctx,
        filter: ProviderFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ProviderType]:
        args = PageArgs.parse(first, after, last, before)
        conditions = _provider_conditions(info, filter)
        context = ctx(info)

        async def count() -> int:
            async with context.session() as session:
                stmt = select(func.count()).select_from(models.Provider).where(*conditions)
                return (await session.execute(stmt)).scalar_one()

        async with context.session() as session:
            return await paginate(
                session,
                select(models.Provider).where(*conditions),
                models.Provider.id,
                args,
                ProviderType.of,
                count,
            )

    @strawberry.field(description="One provider by global ID; null when it does not exist.")
    async def provider(self, info: Ctx, id: strawberry.ID) -> ProviderType | None:
        gid = parse_global_id(id)
        if gid.type_name != "Provider":
            raise InvalidId(f"{id!r} is the ID of a {gid.type_name}, not of a Provider")
        return (await resolve_global_ids(info, [gid]))[0]
