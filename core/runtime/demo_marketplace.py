"""Demo sellers, stores, requests and orders, run through the real marketplace core.

Every request is dispatched by `dispatch_next`, answered by its provider (a few decline), and
the orders go through milestones (some late), delivery and the seller's rating, so the KPI
data of the orders comes from the same code as in production. `play_month()` plays a closed
month as of its own days (`as_of`), so closed months get their data from orders too.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing import orders as billing_orders
from linkstar.core.contract.registry import Registry
from linkstar.core.identity.accounts import hash_password
from linkstar.core.identity.models import Account
from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.db import as_of, utcnow
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.vocabulary import ApplicationStatus, Marketplace, Role
from linkstar.core.marketplace import dispatch, offers, orders, requests
from linkstar.core.marketplace.models import Offer, Order
from linkstar.core.marketplace.orders import OrderAction
from linkstar.core.marketplace.vocabulary import OfferStatus
from linkstar.core.onboarding.models import Application
from linkstar.core.providers.profiles import (
    BoolField,
    DecimalField,
    EnumField,
    EnumListField,
    IntField,
    ProfileSchema,
    TextField,
    TextListField,
)

SELLER_PASSWORD = "demo seller passphrase"  # documented in docs/marketplace.md


def example_requirements(schema: ProfileSchema, rng: random.Random) -> dict[str, Any]:
    """Valid example data for any request schema, from its declared fields alone."""
    data: dict[str, Any] = {}
    for name, spec in schema.fields.items():
        if spec.optional and rng.random() < 0.5:
            continue
        if isinstance(spec, IntField):
            data[name] = rng.randint(spec.minimum or 1, min(spec.maximum, 50))
        elif isinstance(spec, EnumListField):
            data[name] = [rng.choice(list(spec.choices)).value]  # type: ignore[arg-type]
        elif isinstance(spec, EnumField):
            data[name] = rng.choice(list(spec.choices)).value  # type: ignore[arg-type]
        elif isinstance(spec, TextListField):
            data[name] = ["Cross-border basics"]
        elif isinstance(spec, TextField):
            data[name] = "CN" if spec.max_length == 2 else "Demo request"
        elif isinstance(spec, DecimalField):
            data[name] = "10"
        elif isinstance(spec, BoolField):
            data[name] = True
    return schema.validate(data)


async def demo_requirements(
    session: AsyncSession,
    registry: Registry,
    contribution: Any,
    provider_id: int,
    rng: random.Random,
) -> dict[str, Any]:
    """Requirements of a demo request meant for `provider_id`: the category plugin's suggestion
    (`linkstar_demo_request`, e.g. one of the provider's lanes) when it makes one, else example
    data generated from the request schema."""
    answers = await registry.call_each(
        "linkstar_demo_request",
        category=contribution.category,
        session=session,
        provider_id=provider_id,
        rng=rng,
    )
    for _, suggested in answers:
        if suggested is not None:
            return contribution.requirements.validate(suggested)
    return example_requirements(contribution.requirements, rng)


Seller = tuple[Viewer, Any]  # the seller and its store
ORDERS_PER_MONTH = 3  # per provider, in a played month (the demo must stay quick)
MILESTONES_PER_ORDER = 4


async def create_sellers(session: AsyncSession) -> list[Seller]:
    """The two demo sellers, each with an Amazon US store."""
    password = hash_password(SELLER_PASSWORD)
    sellers = []
    for n in (1, 2):
        account = Account(
            email=f"seller{n}@demo.linkstar.example",
            display_name=f"Demo Seller {n}",
            password_hash=password,
            role=Role.SELLER,
        )
        session.add(account)
        await session.flush()
        viewer = Viewer(account_id=account.id, role=Role.SELLER, label=account.email)
        store = await requests.create_store(
            session, viewer, Marketplace.AMAZON, "US", f"Demo Store {n}", "USD"
        )
        sellers.append((viewer, store))
    return sellers


async def play_month(
    session: AsyncSession,
    registry: Registry,
    rng: random.Random,
    sellers: list[Seller],
    month_start: datetime,
    players: dict[str, list[tuple[int, float, float]]],
) -> dict[str, int]:
    """Each provider's orders of one past month, as of their own days: direct requests from
    the directory (dispatch still checks intake, capacity and pilot quota), milestones
    delivered on time with probability `on_time`, ratings of 4-5 with probability
    `satisfied`. `players`: category → [(provider id, on_time, satisfied)]."""
    counts = {"orders": 0, "unmatched": 0}
    for key, entries in players.items():
        contribution = registry.category(key)
        for provider_id, on_time, satisfied in entries:
            provider = Viewer(
                account_id=None, role=Role.PARTNER, provider_id=provider_id, label="demo"
            )
            for index in range(ORDERS_PER_MONTH):
                seller, store = sellers[index % len(sellers)]
                opened = month_start + timedelta(days=1 + 5 * index, hours=rng.randrange(1, 9))
                with as_of(opened):
                    request = await requests.create_request(
                        session,
                        seller,
                        contribution,
                        title=f"{contribution.category.name.split(' (')[0]} for {store.name}",
                        scope="Demo engagement",
                        store_ids=[store.id],
                        marketplaces=list(Marketplace)[:6],
                        regions=[],
                        requirements=await demo_requirements(
                            session, registry, contribution, provider_id, rng
                        ),
                        budget=Money(Decimal(rng.randrange(2_000, 30_000)), "USD"),
                        desired_start=opened.date(),
                        direct_provider_id=provider_id,
                        seed=rng.randrange(2**31),
                    )
                    offer = await dispatch.dispatch_next(session, request, contribution, "demo")
                    if offer is None:  # restricted, terminated, pilot quota used up
                        counts["unmatched"] += 1
                        break
                # the provider answers within the category's deadline (logistics: 4 hours)
                answer_within = min(timedelta(hours=6), contribution.dispatch.response_deadline)
                answered = opened + answer_within * rng.uniform(0.1, 0.9)
                with as_of(answered):
                    order = await offers.accept_offer(session, provider, registry, offer.id)
                    await _seller_pays(session, order)
                    milestones = [
                        await orders.add_milestone(
                            session,
                            provider,
                            order,
                            f"Milestone {n + 1}",
                            opened + timedelta(days=1 + n, hours=12),
                        )
                        for n in range(MILESTONES_PER_ORDER)
                    ]
                for milestone in milestones:
                    late = rng.random() >= on_time
                    delivered = milestone.due_at + timedelta(hours=20 if late else -3)
                    with as_of(delivered):
                        await orders.deliver_milestone(
                            session, registry, provider, milestone.id, "delivered with evidence"
                        )
                with as_of(opened + timedelta(days=MILESTONES_PER_ORDER + 1)):
                    await orders.transition(session, registry, provider, order, OrderAction.DELIVER)
                    rating = (
                        rng.choice((4, 5, 5)) if rng.random() < satisfied else rng.choice((2, 3))
                    )
                    await orders.transition(
                        session, registry, seller, order, OrderAction.COMPLETE, rating=rating
                    )
                counts["orders"] += 1
    return counts


async def load_marketplace_demo(
    session: AsyncSession,
    registry: Registry,
    rng: random.Random,
    sellers: list[Seller],
    per_category: int = 6,
) -> dict[str, int]:
    """`per_category` requests per category through dispatch, in the current month."""
    counts = {"requests": 0, "orders": 0, "completed": 0}
    now = utcnow()
    for contribution in registry.categories.values():
        # open requests: each is written with one pool member's service in mind (a lane it
        # ships), then dispatched to whoever ranks first among those who can serve it
        members = list(
            await session.scalars(
                select(Application.provider_id)
                .where(
                    Application.category_key == contribution.category.key,
                    Application.status == ApplicationStatus.ACTIVE,
                )
                .order_by(Application.provider_id)
            )
        )
        for index in range(per_category):
            seller, store = sellers[index % 2]
            meant_for = rng.choice(members) if members else 0
            request = await requests.create_request(
                session,
                seller,
                contribution,
                title=f"{contribution.category.name.split(' (')[0]} for {store.name}",
                scope="Demo engagement",
                store_ids=[store.id],
                marketplaces=list(Marketplace)[:6],
                regions=[],
                requirements=await demo_requirements(
                    session, registry, contribution, meant_for, rng
                ),
                budget=Money(Decimal(rng.randrange(2_000, 30_000)), "USD"),
                desired_start=date.today() + timedelta(days=14),
                seed=rng.randrange(2**31),
            )
            counts["requests"] += 1
            offer = await dispatch.dispatch_next(session, request, contribution, "demo")
            if offer is not None and rng.random() < 0.25:
                provider = Viewer(
                    account_id=None, role=Role.PARTNER, provider_id=offer.provider_id, label="demo"
                )
                await offers.decline_offer(
                    session, provider, registry, offer.id, "fully booked this month"
                )
                offer = await _pending(session, request.id)
            if offer is None:
                continue
            provider = Viewer(
                account_id=None, role=Role.PARTNER, provider_id=offer.provider_id, label="demo"
            )
            order = await offers.accept_offer(session, provider, registry, offer.id)
            await _seller_pays(session, order)
            counts["orders"] += 1
            late = rng.random() < 0.2
            for step in range(2):
                due = now + timedelta(days=3) if not (late and step) else now - timedelta(hours=6)
                milestone = await orders.add_milestone(
                    session, provider, order, f"Milestone {step + 1}", due
                )
                await orders.deliver_milestone(
                    session, registry, provider, milestone.id, "delivered with evidence"
                )
            if rng.random() < 0.7:
                await orders.transition(session, registry, provider, order, OrderAction.DELIVER)
                await orders.transition(
                    session,
                    registry,
                    seller,
                    order,
                    OrderAction.COMPLETE,
                    rating=rng.choice((3, 4, 5, 5)),
                )
                counts["completed"] += 1
    return counts


async def _pending(session: AsyncSession, request_id: int) -> Any:
    return await session.scalar(
        select(Offer).where(Offer.request_id == request_id, Offer.status == OfferStatus.PENDING)
    )


async def _seller_pays(session: AsyncSession, order: Order) -> None:
    """The seller pays into escrow when the order starts; staff record the bank's reference."""
    await billing_orders.record_seller_payment(
        session,
        billing_orders.OrderParty(
            order.id, order.provider_id, order.seller_account_id, order.category_key
        ),
        Money(order.price_amount, order.price_currency),
        f"DEMO-{order.id}",
    )
