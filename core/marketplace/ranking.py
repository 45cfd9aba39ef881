"""Who may get a request and in which order: eligibility and ranking as one set-based query.

The query builds every eligible provider with its pre-score once (a common table expression)
and takes from it the `top_k` best and, when the policy explores, the `top_k` best newcomers,
in one round trip. The composite is read from the evaluation's current composite per provider
(one row each), not ranked out of every scorecard. The chosen few's exact score parts are then
recomputed in Decimal for the explanation, and `choose()` picks one, reproducibly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.deposits import deposit_satisfied
from linkstar.core.kernel.vocabulary import ApplicationStatus, Tier
from linkstar.core.kpi.public import latest_composites
from linkstar.core.marketplace.models import Offer, Order, ProviderCapacity, ServiceRequest
from linkstar.core.marketplace.policy import DispatchPolicy
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


def eligibility_query(request: ServiceRequest, policy: DispatchPolicy) -> Select[Any]:
    """Every eligible provider for `request` with its pre-score and newcomer flag, unordered.

    Eligible: ACTIVE in the category, or on PROBATION with pilot quota left; not blocked by a
    sanction (restricted intake, termination); open orders plus pending offers below its
    capacity (its declaration, capped by the category's); serves one of the marketplaces and,
    when the request names regions, is based in one; meets the category's match rule; not
    excluded by the seller; never offered this request before; its deposit paid where the
    category requires it before the pool. A newcomer has no composite yet
    or is on probation.
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
    newcomer = case(
        (
            or_(
                composites.c.composite_hundredths.is_(None),
                app.status == ApplicationStatus.PROBATION,
            ),
            1,
        ),
        else_=0,
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
        # computed once (a hashed subplan), not probed per provider
        app.provider_id.not_in(select(Offer.provider_id).where(Offer.request_id == request.id)),
    ]
    if request.regions:
        conditions.append(
            exists().where(Provider.id == app.provider_id, Provider.region.in_(request.regions))
        )
    if request.excluded_provider_ids:
        conditions.append(app.provider_id.not_in(request.excluded_provider_ids))
    if request.direct_provider_id is not None:
        conditions.append(app.provider_id == request.direct_provider_id)
    if policy.match is not None:
        rule = policy.match(request.requirements, app.provider_id)
        if rule is not None:
            conditions.append(rule)
    return (
        select(
            app.provider_id.label("provider_id"),
            app.tier.label("tier"),
            app.status.label("status"),
            type_coerce(composites.c.composite_hundredths, BigInteger).label("hundredths"),
            func.coalesce(opened.c.n, 0).label("open_orders"),
            func.coalesce(out.c.pending, 0).label("pending"),
            capacity.label("capacity"),
            score.label("score"),
            newcomer.label("newcomer"),
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
    )


def ranking_query(request: ServiceRequest, policy: DispatchPolicy) -> Select[Any]:
    """The `top_k` best eligible providers, and (when the policy explores) the `top_k` best
    newcomers, from one evaluation of the eligibility query, best pre-score first."""
    eligible = eligibility_query(request, policy).cte("eligible")
    order = (eligible.c.score.desc(), eligible.c.provider_id)
    best = select(eligible).order_by(*order).limit(policy.top_k)
    if policy.exploration_share <= 0:
        return best
    fresh = select(eligible).where(eligible.c.newcomer == 1).order_by(*order).limit(policy.top_k)
    both = union_all(select(best.subquery("best")), select(fresh.subquery("fresh"))).subquery(
        "ranked"
    )
    return select(both)


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
    rows = (await session.execute(ranking_query(request, policy))).all()
    found: dict[int, Candidate] = {}
    for row in rows:
        if row.provider_id in found:
            continue  # a newcomer among the overall best comes back twice
        tier = Tier(row.tier)
        composite = None if row.hundredths is None else Decimal(int(row.hundredths)) / 100
        load = int(row.open_orders) + int(row.pending)
        kpi, tier_part, load_part = score_parts(policy, tier, composite, load, int(row.capacity))
        found[row.provider_id] = Candidate(
            provider_id=row.provider_id,
            tier=tier.value,
            on_probation=ApplicationStatus(row.status) is ApplicationStatus.PROBATION,
            composite=None if composite is None else str(composite),
            open_orders=load,
            capacity=int(row.capacity),
            kpi=str(kpi),
            tier_weight=str(tier_part),
            load=str(load_part),
            score=str(kpi + tier_part + load_part),
            newcomer=bool(row.newcomer) and policy.exploration_share > 0,
        )
    return sorted(found.values(), key=lambda c: (-Decimal(c.score), c.provider_id))


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
