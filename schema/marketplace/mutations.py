"""Marketplace mutations: stores, requests, capacity, offers."""

from __future__ import annotations

from datetime import datetime

import strawberry

from linkstar.core.identity.policy import Action, require
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.money import Money as MoneyValue
from linkstar.core.kernel.vocabulary import Marketplace
from linkstar.core.marketplace import dispatch, offers, orders, requests
from linkstar.core.marketplace.orders import OrderAction
from linkstar.core.marketplace.vocabulary import Blame
from linkstar.schema.marketplace.inputs import ServiceRequestInput
from linkstar.schema.marketplace.types import (
    OfferType,
    OrderMilestoneType,
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
            row = await offers.declare_capacity(
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
            order = await offers.accept_offer(
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
            row = await offers.decline_offer(
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


async def _act(
    info: Ctx,
    order: strawberry.ID,
    action: OrderAction,
    *,
    reason: str | None = None,
    rating: int | None = None,
    blame: Blame | None = None,
) -> OrderType:
    context = ctx(info)
    async with write(info) as session:
        row = await orders.load_order(session, context.viewer, parse_id(order, "Order"))
        await orders.transition(
            session,
            context.registry,
            context.viewer,
            row,
            action,
            reason=reason,
            rating=rating,
            blame=blame,
        )
    return OrderType.of(row)


@strawberry.type
class OrderMutation:
    @strawberry.mutation(description="Plan a milestone with its due date (either party).")
    async def add_milestone(
        self, info: Ctx, order: strawberry.ID, title: str, due_at: datetime
    ) -> OrderMilestoneType:
        context = ctx(info)
        async with write(info) as session:
            row = await orders.load_order(session, context.viewer, parse_id(order, "Order"))
            milestone = await orders.add_milestone(session, context.viewer, row, title, due_at)
        return OrderMilestoneType.of(milestone)

    @strawberry.mutation(
        description="Deliver a milestone with a note (the provider); on time is measured here."
    )
    async def deliver_milestone(
        self, info: Ctx, milestone: strawberry.ID, note: str
    ) -> OrderMilestoneType:
        context = ctx(info)
        async with write(info) as session:
            row = await orders.deliver_milestone(
                session,
                context.registry,
                context.viewer,
                parse_id(milestone, "OrderMilestone"),
                note,
            )
        return OrderMilestoneType.of(row)

    @strawberry.mutation(description="Accept a delivered milestone (the seller).")
    async def accept_milestone(self, info: Ctx, milestone: strawberry.ID) -> OrderMilestoneType:
        async with write(info) as session:
            row = await orders.accept_milestone(
                session, ctx(info).viewer, parse_id(milestone, "OrderMilestone")
            )
        return OrderMilestoneType.of(row)

    @strawberry.mutation(description="Hand over the work once every milestone is delivered.")
    async def deliver_order(self, info: Ctx, order: strawberry.ID) -> OrderType:
        return await _act(info, order, OrderAction.DELIVER)

    @strawberry.mutation(description="Send a delivered order back with what to change (seller).")
    async def request_changes(self, info: Ctx, order: strawberry.ID, reason: str) -> OrderType:
        return await _act(info, order, OrderAction.REQUEST_CHANGES, reason=reason)

    @strawberry.mutation(description="Accept the delivery and rate it 1-5 (seller).")
    async def complete_order(self, info: Ctx, order: strawberry.ID, rating: int) -> OrderType:
        return await _act(info, order, OrderAction.COMPLETE, rating=rating)

    @strawberry.mutation(
        description="Cancel with the reason; the party cancelling is to blame (staff name it)."
    )
    async def cancel_order(
        self, info: Ctx, order: strawberry.ID, reason: str, blame: Blame | None = None
    ) -> OrderType:
        return await _act(info, order, OrderAction.CANCEL, reason=reason, blame=blame)

    @strawberry.mutation(
        description="Extend the engagement with the same provider (seller): a renewal."
    )
    async def extend_order(self, info: Ctx, order: strawberry.ID, reason: str) -> OrderType:
        return await _act(info, order, OrderAction.EXTEND, reason=reason)

    @strawberry.mutation(description="Open a dispute (either party); staff resolve it.")
    async def open_dispute(self, info: Ctx, order: strawberry.ID, reason: str) -> OrderType:
        return await _act(info, order, OrderAction.OPEN_DISPUTE, reason=reason)

    @strawberry.mutation(
        description="Resolve a dispute (staff): completed, or cancelled with who is to blame."
    )
    async def resolve_dispute(
        self,
        info: Ctx,
        order: strawberry.ID,
        cancel: bool,
        reason: str,
        blame: Blame | None = None,
    ) -> OrderType:
        require_reviewer(info)
        action = OrderAction.RESOLVE_CANCELLED if cancel else OrderAction.RESOLVE_COMPLETED
        return await _act(info, order, action, reason=reason, blame=blame)
