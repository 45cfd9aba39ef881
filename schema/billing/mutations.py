"""Billing mutations: staff record payments against charges and waive what is left."""

from __future__ import annotations

import strawberry

from linkstar.core.billing import charges as billing
from linkstar.core.identity.policy import Action, require
from linkstar.core.kernel.money import Money as MoneyValue
from linkstar.schema.billing.inputs import money_of
from linkstar.schema.billing.types import ChargeType
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.providers.inputs import MoneyInput
from linkstar.schema.resolving import parse_id, write


@strawberry.type
class BillingMutation:
    @strawberry.mutation(
        description=(
            "Record money received against an OPEN charge (staff): in the charge's currency, "
            "at most what it still asks for, one bank reference once per charge."
        )
    )
    async def record_charge_payment(
        self, info: Ctx, charge: strawberry.ID, amount: MoneyInput, bank_reference: str
    ) -> ChargeType:
        viewer = ctx(info).viewer
        require(viewer, Action.MANAGE_MONEY)
        money: MoneyValue = money_of(amount)
        async with write(info) as session:
            row = await billing.load_charge(session, parse_id(charge, "Charge"))
            await billing.record_payment(
                session, row, money, bank_reference, recorded_by=viewer.account_id
            )
        return ChargeType.of(row)

    @strawberry.mutation(
        description="Waive what an OPEN charge still asks for, with the reason (staff)."
    )
    async def waive_charge(self, info: Ctx, charge: strawberry.ID, reason: str) -> ChargeType:
        viewer = ctx(info).viewer
        require(viewer, Action.MANAGE_MONEY)
        async with write(info) as session:
            row = await billing.load_charge(session, parse_id(charge, "Charge"))
            await billing.waive(session, row, reason, waived_by=viewer.account_id)
        return ChargeType.of(row)
