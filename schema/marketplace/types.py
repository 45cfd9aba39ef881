"""GraphQL types of the marketplace: stores, service requests, offers, orders, milestones."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from linkstar.core.identity.policy import Action, Viewer, require
from linkstar.core.kernel.money import Money as MoneyValue
from linkstar.core.kernel.timeline import history
from linkstar.core.kernel.vocabulary import Marketplace, Region
from linkstar.core.marketplace import exclusions, listings
from linkstar.core.marketplace.models import (
    Offer,
    Order,
    OrderMilestone,
    ServiceRequest,
    Store,
)
from linkstar.core.marketplace.vocabulary import Blame, OfferStatus, OrderStatus, RequestStatus
from linkstar.schema.nodes import Ctx, ctx, rows_resolver
from linkstar.schema.resolving import parse_id
from linkstar.schema.vocabulary import Money

RequestStatusEnum = strawberry.enum(RequestStatus, description="Where a service request stands.")
OfferStatusEnum = strawberry.enum(OfferStatus, description="Where an offer to a provider stands.")
OrderStatusEnum = strawberry.enum(OrderStatus, description="Where an order stands.")
BlameEnum = strawberry.enum(Blame, description="Who caused a cancellation.")


def _money(amount: Any, currency: str) -> Money:
    return Money.of(MoneyValue(amount, currency))  # type: ignore[return-value]


@strawberry.type(name="Store", description="A seller's store on one marketplace site.")
class StoreType(relay.Node):
    id: relay.NodeID[int]
    marketplace: Marketplace
    site: str = strawberry.field(description="ISO 3166-1 alpha-2 country of the marketplace site.")
    name: str
    currency: str
    created_at: datetime
    owner_account_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: Store) -> StoreType:
        return cls(
            id=row.id,
            marketplace=row.marketplace,
            site=row.site,
            name=row.name,
            currency=row.currency,
            created_at=row.created_at,
            owner_account_id=row.seller_account_id,
        )

    resolve_nodes = rows_resolver(Store)


@strawberry.type(description="A dispatch rule a provider fails for a request.")
class DispatchExclusion:
    rule: str = strawberry.field(
        description="STATUS, SANCTIONED, DEPOSIT_UNPAID, AT_CAPACITY, MARKETPLACE, "
        "ALREADY_OFFERED, REGION, EXCLUDED_BY_SELLER, NOT_THE_DIRECT_PROVIDER, CATEGORY or "
        "CATEGORY_MATCH (the category's own rule, e.g. lane coverage)."
    )
    reason: str


@strawberry.type(description="Whether a provider may be offered a request now, and why not.")
class DispatchCheck:
    eligible: bool
    exclusions: list[DispatchExclusion]


@strawberry.type(
    name="ServiceRequest",
    description="A seller's request for a service; visible to the seller (and admins).",
)
class ServiceRequestType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    title: str
    scope: str
    marketplaces: list[Marketplace]
    regions: list[Region]
    requirements: JSON
    budget: Money
    desired_start: date
    status: RequestStatus
    direct: bool = strawberry.field(description="Sent to one provider from the directory.")
    offers_made: int = strawberry.field(description="How many providers it was offered to.")
    created_at: datetime
    owner_account_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: ServiceRequest) -> ServiceRequestType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            title=row.title,
            scope=row.scope,
            marketplaces=[Marketplace(m) for m in row.marketplaces],
            regions=[Region(r) for r in row.regions],
            requirements=row.requirements,
            budget=_money(row.budget_amount, row.budget_currency),
            desired_start=row.desired_start,
            status=row.status,
            direct=row.direct_provider_id is not None,
            offers_made=row.rounds,
            created_at=row.created_at,
            owner_account_id=row.seller_account_id,
        )

    @strawberry.field(
        description="Staff: whether a provider is eligible for this request now, and every "
        "dispatch rule it fails (why it got no offer)."
    )
    async def dispatch_check(self, info: Ctx, provider: strawberry.ID) -> DispatchCheck:
        context = ctx(info)
        require(context.viewer, Action.REVIEW)
        provider_id = parse_id(provider, "Provider")
        policy = context.registry.category(self.category_key).dispatch
        async with context.session() as session:
            request = await session.get(ServiceRequest, self.id)
            assert request is not None  # this node was loaded from it
            failed = await exclusions.why_not(session, request, policy, provider_id)
        return DispatchCheck(
            eligible=not failed,
            exclusions=[DispatchExclusion(rule=e.rule, reason=e.reason) for e in failed],
        )

    @strawberry.field(description="The order, once a provider accepted.")
    async def order(self, info: Ctx) -> OrderType | None:
        async with ctx(info).session() as session:
            row = await listings.order_of_request(session, self.id)
        return None if row is None else OrderType.of(row)

    resolve_nodes = rows_resolver(ServiceRequest)


def explanation_for(viewer: Viewer, explanation: dict[str, Any], provider_id: int) -> Any:
    """Staff see every candidate; the provider sees only its own entry and the policy."""
    if viewer.is_staff:
        return explanation
    own = [c for c in explanation.get("candidates", []) if c["provider_id"] == provider_id]
    return {
        "chosenBy": explanation.get("chosenBy"),
        "chosen": own[0] if own else None,
        "policy": explanation.get("policy"),
    }


@strawberry.type(
    name="Offer",
    description="A request offered to one provider, to accept or decline by `respondBy`.",
)
class OfferType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    status: OfferStatus
    round: int
    pilot: bool = strawberry.field(description="A pilot order of a provider on probation.")
    offered_at: datetime
    respond_by: datetime
    responded_at: datetime | None
    decline_reason: str | None
    provider_id: strawberry.Private[int]
    request_id: strawberry.Private[int]
    raw_explanation: strawberry.Private[dict[str, Any]]

    @classmethod
    def of(cls, row: Offer) -> OfferType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            status=row.status,
            round=row.round,
            pilot=row.pilot,
            offered_at=row.offered_at,
            respond_by=row.respond_by,
            responded_at=row.responded_at,
            decline_reason=row.decline_reason,
            provider_id=row.provider_id,
            request_id=row.request_id,
            raw_explanation=row.explanation,
        )

    @strawberry.field(description="What the provider is asked to do (the seller's request).")
    async def request(self, info: Ctx) -> ServiceRequestType:
        async with ctx(info).session() as session:
            row = await session.get(ServiceRequest, self.request_id)
        assert row is not None
        return ServiceRequestType.of(row)

    @strawberry.field(
        description="Why this provider: its score parts (staff: every ranked candidate)."
    )
    def explanation(self, info: Ctx) -> JSON:
        return explanation_for(ctx(info).viewer, self.raw_explanation, self.provider_id)

    resolve_nodes = rows_resolver(Offer)


@strawberry.type(name="OrderMilestone", description="A task of an order with its due date.")
class OrderMilestoneType:
    id: strawberry.ID
    title: str
    due_at: datetime
    delivered_at: datetime | None
    delivery_note: str | None
    accepted_at: datetime | None
    late: bool

    @classmethod
    def of(cls, row: OrderMilestone) -> OrderMilestoneType:
        return cls(
            id=strawberry.ID(relay.to_base64("OrderMilestone", row.id)),
            title=row.title,
            due_at=row.due_at,
            delivered_at=row.delivered_at,
            delivery_note=row.delivery_note,
            accepted_at=row.accepted_at,
            late=row.delivered_at is not None and row.delivered_at > row.due_at,
        )


@strawberry.type(name="OrderEvent", description="One entry of an order's append-only timeline.")
class OrderEvent:
    event_type: str
    occurred_at: datetime
    actor: str
    payload: JSON


@strawberry.type(
    name="Order",
    description="An accepted offer between a seller and a provider; visible to both and staff.",
)
class OrderType(relay.Node):
    linkstar_two_party = True

    id: relay.NodeID[int]
    category_key: str
    status: OrderStatus
    price: Money
    pilot: bool
    needs_reassignment: bool = strawberry.field(
        description="The provider's cooperation ended while the order was open."
    )
    rating: int | None
    blame: Blame | None
    created_at: datetime
    closed_at: datetime | None
    owner_account_id: strawberry.Private[int]
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: Order) -> OrderType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            status=row.status,
            price=_money(row.price_amount, row.price_currency),
            pilot=row.pilot,
            needs_reassignment=row.needs_reassignment,
            rating=row.rating,
            blame=row.blame,
            created_at=row.created_at,
            closed_at=row.closed_at,
            owner_account_id=row.seller_account_id,
            provider_id=row.provider_id,
        )

    @strawberry.field(description="The order's tasks, by due date.")
    async def milestones(self, info: Ctx) -> list[OrderMilestoneType]:
        async with ctx(info).session() as session:
            rows = await listings.milestones(session, self.id)
        return [OrderMilestoneType.of(r) for r in rows]

    @strawberry.field(description="Everything that happened to the order, oldest first.")
    async def timeline(self, info: Ctx) -> list[OrderEvent]:
        async with ctx(info).session() as session:
            rows = await history(session, "Order", self.id)
            return [
                OrderEvent(
                    event_type=r.event_type,
                    occurred_at=r.occurred_at,
                    actor=r.actor,
                    payload=r.payload,
                )
                for r in rows
            ]

    resolve_nodes = rows_resolver(Order)


@strawberry.type(name="ProviderCapacity", description="Open orders a provider takes at once.")
class ProviderCapacityType:
    category_key: str
    max_open_orders: int
