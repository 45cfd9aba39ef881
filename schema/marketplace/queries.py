"""Marketplace queries: a seller's stores and requests, a provider's offers, orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import func, or_, select

from linkstar.core.identity.policy import Action, allowed, require
from linkstar.core.kernel.vocabulary import Marketplace, Region, Tier
from linkstar.core.marketplace.directory import rank_providers
from linkstar.core.marketplace.models import Offer, Order, ServiceRequest, Store
from linkstar.core.marketplace.vocabulary import OfferStatus, OrderStatus, RequestStatus
from linkstar.schema.marketplace.types import (
    OfferType,
    OrderType,
    ServiceRequestType,
    StoreType,
)
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.pagination import Connection, PageArgs, list_connection, paginate
from linkstar.schema.providers.types import ProviderType


@strawberry.type(description="A provider's place in the seller directory, and why.")
class DirectoryEntry:
    rank: int
    provider: ProviderType
    composite: Decimal | None = strawberry.field(description="The public KPI composite.")
    tier: Tier
    accepting_orders: bool
    why: str


async def _page(
    info: Ctx, model: Any, conditions: list[Any], to_node: Any, args: PageArgs
) -> Connection[Any]:
    context = ctx(info)

    async def count() -> int:
        async with context.session() as session:
            stmt = select(func.count()).select_from(model).where(*conditions)
            return (await session.execute(stmt)).scalar_one()

    async with context.session() as session:
        return await paginate(
            session, select(model).where(*conditions), model.id, args, to_node, count
        )


@strawberry.type
class MarketplaceQuery:
    @strawberry.field(description="Your stores (sellers).")
    async def stores(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[StoreType]:
        viewer = ctx(info).viewer
        require(viewer, Action.ACT_AS_SELLER)
        return await _page(
            info,
            Store,
            [Store.seller_account_id == viewer.account_id],
            StoreType.of,
            PageArgs.parse(first, after, last, before),
        )

    @strawberry.field(description="Your service requests (sellers); every request (staff).")
    async def service_requests(
        self,
        info: Ctx,
        status: RequestStatus | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ServiceRequestType]:
        viewer = ctx(info).viewer
        conditions: list[Any] = []
        if not allowed(viewer, Action.REVIEW):
            require(viewer, Action.ACT_AS_SELLER)
            conditions.append(ServiceRequest.seller_account_id == viewer.account_id)
        if status is not None:
            conditions.append(ServiceRequest.status == status)
        return await _page(
            info,
            ServiceRequest,
            conditions,
            ServiceRequestType.of,
            PageArgs.parse(first, after, last, before),
        )

    @strawberry.field(description="Offers made to your provider (providers); every offer (staff).")
    async def offers(
        self,
        info: Ctx,
        status: OfferStatus | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[OfferType]:
        viewer = ctx(info).viewer
        conditions: list[Any] = []
        if not allowed(viewer, Action.READ_ANY_PROVIDER):
            require(viewer, Action.READ_OWN_PROVIDER, viewer.provider_id)
            conditions.append(Offer.provider_id == viewer.provider_id)
        if status is not None:
            conditions.append(Offer.status == status)
        return await _page(
            info, Offer, conditions, OfferType.of, PageArgs.parse(first, after, last, before)
        )

    @strawberry.field(
        description="Orders you are a party to (seller or provider); every order (staff)."
    )
    async def orders(
        self,
        info: Ctx,
        status: OrderStatus | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[OrderType]:
        viewer = ctx(info).viewer
        conditions: list[Any] = []
        if not allowed(viewer, Action.READ_ANY_PROVIDER):
            sides = []
            if allowed(viewer, Action.ACT_AS_SELLER):
                sides.append(Order.seller_account_id == viewer.account_id)
            if allowed(viewer, Action.READ_OWN_PROVIDER, viewer.provider_id):
                sides.append(Order.provider_id == viewer.provider_id)
            if not sides:
                require(viewer, Action.READ_OWN_PROVIDER, viewer.provider_id)
            conditions.append(or_(*sides))
        if status is not None:
            conditions.append(Order.status == status)
        return await _page(
            info, Order, conditions, OrderType.of, PageArgs.parse(first, after, last, before)
        )

    @strawberry.field(
        description="The seller directory: a category's pool ranked by the public KPI summary."
    )
    async def provider_ranking(
        self,
        info: Ctx,
        category: str,
        marketplace: Marketplace | None = None,
        region: Region | None = None,
        tier: Tier | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[DirectoryEntry]:
        context = ctx(info)
        contribution = context.registry.category(category)
        args = PageArgs.parse(first, after)
        async with context.session() as session:
            ranked = await rank_providers(
                session,
                category,
                contribution.dispatch,
                marketplace=marketplace,
                region=region,
                tier=tier,
            )
        return list_connection(
            ranked,
            args,
            lambda r: DirectoryEntry(
                rank=r.rank,
                provider=ProviderType.of(r.provider),
                composite=r.composite,
                tier=r.tier,
                accepting_orders=r.accepting_orders,
                why=r.why,
            ),
        )
