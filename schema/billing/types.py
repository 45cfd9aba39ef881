"""GraphQL types of billing and the ledger."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry import relay

from linkstar.core.billing import charges as billing
from linkstar.core.billing import settlement, statements
from linkstar.core.billing.models import Charge, ChargePayment, Payout, SellerPayment, Statement
from linkstar.core.fees.rules import FeeKind
from linkstar.core.kernel.money import Money as MoneyValue
from linkstar.core.ledger.journal import CHART, AccountBalance, LedgerLine
from linkstar.schema.nodes import Ctx, ctx, rows_resolver
from linkstar.schema.vocabulary import Money

strawberry.enum(
    billing.ChargeStatus,
    name="ChargeStatus",
    description="Where a charge stands: OPEN until payments cover it or staff waive the rest.",
)


def _money(amount: object, currency: str) -> Money:
    return Money(amount=MoneyValue(amount, currency).amount, currency=currency)  # type: ignore[arg-type]


@strawberry.type(name="ChargePayment", description="Money received against a charge.")
class ChargePaymentType:
    amount: Money
    bank_reference: str
    recorded_at: datetime

    @classmethod
    def of(cls, row: ChargePayment) -> ChargePaymentType:
        return cls(
            amount=_money(row.amount, row.currency),
            bank_reference=row.bank_reference,
            recorded_at=row.recorded_at,
        )


@strawberry.type(
    name="Charge",
    description=(
        "An amount a provider owes under one fee rule on one occasion (its approval, a "
        "renewal), with the rule that produced it. Every step is a balanced ledger entry."
    ),
)
class ChargeType(relay.Node):
    id: relay.NodeID[int]
    category_key: str
    rule_key: str = strawberry.field(description="The fee rule that produced the charge.")
    name: str
    kind: FeeKind
    scope: str = strawberry.field(description="The rule's conditions when the charge was issued.")
    occasion: str = strawberry.field(description="Why it was charged, e.g. APPROVAL.")
    amount: Money
    paid: Money
    waived: Money
    outstanding: Money
    status: billing.ChargeStatus
    due_on: date
    waive_reason: str | None
    created_at: datetime
    settled_at: datetime | None
    provider_id: strawberry.Private[int]

    resolve_nodes = rows_resolver(Charge)

    @classmethod
    def of(cls, row: Charge) -> ChargeType:
        return cls(
            id=row.id,
            category_key=row.category_key,
            rule_key=row.rule_key,
            name=row.name,
            kind=FeeKind(row.kind),
            scope=row.scope,
            occasion=row.occasion,
            amount=_money(row.amount, row.currency),
            paid=_money(row.paid, row.currency),
            waived=_money(row.waived, row.currency),
            outstanding=_money(billing.outstanding(row).amount, row.currency),
            status=billing.ChargeStatus(row.status),
            due_on=row.due_on,
            waive_reason=row.waive_reason,
            created_at=row.created_at,
            settled_at=row.settled_at,
            provider_id=row.provider_id,
        )


@strawberry.type(
    name="LedgerAccountBalance",
    description="One ledger account's balance, on the side its balance normally sits.",
)
class LedgerAccountBalanceType:
    code: str
    owner: str
    meaning: str
    balance: Money
    debits: Money
    credits: Money

    @classmethod
    def of(cls, row: AccountBalance) -> LedgerAccountBalanceType:
        return cls(
            code=row.code,
            owner=row.owner,
            meaning=CHART[row.code].meaning,
            balance=Money.of(row.balance),  # type: ignore[arg-type]
            debits=Money.of(row.debits),  # type: ignore[arg-type]
            credits=Money.of(row.credits),  # type: ignore[arg-type]
        )


@strawberry.type(name="LedgerLine", description="One debit or credit of a provider's account.")
class LedgerLineType:
    entry_id: int = strawberry.field(description="The journal entry (all its lines balance).")
    posted_at: datetime
    kind: str = strawberry.field(description="CHARGE, PAYMENT, WAIVER, or a *_REVERSAL.")
    memo: str
    account: str
    side: str
    amount: Money

    @classmethod
    def of(cls, line: LedgerLine) -> LedgerLineType:
        return cls(
            entry_id=line.entry_id,
            posted_at=line.posted_at,
            kind=line.kind,
            memo=line.memo,
            account=line.account,
            side=line.side.value,
            amount=Money.of(line.money),  # type: ignore[arg-type]
        )


@strawberry.type(
    name="LedgerReconciliation",
    description=(
        "The ledger against the charges, the orders, the statements and the payouts, per "
        "currency: debits must equal credits, the receivable what open charges ask for, "
        "deposits held the deposits paid, the orders the ledger completed the completed "
        "orders' records, what statements offered to pay the payouts written, and payouts "
        "PAID what the ledger paid out."
    ),
)
class LedgerReconciliationType:
    currency: str
    ledger_debits: Money
    ledger_credits: Money
    receivable_in_ledger: Money
    outstanding_on_charges: Money
    deposits_in_ledger: Money
    deposits_paid_on_charges: Money
    orders_in_ledger: Money = strawberry.field(
        description="Sellers' money moved by order completions (their payments held → "
        "commission and the provider's payable)."
    )
    orders_on_records: Money = strawberry.field(
        description="The completed orders' amounts, as their commission records say."
    )
    payable_on_statements: Money = strawberry.field(
        description="What the statements offered to pay (their positive payouts)."
    )
    offered_on_payouts: Money = strawberry.field(description="The payouts written for them.")
    paid_on_payouts: Money = strawberry.field(description="Payouts PAID.")
    payouts_in_ledger: Money = strawberry.field(
        description="What the ledger paid out of the providers' payable."
    )
    balanced: bool

    @classmethod
    def of(cls, row: billing.Reconciliation) -> LedgerReconciliationType:
        return cls(
            currency=row.currency,
            ledger_debits=Money.of(row.ledger_debits),  # type: ignore[arg-type]
            ledger_credits=Money.of(row.ledger_credits),  # type: ignore[arg-type]
            receivable_in_ledger=Money.of(row.receivable_in_ledger),  # type: ignore[arg-type]
            outstanding_on_charges=Money.of(row.outstanding_on_charges),  # type: ignore[arg-type]
            deposits_in_ledger=Money.of(row.deposits_in_ledger),  # type: ignore[arg-type]
            deposits_paid_on_charges=Money.of(row.deposits_paid_on_charges),  # type: ignore[arg-type]
            orders_in_ledger=Money.of(row.orders_in_ledger),  # type: ignore[arg-type]
            orders_on_records=Money.of(row.orders_on_records),  # type: ignore[arg-type]
            payable_on_statements=Money.of(row.payable_on_statements),  # type: ignore[arg-type]
            offered_on_payouts=Money.of(row.offered_on_payouts),  # type: ignore[arg-type]
            paid_on_payouts=Money.of(row.paid_on_payouts),  # type: ignore[arg-type]
            payouts_in_ledger=Money.of(row.payouts_in_ledger),  # type: ignore[arg-type]
            balanced=row.balanced,
        )


strawberry.enum(
    settlement.PayoutStatus,
    name="PayoutStatus",
    description="PENDING → APPROVED → PAID, or HELD (then PENDING again) or DECLINED.",
)
strawberry.enum(settlement.PayoutAction, name="PayoutAction", description="A payout decision.")


@strawberry.type(name="Payout", description="What a statement pays the provider.")
class PayoutType(relay.Node):
    id: relay.NodeID[int]
    amount: Money
    status: settlement.PayoutStatus
    reason: str | None
    bank_reference: str | None
    decided_at: datetime | None
    provider_id: strawberry.Private[int]

    resolve_nodes = rows_resolver(Payout)

    @classmethod
    def of(cls, row: Payout) -> PayoutType:
        return cls(
            id=row.id,
            amount=_money(row.amount, row.currency),
            status=settlement.PayoutStatus(row.status),
            reason=row.reason,
            bank_reference=row.bank_reference,
            decided_at=row.decided_at,
            provider_id=row.provider_id,
        )


@strawberry.type(
    name="Statement",
    description=(
        "One provider's settlement for one cycle in one currency; never changed once "
        "written. closing = opening + orders - penalties + adjustments; the payout is the "
        "closing when positive. Lines of disputed orders are held back to a later statement."
    ),
)
class StatementType(relay.Node):
    id: relay.NodeID[int]
    cycle: str
    opening: Money
    orders: Money = strawberry.field(description="The provider's share of completed orders.")
    commission: Money = strawberry.field(description="Commission taken on those orders.")
    penalties: Money
    adjustments: Money = strawberry.field(description="Clawbacks, credits and reversals.")
    held_back: Money
    closing: Money
    order_count: int
    created_at: datetime
    provider_id: strawberry.Private[int]
    row: strawberry.Private[Statement]

    resolve_nodes = rows_resolver(Statement)

    @classmethod
    def of(cls, row: Statement) -> StatementType:
        c = row.currency
        return cls(
            id=row.id,
            cycle=row.cycle,
            opening=_money(row.opening, c),
            orders=_money(row.orders, c),
            commission=_money(row.commission, c),
            penalties=_money(row.penalties, c),
            adjustments=_money(row.adjustments, c),
            held_back=_money(row.held_back, c),
            closing=_money(row.closing, c),
            order_count=row.order_count,
            created_at=row.created_at,
            provider_id=row.provider_id,
            row=row,
        )

    @strawberry.field(description="The payout, when the statement pays anything.")
    async def payout(self, info: Ctx) -> PayoutType | None:
        async with ctx(info).session() as session:
            row = await settlement.payout_of(session, self.id)
        return None if row is None else PayoutType.of(row)

    @strawberry.field(description="The statement as CSV: totals, then every settled line.")
    async def csv(self, info: Ctx) -> str:
        async with ctx(info).session() as session:
            return await statements.statement_csv(session, self.row)


@strawberry.type(
    name="SellerPayment",
    description=(
        "Money a seller paid for an order (PAYMENT, recorded by staff with the bank's "
        "reference) or was paid back (REFUND). Visible to the seller, the order's provider "
        "and staff."
    ),
)
class SellerPaymentType(relay.Node):
    linkstar_two_party = True

    id: relay.NodeID[int]
    order_id: strawberry.ID = strawberry.field(description="The order's global id.")
    kind: str = strawberry.field(description="PAYMENT or REFUND.")
    amount: Money
    bank_reference: str
    recorded_at: datetime
    owner_account_id: strawberry.Private[int]
    provider_id: strawberry.Private[int]

    resolve_nodes = rows_resolver(SellerPayment)

    @classmethod
    def of(cls, row: SellerPayment) -> SellerPaymentType:
        return cls(
            id=row.id,
            order_id=strawberry.ID(relay.to_base64("Order", row.order_id)),
            kind=row.kind,
            amount=_money(row.amount, row.currency),
            bank_reference=row.bank_reference,
            recorded_at=row.recorded_at,
            owner_account_id=row.seller_account_id,
            provider_id=row.provider_id,
        )
