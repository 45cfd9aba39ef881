"""Money of orders: what sellers pay, the commission taken at completion, refunds and
clawbacks, and penalties deducted from what a provider is owed — all on the ledger.

- a seller pays for an order:   Dr PLATFORM_BANK          Cr SELLER_PAYMENTS_HELD (seller)
- the order completes:          Dr SELLER_PAYMENTS_HELD   Cr COMMISSION_REVENUE (the rate)
                                                          Cr PROVIDER_PAYABLE (the rest)
- a refund to the seller:       Dr SELLER_PAYMENTS_HELD   Cr PLATFORM_BANK
- a clawback after completion:  Dr PROVIDER_PAYABLE       Cr SELLER_PAYMENTS_HELD
- a penalty:                    Dr PROVIDER_PAYABLE       Cr PENALTY_REVENUE
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, case, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.models import Commission, SellerPayment
from linkstar.core.fees.rules import FeeKind, FeeRule, PenaltyRule, quote
from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.vocabulary import Region, Tier
from linkstar.core.ledger import journal
from linkstar.core.ledger.journal import PLATFORM, credit, debit, provider_owner, seller_owner
from linkstar.core.ledger.models import AMOUNT_SCALE, JournalEntry, JournalLine, LedgerAccount


@dataclass(frozen=True, slots=True)
class OrderParty:
    """Who an order's money moves between, and in which category."""

    order_id: int
    provider_id: int
    seller_account_id: int
    category: str


def _positive(money: Money, what: str) -> None:
    if money.amount <= 0:
        raise InvalidInput(f"{what} must be a positive amount", code="INVALID_AMOUNT")


async def _post_for_order(
    session: AsyncSession,
    party: OrderParty,
    postings: list[journal.Posting],
    *,
    kind: str,
    memo: str,
    key: str,
    posted_at: datetime | None = None,
) -> JournalEntry:
    """Post an entry caused by an order, naming the order, its provider and its category."""
    return await journal.post(
        session,
        postings,
        kind=kind,
        memo=memo,
        source_type="order",
        source_id=party.order_id,
        provider_id=party.provider_id,
        category_key=party.category,
        idempotency_key=key,
        posted_at=posted_at,
    )


async def held_for_order(session: AsyncSession, party: OrderParty, currency: str) -> Money:
    """What the seller's payments for this order still hold (paid, less released or refunded,
    plus clawed back), in `currency`."""
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
                JournalEntry.source_type == "order",
                JournalEntry.source_id == party.order_id,
                LedgerAccount.code == "SELLER_PAYMENTS_HELD",
                JournalLine.currency == currency,
            )
        )
    ).scalar_one()
    return Money(Decimal(int(raw or 0)).scaleb(-AMOUNT_SCALE), currency)


async def record_seller_payment(
    session: AsyncSession,
    party: OrderParty,
    money: Money,
    reference: str,
    *,
    price: Money | None = None,
    recorded_by: int | None = None,
) -> JournalEntry:
    """Money a seller paid for an order, received into the platform's bank (staff record it
    with the bank's reference), held until the order completes or is cancelled.

    With the order's `price`, a payment in another currency (CURRENCY_MISMATCH) or beyond
    what the order still needs (OVERPAYMENT) is refused. When the order already completed and
    this payment covers it, the completion's money moves now (commission and payable).
    """
    _positive(money, "a seller payment")
    reference = reference.strip()
    if not reference or len(reference) > 120:
        raise InvalidInput(
            "a bank reference of 1 to 120 characters is required", code="INVALID_BANK_REFERENCE"
        )
    duplicate = (
        await session.execute(
            select(SellerPayment.id).where(
                SellerPayment.order_id == party.order_id,
                SellerPayment.kind == "PAYMENT",
                SellerPayment.bank_reference == reference,
            )
        )
    ).first()
    if duplicate is not None:
        raise InvalidInput(
            f"a payment with bank reference {reference!r} is already recorded for this order",
            code="DUPLICATE_PAYMENT",
        )
    if price is not None:
        if money.currency != price.currency:
            raise InvalidInput(
                f"the order is priced in {price.currency}; a payment in {money.currency} is "
                "not converted",
                code="CURRENCY_MISMATCH",
            )
        held = await held_for_order(session, party, price.currency)
        released = await _released(session, party)
        if held.amount + released + money.amount > price.amount:
            raise InvalidInput(
                f"the order costs {price.amount} {price.currency} and "
                f"{held.amount + released} is already paid; {money.amount} is too much",
                code="OVERPAYMENT",
            )
    entry = await _post_for_order(
        session,
        party,
        [
            debit("PLATFORM_BANK", PLATFORM, money),
            credit("SELLER_PAYMENTS_HELD", seller_owner(party.seller_account_id), money),
        ],
        kind="SELLER_PAYMENT",
        memo=f"seller payment {reference} for order {party.order_id}",
        key=f"seller-payment:{party.order_id}:{reference}",
    )
    session.add(_payment_row(party, "PAYMENT", money, reference, recorded_by, entry.id))
    await session.flush()
    await _release_if_funded(session, party)
    return entry


def _payment_row(
    party: OrderParty, kind: str, money: Money, reference: str, by: int | None, entry_id: int
) -> SellerPayment:
    return SellerPayment(
        order_id=party.order_id,
        seller_account_id=party.seller_account_id,
        provider_id=party.provider_id,
        category_key=party.category,
        kind=kind,
        amount=money.amount,
        currency=money.currency,
        bank_reference=reference,
        recorded_by=by,
        entry_id=entry_id,
    )


async def _released(session: AsyncSession, party: OrderParty) -> Decimal:
    """What the order's completion already took out of the held payments."""
    row = (
        await session.execute(
            select(Commission.order_amount).where(
                Commission.order_ref == f"order:{party.order_id}",
                Commission.entry_id.is_not(None),
            )
        )
    ).scalar_one_or_none()
    return row or Decimal(0)


async def seller_payments(
    session: AsyncSession, *, seller_account_id: int | None = None, order_id: int | None = None
) -> list[SellerPayment]:
    """Seller payments and refunds, newest first: of one seller, of one order, or all."""
    query = select(SellerPayment).order_by(SellerPayment.id.desc())
    if seller_account_id is not None:
        query = query.where(SellerPayment.seller_account_id == seller_account_id)
    if order_id is not None:
        query = query.where(SellerPayment.order_id == order_id)
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True, slots=True)
class CommissionRate:
    """The commission rate in force, and the rules that set it."""

    percent: Decimal
    rule_keys: tuple[str, ...]


def commission_rate(
    category: str, rules: Sequence[FeeRule], region: Region, tier: Tier
) -> CommissionRate:
    """The category's commission for a provider's region and tier, from its fee rules."""
    fee_quote = quote(category, rules, region, tier)
    lines = [line for line in fee_quote.lines if line.kind is FeeKind.COMMISSION]
    return CommissionRate(
        sum((line.rate_percent or Decimal(0) for line in lines), Decimal(0)),
        tuple(line.rule_key for line in lines),
    )


async def complete_order(
    session: AsyncSession,
    party: OrderParty,
    amount: Money,
    rate: CommissionRate,
    tier: Tier,
    completed_at: datetime,
) -> Commission:
    """Take the commission on a completed order and make the rest payable to the provider.

    The commission is `amount × rate`, rounded half-even to the currency's minor unit, and is
    recorded with the rules and tier that set it. Completing an order twice changes nothing.
    """
    _positive(amount, "an order amount")
    existing = (
        await session.execute(
            select(Commission).where(Commission.order_ref == f"order:{party.order_id}")
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    commission = amount.times(rate.percent / Decimal(100))
    row = Commission(
        order_ref=f"order:{party.order_id}",
        provider_id=party.provider_id,
        seller_account_id=party.seller_account_id,
        category_key=party.category,
        tier=tier.value,
        rule_keys=",".join(rate.rule_keys),
        rate_percent=rate.percent,
        currency=amount.currency,
        order_amount=amount.amount,
        commission=commission.amount,
        completed_at=completed_at,
        entry_id=None,
    )
    session.add(row)
    await session.flush()
    await _release_if_funded(session, party, posted_at=completed_at)
    return row


async def _release_if_funded(
    session: AsyncSession, party: OrderParty, posted_at: datetime | None = None
) -> None:
    """Move a completed order's money once the seller's payments cover it: the commission to
    the platform, the rest payable to the provider. Before that nothing moves, so the held
    payments never go below zero and the platform never owes what it has not received."""
    row = (
        await session.execute(
            select(Commission).where(
                Commission.order_ref == f"order:{party.order_id}", Commission.entry_id.is_(None)
            )
        )
    ).scalar_one_or_none()
    if row is None:
        return
    amount = Money(row.order_amount, row.currency)
    if (await held_for_order(session, party, row.currency)).amount < amount.amount:
        return
    commission = Money(row.commission, row.currency)
    share = amount - commission
    postings = [debit("SELLER_PAYMENTS_HELD", seller_owner(party.seller_account_id), amount)]
    if commission.amount > 0:
        postings.append(credit("COMMISSION_REVENUE", PLATFORM, commission))
    if share.amount > 0:
        postings.append(credit("PROVIDER_PAYABLE", provider_owner(party.provider_id), share))
    entry = await _post_for_order(
        session,
        party,
        postings,
        kind="ORDER_COMPLETED",
        memo=(
            f"order {party.order_id} completed: commission {row.rate_percent}% "
            f"({row.rule_keys or 'no commission rule'}; tier {row.tier})"
        ),
        key=f"order-completed:{party.order_id}",
        posted_at=posted_at or utcnow(),
    )
    row.entry_id = entry.id
    await session.flush()


async def refund_seller(
    session: AsyncSession,
    party: OrderParty,
    money: Money,
    reason: str,
    *,
    recorded_by: int | None = None,
) -> JournalEntry:
    """Pay held money back to the seller (a cancelled order, a lost dispute): at most what
    the order's payments still hold (OVERPAYMENT otherwise)."""
    _positive(money, "a refund")
    held = await held_for_order(session, party, money.currency)
    key = f"seller-refund:{party.order_id}:{money.currency}"
    done = (
        await session.execute(select(JournalEntry).where(JournalEntry.idempotency_key == key))
    ).scalar_one_or_none()
    if done is not None:
        return done
    if money.amount > held.amount:
        raise InvalidInput(
            f"the order's payments hold {held.amount} {held.currency}; "
            f"{money.amount} cannot be refunded",
            code="OVERPAYMENT",
        )
    entry = await _post_for_order(
        session,
        party,
        [
            debit("SELLER_PAYMENTS_HELD", seller_owner(party.seller_account_id), money),
            credit("PLATFORM_BANK", PLATFORM, money),
        ],
        kind="SELLER_REFUND",
        memo=f"refund for order {party.order_id}: {reason}",
        key=key,
    )
    session.add(_payment_row(party, "REFUND", money, f"refund:{entry.id}", recorded_by, entry.id))
    await session.flush()
    return entry


async def refund_order(
    session: AsyncSession, party: OrderParty, reason: str, currency: str
) -> JournalEntry | None:
    """At cancellation: pay back everything the order's payments hold (nothing when unpaid).
    Cancelling twice refunds once."""
    held = await held_for_order(session, party, currency)
    if held.amount <= 0:
        return None
    return await refund_seller(session, party, held, reason)


async def claw_back(
    session: AsyncSession,
    party: OrderParty,
    money: Money,
    reason: str,
    posted_at: datetime | None = None,
) -> JournalEntry:
    """Take back from the provider what it was credited for an order (a dispute lost after
    completion): the money returns to the seller's held balance, ready to be refunded. It
    shows in the provider's next statement as an adjustment."""
    _positive(money, "a clawback")
    return await _post_for_order(
        session,
        party,
        [
            debit("PROVIDER_PAYABLE", provider_owner(party.provider_id), money),
            credit("SELLER_PAYMENTS_HELD", seller_owner(party.seller_account_id), money),
        ],
        kind="CLAWBACK",
        memo=f"clawback for order {party.order_id}: {reason}",
        key=f"clawback:{party.order_id}:{money.currency}",
        posted_at=posted_at,
    )


async def deduct_penalty(
    session: AsyncSession,
    *,
    provider_id: int,
    category: str,
    money: Money,
    cause_type: str,
    cause_id: int,
    memo: str,
    rule_key: str = "manual",
    posted_at: datetime | None = None,
) -> JournalEntry:
    """Deduct a penalty from what the provider is owed, linked to its cause (a sanction, a
    violation). Undo it with `journal.reverse()` when an appeal removes the cause."""
    _positive(money, "a penalty")
    return await journal.post(
        session,
        [
            debit("PROVIDER_PAYABLE", provider_owner(provider_id), money),
            credit("PENALTY_REVENUE", PLATFORM, money),
        ],
        kind="PENALTY",
        memo=memo,
        source_type=cause_type,
        source_id=cause_id,
        provider_id=provider_id,
        category_key=category,
        idempotency_key=f"penalty:{cause_type}:{cause_id}:{rule_key}:{money.currency}",
        posted_at=posted_at,
    )


async def order_revenue(
    session: AsyncSession, provider_id: int, category: str, start: datetime, end: datetime
) -> list[Money]:
    """The provider's completed-order revenue in `category` within [start, end), per currency."""
    rows = await session.execute(
        select(Commission.currency, Commission.order_amount).where(
            Commission.provider_id == provider_id,
            Commission.category_key == category,
            Commission.completed_at >= start,
            Commission.completed_at < end,
        )
    )
    totals: dict[str, Decimal] = {}
    for currency, amount in rows:
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    return [Money(totals[c], c) for c in sorted(totals)]


async def penalize(
    session: AsyncSession,
    rules: Sequence[PenaltyRule],
    *,
    on: str,
    provider_id: int,
    category: str,
    cause_type: str,
    cause_id: int,
    period_start: datetime,
    period_end: datetime,
) -> list[JournalEntry]:
    """Deduct every penalty the category's rules attach to consequence `on` (e.g. a sanction
    of kind RESTRICTED_INTAKE), each linked to its cause. Idempotent per cause and rule."""
    entries = []
    revenue = await order_revenue(session, provider_id, category, period_start, period_end)
    for rule in rules:
        if rule.on != on:
            continue
        amounts = (
            [rule.charge(None)] if rule.amount is not None else [rule.charge(r) for r in revenue]
        )
        for money in amounts:
            if money is None:
                continue
            entries.append(
                await deduct_penalty(
                    session,
                    provider_id=provider_id,
                    category=category,
                    money=money,
                    cause_type=cause_type,
                    cause_id=cause_id,
                    memo=f"{rule.name} ({category}.{rule.key}; {on})",
                    rule_key=rule.key,
                )
            )
    return entries


async def reverse_penalties(
    session: AsyncSession, cause_type: str, cause_id: int, memo: str, by: int | None = None
) -> list[JournalEntry]:
    """Undo every penalty a cause brought (its appeal was upheld): one reversing entry each,
    which the provider's next statement shows. Reversing twice changes nothing."""
    penalties = (
        await session.execute(
            select(JournalEntry.id).where(
                JournalEntry.kind == "PENALTY",
                JournalEntry.source_type == cause_type,
                JournalEntry.source_id == cause_id,
            )
        )
    ).scalars()
    reversals = []
    for entry_id in list(penalties):
        done = (
            await session.execute(
                select(JournalEntry).where(JournalEntry.reverses_entry_id == entry_id)
            )
        ).scalar_one_or_none()
        reversals.append(done or await journal.reverse(session, entry_id, memo=memo, posted_by=by))
    return reversals
