"""Who may get a request and in which order: eligibility and ranking, set-based, top-k in SQL.

Dispatch walks the category's pool best-first along a stored index (`dispatch_ranks`: the KPI
and tier parts of the score, kept current by `ranks.py`), checks each visited provider's
eligibility and live load with index probes, and stops after a few rows: the load part is at
most the policy's `load_weight`, so once the stored part of the next row plus that bound falls
below the k-th best full score, no unvisited provider can enter the top k (`_best`). One round
trip per list in the usual case (best, and newcomers when the policy explores), whatever the
size of the pool. The visited few's exact score parts are computed in Decimal for the
explanation, and `choose()` picks one, reproducibly. `eligibility_query` is the same rules over
the whole pool at once, for explanations and as the benchmark's reference.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.deposits import deposit_satisfied
from linkstar.core.kernel.vocabulary import ApplicationStatus, Tier
from linkstar.core.kpi.public import latest_composites
from linkstar.core.marketplace.models import (
    DispatchRank,
    Offer,
    Order,
    ProviderCapacity,
    ServiceRequest,
)
from linkstar.core.marketplace.policy import DispatchPolicy
from linkstar.core.marketplace.ranks import ensure_current
from linkstar.core.marketplace.vocabulary import OfferStatus, OrderStatus
from linkstar.core.onboarding.models import Application
from linkstar.core.providers.models import Provider, ProviderMarketplace
from linkstar.core.standing.public import intake_blocked

OPEN_ORDER = (OrderStatus.IN_PROGRESS, OrderStatus.DELIVERED, OrderStatus.DISPUTED)
CENT = Decimal("0.01")


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
    rotation: bool = False  # found from the random place in the ranking where rotation draws


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


@dataclass(frozen=True)
class RequestShape:
    """What of a request changes the walk's SQL text (its values are bound parameters), so a
    category's walks reuse a few statements: compiled once, and prepared by the driver."""

    category_key: str
    regions: bool
    excluded: bool
    direct: bool
    walk: str  # BEST, NEWCOMERS (best newcomers first) or ROTATION (from a place in the ranking)


def _shape(request: ServiceRequest, walk: str) -> RequestShape:
    return RequestShape(
        request.category_key,
        bool(request.regions),
        bool(request.excluded_provider_ids),
        request.direct_provider_id is not None,
        walk,
    )


def request_values(request: ServiceRequest, limit: int, place: float = 0.0) -> dict[str, Any]:
    return {
        "place": place,
        "request_id": request.id,
        "marketplaces": list(request.marketplaces),
        "regions": list(request.regions or ()),
        "excluded": list(request.excluded_provider_ids or ()),
        "direct": request.direct_provider_id,
        "limit": limit,
    }


def _eligibility_rules(
    shape: RequestShape,
    load: Any,
    capacity: Any,
    pilot_used: Any,
) -> list[tuple[str, Any]]:
    """The eligibility rules over `Application` rows, each with its name, given SQL for each
    one's load, capacity and pilot offers used, with the request's values as bound parameters
    (`request_values`); the category's match rule is added by `pool`. The names are those
    `exclusions.why_not` reports."""
    app = Application
    category = shape.category_key
    rules: list[tuple[str, Any]] = [
        ("CATEGORY", app.category_key == category),
        (
            "STATUS",
            or_(
                app.status == ApplicationStatus.ACTIVE,
                and_(
                    app.status == ApplicationStatus.PROBATION,
                    pilot_used < func.coalesce(app.pilot_order_quota, 0),
                ),
            ),
        ),
        ("SANCTIONED", app.provider_id.not_in(intake_blocked(category))),
        ("DEPOSIT_UNPAID", deposit_satisfied(app.provider_id, category)),
        ("AT_CAPACITY", load < capacity),
        (
            "MARKETPLACE",
            exists().where(
                ProviderMarketplace.provider_id == app.provider_id,
                ProviderMarketplace.marketplace.in_(bindparam("marketplaces", expanding=True)),
            ),
        ),
        # computed once (a hashed subplan), not probed per provider
        (
            "ALREADY_OFFERED",
            app.provider_id.not_in(
                select(Offer.provider_id).where(Offer.request_id == bindparam("request_id"))
            ),
        ),
    ]
    if shape.regions:
        rules.append(
            (
                "REGION",
                exists().where(
                    Provider.id == app.provider_id,
                    Provider.region.in_(bindparam("regions", expanding=True)),
                ),
            )
        )
    if shape.excluded:
        rules.append(
            ("EXCLUDED_BY_SELLER", app.provider_id.not_in(bindparam("excluded", expanding=True)))
        )
    if shape.direct:
        rules.append(("NOT_THE_DIRECT_PROVIDER", app.provider_id == bindparam("direct")))
    return rules


def _conditions(shape: RequestShape, load: Any, capacity: Any, pilot_used: Any) -> list[Any]:
    return [rule for _, rule in _eligibility_rules(shape, load, capacity, pilot_used)]


def _match(request: ServiceRequest, policy: DispatchPolicy, provider_id: Any) -> list[Any]:
    rule = None if policy.match is None else policy.match(request.requirements, provider_id)
    return [] if rule is None else [rule]


def _capacity(policy: DispatchPolicy) -> Any:
    ceiling = policy.max_open_orders
    declared = func.coalesce(ProviderCapacity.max_open_orders, ceiling)
    return case((declared < ceiling, declared), else_=ceiling)


def _with_capacity(from_: Any, category: str) -> Any:
    return from_.outerjoin(
        ProviderCapacity,
        and_(
            ProviderCapacity.provider_id == Application.provider_id,
            ProviderCapacity.category_key == category,
        ),
    )


@dataclass(frozen=True)
class Pool:
    """A category's memberships with what eligibility reads of each (capacity, open orders,
    offers out), and every named eligibility rule over them, the category's match rule
    included (as `CATEGORY_MATCH`)."""

    from_: Any
    rules: list[tuple[str, Any]]
    opened: Any
    out: Any
    capacity: Any


def pool(request: ServiceRequest, policy: DispatchPolicy) -> Pool:
    """The pool `request` is dispatched over, and the rules that decide who in it is eligible:
    the one definition behind `eligibility_query` and `exclusions.why_not`."""
    app = Application
    category = request.category_key
    opened = _open_orders(category)
    out = _offers_out(category)
    capacity = _capacity(policy)
    load = func.coalesce(opened.c.n, 0) + func.coalesce(out.c.pending, 0)
    shape = _shape(request, "BEST")
    rules = _eligibility_rules(shape, load, capacity, func.coalesce(out.c.pilot_used, 0))
    rules += [("CATEGORY_MATCH", rule) for rule in _match(request, policy, app.provider_id)]
    from_ = (
        _with_capacity(app.__table__, category)
        .outerjoin(opened, opened.c.provider_id == app.provider_id)
        .outerjoin(out, out.c.provider_id == app.provider_id)
    )
    return Pool(from_, rules, opened, out, capacity)


def eligibility_query(request: ServiceRequest, policy: DispatchPolicy) -> Select[Any]:
    """Every eligible provider for `request`, unordered: the whole pool at once (for staff's
    explanations and as the benchmark's reference; dispatch itself walks `walk_query`).

    Eligible: ACTIVE in the category, or on PROBATION with pilot quota left; not blocked by a
    sanction (restricted intake, termination); open orders plus pending offers below its
    capacity (its declaration, capped by the category's); serves one of the marketplaces and,
    when the request names regions, is based in one; meets the category's match rule; not
    excluded by the seller; never offered this request before; its deposit paid where the
    category requires it before the pool.
    """
    app = Application
    found = pool(request, policy)
    composites = latest_composites(request.category_key)
    return (
        select(
            app.provider_id.label("provider_id"),
            app.tier.label("tier"),
            app.status.label("status"),
            type_coerce(composites.c.composite_hundredths, BigInteger).label("hundredths"),
            func.coalesce(found.opened.c.n, 0).label("open_orders"),
            func.coalesce(found.out.c.pending, 0).label("pending"),
            found.capacity.label("capacity"),
        )
        .select_from(found.from_.outerjoin(composites, composites.c.provider_id == app.provider_id))
        .where(*(rule for _, rule in found.rules))
        .params(request_values(request, 0))
    )


_WALKS: dict[tuple[int, RequestShape], tuple[DispatchPolicy, Select[Any]]] = {}


def walk_query(
    request: ServiceRequest, policy: DispatchPolicy, limit: int, walk: str, place: float = 0.0
) -> Select[Any]:
    """The first `limit` eligible providers along the stored order (`dispatch_ranks.base`,
    best first), with their live load: an index walk that stops after `limit` rows, checking
    each visited row's eligibility and load with index probes (no per-candidate queries).
    `walk` BEST: all; NEWCOMERS: only newcomers; ROTATION: in ranking order from `place` (a
    fraction of the pool) on. The request's values are bound parameters, so the statement is
    built once per shape."""
    shape = _shape(request, walk)
    values = request_values(request, limit, place)
    match = _match(request, policy, DispatchRank.provider_id)
    if match:  # the rule's SQL depends on the request's requirements: built for this request
        return _walk(shape, policy, match).params(values)
    key = (id(policy), shape)
    cached = _WALKS.get(key)
    if cached is None or cached[0] is not policy:
        cached = _WALKS[key] = (policy, _walk(shape, policy, []))
    return cached[1].params(values)


def _walk(shape: RequestShape, policy: DispatchPolicy, match: list[Any]) -> Select[Any]:
    app = Application
    rank = DispatchRank
    category = shape.category_key
    composites = latest_composites(category)
    capacity = _capacity(policy)
    opened = (
        select(func.count())
        .where(
            Order.provider_id == app.provider_id,
            Order.category_key == category,
            Order.status.in_(OPEN_ORDER),
        )
        .scalar_subquery()
    )
    pending = (
        select(func.count())
        .where(
            Offer.provider_id == app.provider_id,
            Offer.category_key == category,
            Offer.status == OfferStatus.PENDING,
        )
        .scalar_subquery()
    )
    pilot_used = (
        select(func.count())
        .where(
            Offer.provider_id == app.provider_id,
            Offer.category_key == category,
            Offer.pilot.is_(True),
            Offer.status.in_((OfferStatus.PENDING, OfferStatus.ACCEPTED)),
        )
        .scalar_subquery()
    )
    conditions = _conditions(shape, opened + pending, capacity, pilot_used)
    # OFFSET 0 keeps PostgreSQL from turning the check into a join over the whole pool: it
    # stays a per-row probe on the rows the index walk visits, which stops after `limit`.
    eligible = (
        select(literal(1))
        .select_from(_with_capacity(app.__table__, category))
        .where(app.provider_id == rank.provider_id, *conditions)
        .correlate(rank)
        .offset(0)
    )
    walked = select(rank.provider_id, rank.base, rank.position).where(
        rank.category_key == category, exists(eligible), *match
    )
    if shape.walk == "NEWCOMERS":
        walked = walked.where(rank.newcomer.is_(True))
    if shape.walk == "ROTATION":
        size = select(func.max(rank.position)).where(rank.category_key == category)
        start = size.scalar_subquery() * bindparam("place", type_=Float)
        walked = walked.where(rank.position >= start)
    walk = walked.order_by(rank.position).limit(bindparam("limit")).subquery("walk")
    from_ = _with_capacity(
        walk.join(
            app.__table__,
            and_(app.provider_id == walk.c.provider_id, app.category_key == category),
        ),
        category,
    ).outerjoin(composites, composites.c.provider_id == app.provider_id)
    return (
        select(
            walk.c.base.label("base"),
            walk.c.provider_id.label("provider_id"),
            app.tier.label("tier"),
            app.status.label("status"),
            type_coerce(composites.c.composite_hundredths, BigInteger).label("hundredths"),
            opened.label("open_orders"),
            pending.label("pending"),
            capacity.label("capacity"),
        )
        .select_from(from_)
        .order_by(walk.c.position)
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


def candidate(policy: DispatchPolicy, row: Any, newcomer: bool) -> Candidate:
    """A row of `walk_query` or `eligibility_query` as a candidate with its exact score parts."""
    tier = Tier(row.tier)
    composite = None if row.hundredths is None else Decimal(int(row.hundredths)) / 100
    load = int(row.open_orders) + int(row.pending)
    kpi, tier_part, load_part = score_parts(policy, tier, composite, load, int(row.capacity))
    on_probation = ApplicationStatus(row.status) is ApplicationStatus.PROBATION
    return Candidate(
        provider_id=row.provider_id,
        tier=tier.value,
        on_probation=on_probation,
        composite=None if composite is None else str(composite),
        open_orders=load,
        capacity=int(row.capacity),
        kpi=str(kpi),
        tier_weight=str(tier_part),
        load=str(load_part),
        score=str(kpi + tier_part + load_part),
        newcomer=newcomer and (composite is None or on_probation),
    )


def _rank(found: list[Candidate]) -> list[Candidate]:
    return sorted(found, key=lambda c: (-Decimal(c.score), c.provider_id))


async def _best(
    session: AsyncSession, request: ServiceRequest, policy: DispatchPolicy, walk: str
) -> list[Candidate]:
    """The `top_k` best by full score, exactly: walk the stored order (KPI + tier), and walk
    further only while an unvisited provider could still beat the k-th best — its score is at
    most its stored part plus the whole load weight (an idle provider)."""
    newcomers = walk == "NEWCOMERS"
    limit = 2 * policy.top_k
    while True:
        rows = (await session.execute(walk_query(request, policy, limit, walk))).all()
        found = _rank([candidate(policy, row, newcomers) for row in rows])
        if len(rows) < limit:
            return found[: policy.top_k]
        kth = Decimal(found[policy.top_k - 1].score)
        # + 2 hundredths: the stored part is rounded once, the exact parts once each
        ceiling = (Decimal(int(rows[-1].base)) + 2) / 100 + policy.load_weight
        if ceiling < kth:
            return found[: policy.top_k]
        limit *= 4


def rotation_place(policy: DispatchPolicy, seed: int, round_: int) -> float:
    """Where in the ranking (a fraction of the pool, 0 = the best) a rotation draw starts."""
    u = random.Random(f"{seed}:{round_}:rotation").random()
    return float(u**policy.rotation_bias)


async def _rotation(
    session: AsyncSession, request: ServiceRequest, policy: DispatchPolicy
) -> list[Candidate]:
    """`top_k` eligible providers from the request's rotation place on, in ranking order;
    from the top when none is left below that place."""
    place = rotation_place(policy, request.seed, request.rounds)
    for start in (place, 0.0) if place > 0 else (0.0,):
        query = walk_query(request, policy, policy.top_k, "ROTATION", start)
        rows = (await session.execute(query)).all()
        if rows:
            return [replace(candidate(policy, row, False), rotation=True) for row in rows]
    return []


async def candidates(
    session: AsyncSession, request: ServiceRequest, policy: DispatchPolicy
) -> list[Candidate]:
    """The `top_k` eligible providers, best first, with their score parts; when the policy
    explores, also the `top_k` best newcomers (unrated or on probation), marked as such; when
    it rotates, also `top_k` from the request's rotation place in the ranking, marked."""
    await ensure_current(session, request.category_key, policy)
    found = {c.provider_id: c for c in await _best(session, request, policy, "BEST")}
    if policy.rotation_share > 0:
        for other in await _rotation(session, request, policy):
            known = found.get(other.provider_id)
            found[other.provider_id] = other if known is None else replace(known, rotation=True)
    if policy.exploration_share > 0:
        for fresh in await _best(session, request, policy, "NEWCOMERS"):
            known = found.get(fresh.provider_id)
            rotation = known is not None and known.rotation
            found[fresh.provider_id] = replace(fresh, rotation=rotation)
    return _rank(list(found.values()))


def choose(
    found: list[Candidate], policy: DispatchPolicy, seed: int, round_: int
) -> tuple[Candidate, str]:
    """The candidate to offer to and how it was chosen (BEST, EXPLORATION or ROTATION),
    reproducibly.

    Exploration draws among the newcomers when there are any (so new and probation providers
    get a share of the orders however large the pool), else among all candidates; rotation
    among the candidates found from the rotation place (so every eligible provider gets a
    share, better ones more), else it is the best; both weighted by score.
    """
    rng = random.Random(f"{seed}:{round_}")
    roll = Decimal(str(rng.random()))
    if len(found) > 1 and roll < policy.exploration_share:
        pool = [c for c in found if c.newcomer] or found
        weights = [float(Decimal(c.score)) + 1.0 for c in pool]
        return rng.choices(pool, weights=weights, k=1)[0], "EXPLORATION"
    rotating = [c for c in found if c.rotation]
    if len(found) > 1 and rotating and roll < policy.exploration_share + policy.rotation_share:
        weights = [float(Decimal(c.score)) + 1.0 for c in rotating]
        return rng.choices(rotating, weights=weights, k=1)[0], "ROTATION"
    return found[0], "BEST"
