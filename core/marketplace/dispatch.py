"""Dispatch (派单): offer a request to the next provider, move on when an offer is declined or
expires, and expire overdue offers safely from several processes.

Who is eligible and how they rank is `ranking.py`; answering an offer is `offers.py`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.db import claim, take_turns, utcnow
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.marketplace.models import Offer, ServiceRequest
from linkstar.core.marketplace.ranking import candidates, choose
from linkstar.core.marketplace.requests import event
from linkstar.core.marketplace.vocabulary import OfferStatus, RequestStatus

if TYPE_CHECKING:
    from linkstar.core.contract.registry import CategoryContribution, Registry


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
                "rotationShare": str(policy.rotation_share),
                "rotationBias": policy.rotation_bias,
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


async def move_on(
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
    re-offered) twice, and a request is never left without an answer.
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
        await move_on(session, registry, offer, "system:expiry", "offer.expired")
    return len(offers)
