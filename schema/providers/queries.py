"""Provider queries: the directory, one provider, the service categories."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import exists, func, or_, select

from linkstar.core.identity.policy import Action, allowed, can_read_private
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.vocabulary import ApplicationStatus, Marketplace, Region
from linkstar.core.onboarding.models import Application
from linkstar.core.providers.models import Provider, ProviderMarketplace
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


def _provider_conditions(info: Ctx, flt: ProviderFilter | None) -> list[Any]:
    conditions: list[Any] = []
    viewer = ctx(info).viewer
    if not allowed(viewer, Action.READ_ANY_PROVIDER):
        # The public directory (providers in the pool), plus the viewer's own provider.
        listed = exists().where(
            Application.provider_id == Provider.id,
            Application.status == ApplicationStatus.ACTIVE,
        )
        own = (
            viewer.provider_id
            if viewer.provider_id and can_read_private(viewer, viewer.provider_id)
            else None
        )
        conditions.append(or_(listed, Provider.id == own) if own else listed)
    if flt is None:
        return conditions
    if flt.category is not None:
        ctx(info).registry.category(flt.category)
        membership = [
            Application.provider_id == Provider.id,
            Application.category_key == flt.category,
        ]
        if not allowed(viewer, Action.READ_ANY_PROVIDER):
            # others see a provider under a category only once it is in that category's pool
            own = (
                viewer.provider_id
                if viewer.provider_id and can_read_private(viewer, viewer.provider_id)
                else None
            )
            in_pool = Application.status == ApplicationStatus.ACTIVE
            membership.append(or_(in_pool, Provider.id == own) if own else in_pool)
        conditions.append(exists().where(*membership))
    if flt.region is not None:
        conditions.append(Provider.region == flt.region)
    if flt.marketplace is not None:
        conditions.append(
            exists().where(
                ProviderMarketplace.provider_id == Provider.id,
                ProviderMarketplace.marketplace == flt.marketplace,
            )
        )
    if flt.name_contains:
        if len(flt.name_contains) > 200:
            raise InvalidInput("nameContains is longer than 200 characters")
        escaped = (
            flt.name_contains.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        conditions.append(func.lower(Provider.legal_name).like(f"%{escaped}%", escape="\\"))
    return conditions


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
        conditions = _provider_conditions(info, filter)
        context = ctx(info)

        async def count() -> int:
            async with context.session() as session:
                stmt = select(func.count()).select_from(Provider).where(*conditions)
                return (await session.execute(stmt)).scalar_one()

        async with context.session() as session:
            return await paginate(
                session,
                select(Provider).where(*conditions),
                Provider.id,
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
