"""A provider's deposit over its life: called at approval (or at a tier change), required
before the dispatch pool where the category says so, deducted from, topped up when deductions
take it below its minimum, and refunded after the retention period that follows an exit, less
what is still owed. Every step is a journal entry (see charges.py for the accounts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, case, exists, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.charges import (
    PAYMENT_TERM_DAYS,
    ChargeOccasion,
    ChargeStatus,
    issue_postings,
    outstanding,
    waive,
)
from linkstar.core.billing.models import Charge, ChargePayment
from linkstar.core.fees.rules import FeeKind, FeeRule, quote
from linkstar.core.kernel.db import claim, utcnow
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.money import Money
from linkstar.core.ledger import journal
from linkstar.core.ledger.journal import PLATFORM, credit, debit, provider_owner
from linkstar.core.ledger.models import AMOUNT_SCALE, JournalEntry, JournalLine, LedgerAccount


def deposit_satisfied(provider_id: Any, category: str) -> ColumnElement[bool]:
    """Whether a provider may be in a category's dispatch pool as far as its deposit goes: no
    deposit the category requires before the pool (a rule's `before_pool`) is still OPEN
    (unpaid, or a top-up not yet paid). A SQL condition over `provider_id` (a column or a
    value), so the dispatch query applies it to every candidate at once."""
    return ~exists().where(
        Charge.provider_id == provider_id,
        Charge.category_key == category,
        Charge.blocks_pool.is_(True),
        Charge.status == ChargeStatus.OPEN.value,
    )


async def deposit_held_in(
    session: AsyncSession, provider_id: int, category: str, currency: str
) -> Money:
    """What the platform holds of a provider's deposit for one category (its DEPOSIT_HELD
    lines whose entries name the category)."""
    signed = case(
        (JournalLine.side == "CREDIT", type_coerce(JournalLine.amount, BigInteger)),
        else_=-type_coerce(JournalLine.amount, BigInteger),
    )
    raw = (
        await session.execute(
            select(type_coerce(func.coalesce(func.sum(signed), 0), BigInteger))
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
            .where(
                LedgerAccount.code == "DEPOSIT_HELD",
                LedgerAccount.owner == provider_owner(provider_id),
                JournalLine.currency == currency,
                JournalEntry.category_key == category,
            )
        )
    ).scalar_one()
    return Money(Decimal(int(raw or 0)).scaleb(-AMOUNT_SCALE), currency)


async def deduct_from_deposit(
    session: AsyncSession,
    *,
    provider_id: int,
    category: str,
    money: Money,
    cause_type: str,
    cause_id: int,
    memo: str,
    rule_key: str = "manual",
) -> JournalEntry:
    """Take a penalty out of the held deposit (Dr DEPOSIT_HELD, Cr PENALTY_REVENUE), at most
    what is held (INVALID_AMOUNT otherwise). A top-up follows when the deposit falls below its
    minimum (`top_up`)."""
    held = await deposit_held_in(session, provider_id, category, money.currency)
    if not 0 < money.amount <= held.amount:
        raise InvalidInput(
            f"the deposit holds {held.amount} {held.currency}; {money.amount} cannot be deducted",
            code="INVALID_AMOUNT",
        )
    owner = provider_owner(provider_id)
    return await journal.post(
        session,
        [debit("DEPOSIT_HELD", owner, money), credit("PENALTY_REVENUE", PLATFORM, money)],
        kind="DEPOSIT_DEDUCTION",
        memo=memo,
        source_type=cause_type,
        source_id=cause_id,
        provider_id=provider_id,
        category_key=category,
        idempotency_key=f"deposit-deduction:{cause_type}:{cause_id}:{rule_key}:{money.currency}",
    )


async def top_up(
    session: AsyncSession,
    occasion: ChargeOccasion,
    rules: Sequence[FeeRule],
    *,
    today: date | None = None,
) -> list[Charge]:
    """When what is held of the deposit fell below the rule's `minimum` (deductions took it),
    charge what brings it back to the full amount — once per shortfall: not while a deposit
    charge of the category is still OPEN, and named after the deduction that caused it."""
    fee_quote = quote(occasion.category, rules, occasion.region, occasion.tier)
    charges = []
    for line in fee_quote.lines:
        rule = line.rule
        if line.kind is not FeeKind.DEPOSIT or rule is None or rule.minimum is None:
            continue
        assert line.amount is not None  # a deposit has an amount
        currency = line.amount.currency
        held = await deposit_held_in(session, occasion.provider_id, occasion.category, currency)
        if held.amount >= rule.minimum.amount:
            continue
        still_open = (
            await session.execute(
                select(Charge.id).where(
                    Charge.provider_id == occasion.provider_id,
                    Charge.category_key == occasion.category,
                    Charge.kind == FeeKind.DEPOSIT.value,
                    Charge.status == ChargeStatus.OPEN.value,
                )
            )
        ).first()
        if still_open is not None:
            continue
        missing = Money(line.amount.amount - held.amount, currency)
        # the deduction that took the deposit below its minimum names the top-up
        cause = (
            await session.execute(
                select(func.max(JournalEntry.id)).where(
                    JournalEntry.kind == "DEPOSIT_DEDUCTION",
                    JournalEntry.provider_id == occasion.provider_id,
                    JournalEntry.category_key == occasion.category,
                )
            )
        ).scalar_one()
        name = f"TOP_UP:{cause or 0}"
        charge = Charge(
            provider_id=occasion.provider_id,
            application_id=occasion.application_id,
            category_key=occasion.category,
            rule_key=line.rule_key,
            name=f"{line.name} top-up",
            kind=FeeKind.DEPOSIT.value,
            scope=line.scope,
            occasion=name,
            currency=currency,
            amount=missing.amount,
            paid=Decimal(0),
            waived=Decimal(0),
            status=ChargeStatus.OPEN.value,
            due_on=(today or utcnow().date()) + timedelta(days=PAYMENT_TERM_DAYS),
            dedupe_key=f"provider:{occasion.provider_id}:{name}:{line.rule_key}",
            blocks_pool=rule.before_pool,
        )
        session.add(charge)
        await session.flush()
        entry = await journal.post(
            session,
            issue_postings(FeeKind.DEPOSIT, provider_owner(occasion.provider_id), missing),
            kind="CHARGE",
            memo=(
                f"{line.name} top-up ({line.rule_key}): {held.amount} held, "
                f"minimum {rule.minimum.amount} {currency}"
            ),
            source_type="charge",
            source_id=charge.id,
            provider_id=occasion.provider_id,
            category_key=occasion.category,
            idempotency_key=f"charge:{charge.id}",
        )
        charge.entry_id = entry.id
        charges.append(charge)
    return charges


@dataclass(frozen=True, slots=True)
class DepositRefund:
    """What an exit's deposit release did, in one currency."""

    held: Money
    offset: Money  # open charges paid out of the deposit
    refunded: Money  # credited to the provider's payable, paid with its next statement


async def refund_deposit(
    session: AsyncSession,
    *,
    provider_id: int,
    category: str,
    application_id: int,
    currency: str,
) -> DepositRefund | None:
    """At exit, after the retention period: release what is held of the deposit, less what
    the provider owes. Open fee charges of the category are paid out of it first (the charge
    becomes PAID); open deposit charges are waived (no deposit is needed any more); the rest
    is credited to PROVIDER_PAYABLE, so the next statement nets it against anything the
    provider still owes there (a negative balance) and pays it through the usual, four-eyes
    payout. Idempotent: a second run finds nothing held."""
    held = await deposit_held_in(session, provider_id, category, currency)
    owner = provider_owner(provider_id)
    offset = Decimal(0)
    open_charges = (
        await session.execute(
            select(Charge)
            .where(
                Charge.provider_id == provider_id,
                Charge.category_key == category,
                Charge.currency == currency,
                Charge.status == ChargeStatus.OPEN.value,
            )
            .order_by(Charge.id)
        )
    ).scalars()
    for charge in list(open_charges):
        if charge.kind == FeeKind.DEPOSIT.value:
            await waive(session, charge, "the provider left: no deposit is needed", waived_by=None)
            continue
        part = min(outstanding(charge).amount, held.amount - offset)
        if part <= 0:
            continue
        money = Money(part, currency)
        status = ChargeStatus.PAID if part == outstanding(charge).amount else ChargeStatus.OPEN
        await claim(
            session,
            Charge,
            charge.id,
            {"version": charge.version},
            {
                "version": charge.version + 1,
                "paid": charge.paid + part,
                "status": status.value,
                "settled_at": utcnow() if status is ChargeStatus.PAID else None,
            },
            "the charge",
        )
        entry = await journal.post(
            session,
            [debit("DEPOSIT_HELD", owner, money), credit("PROVIDER_RECEIVABLE", owner, money)],
            kind="DEPOSIT_OFFSET",
            memo=f"{charge.name} paid out of the deposit at exit",
            source_type="charge",
            source_id=charge.id,
            provider_id=provider_id,
            category_key=category,
            idempotency_key=f"deposit-offset:{application_id}:{charge.id}",
        )
        session.add(
            ChargePayment(
                charge_id=charge.id,
                amount=part,
                currency=currency,
                bank_reference=f"deposit offset {entry.id}",
                entry_id=entry.id,
            )
        )
        offset += part
    rest = Money(held.amount - offset, currency)
    if rest.amount > 0:
        await journal.post(
            session,
            [debit("DEPOSIT_HELD", owner, rest), credit("PROVIDER_PAYABLE", owner, rest)],
            kind="DEPOSIT_REFUND",
            memo=f"deposit released at exit of {category} (application {application_id})",
            source_type="application",
            source_id=application_id,
            provider_id=provider_id,
            category_key=category,
            idempotency_key=f"deposit-refund:{application_id}:{currency}",
        )
    await session.flush()
    if held.amount <= 0:
        return None
    return DepositRefund(held, Money(offset, currency), rest)
