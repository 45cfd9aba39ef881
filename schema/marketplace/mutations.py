"""Marketplace mutations: stores, requests, capacity, offers."""

from __future__ import annotations

import strawberry

from linkstar.core.identity.policy import Action, require
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.money import Money as MoneyValue
from linkstar.core.kernel.vocabulary import Marketplace
from linkstar.core.marketplace import dispatch, requests
from linkstar.schema.marketplace.inputs import ServiceRequestInput
from linkstar.schema.marketplace.types import (
    OfferType,
    OrderType,
    ProviderCapacityType,
    ServiceRequestType,
    StoreType,
)
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.resolving import parse_id, require_provider_member, require_reviewer, write


def _money(amount: object, currency: str) -> MoneyValue:
    try:
        return MoneyValue.of(amount, currency)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"invalid money: {exc}") from None


@strawberry.type
class MarketplaceMutation:
    @strawberry.mutation(description="Add one of your stores (sellers).")
    async def create_store(
        self, info: Ctx, marketplace: Marketplace, site: str, name: str, currency: str
    ) -> StoreType:
        async with write(info) as session:
            store = await requests.create_store(
                session, ctx(info).viewer, marketplace, site, name, currency
            )
        return StoreType.of(store)

    @strawberry.mutation(
        description="Ask for a service (sellers); the request is dispatched at once."
    )
    async def create_service_request(
        self, info: Ctx, input: ServiceRequestInput
    ) -> ServiceRequestType:
        context = ctx(info)
        require(context.viewer, Action.ACT_AS_SELLER)
        contribution = context.registry.category(input.category)
        budget = _money(input.budget.amount, input.budget.currency)
        async with write(info) as session:
            request = await requests.create_request(
                session,
                context.viewer,
                contribution,
                title=input.title,
                scope=input.scope,
                store_ids=[parse_id(s, "Store") for s in input.stores],
                marketplaces=input.marketplaces,
                regions=input.regions,
                requirements=input.requirements or {},
                budget=budget,
                desired_start=input.desired_start,
                excluded_provider_ids=[parse_id(p, "Provider") for p in input.exclude_providers],
                direct_provider_id=parse_id(input.provider, "Provider") if input.provider else None,
            )
            await dispatch.dispatch_next(session, request, contribution, context.viewer.label)
        return ServiceRequestType.of(request)

    @strawberry.mutation(description="Dispatch an UNMATCHED request again (its seller, or staff).")
    async def dispatch_service_request(
        self, info: Ctx, request: strawberry.ID
    ) -> ServiceRequestType:
        context = ctx(info)
        async with write(info) as session:
            row = await requests.load_own_request(
                session, context.viewer, parse_id(request, "ServiceRequest")
            )
            await dispatch.dispatch(
                session, row, context.registry.category(row.category_key), context.viewer.label
            )
        return ServiceRequestType.of(row)

    @strawberry.mutation(
        description="Declare how many open orders you take at once in a category (providers)."
    )
    async def declare_capacity(
        self, info: Ctx, category: str, max_open_orders: int
    ) -> ProviderCapacityType:
        require_provider_member(info)
        context = ctx(info)
        async with write(info) as session:
            row = await dispatch.declare_capacity(
                session, context.viewer, context.registry.category(category), max_open_orders
            )
        return ProviderCapacityType(
            category_key=row.category_key, max_open_orders=row.max_open_orders
        )

    @strawberry.mutation(description="Accept an offer: it becomes an order (providers).")
    async def accept_offer(self, info: Ctx, offer: strawberry.ID) -> OrderType:
        require_provider_member(info)
        context = ctx(info)
        async with write(info) as session:
            order = await dispatch.accept_offer(
                session, context.viewer, context.registry, parse_id(offer, "Offer")
            )
        return OrderType.of(order)

    @strawberry.mutation(
        description="Decline an offer with the reason; the request moves to the next provider."
    )
    async def decline_offer(self, info: Ctx, offer: strawberry.ID, reason: str) -> OfferType:
        require_provider_member(info)
        context = ctx(info)
        async with write(info) as session:
            row = await dispatch.decline_offer(
                session, context.viewer, context.registry, parse_id(offer, "Offer"), reason
            )
        return OfferType.of(row)

    @strawberry.mutation(
        description="Expire offers past their deadline now and move their requests on (staff)."
    )
    async def expire_offers(self, info: Ctx) -> int:
        require_reviewer(info)
        async with write(info) as session:
            return await dispatch.expire_due(session, ctx(info).registry)
