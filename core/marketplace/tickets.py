"""Sellers' tickets to providers: a question about an order or a store, a store's negative
review to handle, a complaint about an order. The provider answers.

The ticket's lifecycle is one state table; every step is a conditional update of (status,
version) and an entry on the ticket's timeline (the conversation, kept as evidence). Two
moments are KPI signals, which the category's rules map to its metrics: the provider's first
answer (TICKET_FIRST_RESPONSE) and the answer that resolves a negative-review ticket
(NEGATIVE_REVIEW_RESOLVED).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Action, Viewer, allowed, require
from linkstar.core.kernel.db import claim, utcnow
from linkstar.core.kernel.errors import InvalidInput, LinkStarError, NotFound
from linkstar.core.marketplace.models import Order, RequestStore, SellerTicket, Store
from linkstar.core.marketplace.orders import observe_for
from linkstar.core.marketplace.requests import event
from linkstar.core.marketplace.signals import OrderEventKind, OrderFacts
from linkstar.core.marketplace.vocabulary import TicketKind
from linkstar.core.marketplace.vocabulary import TicketStatus as T

if TYPE_CHECKING:
    from linkstar.core.contract.registry import Registry


class TicketAction(enum.StrEnum):
    RESPOND = "RESPOND"  # the provider answers
    RESOLVE = "RESOLVE"  # the provider answers and resolves it
    REPLY = "REPLY"  # the seller adds to it (it waits for the provider again)
    CLOSE = "CLOSE"  # the seller closes it


class Side(enum.StrEnum):
    SELLER = "SELLER"
    PROVIDER = "PROVIDER"


A = TicketAction
TRANSITIONS: dict[tuple[T, TicketAction], tuple[T, Side]] = {
    (T.OPEN, A.RESPOND): (T.ANSWERED, Side.PROVIDER),
    (T.ANSWERED, A.RESPOND): (T.ANSWERED, Side.PROVIDER),
    (T.OPEN, A.RESOLVE): (T.CLOSED, Side.PROVIDER),
    (T.ANSWERED, A.RESOLVE): (T.CLOSED, Side.PROVIDER),
    (T.OPEN, A.REPLY): (T.OPEN, Side.SELLER),
    (T.ANSWERED, A.REPLY): (T.OPEN, Side.SELLER),
    (T.OPEN, A.CLOSE): (T.CLOSED, Side.SELLER),
    (T.ANSWERED, A.CLOSE): (T.CLOSED, Side.SELLER),
}


class InvalidTicketTransition(LinkStarError):
    code = "INVALID_TRANSITION"

    def __init__(self, state: T, action: TicketAction) -> None:
        allowed_now = [a.value for (s, a) in TRANSITIONS if s is state]
        super().__init__(
            f"cannot {action.value} a ticket that is {state.value}",
            details={"currentState": state.value, "allowedActions": allowed_now},
            suggestion="allowed now: " + (", ".join(allowed_now) or "nothing (closed)"),
        )


def side_of(viewer: Viewer, ticket: SellerTicket) -> Side | None:
    """Which side of the ticket `viewer` is on (None: neither; staff read, never act)."""
    if viewer.account_id == ticket.seller_account_id and allowed(viewer, Action.ACT_AS_SELLER):
        return Side.SELLER
    if allowed(viewer, Action.ACT_FOR_OWN_PROVIDER, ticket.provider_id):
        return Side.PROVIDER
    return None


async def load_ticket(session: AsyncSession, viewer: Viewer, ticket_id: int) -> SellerTicket:
    """A ticket of the viewer's (its seller or its provider), any ticket for staff."""
    ticket = await session.get(SellerTicket, ticket_id)
    if ticket is None or not (viewer.is_staff or side_of(viewer, ticket) is not None):
        raise NotFound("no such ticket")
    return ticket


def _text(value: str, what: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise InvalidInput(f"{what} needs 1-{limit} characters")
    return value


async def open_ticket(
    session: AsyncSession,
    viewer: Viewer,
    *,
    kind: TicketKind,
    subject: str,
    body: str,
    order_id: int | None = None,
    store_id: int | None = None,
) -> SellerTicket:
    """A seller's ticket to the provider of one of its orders.

    A complaint names the order; a negative review names the store (and the order when the
    seller has several providers for it); a general ticket names either. Without an order, the
    provider is the one holding the seller's latest order that concerns the store.
    """
    require(viewer, Action.ACT_AS_SELLER)
    subject, body = _text(subject, "the subject", 200), _text(body, "the message", 10_000)
    if kind is TicketKind.COMPLAINT and order_id is None:
        raise InvalidInput("a complaint names the order it is about")
    if kind is TicketKind.NEGATIVE_REVIEW and store_id is None:
        raise InvalidInput("a negative-review ticket names the store that got the review")
    if order_id is None and store_id is None:
        raise InvalidInput("name the order or the store the ticket is about")
    if store_id is not None:
        store = await session.get(Store, store_id)
        if store is None or store.seller_account_id != viewer.account_id:
            raise NotFound("no such store", suggestion="name one of your own stores")
    order = None
    if order_id is not None:
        order = await session.get(Order, order_id)
        if order is None or order.seller_account_id != viewer.account_id:
            raise NotFound("no such order", suggestion="name one of your own orders")
    else:
        order = await session.scalar(
            select(Order)
            .join(RequestStore, RequestStore.request_id == Order.request_id)
            .where(Order.seller_account_id == viewer.account_id, RequestStore.store_id == store_id)
            .order_by(Order.created_at.desc(), Order.id.desc())
        )
        if order is None:
            raise NotFound(
                "no provider has an order for this store",
                suggestion="a ticket goes to the provider of one of your orders",
            )
    ticket = SellerTicket(
        seller_account_id=viewer.account_id,
        provider_id=order.provider_id,
        category_key=order.category_key,
        order_id=order.id,
        store_id=store_id,
        kind=kind,
        subject=subject,
        body=body,
        status=T.OPEN,
        opened_at=utcnow(),
    )
    session.add(ticket)
    await session.flush()
    event(
        session,
        "ticket.opened",
        ticket,
        viewer,
        provider_id=ticket.provider_id,
        kind=kind.value,
        order=order.id,
        store=store_id,
        message=body,
    )
    return ticket


async def act(
    session: AsyncSession,
    registry: Registry,
    viewer: Viewer,
    ticket: SellerTicket,
    action: TicketAction,
    message: str,
) -> SellerTicket:
    """Apply `action` with its message, if the table allows it for the viewer's side."""
    step = TRANSITIONS.get((ticket.status, action))
    if step is None:
        raise InvalidTicketTransition(ticket.status, action)
    target, side = step
    if side_of(viewer, ticket) is not side:
        raise InvalidInput(
            f"only the {side.value.lower()} may {action.value} here", code="FORBIDDEN"
        )
    message = _text(message, "the message", 10_000)
    now = utcnow()
    first = side is Side.PROVIDER and ticket.first_response_at is None
    changes: dict[str, object] = {"status": target, "version": ticket.version + 1}
    if first:
        changes["first_response_at"] = now
    if target is T.CLOSED:
        changes.update(closed_at=now, resolved_by_provider=action is A.RESOLVE)
    await claim(
        session,
        SellerTicket,
        ticket.id,
        {"status": ticket.status, "version": ticket.version},
        changes,
        "the ticket",
    )
    event(
        session,
        f"ticket.{action.value.lower()}",
        ticket,
        viewer,
        provider_id=ticket.provider_id,
        status=target.value,
        message=message,
    )
    signals = []
    if first:
        signals.append(OrderEventKind.TICKET_FIRST_RESPONSE)
    if action is A.RESOLVE and ticket.kind is TicketKind.NEGATIVE_REVIEW:
        signals.append(OrderEventKind.NEGATIVE_REVIEW_RESOLVED)
    for kind in signals:
        await observe_for(
            session,
            registry,
            ticket.provider_id,
            ticket.category_key,
            OrderFacts(
                kind,
                now,
                order_id=ticket.order_id,
                ticket_id=ticket.id,
                ticket_kind=ticket.kind.value,
                opened_at=ticket.opened_at,
                responded_at=now,
                store_id=ticket.store_id,
            ),
        )
    return ticket
