"""Provider queries: the directory, one provider, the service categories."""

from __future__ import annotations

import strawberry

from linkstar.core.kernel.vocabulary import Marketplace, Region
from linkstar.core.onboarding import directory
from linkstar.core.providers.models import Provider
from linkstar.schema.nodes import Ctx, InvalidId, ctx, parse_global_id, resolve_global_ids
from linkstar.schema.pagination import Connection, PageArgs, list_connection, paginate
from linkstar.schema.providers.types import ProviderType, ServiceCategoryType


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


@strawberry.type
class ProviderQuery:
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
        context = ctx(info)
        flt = filter or ProviderFilter()
        if flt.category is not None:
            context.registry.category(flt.category)  # NOT_FOUND for an unknown category
        page, counting = directory.directory(
            context.viewer,
            category=flt.category,
            region=flt.region,
            marketplace=flt.marketplace,
            name_contains=flt.name_contains,
        )

        async def count() -> int:
            async with context.session() as session:
                return (await session.execute(counting)).scalar_one()

        async with context.session() as session:
            return await paginate(session, page, Provider.id, args, ProviderType.of, count)

    @strawberry.field(description="One provider by global ID; null when it does not exist.")
    async def provider(self, info: Ctx, id: strawberry.ID) -> ProviderType | None:
        gid = parse_global_id(id)
        if gid.type_name != "Provider":
            raise InvalidId(f"{id!r} is the ID of a {gid.type_name}, not of a Provider")
        return (await resolve_global_ids(info, [gid]))[0]
