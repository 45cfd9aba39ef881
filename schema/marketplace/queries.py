"""Marketplace queries: a seller's stores and requests, a provider's offers, orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from linkstar.core.kernel.vocabulary import Marketplace, Region, Tier
from linkstar.core.marketplace import listings
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
    info: Ctx, listing: listings.Listing, key: Any, to_node: Any, args: PageArgs
) -> Connection[Any]:
    context = ctx(info)
    page, counting = listing

    async def count() -> int:
        async with context.session() as session:
            return (await session.execute(counting)).scalar_one()

    async with context.session() as session:
        return await paginate(session, page, key, args, to_node, count)


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
        return await _page(
            info,
            listings.stores(ctx(info).viewer),
            Store.id,
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
        return await _page(
            info,
            listings.service_requests(ctx(info).viewer, status),
            ServiceRequest.id,
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
        return await _page(
            info,
            listings.offers(ctx(info).viewer, status),
            Offer.id,
            OfferType.of,
            PageArgs.parse(first, after, last, before),
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
        return await _page(
            info,
            listings.orders(ctx(info).viewer, status),
            Order.id,
            OrderType.of,
            PageArgs.parse(first, after, last, before),
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
