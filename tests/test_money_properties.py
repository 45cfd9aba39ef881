"""Property tests of the ledger and of billing (hypothesis), on the real database.

Invariants, for every sequence hypothesis tries: every journal entry balances per currency;
the whole ledger's debits equal its credits; a reversal nets its entry to zero; the
receivable equals what open charges still ask for; the bank holds exactly what was paid; a
charge is never paid or waived beyond its amount.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing import charges as billing
from linkstar.core.fees.rules import FeeKind, FeeRule
from linkstar.core.kernel.errors import LinkStarError
from linkstar.core.kernel.money import MINOR_UNITS, Money
from linkstar.core.kernel.vocabulary import Region, Tier
from linkstar.core.ledger import journal
from linkstar.core.ledger.journal import PLATFORM, credit, debit, provider_owner
from linkstar.core.ledger.models import JournalEntry, JournalLine, LedgerAccount
from linkstar.core.providers.models import Provider
from tests.fixture_category import KEY
from tests.test_settlement import run

CURRENCIES = ["USD", "CNY", "JPY"]
_serial = itertools.count()

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def money(currency: str) -> st.SearchStrategy[Money]:
    places = MINOR_UNITS[currency]
    return st.integers(min_value=1, max_value=10_000_000).map(
        lambda minor: Money(Decimal(minor).scaleb(-places), currency)
    )


async def new_provider(session: AsyncSession) -> int:
    provider = Provider(
        legal_name=f"Property Test {next(_serial)}",
        region=Region.OVERSEAS,
        registration_number=f"PT-{next(_serial)}-{id(session)}",
    )
    session.add(provider)
    await session.flush()
    return provider.id


async def entry_sums(session: AsyncSession) -> dict[tuple[int, str], Decimal]:
    """Debits minus credits of every entry, per currency."""
    sums: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for entry_id, side, amount, currency in await session.execute(
        select(JournalLine.entry_id, JournalLine.side, JournalLine.amount, JournalLine.currency)
    ):
        sums[(entry_id, currency)] += amount if side == "DEBIT" else -amount
    return sums


transfers = st.lists(
    st.tuples(
        st.sampled_from(CURRENCIES).flatmap(money),
        st.sampled_from(["FEE", "DEPOSIT", "PAYMENT"]),
        st.booleans(),  # reverse it afterwards?
    ),
    min_size=1,
    max_size=8,
)


@PROPERTY
@given(moves=transfers)
def test_every_entry_balances_and_reversals_net_to_zero(moves, migrated, db) -> None:
    async def work(session: AsyncSession) -> None:
        owner = provider_owner(await new_provider(session))
        postings = {
            "FEE": lambda m: [
                debit("PROVIDER_RECEIVABLE", owner, m),
                credit("FEE_REVENUE", PLATFORM, m),
            ],
            "DEPOSIT": lambda m: [
                debit("PLATFORM_BANK", PLATFORM, m),
                credit("DEPOSIT_HELD", owner, m),
            ],
            "PAYMENT": lambda m: [
                debit("PLATFORM_BANK", PLATFORM, m),
                credit("PROVIDER_RECEIVABLE", owner, m),
            ],
        }
        kept: dict[str, Decimal] = defaultdict(Decimal)
        for index, (amount, kind, undo) in enumerate(moves):
            entry = await journal.post(
                session,
                postings[kind](amount),
                kind=kind,
                memo="property",
                source_type="test",
                source_id=None,
                idempotency_key=f"{owner}:{index}",
            )
            if undo:
                await journal.reverse(session, entry.id, memo="undo")
            elif kind == "DEPOSIT":
                kept[amount.currency] += amount.amount
        assert all(total == 0 for total in (await entry_sums(session)).values())
        assert all(t.balanced for t in await journal.trial_balance(session))
        held = {
            b.balance.currency: b.balance.amount
            for b in await journal.balances(session, owner)
            if b.code == "DEPOSIT_HELD"
        }
        assert {c: a for c, a in held.items() if a} == {c: a for c, a in kept.items() if a}

    run(migrated, work)


def test_an_unbalanced_or_empty_entry_is_refused() -> None:
    usd = Money.of("10.00", "USD")
    for postings in (
        [],
        [debit("PLATFORM_BANK", PLATFORM, usd)],
        [
            debit("PLATFORM_BANK", PLATFORM, usd),
            credit("FEE_REVENUE", PLATFORM, Money.of("9.99", "USD")),
        ],
        [
            debit("PLATFORM_BANK", PLATFORM, usd),
            credit("FEE_REVENUE", PLATFORM, Money.of("10.00", "CNY")),
        ],
        [debit("PLATFORM_BANK", PLATFORM, usd), credit("DEPOSIT_HELD", PLATFORM, usd)],
        [debit("NO_SUCH_ACCOUNT", PLATFORM, usd), credit("FEE_REVENUE", PLATFORM, usd)],
    ):
        with pytest.raises(LinkStarError):
            journal.check_balanced(postings)


charge_plans = st.lists(
    st.tuples(st.sampled_from(CURRENCIES).flatmap(money), st.booleans()),  # (amount, deposit?)
    min_size=1,
    max_size=4,
)
steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3),  # which charge
        st.sampled_from(["pay", "waive"]),
        st.fractions(min_value=0, max_value=Decimal("1.2")),  # share of what is left
    ),
    max_size=10,
)


@PROPERTY
@given(plan=charge_plans, actions=steps)
def test_billing_never_creates_or_loses_money(plan, actions, migrated, db) -> None:
    async def work(session: AsyncSession) -> None:
        provider_id = await new_provider(session)
        rules = [
            FeeRule(
                key=f"item_{i}",
                name=f"Item {i}",
                kind=FeeKind.DEPOSIT if is_deposit else FeeKind.ONE_OFF_FEE,
                amount=amount,
            )
            for i, (amount, is_deposit) in enumerate(plan)
        ]
        occasion = billing.ChargeOccasion(
            "APPROVAL", provider_id, None, "property", Region.OVERSEAS, Tier.REGULAR
        )
        charges = await billing.issue_charges(session, occasion, rules)
        again = await billing.issue_charges(session, occasion, rules)  # idempotent
        assert [c.id for c in again] == [c.id for c in charges]
        bank: dict[str, Decimal] = defaultdict(Decimal)
        for step, (which, action, share) in enumerate(actions):
            charge = charges[which % len(charges)]
            left = billing.outstanding(charge)
            places = MINOR_UNITS[charge.currency]
            amount = (left.amount * Decimal(share.numerator) / Decimal(share.denominator)).quantize(
                Decimal(1).scaleb(-places)
            )
            try:
                async with session.begin_nested():
                    if action == "pay":
                        await billing.record_payment(
                            session,
                            charge,
                            Money(amount, charge.currency),
                            f"ref-{step}",
                            recorded_by=None,
                        )
                        bank[charge.currency] += amount
                    else:
                        await billing.waive(session, charge, "property", waived_by=None)
            except LinkStarError:
                pass  # refused (overpaid, zero, not open): nothing may have moved
            await session.refresh(charge)
        for charge in charges:
            assert Decimal(0) <= charge.paid + charge.waived <= charge.amount
        assert all(total == 0 for total in (await entry_sums(session)).values())
        for row in await billing.reconcile(session):
            assert row.balanced, row
        # the bank received exactly what the payments recorded, per currency
        received: dict[str, Decimal] = defaultdict(Decimal)
        for amount, currency in await session.execute(
            select(JournalLine.amount, JournalLine.currency)
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
            .where(
                JournalEntry.provider_id == provider_id,
                LedgerAccount.code == "PLATFORM_BANK",
                JournalLine.side == "DEBIT",
            )
        ):
            received[currency] += amount
        assert {c: a for c, a in received.items() if a} == {c: a for c, a in bank.items() if a}

    run(migrated, work)


months = ["2026-01", "2026-02", "2026-03", "2026-04"]
order_events = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3),  # month
        st.sampled_from(["order", "unpaid", "cancel", "penalty", "clawback"]),
        st.integers(min_value=1, max_value=500_000),  # cents
        st.sampled_from([Tier.REGULAR, Tier.PREFERRED, Tier.STRATEGIC_PARTNER]),
    ),
    min_size=1,
    max_size=12,
)
payout_moves = st.lists(st.sampled_from(["approve", "pay", "decline", "hold", "none"]), max_size=4)


@PROPERTY
@given(events=order_events, decisions=payout_moves)
def test_settlement_agrees_with_the_ledger(events, decisions, migrated, registry, db) -> None:
    from linkstar.core.billing import orders, settlement
    from linkstar.core.billing.models import Payout, Statement
    from linkstar.core.identity.models import Account
    from linkstar.core.kernel.vocabulary import Role

    async def work(session: AsyncSession) -> None:
        provider_id = await new_provider(session)
        seller = Account(
            email=f"s{next(_serial)}-{provider_id}@example.com",
            display_name="S",
            password_hash="x",
            role=Role.SELLER,
        )
        session.add(seller)
        await session.flush()
        rules = registry.category(KEY).fee_rules
        order_id = provider_id * 1000
        completed: list[orders.OrderParty] = []
        unpaid: list[tuple[orders.OrderParty, Money, Decimal]] = []
        for month, kind, cents, tier in events:
            when = settlement.cycle_of(months[month]).start + timedelta(days=3)
            money = Money(Decimal(cents).scaleb(-2), "USD")
            if kind in ("order", "unpaid"):
                order_id += 1
                party = orders.OrderParty(order_id, provider_id, seller.id, KEY)
                rate = orders.commission_rate(KEY, rules, Region.OVERSEAS, tier)
                if kind == "order":  # paid for, then completed
                    await orders.record_seller_payment(session, party, money, "p", price=money)
                    row = await orders.complete_order(session, party, money, rate, tier, when)
                    completed.append(party)
                else:  # completed first: nothing moves until the seller's money arrives
                    row = await orders.complete_order(session, party, money, rate, tier, when)
                    assert row.entry_id is None
                    unpaid.append((party, money, row.commission))
                assert row.commission == money.times(rate.percent / 100).amount
            elif kind == "cancel":
                order_id += 1
                party = orders.OrderParty(order_id, provider_id, seller.id, KEY)
                await orders.record_seller_payment(session, party, money, "p", price=money)
                await orders.refund_order(session, party, "cancelled", "USD")
                await orders.refund_order(session, party, "cancelled", "USD")  # once
                assert (await orders.held_for_order(session, party, "USD")).amount == 0
            elif kind == "penalty":
                order_id += 1
                await orders.deduct_penalty(
                    session,
                    provider_id=provider_id,
                    category=KEY,
                    money=money,
                    cause_type="sanction",
                    cause_id=order_id,
                    memo="p",
                    posted_at=when,
                )
            elif completed:
                await orders.claw_back(session, completed.pop(), money, "c", posted_at=when)
            seller_held = await journal.balance(
                session, "SELLER_PAYMENTS_HELD", journal.seller_owner(seller.id), "USD"
            )
            assert seller_held.amount >= 0  # never in debit
        late_share = Decimal(0)  # released today, after every settled cycle: not settled yet
        for party, money, commission in unpaid:  # the money arrives: the completion moves now
            await orders.record_seller_payment(session, party, money, "late", price=money)
            assert (await orders.held_for_order(session, party, "USD")).amount == 0
            late_share += money.amount - commission
        seller_held = await journal.balance(
            session, "SELLER_PAYMENTS_HELD", journal.seller_owner(seller.id), "USD"
        )
        clawed = Decimal(0)
        clawbacks = await session.execute(
            select(JournalEntry.id).where(
                JournalEntry.kind == "CLAWBACK", JournalEntry.provider_id == provider_id
            )
        )
        for entry_id in list(clawbacks.scalars()):
            for posting in await journal.entry_postings(session, entry_id):
                if posting.code == "SELLER_PAYMENTS_HELD":
                    clawed += posting.money.amount
        assert seller_held.amount == clawed  # every payment completed or refunded
        after_all = datetime(2026, 6, 1, tzinfo=UTC)
        statements: list[Statement] = []
        for label in months:
            cycle = settlement.cycle_of(label)
            first = await settlement.settle(session, cycle, [KEY], now=after_all)
            again = await settlement.settle(session, cycle, [KEY], now=after_all)
            assert [s.id for s in first] == [s.id for s in again]  # idempotent
            mine = [s for s in first if s.provider_id == provider_id]
            statements.extend(mine)
            payout = await settlement.payout_of(session, mine[0].id) if mine else None
            for step, move in enumerate(decisions):
                if payout is None or move == "none":
                    break
                action = {
                    "approve": settlement.PayoutAction.APPROVE,
                    "pay": settlement.PayoutAction.PAY,
                    "decline": settlement.PayoutAction.DECLINE,
                    "hold": settlement.PayoutAction.HOLD,
                }[move]
                try:
                    async with session.begin_nested():
                        await settlement.decide_payout(
                            session, payout, action, by=step, reason="r", bank_reference="b"
                        )
                except LinkStarError:
                    pass
                await session.refresh(payout)
        assert all(total == 0 for total in (await entry_sums(session)).values())
        # the statements add up to the ledger: every payable line is settled exactly once
        payable = await journal.balance(
            session, "PROVIDER_PAYABLE", provider_owner(provider_id), "USD"
        )
        paid = sum(
            (
                p.amount
                for p in (
                    await session.execute(
                        select(Payout).where(
                            Payout.provider_id == provider_id, Payout.status == "PAID"
                        )
                    )
                ).scalars()
            ),
            Decimal(0),
        )
        movements = sum((s.orders - s.penalties + s.adjustments for s in statements), Decimal(0))
        assert payable.amount == movements - paid + late_share
        for s in statements:
            assert s.closing == s.opening + s.orders - s.penalties + s.adjustments
            assert s.payout == max(s.closing, Decimal(0))
            assert s.held_back == 0
        # the reconciliation agrees: ledger, charges, orders, statements and payouts
        (usd,) = [r for r in await billing.reconcile(session) if r.currency == "USD"]
        assert usd.orders_in_ledger == usd.orders_on_records
        assert usd.payable_on_statements == usd.offered_on_payouts
        assert usd.paid_on_payouts == usd.payouts_in_ledger
        assert usd.balanced

    run(migrated, work)
