"""Charges: issued from the category's fee rules, paid (in parts) or waived, all on the ledger.

The state table is small and explicit: an OPEN charge is PAID once payments cover it, or
WAIVED when staff waive what is left (with a reason). Every step is one journal entry:

- issue a fee:        Dr PROVIDER_RECEIVABLE   Cr FEE_REVENUE
- issue a deposit:    Dr PROVIDER_RECEIVABLE   Cr DEPOSIT_CALLED
- pay:                Dr PLATFORM_BANK         Cr PROVIDER_RECEIVABLE
  (a deposit also:    Dr DEPOSIT_CALLED        Cr DEPOSIT_HELD — the money is now held)
- waive a fee:        Dr FEE_WAIVERS           Cr PROVIDER_RECEIVABLE
- waive a deposit:    Dr DEPOSIT_CALLED        Cr PROVIDER_RECEIVABLE

so the provider's receivable always equals what its open charges still ask for, and its
DEPOSIT_HELD equals the deposits it has actually paid.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.models import Charge, ChargePayment, Commission, Payout, Statement
from linkstar.core.fees.rules import ChargeOccasionKind, FeeKind, FeeRule, quote
from linkstar.core.kernel.db import claim, utcnow
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.vocabulary import Region, Tier
from linkstar.core.ledger import journal
from linkstar.core.ledger.journal import PLATFORM, credit, debit, provider_owner
from linkstar.core.ledger.models import AMOUNT_SCALE, JournalEntry, JournalLine, LedgerAccount

# Days a provider has to pay a charge, from the day it is issued.
PAYMENT_TERM_DAYS = 30
MAX_REFERENCE = 120


class ChargeStatus(enum.StrEnum):
    OPEN = "OPEN"  # something is still owed
    PAID = "PAID"  # payments cover the amount
    WAIVED = "WAIVED"  # staff waived what was left (part may have been paid before)


class ChargeAction(enum.StrEnum):
    PAY_PART = "PAY_PART"
    PAY_REST = "PAY_REST"
    WAIVE = "WAIVE"


TRANSITIONS: dict[tuple[ChargeStatus, ChargeAction], ChargeStatus] = {
    (ChargeStatus.OPEN, ChargeAction.PAY_PART): ChargeStatus.OPEN,
    (ChargeStatus.OPEN, ChargeAction.PAY_REST): ChargeStatus.PAID,
    (ChargeStatus.OPEN, ChargeAction.WAIVE): ChargeStatus.WAIVED,
}

# Fee kinds that are charged when an application is approved (a commission is taken from
# orders at settlement, never charged up front).
CHARGED_AT_APPROVAL = frozenset(
    {FeeKind.DEPOSIT, FeeKind.ANNUAL_FEE, FeeKind.ONE_OFF_FEE, FeeKind.PER_UNIT_FEE}
)


def outstanding(charge: Charge) -> Money:
    """What the charge still asks for."""
    return Money(charge.amount - charge.paid - charge.waived, charge.currency)


def _next(charge: Charge, action: ChargeAction) -> ChargeStatus:
    status = TRANSITIONS.get((ChargeStatus(charge.status), action))
    if status is None:
        raise InvalidInput(
            f"a {charge.status} charge cannot be "
            + ("waived" if action is ChargeAction.WAIVE else "paid"),
            code="CHARGE_NOT_OPEN",
            suggestion="only OPEN charges take payments or waivers",
        )
    return status


def issue_postings(kind: FeeKind, owner: str, money: Money) -> list[journal.Posting]:
    """The two lines that issue a fee (receivable against revenue) or call a deposit."""
    income = "DEPOSIT_CALLED" if kind is FeeKind.DEPOSIT else "FEE_REVENUE"
    income_owner = owner if kind is FeeKind.DEPOSIT else PLATFORM
    return [debit("PROVIDER_RECEIVABLE", owner, money), credit(income, income_owner, money)]


@dataclass(frozen=True, slots=True)
class ChargeOccasion:
    """Why charges are issued: an application's approval, a renewal, a tier change."""

    name: str  # e.g. "APPROVAL", "RENEWAL:2027"
    provider_id: int
    application_id: int | None
    category: str
    region: Region
    tier: Tier


async def issue_charges(
    session: AsyncSession,
    occasion: ChargeOccasion,
    rules: Sequence[FeeRule],
    *,
    options: Mapping[str, str] | None = None,
    quantities: Mapping[str, int] | None = None,
    today: date | None = None,
    issued_by: int | None = None,
) -> list[Charge]:
    """Issue one charge per up-front line of the category's quote for this occasion.

    Idempotent: issuing for the same occasion again returns the charges already issued. A
    per-unit fee with no counted units and a zero amount charge nothing; with `quantities`
    (units counted, e.g. exam candidates, on an occasion such as "EXAM:2026-11") only the
    per-unit fees are charged.
    """
    today = today or utcnow().date()
    fee_quote = quote(occasion.category, rules, occasion.region, occasion.tier, options, quantities)
    owner = provider_owner(occasion.provider_id)
    kind_of_occasion = occasion.name.split(":")[0]
    charges = []
    for line in fee_quote.lines:
        if line.kind not in CHARGED_AT_APPROVAL or line.amount is None or line.amount.amount <= 0:
            continue
        counted = line.kind is FeeKind.PER_UNIT_FEE and quantities is not None
        if line.rule is not None and kind_of_occasion not in line.rule.charged_on and not counted:
            continue
        if quantities is not None and not counted:
            continue  # counting units (exam candidates) charges the per-unit fees only
        amount = line.amount
        if line.kind is FeeKind.DEPOSIT and kind_of_occasion != ChargeOccasionKind.APPROVAL:
            # a deposit is called once: later occasions call what the new amount adds
            called = await deposit_called(
                session, occasion.provider_id, occasion.category, amount.currency
            )
            amount = Money(amount.amount - called.amount, amount.currency)
            if amount.amount <= 0:
                continue
        owner_ref = (
            f"application:{occasion.application_id}"
            if occasion.application_id is not None
            else f"provider:{occasion.provider_id}"
        )
        key = f"{owner_ref}:{occasion.name}:{line.rule_key}"
        existing = (
            await session.execute(select(Charge).where(Charge.dedupe_key == key))
        ).scalar_one_or_none()
        if existing is not None:
            charges.append(existing)
            continue
        charge = Charge(
            provider_id=occasion.provider_id,
            application_id=occasion.application_id,
            category_key=occasion.category,
            rule_key=line.rule_key,
            name=line.name,
            kind=line.kind.value,
            scope=line.scope,
            occasion=occasion.name,
            currency=amount.currency,
            amount=amount.amount,
            paid=Decimal(0),
            waived=Decimal(0),
            status=ChargeStatus.OPEN.value,
            due_on=today + timedelta(days=PAYMENT_TERM_DAYS),
            dedupe_key=key,
            blocks_pool=bool(line.rule and line.rule.before_pool),
        )
        session.add(charge)
        await session.flush()
        entry = await journal.post(
            session,
            issue_postings(line.kind, owner, amount),
            kind="CHARGE",
            memo=f"{line.name} ({line.rule_key}; {line.scope}; {occasion.name})",
            source_type="charge",
            source_id=charge.id,
            provider_id=occasion.provider_id,
            category_key=occasion.category,
            idempotency_key=f"charge:{charge.id}",
            posted_by=issued_by,
        )
        charge.entry_id = entry.id
        charges.append(charge)
    return charges


async def deposit_called(
    session: AsyncSession, provider_id: int, category: str, currency: str
) -> Money:
    """The deposits charged to a provider in a category (less what was waived)."""
    raw = type_coerce(Charge.amount, BigInteger) - type_coerce(Charge.waived, BigInteger)
    total = (
        await session.execute(
            select(type_coerce(func.coalesce(func.sum(raw), 0), BigInteger)).where(
                Charge.provider_id == provider_id,
                Charge.category_key == category,
                Charge.kind == FeeKind.DEPOSIT.value,
                Charge.currency == currency,
            )
        )
    ).scalar_one()
    return Money(Decimal(int(total or 0)).scaleb(-AMOUNT_SCALE), currency)


async def load_charge(session: AsyncSession, charge_id: int) -> Charge:
    charge = await session.get(Charge, charge_id)
    if charge is None:
        raise NotFound(f"charge {charge_id} does not exist")
    return charge


async def record_payment(
    session: AsyncSession,
    charge: Charge,
    money: Money,
    bank_reference: str,
    *,
    recorded_by: int | None,
) -> ChargePayment:
    """Record money received against an OPEN charge, in its currency and at most what it still
    asks for. The same bank reference twice for one charge is refused (DUPLICATE_PAYMENT)."""
    reference = bank_reference.strip()
    if not reference or len(reference) > MAX_REFERENCE:
        raise InvalidInput(
            f"a bank reference of 1 to {MAX_REFERENCE} characters is required",
            code="INVALID_BANK_REFERENCE",
        )
    if money.currency != charge.currency:
        raise InvalidInput(
            f"the charge is in {charge.currency}; a payment in {money.currency} is not converted",
            code="CURRENCY_MISMATCH",
            suggestion=f"record the amount received in {charge.currency}",
        )
    if money.amount <= 0:
        raise InvalidInput("a payment is a positive amount", code="INVALID_AMOUNT")
    duplicate = (
        await session.execute(
            select(ChargePayment.id).where(
                ChargePayment.charge_id == charge.id, ChargePayment.bank_reference == reference
            )
        )
    ).first()
    if duplicate is not None:
        raise InvalidInput(
            f"a payment with bank reference {reference!r} is already recorded for this charge",
            code="DUPLICATE_PAYMENT",
        )
    left = outstanding(charge)
    if ChargeStatus(charge.status) is ChargeStatus.OPEN and money.amount > left.amount:
        raise InvalidInput(
            f"the charge asks for {left.amount} {left.currency}; {money.amount} is more",
            code="OVERPAYMENT",
        )
    action = ChargeAction.PAY_REST if money.amount == left.amount else ChargeAction.PAY_PART
    status = _next(charge, action)
    await claim(
        session,
        Charge,
        charge.id,
        {"version": charge.version},
        {
            "version": charge.version + 1,
            "paid": charge.paid + money.amount,
            "status": status.value,
            "settled_at": utcnow() if status is not ChargeStatus.OPEN else None,
        },
        "the charge",
    )
    owner = provider_owner(charge.provider_id)
    postings = [
        debit("PLATFORM_BANK", PLATFORM, money),
        credit("PROVIDER_RECEIVABLE", owner, money),
    ]
    if charge.kind == FeeKind.DEPOSIT.value:
        postings += [debit("DEPOSIT_CALLED", owner, money), credit("DEPOSIT_HELD", owner, money)]
    entry = await journal.post(
        session,
        postings,
        kind="PAYMENT",
        memo=f"payment {reference} for {charge.name}",
        source_type="charge",
        source_id=charge.id,
        provider_id=charge.provider_id,
        category_key=charge.category_key,
        idempotency_key=f"payment:{charge.id}:{reference}",
        posted_by=recorded_by,
    )
    payment = ChargePayment(
        charge_id=charge.id,
        amount=money.amount,
        currency=money.currency,
        bank_reference=reference,
        recorded_by=recorded_by,
        entry_id=entry.id,
    )
    session.add(payment)
    await session.flush()
    return payment


async def waive(
    session: AsyncSession, charge: Charge, reason: str, *, waived_by: int | None
) -> Charge:
    """Waive what an OPEN charge still asks for, with the reason; what was paid stays paid."""
    if not reason.strip():
        raise InvalidInput("a waiver needs a reason", code="REASON_REQUIRED")
    status = _next(charge, ChargeAction.WAIVE)
    left = outstanding(charge)
    await claim(
        session,
        Charge,
        charge.id,
        {"version": charge.version},
        {
            "version": charge.version + 1,
            "waived": charge.waived + left.amount,
            "status": status.value,
            "waive_reason": reason.strip(),
            "waived_by": waived_by,
            "settled_at": utcnow(),
        },
        "the charge",
    )
    owner = provider_owner(charge.provider_id)
    expense = (
        debit("DEPOSIT_CALLED", owner, left)
        if charge.kind == FeeKind.DEPOSIT.value
        else debit("FEE_WAIVERS", PLATFORM, left)
    )
    await journal.post(
        session,
        [expense, credit("PROVIDER_RECEIVABLE", owner, left)],
        kind="WAIVER",
        memo=f"waived {charge.name}: {reason.strip()}",
        source_type="charge",
        source_id=charge.id,
        provider_id=charge.provider_id,
        category_key=charge.category_key,
        idempotency_key=f"waiver:{charge.id}",
        posted_by=waived_by,
    )
    return charge


async def provider_charges(
    session: AsyncSession, provider_id: int, status: ChargeStatus | None = None
) -> list[Charge]:
    """A provider's charges, newest first."""
    query = select(Charge).where(Charge.provider_id == provider_id)
    if status is not None:
        query = query.where(Charge.status == status.value)
    return list((await session.execute(query.order_by(Charge.id.desc()))).scalars())


async def deposit_held(session: AsyncSession, provider_id: int) -> list[Money]:
    """The deposits a provider has paid and the platform holds, one Money per currency."""
    return [
        b.balance
        for b in await journal.balances(session, provider_owner(provider_id))
        if b.code == "DEPOSIT_HELD"
    ]


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The ledger against the charges, the orders, the statements and the payouts, per
    currency: each pair must be equal."""

    currency: str
    ledger_debits: Money
    ledger_credits: Money
    receivable_in_ledger: Money
    outstanding_on_charges: Money
    deposits_in_ledger: Money
    deposits_paid_on_charges: Money
    # completed orders: the seller's money the completions moved vs the commission records
    orders_in_ledger: Money
    orders_on_records: Money
    # what statements offered to pay vs the payouts written for them
    payable_on_statements: Money
    offered_on_payouts: Money
    # payouts PAID vs what the ledger paid out of the providers' payable
    paid_on_payouts: Money
    payouts_in_ledger: Money

    @property
    def balanced(self) -> bool:
        return (
            self.ledger_debits == self.ledger_credits
            and self.receivable_in_ledger == self.outstanding_on_charges
            and self.deposits_in_ledger == self.deposits_paid_on_charges
            and self.orders_in_ledger == self.orders_on_records
            and self.payable_on_statements == self.offered_on_payouts
            and self.paid_on_payouts == self.payouts_in_ledger
        )


def _summed(column: Any) -> Any:
    return type_coerce(func.sum(type_coerce(column, BigInteger)), BigInteger)


async def _per_currency(session: AsyncSession, query: Any) -> dict[str, Decimal]:
    return {
        currency: Decimal(int(raw or 0)).scaleb(-AMOUNT_SCALE)
        for currency, raw in await session.execute(query)
    }


async def _ledger_moved(session: AsyncSession, code: str, side: str, kind: str) -> Any:
    """What entries of `kind` moved on `side` of the accounts `code`, per currency."""
    return await _per_currency(
        session,
        select(JournalLine.currency, _summed(JournalLine.amount))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .where(LedgerAccount.code == code, JournalLine.side == side, JournalEntry.kind == kind)
        .group_by(JournalLine.currency),
    )


async def reconcile(session: AsyncSession) -> list[Reconciliation]:
    """Compare the ledger's totals with the charges' own records, per currency."""
    trial = {t.currency: t for t in await journal.trial_balance(session)}
    receivable: dict[str, Decimal] = defaultdict(Decimal)
    deposits: dict[str, Decimal] = defaultdict(Decimal)
    for b in await journal.balances(session):
        if b.code == "PROVIDER_RECEIVABLE":
            receivable[b.balance.currency] += b.balance.amount
        elif b.code == "DEPOSIT_HELD":
            deposits[b.balance.currency] += b.balance.amount
    owed: dict[str, Decimal] = defaultdict(Decimal)
    paid_deposits: dict[str, Decimal] = defaultdict(Decimal)
    # deposits leave DEPOSIT_HELD only by a deduction, an offset or a refund at exit
    released = await session.execute(
        select(JournalLine.currency, type_coerce(func.sum(JournalLine.amount), BigInteger))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .where(
            LedgerAccount.code == "DEPOSIT_HELD",
            JournalLine.side == "DEBIT",
            JournalEntry.kind.in_(("DEPOSIT_DEDUCTION", "DEPOSIT_OFFSET", "DEPOSIT_REFUND")),
        )
        .group_by(JournalLine.currency)
    )
    for currency, raw in released:
        paid_deposits[currency] -= Decimal(int(raw or 0)).scaleb(-AMOUNT_SCALE)
    for charge in (await session.execute(select(Charge))).scalars():
        owed[charge.currency] += outstanding(charge).amount
        if charge.kind == FeeKind.DEPOSIT.value:
            paid_deposits[charge.currency] += charge.paid
    orders_moved = await _ledger_moved(session, "SELLER_PAYMENTS_HELD", "DEBIT", "ORDER_COMPLETED")
    orders_recorded = await _per_currency(
        session,
        select(Commission.currency, _summed(Commission.order_amount))
        .where(Commission.entry_id.is_not(None))
        .group_by(Commission.currency),
    )
    on_statements = await _per_currency(
        session,
        select(Statement.currency, _summed(Statement.payout))
        .where(type_coerce(Statement.payout, BigInteger) > 0)
        .group_by(Statement.currency),
    )
    offered = await _per_currency(
        session, select(Payout.currency, _summed(Payout.amount)).group_by(Payout.currency)
    )
    paid = await _per_currency(
        session,
        select(Payout.currency, _summed(Payout.amount))
        .where(Payout.status == "PAID")
        .group_by(Payout.currency),
    )
    paid_out = await _ledger_moved(session, "PROVIDER_PAYABLE", "DEBIT", "PAYOUT")
    currencies = sorted(set(trial) | set(owed) | set(orders_recorded) | set(offered))
    zero = Decimal(0)
    return [
        Reconciliation(
            c,
            trial[c].debits if c in trial else Money(zero, c),
            trial[c].credits if c in trial else Money(zero, c),
            *(
                Money(values.get(c, zero), c)
                for values in (
                    receivable,
                    owed,
                    deposits,
                    paid_deposits,
                    orders_moved,
                    orders_recorded,
                    on_statements,
                    offered,
                    paid,
                    paid_out,
                )
            ),
        )
        for c in currencies
    ]
