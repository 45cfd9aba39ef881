"""Offers answered: a provider accepts (one order, within capacity and pilot quota) or declines.

Every decision on a shared row is a conditional update (`claim`); accepting an offer takes
turns per provider and category, so concurrent accepts never exceed the provider's capacity.
A provider also declares here how many open orders it takes at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Action, Viewer, require
from linkstar.core.kernel.db import claim, take_turns, utcnow
from linkstar.core.kernel.errors import InvalidInput, LinkStarError, NotFound
from linkstar.core.kernel.vocabulary import ApplicationStatus
from linkstar.core.marketplace.dispatch import move_on
from linkstar.core.marketplace.models import Offer, Order, ProviderCapacity, ServiceRequest
from linkstar.core.marketplace.orders import observe, observe_for
from linkstar.core.marketplace.policy import DispatchPolicy
from linkstar.core.marketplace.ranking import OPEN_ORDER
from linkstar.core.marketplace.requests import event
from linkstar.core.marketplace.signals import OrderEventKind, OrderFacts
from linkstar.core.marketplace.vocabulary import OfferStatus, OrderStatus, RequestStatus
from linkstar.core.onboarding.models import Application
from linkstar.core.standing.public import intake_blocked

if TYPE_CHECKING:
    from linkstar.core.contract.registry import CategoryContribution, Registry


class CapacityFull(LinkStarError):
    """The provider holds as many open orders as it (or the category) allows."""

    code = "CAPACITY_FULL"


class OfferClosed(LinkStarError):
    """The offer was already answered, expired or withdrawn."""

    code = "INVALID_TRANSITION"


async def _pending_offer(session: AsyncSession, viewer: Viewer, offer_id: int) -> Offer:
    offer = await session.get(Offer, offer_id)
    if offer is None or not (viewer.is_staff or viewer.provider_id == offer.provider_id):
        raise NotFound("no such offer")
    require(viewer, Action.ACT_FOR_OWN_PROVIDER, offer.provider_id)
    if offer.status is not OfferStatus.PENDING:
        raise OfferClosed(
            f"the offer is {offer.status.value}",
            details={"currentState": offer.status.value},
            suggestion="only a PENDING offer can be answered",
        )
    if offer.respond_by <= utcnow():
        raise OfferClosed(
            "the offer's response deadline has passed",
            details={"currentState": "EXPIRED"},
            suggestion="the request has moved on to another provider",
        )
    return offer


async def accept_offer(
    session: AsyncSession, viewer: Viewer, registry: Registry, offer_id: int
) -> Order:
    """The provider accepts: one order, within its capacity and pilot quota, or an error."""
    offer = await _pending_offer(session, viewer, offer_id)
    contribution = registry.category(offer.category_key)
    # Accepts of one provider in one category take turns: the count below stays true until
    # this transaction commits, so capacity can never be exceeded.
    await take_turns(session, Order, f"capacity:{offer.provider_id}:{offer.category_key}")
    capacity = await provider_capacity(
        session, offer.provider_id, offer.category_key, contribution.dispatch
    )
    open_orders = await session.scalar(
        select(func.count()).where(
            Order.provider_id == offer.provider_id,
            Order.category_key == offer.category_key,
            Order.status.in_(OPEN_ORDER),
        )
    )
    if open_orders >= capacity:
        raise CapacityFull(
            f"you hold {open_orders} open orders, your capacity is {capacity}",
            suggestion="complete an order or raise your declared capacity, then accept",
        )
    application = await session.scalar(
        select(Application).where(
            Application.provider_id == offer.provider_id,
            Application.category_key == offer.category_key,
            Application.status.in_((ApplicationStatus.ACTIVE, ApplicationStatus.PROBATION)),
        )
    )
    if application is None:
        raise InvalidInput("you are no longer in the pool for this category", code="FORBIDDEN")
    blocked = intake_blocked(offer.category_key).subquery("blocked")
    if await session.scalar(
        select(func.count()).select_from(blocked).where(blocked.c.provider_id == offer.provider_id)
    ):
        raise InvalidInput("your intake is restricted in this category", code="INTAKE_RESTRICTED")
    pilot = offer.pilot and application.status is ApplicationStatus.PROBATION
    if pilot:
        used = await session.scalar(
            select(func.count()).where(
                Order.provider_id == offer.provider_id,
                Order.category_key == offer.category_key,
                Order.pilot.is_(True),
            )
        )
        if used >= (application.pilot_order_quota or 0):
            raise CapacityFull(
                f"your {used} pilot orders use up the probation quota",
                suggestion="pass probation to take more orders",
            )
    await claim(
        session,
        Offer,
        offer.id,
        {"status": OfferStatus.PENDING},
        {"status": OfferStatus.ACCEPTED, "responded_at": utcnow()},
        "the offer",
    )
    request = await session.get(ServiceRequest, offer.request_id)
    assert request is not None
    await claim(
        session,
        ServiceRequest,
        request.id,
        {"status": RequestStatus.OFFERED},
        {"status": RequestStatus.ORDERED},
        "the service request",
    )
    order = Order(
        request_id=request.id,
        offer_id=offer.id,
        seller_account_id=request.seller_account_id,
        provider_id=offer.provider_id,
        category_key=offer.category_key,
        status=OrderStatus.IN_PROGRESS,
        price_amount=request.budget_amount,
        price_currency=request.budget_currency,
        pilot=pilot,
    )
    session.add(order)
    await session.flush()
    event(session, "offer.accepted", request, viewer, provider_id=offer.provider_id, order=order.id)
    event(session, "order.created", order, viewer, provider_id=order.provider_id)
    await _answered(session, registry, offer)
    repeat = await session.scalar(
        select(func.count()).where(
            Order.seller_account_id == order.seller_account_id,
            Order.provider_id == order.provider_id,
            Order.category_key == order.category_key,
            Order.status == OrderStatus.COMPLETED,
        )
    )
    if repeat:
        await observe(
            session,
            registry,
            order,
            OrderFacts(OrderEventKind.REORDERED, utcnow(), order_id=order.id, repeat_customer=True),
        )
    else:
        await _customer_lost(session, registry, order)
    return order


async def _customer_lost(session: AsyncSession, registry: Registry, order: Order) -> None:
    """The seller's latest completed order in the category was with another provider: that
    engagement was not renewed. Observed on that order, as of its end (the metric counts
    contracts that ended in the period), so it is recorded once however often the seller
    orders elsewhere afterwards."""
    previous = await session.scalar(
        select(Order)
        .where(
            Order.seller_account_id == order.seller_account_id,
            Order.category_key == order.category_key,
            Order.provider_id != order.provider_id,
            Order.status == OrderStatus.COMPLETED,
            Order.closed_at <= utcnow(),  # (a demo replaying past days may see later ones)
        )
        .order_by(Order.closed_at.desc(), Order.id.desc())
        .limit(1)
    )
    if previous is not None:
        await observe(
            session,
            registry,
            previous,
            OrderFacts(
                OrderEventKind.CUSTOMER_LOST, previous.closed_at or utcnow(), order_id=previous.id
            ),
        )


async def _answered(session: AsyncSession, registry: Registry, offer: Offer) -> None:
    await observe_for(
        session,
        registry,
        offer.provider_id,
        offer.category_key,
        OrderFacts(
            OrderEventKind.OFFER_ANSWERED,
            offer.responded_at or utcnow(),
            offer_id=offer.id,
            offered_at=offer.offered_at,
            responded_at=offer.responded_at,
        ),
    )


async def provider_capacity(
    session: AsyncSession, provider_id: int, category_key: str, policy: DispatchPolicy
) -> int:
    """Open orders the provider may hold: its declaration, capped by the category's ceiling."""
    declared = await session.scalar(
        select(ProviderCapacity.max_open_orders).where(
            ProviderCapacity.provider_id == provider_id,
            ProviderCapacity.category_key == category_key,
        )
    )
    return min(declared or policy.max_open_orders, policy.max_open_orders)


async def declare_capacity(
    session: AsyncSession,
    viewer: Viewer,
    contribution: CategoryContribution,
    max_open_orders: int,
) -> ProviderCapacity:
    """The provider's own limit of open orders in a category (at most the category's)."""
    require(viewer, Action.ACT_FOR_OWN_PROVIDER, viewer.provider_id)
    ceiling = contribution.dispatch.max_open_orders
    if not 0 <= max_open_orders <= ceiling:
        raise InvalidInput(f"capacity must be between 0 and {ceiling} open orders in this category")
    key = contribution.category.key
    row = await session.get(ProviderCapacity, (viewer.provider_id, key))
    if row is None:
        row = ProviderCapacity(provider_id=viewer.provider_id, category_key=key)
        session.add(row)
    row.max_open_orders = max_open_orders
    row.updated_at = utcnow()
    await session.flush()
    return row


async def decline_offer(
    session: AsyncSession, viewer: Viewer, registry: Registry, offer_id: int, reason: str
) -> Offer:
    """The provider declines with a reason (remembered); the request goes to the next one."""
    if not reason.strip():
        raise InvalidInput("say why you decline", suggestion="the reason is kept with the offer")
    offer = await _pending_offer(session, viewer, offer_id)
    await claim(
        session,
        Offer,
        offer.id,
        {"status": OfferStatus.PENDING},
        {
            "status": OfferStatus.DECLINED,
            "responded_at": utcnow(),
            "decline_reason": reason.strip(),
        },
        "the offer",
    )
    await _answered(session, registry, offer)
    await move_on(session, registry, offer, viewer.label, "offer.declined", reason=reason.strip())
    return offer
