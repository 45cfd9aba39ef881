"""Dispatch (派单): which providers may get a request, who gets it, and what happens next.

Eligibility and the first ranking are one set-based query over the category's memberships;
the top candidates' exact score parts are recomputed in Decimal for the explanation. Every
decision on a shared row is a conditional update (`claim`); accepting an offer takes turns per
provider and category, so concurrent accepts never exceed the provider's capacity.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Float,
    Select,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.charges import deposit_satisfied
from linkstar.core.identity.policy import Action, Viewer, require
from linkstar.core.kernel.db import claim, take_turns, utcnow
from linkstar.core.kernel.errors import InvalidInput, LinkStarError, NotFound
from linkstar.core.kernel.vocabulary import ApplicationStatus, Tier
from linkstar.core.kpi.public import latest_composites
from linkstar.core.marketplace.models import Offer, Order, ProviderCapacity, ServiceRequest
from linkstar.core.marketplace.orders import flag_for_reassignment, observe, observe_for
from linkstar.core.marketplace.policy import DispatchPolicy
from linkstar.core.marketplace.requests import event
from linkstar.core.marketplace.signals import OrderEventKind, OrderFacts
from linkstar.core.marketplace.vocabulary import OfferStatus, OrderStatus, RequestStatus
from linkstar.core.onboarding.models import Application
from linkstar.core.providers.models import Provider, ProviderMarketplace
from linkstar.core.standing.public import intake_blocked, terminated

if TYPE_CHECKING:
    from linkstar.core.contract.registry import CategoryContribution, Registry

OPEN_ORDER = (OrderStatus.IN_PROGRESS, OrderStatus.DELIVERED, OrderStatus.DISPUTED)
CENT = Decimal("0.01")


class CapacityFull(LinkStarError):
    """The provider holds as many open orders as it (or the category) allows."""

    code = "CAPACITY_FULL"


class OfferClosed(LinkStarError):
    """The offer was already answered, expired or withdrawn."""

    code = "INVALID_TRANSITION"


@dataclass(frozen=True)
class Candidate:
    """An eligible provider and the parts of its dispatch score."""

    provider_id: int
    tier: str
    on_probation: bool
    composite: str | None
    open_orders: int
    capacity: int
    kpi: str
    tier_weight: str
    load: str
    score: str
    newcomer: bool = False  # unrated or on probation: where exploration draws from


def _open_orders(category_key: str) -> Any:
    return (
        select(Order.provider_id, func.count().label("n"))
        .where(Order.category_key == category_key, Order.status.in_(OPEN_ORDER))
        .group_by(Order.provider_id)
        .subquery("open_orders")
    )


def _offers_out(category_key: str) -> Any:
    """Per provider: pending offers (they reserve capacity) and pilot offers used or pending."""
    pending = Offer.status == OfferStatus.PENDING
    pilot_used = Offer.pilot & Offer.status.in_((OfferStatus.PENDING, OfferStatus.ACCEPTED))
    return (
        select(
            Offer.provider_id,
            func.sum(case((pending, 1), else_=0)).label("pending"),
            func.sum(case((pilot_used, 1), else_=0)).label("pilot_used"),
        )
        .where(Offer.category_key == category_key)
        .group_by(Offer.provider_id)
        .subquery("offers_out")
    )


def eligibility_query(
    request: ServiceRequest, policy: DispatchPolicy, *, newcomers: bool = False
) -> Select[Any]:
    """Every eligible provider for `request`, best pre-score first, as one query.

    Eligible: ACTIVE in the category, or on PROBATION with pilot quota left; not blocked by a
    sanction (restricted intake, termination); open orders plus pending offers below its
    capacity (its declaration, capped by the category's); serves one of the marketplaces and,
    when the request names regions, is based in one; meets the category's match rule; not
    excluded by the seller; never offered this request before; its deposit paid where the
    category requires it before the pool. `newcomers`: only those without
    a scorecard or on probation.
    """
    app = Application
    category = request.category_key
    opened = _open_orders(category)
    out = _offers_out(category)
    composites = latest_composites(category)
    ceiling = policy.max_open_orders
    declared = func.coalesce(ProviderCapacity.max_open_orders, ceiling)
    capacity = case((declared < ceiling, declared), else_=ceiling)
    load = func.coalesce(opened.c.n, 0) + func.coalesce(out.c.pending, 0)
    composite = func.coalesce(
        composites.c.composite_hundredths, int(policy.unrated_composite * 100)
    )
    tier_weight = case(
        *((app.tier == tier, literal(float(w))) for tier, w in policy.tier_weights.items()),
        else_=literal(0.0),
    )
    score = (
        literal(float(policy.kpi_weight)) * cast(composite, Float) / 10000.0
        + tier_weight
        + literal(float(policy.load_weight)) * cast(capacity - load, Float) / cast(capacity, Float)
    )
    conditions: list[Any] = [
        app.category_key == category,
        or_(
            app.status == ApplicationStatus.ACTIVE,
            and_(
                app.status == ApplicationStatus.PROBATION,
                func.coalesce(out.c.pilot_used, 0) < func.coalesce(app.pilot_order_quota, 0),
            ),
        ),
        app.provider_id.not_in(intake_blocked(category)),
        deposit_satisfied(app.provider_id, category),
        load < capacity,
        exists().where(
            ProviderMarketplace.provider_id == app.provider_id,
            ProviderMarketplace.marketplace.in_(request.marketplaces),
        ),
        ~exists().where(Offer.request_id == request.id, Offer.provider_id == app.provider_id),
    ]
    if request.regions:
        conditions.append(
            exists().where(Provider.id == app.provider_id, Provider.region.in_(request.regions))
        )
    if request.excluded_provider_ids:
        conditions.append(app.provider_id.not_in(request.excluded_provider_ids))
    if request.direct_provider_id is not None:
        conditions.append(app.provider_id == request.direct_provider_id)
    if newcomers:
        conditions.append(
            or_(
                composites.c.composite_hundredths.is_(None),
                app.status == ApplicationStatus.PROBATION,
            )
        )
    if policy.match is not None:
        rule = policy.match(request.requirements, app.provider_id)
        if rule is not None:
            conditions.append(rule)
    return (
        select(
            app.provider_id,
            app.tier,
            app.status,
            type_coerce(composites.c.composite_hundredths, BigInteger),
            func.coalesce(opened.c.n, 0),
            func.coalesce(out.c.pending, 0),
            capacity,
        )
        .select_from(app)
        .outerjoin(
            ProviderCapacity,
            and_(
                ProviderCapacity.provider_id == app.provider_id,
                ProviderCapacity.category_key == category,
            ),
        )
        .outerjoin(opened, opened.c.provider_id == app.provider_id)
        .outerjoin(out, out.c.provider_id == app.provider_id)
        .outerjoin(composites, composites.c.provider_id == app.provider_id)
        .where(*conditions)
        .order_by(score.desc(), app.provider_id)
    )


def score_parts(
    policy: DispatchPolicy,
    tier: Tier,
    composite: Decimal | None,
    load: int,
    capacity: int,
) -> tuple[Decimal, Decimal, Decimal]:
    """The exact (kpi, tier, load) parts of a candidate's score."""
    rated = policy.unrated_composite if composite is None else composite
    kpi = (policy.kpi_weight * rated / 100).quantize(CENT)
    load_part = (policy.load_weight * Decimal(capacity - load) / Decimal(capacity)).quantize(CENT)
    return kpi, policy.tier_weights[tier].quantize(CENT), load_part


async def candidates(
    session: AsyncSession, request: ServiceRequest, policy: DispatchPolicy
) -> list[Candidate]:
    """The `top_k` eligible providers, best first, with their score parts; when the policy
    explores, also the `top_k` best newcomers (unrated or on probation), marked as such."""
    rows = list(
        (await session.execute(eligibility_query(request, policy).limit(policy.top_k))).all()
    )
    newcomer_ids: set[int] = set()
    if policy.exploration_share > 0:
        extra = (
            await session.execute(
                eligibility_query(request, policy, newcomers=True).limit(policy.top_k)
            )
        ).all()
        newcomer_ids = {row[0] for row in extra}
        seen = {row[0] for row in rows}
        rows.extend(row for row in extra if row[0] not in seen)
    found = []
    for provider_id, tier, status, hundredths, open_orders, pending, capacity in rows:
        tier = Tier(tier)
        composite = None if hundredths is None else Decimal(int(hundredths)) / 100
        load = int(open_orders) + int(pending)
        kpi, tier_part, load_part = score_parts(policy, tier, composite, load, int(capacity))
        found.append(
            Candidate(
                provider_id=provider_id,
                tier=tier.value,
                on_probation=ApplicationStatus(status) is ApplicationStatus.PROBATION,
                composite=None if composite is None else str(composite),
                open_orders=load,
                capacity=int(capacity),
                kpi=str(kpi),
                tier_weight=str(tier_part),
                load=str(load_part),
                score=str(kpi + tier_part + load_part),
                newcomer=provider_id in newcomer_ids,
            )
        )
    found.sort(key=lambda c: (-Decimal(c.score), c.provider_id))
    return found


def choose(
    found: list[Candidate], policy: DispatchPolicy, seed: int, round_: int
) -> tuple[Candidate, str]:
    """The candidate to offer to and how it was chosen (BEST or EXPLORATION), reproducibly.

    Exploration draws among the newcomers when there are any (so new and probation providers
    get a share of the orders however large the pool), else among all candidates, weighted by
    score.
    """
    rng = random.Random(f"{seed}:{round_}")
    if len(found) > 1 and Decimal(str(rng.random())) < policy.exploration_share:
        pool = [c for c in found if c.newcomer] or found
        weights = [float(Decimal(c.score)) + 1.0 for c in pool]
        return rng.choices(pool, weights=weights, k=1)[0], "EXPLORATION"
    return found[0], "BEST"


async def dispatch_next(
    session: AsyncSession, request: ServiceRequest, contribution: CategoryContribution, actor: str
) -> Offer | None:
    """Offer an OPEN request to the next provider, or mark it UNMATCHED when none is left."""
    policy = contribution.dispatch
    found = await candidates(session, request, policy)
    rounds = request.rounds
    if not found:
        await claim(
            session,
            ServiceRequest,
            request.id,
            {"status": RequestStatus.OPEN, "rounds": rounds},
            {"status": RequestStatus.UNMATCHED},
            "the service request",
        )
        event(session, "request.unmatched", request, actor, rounds=rounds)
        return None
    chosen, how = choose(found, policy, request.seed, rounds)
    await claim(
        session,
        ServiceRequest,
        request.id,
        {"status": RequestStatus.OPEN, "rounds": rounds},
        {"status": RequestStatus.OFFERED, "rounds": rounds + 1},
        "the service request",
    )
    now = utcnow()
    offer = Offer(
        request_id=request.id,
        provider_id=chosen.provider_id,
        category_key=request.category_key,
        round=rounds + 1,
        status=OfferStatus.PENDING,
        pilot=chosen.on_probation,
        offered_at=now,
        respond_by=now + policy.response_deadline,
        explanation={
            "chosenBy": how,
            "chosen": asdict(chosen),
            "candidates": [asdict(c) for c in found],
            "policy": {
                "kpiWeight": str(policy.kpi_weight),
                "tierWeights": {t.value: str(w) for t, w in policy.tier_weights.items()},
                "loadWeight": str(policy.load_weight),
                "unratedComposite": str(policy.unrated_composite),
                "explorationShare": str(policy.exploration_share),
                "topK": policy.top_k,
            },
        },
    )
    session.add(offer)
    await session.flush()
    event(
        session,
        "request.offered",
        request,
        actor,
        provider_id=chosen.provider_id,
        offer=offer.id,
        round=offer.round,
        chosenBy=how,
    )
    return offer


async def dispatch(
    session: AsyncSession, request: ServiceRequest, contribution: CategoryContribution, actor: str
) -> Offer | None:
    """Dispatch an OPEN or UNMATCHED request (UNMATCHED is retried from the start of the list)."""
    if request.status is RequestStatus.UNMATCHED:
        await claim(
            session,
            ServiceRequest,
            request.id,
            {"status": RequestStatus.UNMATCHED},
            {"status": RequestStatus.OPEN},
            "the service request",
        )
    if request.status is not RequestStatus.OPEN:
        raise InvalidInput(
            f"the request is {request.status.value}, not waiting for an offer",
            code="INVALID_TRANSITION",
        )
    return await dispatch_next(session, request, contribution, actor)


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
    return order


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
    await _move_on(session, registry, offer, viewer.label, "offer.declined", reason=reason.strip())
    return offer


async def _move_on(
    session: AsyncSession,
    registry: Registry,
    offer: Offer,
    actor: str,
    event_type: str,
    **payload: Any,
) -> None:
    request = await session.get(ServiceRequest, offer.request_id)
    assert request is not None
    event(
        session,
        event_type,
        request,
        actor,
        provider_id=offer.provider_id,
        offer=offer.id,
        **payload,
    )
    await claim(
        session,
        ServiceRequest,
        request.id,
        {"status": RequestStatus.OFFERED},
        {"status": RequestStatus.OPEN},
        "the service request",
    )
    await dispatch_next(session, request, registry.category(request.category_key), actor)


async def expire_due(
    session: AsyncSession, registry: Registry, now: datetime | None = None, limit: int = 100
) -> int:
    """Expire offers past their deadline and move each request on; returns how many.

    Safe with several processes: PostgreSQL locks the due offers with SKIP LOCKED, so two
    runs share the work instead of doing it twice; SQLite runs one writer at a time. Each
    offer is expired by a conditional update, so an offer is never expired (nor its request
    re-offered) twice, and a request is never left without an answer. The same sweep flags
    the open orders of providers whose cooperation was terminated for reassignment.
    """
    now = now or utcnow()
    due = (
        select(Offer)
        .where(Offer.status == OfferStatus.PENDING, Offer.respond_by <= now)
        .order_by(Offer.respond_by, Offer.id)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    else:
        await take_turns(session, Offer, "offers:expiry")
    offers = list((await session.execute(due)).scalars())
    for offer in offers:
        await claim(
            session,
            Offer,
            offer.id,
            {"status": OfferStatus.PENDING},
            {"status": OfferStatus.EXPIRED, "responded_at": now},
            "the offer",
        )
        await _move_on(session, registry, offer, "system:expiry", "offer.expired")
    for key in registry.categories:
        ended = (await session.scalars(terminated(key))).all()
        await flag_for_reassignment(session, ended, key)
    return len(offers)
