"""Why a provider was or was not eligible for a request: the dispatch rules, one by one.

Dispatch itself only finds the eligible (`ranking`); staff asking "why did this provider get no
offer?" get each rule it failed, checked by the same SQL expressions, for that one provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.marketplace.models import ServiceRequest
from linkstar.core.marketplace.policy import DispatchPolicy
from linkstar.core.marketplace.ranking import (
    pool,
    request_values,
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
    found = pool(request, policy)
    checks = [case((rule, literal(1)), else_=literal(0)).label(name) for name, rule in found.rules]
    rows = (
        await session.execute(
            select(*checks)
            .select_from(found.from_)
            .where(app.provider_id == provider_id, app.category_key == request.category_key)
            .params(request_values(request, 0))
        )
    ).all()
    if not rows:
        return [Exclusion("CATEGORY", REASONS["CATEGORY"])]
    # several applications to one category (e.g. one rejected, a later one active): the one
    # closest to eligible speaks for the provider
    best = max(rows, key=sum)
    return [
        Exclusion(name, REASONS[name])
        for (name, _), ok in zip(found.rules, best, strict=True)
        if not ok
    ]
