"""Billing queries for staff: the ledger's balances and its reconciliation with the charges."""

from __future__ import annotations

import strawberry

from linkstar.core.billing import charges as billing
from linkstar.core.billing import orders as order_money
from linkstar.core.identity.policy import Action, allowed, require
from linkstar.core.ledger import journal
from linkstar.schema.billing.types import (
    LedgerAccountBalanceType,
    LedgerReconciliationType,
    SellerPaymentType,
)
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.resolving import parse_id


@strawberry.type
class BillingQuery:
    @strawberry.field(
        description=(
            "The ledger against the charges, per currency (staff). Every row must say "
            "balanced: true."
        )
    )
    async def ledger_reconciliation(self, info: Ctx) -> list[LedgerReconciliationType]:
        context = ctx(info)
        require(context.viewer, Action.MANAGE_MONEY)
        async with context.session() as session:
            return [LedgerReconciliationType.of(r) for r in await billing.reconcile(session)]

    @strawberry.field(description="Every ledger account's balance (staff).")
    async def ledger_balances(self, info: Ctx) -> list[LedgerAccountBalanceType]:
        context = ctx(info)
        require(context.viewer, Action.MANAGE_MONEY)
        async with context.session() as session:
            return [LedgerAccountBalanceType.of(r) for r in await journal.balances(session)]

    @strawberry.field(
        description=(
            "Seller payments and refunds, newest first (of one order when given): a seller "
            "sees its own, staff see everyone's; anybody else gets an empty list."
        )
    )
    async def seller_payments(
        self, info: Ctx, order: strawberry.ID | None = None
    ) -> list[SellerPaymentType]:
        context = ctx(info)
        viewer = context.viewer
        order_id = None if order is None else parse_id(order, "Order")
        staff = allowed(viewer, Action.MANAGE_MONEY)
        if not staff and viewer.account_id is None:
            return []
        async with context.session() as session:
            rows = await order_money.seller_payments(
                session,
                seller_account_id=None if staff else viewer.account_id,
                order_id=order_id,
            )
        return [SellerPaymentType.of(r) for r in rows]
