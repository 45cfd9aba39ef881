"""Fields billing adds to Provider: its charges, deposits held, ledger balances and lines."""

from __future__ import annotations

import strawberry

from linkstar.core.billing import charges as billing
from linkstar.core.billing.models import Charge, Statement
from linkstar.core.identity.policy import can_read_private
from linkstar.core.ledger import journal
from linkstar.schema.billing.types import (
    ChargeType,
    LedgerAccountBalanceType,
    LedgerLineType,
    StatementType,
)
from linkstar.schema.nodes import Ctx, child_connection, ctx
from linkstar.schema.pagination import Connection, PageArgs
from linkstar.schema.vocabulary import Money

MAX_LEDGER_LINES = 500


@strawberry.type
class BillingProviderFields:
    @strawberry.field(description="Charges issued to the provider, oldest first.")
    async def charges(
        self,
        info: Ctx,
        status: billing.ChargeStatus | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ChargeType]:
        args = PageArgs.parse(first, after, last, before)
        filters = (("status", status.value),) if status else ()
        return await child_connection(info, self.id, Charge, ChargeType.of, args, filters)

    @strawberry.field(description="Settlement statements, oldest first.")
    async def statements(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[StatementType]:
        args = PageArgs.parse(first, after, last, before)
        return await child_connection(info, self.id, Statement, StatementType.of, args)

    @strawberry.field(
        description="Deposits the provider has paid and the platform holds, one per currency."
    )
    async def deposit_held(self, info: Ctx) -> list[Money]:
        context = ctx(info)
        if not can_read_private(context.viewer, self.id):
            return []
        async with context.session() as session:
            return [Money.of(m) for m in await billing.deposit_held(session, self.id)]  # type: ignore[misc]

    @strawberry.field(description="Balances of the provider's ledger accounts.")
    async def ledger_balances(self, info: Ctx) -> list[LedgerAccountBalanceType]:
        context = ctx(info)
        if not can_read_private(context.viewer, self.id):
            return []
        async with context.session() as session:
            rows = await journal.balances(session, journal.provider_owner(self.id))
        return [LedgerAccountBalanceType.of(r) for r in rows]

    @strawberry.field(
        description=f"The provider's ledger lines, newest first (at most {MAX_LEDGER_LINES})."
    )
    async def ledger_lines(self, info: Ctx, limit: int = 50) -> list[LedgerLineType]:
        context = ctx(info)
        if not can_read_private(context.viewer, self.id):
            return []
        limit = max(1, min(limit, MAX_LEDGER_LINES))
        async with context.session() as session:
            lines = await journal.owner_lines(session, journal.provider_owner(self.id), limit)
        return [LedgerLineType.of(line) for line in lines]
