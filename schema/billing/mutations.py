"""Billing mutations: staff record payments against charges and waive what is left."""

from __future__ import annotations

import strawberry

from linkstar.core.billing import charges as billing
from linkstar.core.billing import orders as order_money
from linkstar.core.billing import settlement
from linkstar.core.identity.policy import Action, require
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.money import Money as MoneyValue
from linkstar.core.marketplace.models import Order
from linkstar.core.marketplace.vocabulary import OrderStatus
from linkstar.schema.billing.approval import charge_counted_units
from linkstar.schema.billing.inputs import money_of
from linkstar.schema.billing.types import (
    ChargeType,
    PayoutType,
    SellerPaymentType,
    StatementType,
)
from linkstar.schema.fees.queries import FeeQuantityInput
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

    @strawberry.mutation(
        description=(
            "Charge a member's per-unit fees for units staff counted (staff), e.g. the "
            "candidates who sat a certification exam it held: one OPEN charge per fee of the "
            "category's rules at the member's region and tier, each naming its rule, once per "
            "reference (recording it again returns the same charges)."
        )
    )
    async def charge_counted_units(
        self,
        info: Ctx,
        provider: strawberry.ID,
        category: str,
        reference: str,
        quantities: list[FeeQuantityInput],
    ) -> list[ChargeType]:
        context = ctx(info)
        require(context.viewer, Action.MANAGE_MONEY)
        if category not in context.registry.categories:
            raise NotFound(f"no category {category!r}")
        counted: dict[str, int] = {}
        for item in quantities:
            counted[item.unit] = counted.get(item.unit, 0) + item.quantity
        async with write(info) as session:
            rows = await charge_counted_units(
                session,
                context.registry,
                parse_id(provider, "Provider"),
                category,
                reference,
                counted,
                issued_by=context.viewer.account_id,
            )
        return [ChargeType.of(row) for row in rows]

    @strawberry.mutation(
        description=(
            "Settle a closed cycle (staff): one statement per provider and currency, with its "
            "payout, for the categories settled at that cycle's length. Running it again, or "
            "twice at once, returns the same statements."
        )
    )
    async def settle_cycle(self, info: Ctx, cycle: str) -> list[StatementType]:
        context = ctx(info)
        require(context.viewer, Action.MANAGE_MONEY)
        categories = [c.category for c in context.registry.categories.values()]
        async with write(info) as session:
            rows = await settlement.settle_cycle(session, cycle, categories)
        return [StatementType.of(row) for row in rows]

    @strawberry.mutation(
        description=(
            "Decide a payout (staff): APPROVE, PAY (with the bank's reference; not by its "
            "approver), HOLD or DECLINE (with a reason), RELEASE a held one."
        )
    )
    async def decide_payout(
        self,
        info: Ctx,
        payout: strawberry.ID,
        action: settlement.PayoutAction,
        reason: str | None = None,
        bank_reference: str | None = None,
    ) -> PayoutType:
        viewer = ctx(info).viewer
        require(viewer, Action.MANAGE_MONEY)
        async with write(info) as session:
            row = await settlement.load_payout(session, parse_id(payout, "Payout"))
            await settlement.decide_payout(
                session,
                row,
                action,
                by=viewer.account_id,
                reason=reason,
                bank_reference=bank_reference,
            )
        return PayoutType.of(row)

    @strawberry.mutation(
        description=(
            "Record a seller's payment for an order as the platform's bank received it (staff, "
            "with the bank's reference): in the order's currency, at most what it still needs. "
            "The money is held until the order completes (then commission and the provider's "
            "share move) or is cancelled (then it is refunded)."
        )
    )
    async def record_seller_payment(
        self, info: Ctx, order: strawberry.ID, amount: MoneyInput, bank_reference: str
    ) -> SellerPaymentType:
        viewer = ctx(info).viewer
        require(viewer, Action.MANAGE_MONEY)
        money: MoneyValue = money_of(amount)
        async with write(info) as session:
            row = await session.get(Order, parse_id(order, "Order"))
            if row is None:
                raise NotFound("no such order")
            if row.status is OrderStatus.CANCELLED:
                raise InvalidInput("a cancelled order takes no payment", code="INVALID_TRANSITION")
            party = order_money.OrderParty(
                row.id, row.provider_id, row.seller_account_id, row.category_key
            )
            entry = await order_money.record_seller_payment(
                session,
                party,
                money,
                bank_reference,
                price=MoneyValue(row.price_amount, row.price_currency),
                recorded_by=viewer.account_id,
            )
            (payment,) = [
                p
                for p in await order_money.seller_payments(session, order_id=row.id)
                if p.entry_id == entry.id
            ]
        return SellerPaymentType.of(payment)
