"""Why a provider was or was not eligible for a request: the dispatch rules, one by one.

Dispatch itself only finds the eligible (`ranking`); staff asking "why did this provider get no
offer?" get each rule it failed, checked by the same SQL expressions, for that one provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.marketplace.models import ServiceRequest
from linkstar.core.marketplace.policy import DispatchPolicy
from linkstar.core.marketplace.ranking import (
    capacity_limit,
    eligibility_rules,
    match_rule,
    offers_out,
    open_orders,
    request_shape,
    request_values,
    with_capacity,
)
from linkstar.core.onboarding.models import Application

REASONS = {
    "CATEGORY": "does not hold the request's category",
    "STATUS": "not ACTIVE in the category, nor on PROBATION with pilot-order quota left",
    "SANCTIONED": "under a sanction that stops new orders (restricted intake or termination)",
    "DEPOSIT_UNPAID": "the category requires its deposit paid before the pool, and it is not",
    "AT_CAPACITY": "open orders and pending offers have reached its capacity",
    "MARKETPLACE": "serves none of the request's marketplaces",
    "ALREADY_OFFERED": "was offered this request already (declined, expired or pending)",
    "REGION": "is not based in one of the request's regions",
    "EXCLUDED_BY_SELLER": "the seller excluded it",
    "NOT_THE_DIRECT_PROVIDER": "the request was sent directly to another provider",
    "CATEGORY_MATCH": "does not meet the category's own match rule for the request's requirements",
}


@dataclass(frozen=True)
class Exclusion:
    """One dispatch rule a provider fails for a request."""

    rule: str
    reason: str


async def why_not(
    session: AsyncSession, request: ServiceRequest, policy: DispatchPolicy, provider_id: int
) -> list[Exclusion]:
    """Every rule `provider_id` fails for `request` now (empty: it is eligible)."""
    app = Application
    category = request.category_key
    opened = open_orders(category)
    out = offers_out(category)
    load = func.coalesce(opened.c.n, 0) + func.coalesce(out.c.pending, 0)
    rules = eligibility_rules(
        request_shape(request, "BEST"),
        load,
        capacity_limit(policy),
        func.coalesce(out.c.pilot_used, 0),
    )
    rules += [("CATEGORY_MATCH", rule) for rule in match_rule(request, policy, app.provider_id)]
    checks = [case((rule, literal(1)), else_=literal(0)).label(name) for name, rule in rules]
    from_ = (
        with_capacity(app.__table__, category)
        .outerjoin(opened, opened.c.provider_id == app.provider_id)
        .outerjoin(out, out.c.provider_id == app.provider_id)
    )
    rows = (
        await session.execute(
            select(*checks)
            .select_from(from_)
            .where(and_(app.provider_id == provider_id, app.category_key == category))
            .params(request_values(request, 0))
        )
    ).all()
    if not rows:
        return [Exclusion("CATEGORY", REASONS["CATEGORY"])]
    # several applications to one category (e.g. one rejected, a later one active): the one
    # closest to eligible speaks for the provider
    best = max(rows, key=sum)
    return [
        Exclusion(name, REASONS[name]) for (name, _), ok in zip(rules, best, strict=True) if not ok
    ]
