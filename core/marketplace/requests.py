"""Sellers' stores and service requests."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Action, Viewer, require
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.events import DomainEvent
from linkstar.core.kernel.money import Money, is_known_currency
from linkstar.core.kernel.vocabulary import Marketplace, Region
from linkstar.core.marketplace.models import RequestStore, ServiceRequest, Store
from linkstar.core.marketplace.vocabulary import RequestStatus
from linkstar.core.providers.models import Provider

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import CategoryContribution

SITE = re.compile(r"^[A-Z]{2}$")


def event(
    session: AsyncSession,
    event_type: str,
    subject: Any,
    actor: Viewer | str,
    provider_id: int | None = None,
    **payload: Any,
) -> None:
    """Append one entry to the timeline of a marketplace object."""
    session.add(
        DomainEvent(
            event_type=event_type,
            subject_type=type(subject).__name__,
            subject_id=subject.id,
            provider_id=provider_id,
            actor=actor if isinstance(actor, str) else actor.label,
            actor_account_id=None if isinstance(actor, str) else actor.account_id,
            payload=payload,
        )
    )


async def create_store(
    session: AsyncSession,
    viewer: Viewer,
    marketplace: Marketplace,
    site: str,
    name: str,
    currency: str,
) -> Store:
    """A new store of the signed-in seller."""
    require(viewer, Action.ACT_AS_SELLER)
    site = site.strip().upper()
    if not SITE.match(site):
        raise InvalidInput("site must be an ISO 3166-1 alpha-2 country code, e.g. US or DE")
    if not name.strip() or len(name.strip()) > 120:
        raise InvalidInput("name the store (1-120 characters)")
    if not is_known_currency(currency):
        raise InvalidInput(f"unknown currency {currency!r}", suggestion="use ISO 4217, e.g. USD")
    duplicate = await session.scalar(
        select(Store.id).where(
            Store.seller_account_id == viewer.account_id,
            Store.marketplace == marketplace,
            Store.site == site,
            Store.name == name.strip(),
        )
    )
    if duplicate is not None:
        raise InvalidInput("you already have this store", code="DUPLICATE")
    store = Store(
        seller_account_id=viewer.account_id,
        marketplace=marketplace,
        site=site,
        name=name.strip(),
        currency=currency,
    )
    session.add(store)
    await session.flush()
    return store


async def create_request(
    session: AsyncSession,
    viewer: Viewer,
    contribution: CategoryContribution,
    *,
    title: str,
    scope: str,
    store_ids: Sequence[int],
    marketplaces: Sequence[Marketplace],
    regions: Sequence[Region],
    requirements: Mapping[str, Any],
    budget: Money,
    desired_start: date,
    excluded_provider_ids: Sequence[int] = (),
    direct_provider_id: int | None = None,
    seed: int | None = None,
) -> ServiceRequest:
    """A seller's new request, OPEN and ready for dispatch (the caller dispatches it).

    The requirements are validated by the category's schema (PROFILE_INVALID lists every
    problem); the marketplaces are those named plus those of the stores named.
    """
    require(viewer, Action.ACT_AS_SELLER)
    if not title.strip() or len(title.strip()) > 200:
        raise InvalidInput("give the request a title (1-200 characters)")
    if not scope.strip():
        raise InvalidInput("describe the scope of the service")
    if budget.amount <= 0:
        raise InvalidInput("the budget must be positive")
    assert contribution.requirements is not None
    data = contribution.requirements.validate(requirements)
    stores = []
    if store_ids:
        stores = list(
            (
                await session.execute(
                    select(Store).where(
                        Store.id.in_(store_ids), Store.seller_account_id == viewer.account_id
                    )
                )
            ).scalars()
        )
        if len(stores) != len(set(store_ids)):
            raise NotFound("one of the stores does not exist", suggestion="name your own stores")
    wanted = sorted({m.value for m in marketplaces} | {s.marketplace.value for s in stores})
    if not wanted:
        raise InvalidInput("name at least one marketplace or store")
    if direct_provider_id is not None and await session.get(Provider, direct_provider_id) is None:
        raise NotFound("no such provider")
    request = ServiceRequest(
        seller_account_id=viewer.account_id,
        category_key=contribution.category.key,
        title=title.strip(),
        scope=scope.strip(),
        marketplaces=wanted,
        regions=sorted({r.value for r in regions}),
        requirements=data,
        budget_amount=budget.amount,
        budget_currency=budget.currency,
        desired_start=desired_start,
        excluded_provider_ids=sorted(set(excluded_provider_ids)),
        direct_provider_id=direct_provider_id,
        status=RequestStatus.OPEN,
        seed=seed if seed is not None else secrets.randbelow(2**31),
        rounds=0,
    )
    session.add(request)
    await session.flush()
    for store in stores:
        session.add(RequestStore(request_id=request.id, store_id=store.id))
    event(session, "request.created", request, viewer, category=request.category_key)
    return request


async def load_own_request(
    session: AsyncSession, viewer: Viewer, request_id: int
) -> ServiceRequest:
    """The seller's own request (staff may load any), or NotFound."""
    request = await session.get(ServiceRequest, request_id)
    if request is None or not (request.seller_account_id == viewer.account_id or viewer.is_staff):
        raise NotFound("no such service request")
    return request
