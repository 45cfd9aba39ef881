"""Stores' monthly sales, reported by the seller or its integration, and what it means for the
providers that run the stores.

A snapshot is one figure per store and month, final once reported (the same figure again
changes nothing; another figure for a reported month is refused). For every order whose
request concerns the store and that was open during that month, the snapshot is a
STORE_SALES_REPORTED event of the order: the category's rules decide whether it feeds one of its
metrics (a store-operations category turns consecutive months into sales growth). The
observations are platform-sourced, about `store:<id>`, idempotent per snapshot; a month whose
KPI period has closed is kept but feeds nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Action, Viewer, require
from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.money import Money
from linkstar.core.marketplace.models import Order, RequestStore, Store, StoreSalesSnapshot
from linkstar.core.marketplace.orders import observe
from linkstar.core.marketplace.requests import event
from linkstar.core.marketplace.signals import OrderEventKind, OrderFacts
from linkstar.core.marketplace.vocabulary import SnapshotSource

if TYPE_CHECKING:
    from linkstar.core.contract.registry import Registry

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in UTC; InvalidInput unless "YYYY-MM"."""
    found = MONTH.match(month)
    if found is None:
        raise InvalidInput("month must be YYYY-MM, e.g. 2026-10")
    start = datetime(int(found[1]), int(found[2]), 1, tzinfo=UTC)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


async def report_store_sales(
    session: AsyncSession,
    registry: Registry,
    viewer: Viewer,
    store_id: int,
    month: str,
    sales: Money,
) -> tuple[StoreSalesSnapshot, int]:
    """Record a store's sales for `month` and feed the providers running the store; returns the
    snapshot and how many observations it added."""
    require(viewer, Action.REPORT_STORE_DATA)
    start, end = month_bounds(month)
    now = utcnow()
    if start > now:
        raise InvalidInput("the month has not started yet")
    store = await session.get(Store, store_id)
    if store is None or store.seller_account_id != viewer.account_id:
        raise NotFound("no such store", suggestion="report the sales of your own stores")
    if sales.currency != store.currency:
        raise InvalidInput(
            f"the store sells in {store.currency}, not {sales.currency}",
            suggestion="report sales in the store's currency, so months compare",
        )
    if sales.amount < 0:
        raise InvalidInput("a store's monthly sales cannot be negative")
    snapshot = await session.scalar(
        select(StoreSalesSnapshot).where(
            StoreSalesSnapshot.store_id == store_id, StoreSalesSnapshot.month == month
        )
    )
    if snapshot is not None and snapshot.amount != sales.amount:
        raise InvalidInput(
            f"{month} was reported as {snapshot.amount} {snapshot.currency} already",
            code="DUPLICATE",
            suggestion="a month's sales are final once reported",
        )
    if snapshot is None:
        snapshot = StoreSalesSnapshot(
            store_id=store_id,
            month=month,
            amount=sales.amount,
            currency=sales.currency,
            source=SnapshotSource.SELLER if viewer.token_id is None else SnapshotSource.INTEGRATION,
            reported_by=viewer.label,
            reported_at=now,
        )
        session.add(snapshot)
        await session.flush()
        event(
            session,
            "store.sales_reported",
            store,
            viewer,
            month=month,
            amount=str(sales.amount),
            currency=sales.currency,
            source=snapshot.source.value,
        )
    orders = (
        await session.scalars(
            select(Order)
            .join(RequestStore, RequestStore.request_id == Order.request_id)
            .where(
                RequestStore.store_id == store_id,
                Order.created_at < end,
                or_(Order.closed_at.is_(None), Order.closed_at >= start),
            )
            .order_by(Order.id)
        )
    ).all()
    # inside the month in every time zone, and never in the future
    observed_at = min(start + timedelta(days=14, hours=12), now)
    added = 0
    for order in orders:
        added += await observe(
            session,
            registry,
            order,
            OrderFacts(
                OrderEventKind.STORE_SALES_REPORTED,
                observed_at,
                order_id=order.id,
                store_id=store_id,
                month=month,
                amount=sales.amount,
            ),
        )
    return snapshot, added
