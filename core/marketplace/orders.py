"""Orders: the lifecycle after an accepted offer, as one state table, and the KPI data it makes.

Every transition is checked against `TRANSITIONS`, decided by a conditional update of the
order's state (two parties acting at once cannot both win), and appended to the order's
timeline. Order events feed the category's metrics through `observe()`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing import orders as billing_orders
from linkstar.core.identity.policy import Action, Viewer, allowed
from linkstar.core.kernel.db import claim, utcnow
from linkstar.core.kernel.errors import InvalidInput, LinkStarError, NotFound
from linkstar.core.kernel.events import DomainEvent
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.periods import period_containing
from linkstar.core.kernel.vocabulary import ApplicationStatus, ObservationSource
from linkstar.core.kpi.reporting import ObservationRecord, report
from linkstar.core.marketplace.models import Order, OrderMilestone, SellerTicket
from linkstar.core.marketplace.requests import event
from linkstar.core.marketplace.signals import OrderEventKind, OrderFacts
from linkstar.core.marketplace.vocabulary import Blame, TicketKind
from linkstar.core.marketplace.vocabulary import OrderStatus as S
from linkstar.core.onboarding.applications import membership_terminated
from linkstar.core.onboarding.models import Application
from linkstar.core.providers.models import Provider

if TYPE_CHECKING:
    from linkstar.core.contract.registry import Registry


class OrderAction(enum.StrEnum):
    DELIVER = "DELIVER"  # the provider hands over the work
    REQUEST_CHANGES = "REQUEST_CHANGES"  # the seller sends it back
    COMPLETE = "COMPLETE"  # the seller accepts and rates
    CANCEL = "CANCEL"
    OPEN_DISPUTE = "OPEN_DISPUTE"
    RESOLVE_COMPLETED = "RESOLVE_COMPLETED"  # staff close a dispute as completed
    RESOLVE_CANCELLED = "RESOLVE_CANCELLED"  # staff close a dispute as cancelled, with blame
    EXTEND = "EXTEND"  # the seller extends the engagement: more work for the same provider


class Party(enum.StrEnum):
    SELLER = "SELLER"
    PROVIDER = "PROVIDER"
    STAFF = "STAFF"


A = OrderAction
TRANSITIONS: dict[tuple[S, OrderAction], tuple[S, frozenset[Party]]] = {
    (S.IN_PROGRESS, A.DELIVER): (S.DELIVERED, frozenset({Party.PROVIDER})),
    (S.DELIVERED, A.REQUEST_CHANGES): (S.IN_PROGRESS, frozenset({Party.SELLER})),
    (S.DELIVERED, A.COMPLETE): (S.COMPLETED, frozenset({Party.SELLER})),
    (S.IN_PROGRESS, A.CANCEL): (S.CANCELLED, frozenset(Party)),
    (S.DELIVERED, A.CANCEL): (S.CANCELLED, frozenset({Party.STAFF})),
    (S.IN_PROGRESS, A.OPEN_DISPUTE): (S.DISPUTED, frozenset({Party.SELLER, Party.PROVIDER})),
    (S.DELIVERED, A.OPEN_DISPUTE): (S.DISPUTED, frozenset({Party.SELLER, Party.PROVIDER})),
    (S.DISPUTED, A.RESOLVE_COMPLETED): (S.COMPLETED, frozenset({Party.STAFF})),
    (S.DISPUTED, A.RESOLVE_CANCELLED): (S.CANCELLED, frozenset({Party.STAFF})),
    (S.IN_PROGRESS, A.EXTEND): (S.IN_PROGRESS, frozenset({Party.SELLER})),
    (S.DELIVERED, A.EXTEND): (S.IN_PROGRESS, frozenset({Party.SELLER})),
}
REASON_REQUIRED = frozenset(
    {A.REQUEST_CHANGES, A.CANCEL, A.OPEN_DISPUTE, A.RESOLVE_CANCELLED, A.EXTEND}
)
OPEN = (S.IN_PROGRESS, S.DELIVERED, S.DISPUTED)


class InvalidOrderTransition(LinkStarError):
    code = "INVALID_TRANSITION"

    def __init__(self, state: S, action: OrderAction) -> None:
        allowed_now = [a.value for (s, a) in TRANSITIONS if s is state]
        super().__init__(
            f"cannot {action.value} an order that is {state.value}",
            details={"currentState": state.value, "allowedActions": allowed_now},
            suggestion="allowed now: " + (", ".join(allowed_now) or "nothing (final state)"),
        )


def party_of(viewer: Viewer, order: Order) -> Party | None:
    """In which capacity `viewer` acts on `order` (None: not a party)."""
    if viewer.is_staff and viewer.scopes is None:
        return Party.STAFF
    if viewer.account_id == order.seller_account_id and allowed(viewer, Action.ACT_AS_SELLER):
        return Party.SELLER
    if allowed(viewer, Action.ACT_FOR_OWN_PROVIDER, order.provider_id):
        return Party.PROVIDER
    return None


async def load_order(session: AsyncSession, viewer: Viewer, order_id: int) -> Order:
    """An order the viewer is a party to (or staff), else NotFound."""
    order = await session.get(Order, order_id)
    if order is None or party_of(viewer, order) is None:
        raise NotFound("no such order")
    return order


async def transition(
    session: AsyncSession,
    registry: Registry,
    viewer: Viewer,
    order: Order,
    action: OrderAction,
    *,
    reason: str | None = None,
    rating: int | None = None,
    blame: Blame | None = None,
) -> Order:
    """Apply `action` to `order` if the table allows it for the viewer's party."""
    party = party_of(viewer, order)
    step = TRANSITIONS.get((order.status, action))
    if step is None:
        raise InvalidOrderTransition(order.status, action)
    target, parties = step
    if party not in parties:
        raise InvalidInput(
            f"the {party.value.lower() if party else 'viewer'} may not {action.value} an order",
            code="FORBIDDEN",
        )
    reason = (reason or "").strip() or None
    if action in REASON_REQUIRED and reason is None:
        raise InvalidInput(f"say why ({action.value} needs a reason)")
    changes: dict[str, object] = {"status": target}
    now = utcnow()
    if action is A.DELIVER:
        open_milestones = await session.scalar(
            select(func.count()).where(
                OrderMilestone.order_id == order.id, OrderMilestone.delivered_at.is_(None)
            )
        )
        if open_milestones:
            raise InvalidInput(
                f"{open_milestones} milestones are not delivered yet",
                suggestion="deliver every milestone first",
            )
    if action in (A.COMPLETE, A.RESOLVE_COMPLETED):
        if action is A.COMPLETE and (rating is None or not 1 <= rating <= 5):
            raise InvalidInput("rate the work from 1 to 5 stars")
        changes.update(rating=rating, closed_at=now)
    if target is S.CANCELLED:
        if party is Party.STAFF:
            if blame is None:
                raise InvalidInput("say who is to blame for the cancellation")
        else:
            blame = Blame.SELLER if party is Party.SELLER else Blame.PROVIDER
        changes.update(blame=blame, closed_at=now)
    await claim(
        session,
        Order,
        order.id,
        {"status": order.status, "version": order.version},
        {**changes, "version": order.version + 1},
        "the order",
    )
    event(
        session,
        f"order.{action.value.lower()}",
        order,
        viewer,
        provider_id=order.provider_id,
        status=target.value,
        reason=reason,
        rating=rating,
        blame=blame.value if blame else None,
    )
    await _observe_step(session, registry, order, action, target, now, rating, blame)
    if target is S.COMPLETED:
        await take_commission(session, registry, order, now)
    if target is S.CANCELLED:
        await billing_orders.refund_order(
            session, _money_party(order), f"order cancelled: {reason}", order.price_currency
        )
    return order


async def _observe_step(
    session: AsyncSession,
    registry: Registry,
    order: Order,
    action: OrderAction,
    target: S,
    now: datetime,
    rating: int | None,
    blame: Blame | None,
) -> None:
    """The KPI signals of a transition: a closed order (with its rating, whether the seller
    complained), an extension (a renewal)."""
    if action is A.EXTEND:
        facts = OrderFacts(
            OrderEventKind.ORDER_EXTENDED, now, order_id=order.id, repeat_customer=True
        )
    elif target is S.COMPLETED:
        facts = OrderFacts(
            OrderEventKind.ORDER_COMPLETED,
            now,
            order_id=order.id,
            rating=rating,
            complained=await seller_complained(session, order),
        )
    elif target is S.CANCELLED:
        facts = OrderFacts(
            OrderEventKind.ORDER_CANCELLED,
            now,
            order_id=order.id,
            blame=blame,
            complained=await seller_complained(session, order),
        )
    else:
        return
    await observe(session, registry, order, facts)


async def seller_complained(session: AsyncSession, order: Order) -> bool:
    """Whether the seller complained about `order`: a COMPLAINT ticket, or a dispute it opened."""
    ticket = await session.scalar(
        select(func.count()).where(
            SellerTicket.order_id == order.id, SellerTicket.kind == TicketKind.COMPLAINT
        )
    )
    dispute = await session.scalar(
        select(func.count()).where(
            DomainEvent.subject_type == "Order",
            DomainEvent.subject_id == order.id,
            DomainEvent.event_type == "order.open_dispute",
            DomainEvent.actor_account_id == order.seller_account_id,
        )
    )
    return bool(ticket or dispute)


async def add_milestone(
    session: AsyncSession, viewer: Viewer, order: Order, title: str, due_at: datetime
) -> OrderMilestone:
    """A task with a due date, planned by either party while the order is in progress."""
    if party_of(viewer, order) not in (Party.SELLER, Party.PROVIDER, Party.STAFF):
        raise NotFound("no such order")
    if order.status is not S.IN_PROGRESS:
        raise InvalidOrderTransition(order.status, A.DELIVER)
    if not title.strip() or len(title.strip()) > 200:
        raise InvalidInput("name the milestone (1-200 characters)")
    if due_at.tzinfo is None:
        raise InvalidInput("dueAt needs a time zone")
    milestone = OrderMilestone(order_id=order.id, title=title.strip(), due_at=due_at)
    session.add(milestone)
    await session.flush()
    event(
        session,
        "order.milestone_added",
        order,
        viewer,
        provider_id=order.provider_id,
        milestone=milestone.id,
        title=milestone.title,
        dueAt=due_at.isoformat(),
    )
    return milestone


async def deliver_milestone(
    session: AsyncSession,
    registry: Registry,
    viewer: Viewer,
    milestone_id: int,
    note: str,
    delivered_at: datetime | None = None,
) -> OrderMilestone:
    """The provider delivers a milestone (once); on time or late is measured against its due
    date. `delivered_at` is for staff back-filling a delivery recorded elsewhere."""
    milestone = await session.get(OrderMilestone, milestone_id)
    order = None if milestone is None else await session.get(Order, milestone.order_id)
    if milestone is None or order is None or party_of(viewer, order) is None:
        raise NotFound("no such milestone")
    if party_of(viewer, order) is not Party.PROVIDER:
        raise InvalidInput("only the provider delivers", code="FORBIDDEN")
    if order.status is not S.IN_PROGRESS:
        raise InvalidOrderTransition(order.status, A.DELIVER)
    if not note.strip():
        raise InvalidInput("describe what you deliver (keep the evidence)")
    now = delivered_at or utcnow()
    await claim(
        session,
        OrderMilestone,
        milestone.id,
        {"delivered_at": None},
        {"delivered_at": now, "delivery_note": note.strip()},
        "the milestone",
    )
    event(
        session,
        "order.milestone_delivered",
        order,
        viewer,
        provider_id=order.provider_id,
        milestone=milestone.id,
        late=now > milestone.due_at,
    )
    await observe(
        session,
        registry,
        order,
        OrderFacts(
            OrderEventKind.MILESTONE_DELIVERED,
            now,
            order_id=order.id,
            milestone_id=milestone.id,
            due_at=milestone.due_at,
            delivered_at=now,
        ),
    )
    return milestone


async def accept_milestone(
    session: AsyncSession, viewer: Viewer, milestone_id: int
) -> OrderMilestone:
    """The seller accepts a delivered milestone."""
    milestone = await session.get(OrderMilestone, milestone_id)
    order = None if milestone is None else await session.get(Order, milestone.order_id)
    if milestone is None or order is None or party_of(viewer, order) is None:
        raise NotFound("no such milestone")
    if party_of(viewer, order) is not Party.SELLER:
        raise InvalidInput("only the seller accepts a delivery", code="FORBIDDEN")
    if milestone.delivered_at is None:
        raise InvalidInput("the milestone is not delivered yet", code="INVALID_TRANSITION")
    await claim(
        session,
        OrderMilestone,
        milestone.id,
        {"accepted_at": None},
        {"accepted_at": utcnow()},
        "the milestone",
    )
    event(
        session,
        "order.milestone_accepted",
        order,
        viewer,
        provider_id=order.provider_id,
        milestone=milestone.id,
    )
    return milestone


async def observe(
    session: AsyncSession, registry: Registry, order: Order, facts: OrderFacts
) -> int:
    """Store the platform-sourced observations the category's rules make of `facts`.

    Idempotent on the event (the key names the order, the event and its object), with
    lineage to the order; nothing when the provider no longer holds the category. Events of
    an order the seller cancelled are not attributable to the provider.
    """
    return await observe_for(
        session,
        registry,
        order.provider_id,
        order.category_key,
        facts,
        attributable=not (order.blame is Blame.SELLER or facts.blame is Blame.SELLER),
    )


async def observe_for(
    session: AsyncSession,
    registry: Registry,
    provider_id: int,
    category_key: str,
    facts: OrderFacts,
    *,
    attributable: bool = True,
) -> int:
    """`observe()` for an event of the provider in a category, with or without an order (an
    offer answered, a ticket answered). Observations for a metric period already closed are
    skipped: they could no longer count."""
    contribution = registry.category(category_key)
    rules = [r for r in contribution.order_observations if r.event is facts.kind]
    if not rules:
        return 0
    held = await session.scalar(
        select(func.count()).where(
            Application.provider_id == provider_id,
            Application.category_key == category_key,
            Application.status.in_((ApplicationStatus.PROBATION, ApplicationStatus.ACTIVE)),
        )
    )
    if not held:
        return 0
    subject, part = facts.lineage()
    metrics = {m.key: m for m in contribution.metrics}
    grace = timedelta(days=contribution.scoring.reporting_grace_days)
    now = utcnow()
    records = []
    for rule in rules:
        value = rule.value(facts)
        if value is None:
            continue
        window = metrics[rule.metric].window
        if period_containing(facts.occurred_at, window.period, window.timezone).end + grace <= now:
            continue  # the metric's period is closed (a late sales snapshot): nothing to add
        records.append(
            ObservationRecord(
                category=category_key,
                metric=rule.metric,
                subject_ref=subject,
                observed_at=facts.occurred_at,
                value=str(value),
                idempotency_key=f"platform:{subject}:{part}:{rule.metric}",
                evidence_ref=f"{subject}/{part}",
                not_attributable_reason=None if attributable else "the seller cancelled the order",
            )
        )
    if not records:
        return 0
    platform = Viewer(label="platform:orders")
    result = await report(
        session, registry, platform, provider_id, records, ObservationSource.PLATFORM
    )
    return result.accepted


async def flag_for_reassignment(
    session: AsyncSession, provider_ids: Sequence[int], category_key: str
) -> int:
    """Mark the open orders of terminated providers so staff (and sellers) can move them."""
    if not provider_ids:
        return 0
    orders = (
        await session.scalars(
            select(Order).where(
                Order.provider_id.in_(provider_ids),
                Order.category_key == category_key,
                Order.status.in_(OPEN),
                Order.needs_reassignment.is_(False),
            )
        )
    ).all()
    for order in orders:
        order.needs_reassignment = True
        event(
            session,
            "order.needs_reassignment",
            order,
            "platform:standing",
            provider_id=order.provider_id,
        )
    return len(orders)


@membership_terminated.connect
async def reassign_on_termination(
    session: AsyncSession, *, provider_id: int, categories: Sequence[str]
) -> None:
    """At the moment a termination ends a membership (in its transaction), flag the
    provider's open orders in those categories for reassignment."""
    for category_key in categories:
        await flag_for_reassignment(session, [provider_id], category_key)


async def take_commission(
    session: AsyncSession, registry: Registry, order: Order, completed_at: datetime
) -> None:
    """Post the completed order's money: the category's commission for the provider's region
    and tier at this moment (recorded with the rules that set it), the rest payable to the
    provider. The seller's payment is held in SELLER_PAYMENTS_HELD when it is recorded."""
    provider = await session.get(Provider, order.provider_id)
    tier = (
        (
            await session.execute(
                select(Application.tier)
                .where(
                    Application.provider_id == order.provider_id,
                    Application.category_key == order.category_key,
                )
                .order_by(Application.id.desc())
            )
        )
        .scalars()
        .first()
    )
    if provider is None or tier is None:
        return
    rate = billing_orders.commission_rate(
        order.category_key, registry.category(order.category_key).fee_rules, provider.region, tier
    )
    await billing_orders.complete_order(
        session,
        _money_party(order),
        Money(order.price_amount, order.price_currency),
        rate,
        tier,
        completed_at,
    )


def _money_party(order: Order) -> billing_orders.OrderParty:
    return billing_orders.OrderParty(
        order.id, order.provider_id, order.seller_account_id, order.category_key
    )
