"""Billing queries for staff: the ledger's balances and its reconciliation with the charges."""

from __future__ import annotations

import strawberry

from linkstar.core.billing import charges as billing
from linkstar.core.identity.policy import Action, require
from linkstar.core.ledger import journal
from linkstar.schema.billing.types import LedgerAccountBalanceType, LedgerReconciliationType
from linkstar.schema.nodes import Ctx, ctx


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
