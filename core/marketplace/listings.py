"""What each viewer may list of the marketplace, and the small reads behind its types.

Each listing returns the page's statement and its count statement; the GraphQL layer only pages
them. Who sees what is decided here: a seller its own stores, requests, orders and tickets, a
provider the offers, orders and tickets addressed to it, staff everything.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Action, Viewer, allowed, require
from linkstar.core.marketplace.models import (
    Offer,
    Order,
    OrderMilestone,
    SellerTicket,
    ServiceRequest,
    Store,
    StoreSalesSnapshot,
)
from linkstar.core.marketplace.vocabulary import (
    OfferStatus,
    OrderStatus,
    RequestStatus,
    TicketStatus,
)

Listing = tuple[Select[Any], Select[Any]]


def _listing(model: Any, conditions: list[Any]) -> Listing:
    return (
        select(model).where(*conditions),
        select(func.count()).select_from(model).where(*conditions),
    )


def _parties(viewer: Viewer, seller_column: Any, provider_column: Any) -> list[Any]:
    """Staff see every row; otherwise the rows the viewer is a party to, as seller or provider."""
    if allowed(viewer, Action.READ_ANY_PROVIDER):
        return []
    sides = []
    if allowed(viewer, Action.ACT_AS_SELLER):
        sides.append(seller_column == viewer.account_id)
    if allowed(viewer, Action.READ_OWN_PROVIDER, viewer.provider_id):
        sides.append(provider_column == viewer.provider_id)
    if not sides:
        require(viewer, Action.READ_OWN_PROVIDER, viewer.provider_id)
    return [or_(*sides)]


def stores(viewer: Viewer) -> Listing:
    """A seller's own stores."""
    require(viewer, Action.ACT_AS_SELLER)
    return _listing(Store, [Store.seller_account_id == viewer.account_id])


def service_requests(viewer: Viewer, status: RequestStatus | None) -> Listing:
    """A seller's own requests; every request for staff."""
    conditions: list[Any] = []
    if not allowed(viewer, Action.REVIEW):
        require(viewer, Action.ACT_AS_SELLER)
        conditions.append(ServiceRequest.seller_account_id == viewer.account_id)
    if status is not None:
        conditions.append(ServiceRequest.status == status)
    return _listing(ServiceRequest, conditions)


def offers(viewer: Viewer, status: OfferStatus | None) -> Listing:
    """The offers made to the viewer's provider; every offer for staff."""
    conditions: list[Any] = []
    if not allowed(viewer, Action.READ_ANY_PROVIDER):
        require(viewer, Action.READ_OWN_PROVIDER, viewer.provider_id)
        conditions.append(Offer.provider_id == viewer.provider_id)
    if status is not None:
        conditions.append(Offer.status == status)
    return _listing(Offer, conditions)


def orders(viewer: Viewer, status: OrderStatus | None) -> Listing:
    """Orders the viewer is a party to (as seller or provider); every order for staff."""
    conditions = _parties(viewer, Order.seller_account_id, Order.provider_id)
    if status is not None:
        conditions.append(Order.status == status)
    return _listing(Order, conditions)


def seller_tickets(viewer: Viewer, status: TicketStatus | None) -> Listing:
    """Tickets the viewer opened (seller) or received (provider); every ticket for staff."""
    conditions = _parties(viewer, SellerTicket.seller_account_id, SellerTicket.provider_id)
    if status is not None:
        conditions.append(SellerTicket.status == status)
    return _listing(SellerTicket, conditions)


async def order_of_request(session: AsyncSession, request_id: int) -> Order | None:
    """The order a request became, once a provider accepted it."""
    return await session.scalar(select(Order).where(Order.request_id == request_id))


async def milestones(session: AsyncSession, order_id: int) -> list[OrderMilestone]:
    """An order's tasks, by due date."""
    rows = await session.scalars(
        select(OrderMilestone)
        .where(OrderMilestone.order_id == order_id)
        .order_by(OrderMilestone.due_at, OrderMilestone.id)
    )
    return list(rows)


async def store_sales(
    session: AsyncSession, viewer: Viewer, store_id: int
) -> list[StoreSalesSnapshot]:
    """A seller's own store's monthly sales as reported, oldest month first (nothing for a
    store that is not the viewer's)."""
    require(viewer, Action.ACT_AS_SELLER)
    rows = await session.scalars(
        select(StoreSalesSnapshot)
        .join(Store, Store.id == StoreSalesSnapshot.store_id)
        .where(Store.id == store_id, Store.seller_account_id == viewer.account_id)
        .order_by(StoreSalesSnapshot.month)
    )
    return list(rows)
