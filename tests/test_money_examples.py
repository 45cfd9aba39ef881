"""Worked examples of docs/money.md, by hand, on the real database (both backends); what the
provider sees is read over HTTP.

Fee items (MAINLAND_CHINA, REGULAR, from the built-in plugins' rules):
    ERP        deposit CNY 30,000.00 · annual fee 10,000.00 · API integration (STANDARD) 15,000.00
    training   deposit CNY 10,000.00 · annual listing fee 3,000.00 ·
               certification exam 12 candidates × 180.00 = 2,160.00 (charged when counted)
Commission by tier (logistics: REGULAR 3 %, PREFERRED 2.5 %, STRATEGIC_PARTNER 2 %) on a
CNY 10,000.00 order: 300.00 / 250.00 / 200.00, payable 9,700.00 / 9,750.00 / 9,800.00.
Capped penalty (agency, restricted intake: 5 % of the month's order revenue, at most
CNY 5,000.00): revenue CNY 200,000.00 → 5 % is 10,000.00 → deducted 5,000.00.
Multi-currency provider (HK_MACAU_TAIWAN logistics at REGULAR, 3 %): HKD 20,000.00 and
USD 1,000.00 of orders in October → two statements, HKD 19,400.00 and USD 970.00, nothing
converted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing import charges as billing
from linkstar.core.billing import orders, settlement
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.vocabulary import Region, Role, Tier
from linkstar.core.ledger import journal
from linkstar.core.providers.models import Provider
from tests.harness import REPO, global_id
from tests.test_settlement import october, parties, run  # noqa: F401

CHARGES = """query($p: ID!) { node(id: $p) { ... on Provider { charges { edges { node {
  ruleKey occasion kind amount { amount currency } } } } } } }"""


def test_each_fee_item_is_charged_with_the_rule_that_produced_it(
    migrated, registry, db, sign_in
) -> None:
    erp = Provider(legal_name="Hangzhou ERP", region=Region.MAINLAND_CHINA, registration_number="E")
    school = Provider(
        legal_name="Yiwu Academy", region=Region.MAINLAND_CHINA, registration_number="T"
    )
    db.add_all([erp, school])
    db.commit()

    async def approve_both(session: AsyncSession) -> None:
        for provider, category in ((erp, "erp"), (school, "training")):
            occasion = billing.ChargeOccasion(
                "APPROVAL", provider.id, None, category, Region.MAINLAND_CHINA, Tier.REGULAR
            )
            rules = registry.category(category).fee_rules
            await billing.issue_charges(session, occasion, rules)
        # the first exam session: 12 candidates counted
        exam = billing.ChargeOccasion(
            "EXAM:2026-11", school.id, None, "training", Region.MAINLAND_CHINA, Tier.REGULAR
        )
        rules = registry.category("training").fee_rules
        for _ in range(2):  # counting the same session twice charges once
            await billing.issue_charges(session, exam, rules, quantities={"candidate": 12})

    run(migrated, approve_both)

    def charges_of(provider: Provider) -> set[tuple[str, str, str, str]]:
        partner = sign_in(Role.PARTNER, provider_id=provider.id, owner=True)
        edges = partner(CHARGES, {"p": global_id("Provider", provider.id)})["node"]["charges"]
        return {
            (n["ruleKey"], n["occasion"], n["kind"], n["amount"]["amount"])
            for n in (e["node"] for e in edges["edges"])
        }

    assert charges_of(erp) == {
        ("erp.deposit", "APPROVAL", "DEPOSIT", "30000.00"),
        ("erp.annual_fee", "APPROVAL", "ANNUAL_FEE", "10000.00"),
        ("erp.api_integration", "APPROVAL", "ONE_OFF_FEE", "15000.00"),
    }
    assert charges_of(school) == {
        ("training.deposit", "APPROVAL", "DEPOSIT", "10000.00"),
        ("training.annual_listing_fee", "APPROVAL", "ANNUAL_FEE", "3000.00"),
        ("training.certification_exam_fee", "EXAM:2026-11", "PER_UNIT_FEE", "2160.00"),
    }

    async def receivables(session: AsyncSession) -> list[Money]:
        return [
            await journal.balance(
                session, "PROVIDER_RECEIVABLE", journal.provider_owner(p.id), "CNY"
            )
            for p in (erp, school)
        ]

    assert run(migrated, receivables) == [
        Money.of("55000.00", "CNY"),
        Money.of("15160.00", "CNY"),
    ]


def test_commission_follows_the_tier_at_completion(migrated, registry, parties) -> None:
    provider_id, seller_id = parties
    rules = registry.category("logistics").fee_rules

    async def three_orders(session: AsyncSession) -> list[tuple[Decimal, Decimal, str]]:
        found = []
        for order_id, tier in enumerate(Tier, start=1):
            party = orders.OrderParty(order_id, provider_id, seller_id, "logistics")
            money = Money.of("10000.00", "CNY")
            await orders.record_seller_payment(session, party, money, f"BOC-{order_id}")
            rate = orders.commission_rate("logistics", rules, Region.MAINLAND_CHINA, tier)
            row = await orders.complete_order(session, party, money, rate, tier, october(5))
            found.append((row.rate_percent, row.commission, row.rule_keys))
        return found

    assert run(migrated, three_orders) == [
        (Decimal("3"), Decimal("300.00"), "logistics.order_commission"),
        (Decimal("2.5"), Decimal("250.00"), "logistics.order_commission"),
        (Decimal("2"), Decimal("200.00"), "logistics.order_commission"),
    ]

    async def payable(session: AsyncSession) -> Money:
        owner = journal.provider_owner(provider_id)
        return await journal.balance(session, "PROVIDER_PAYABLE", owner, "CNY")

    assert run(migrated, payable) == Money.of("29250.00", "CNY")  # 9,700 + 9,750 + 9,800


def test_a_share_penalty_is_capped(migrated, registry, parties) -> None:
    provider_id, seller_id = parties

    async def month(session: AsyncSession) -> list[Money]:
        party = orders.OrderParty(1, provider_id, seller_id, "agency")
        money = Money.of("200000.00", "CNY")
        await orders.record_seller_payment(session, party, money, "BOC-1")
        rate = orders.commission_rate(
            "agency", registry.category("agency").fee_rules, Region.OVERSEAS, Tier.REGULAR
        )
        await orders.complete_order(session, party, money, rate, Tier.REGULAR, october(5))
        entries = await orders.penalize(
            session,
            registry.category("agency").penalty_rules,
            on="RESTRICTED_INTAKE",
            provider_id=provider_id,
            category="agency",
            cause_type="sanction",
            cause_id=5,
            period_start=datetime(2026, 10, 1, tzinfo=UTC),
            period_end=datetime(2026, 11, 1, tzinfo=UTC),
        )
        return [
            p.money
            for e in entries
            for p in await journal.entry_postings(session, e.id)
            if p.code == "PENALTY_REVENUE"
        ]

    assert run(migrated, month) == [Money.of("5000.00", "CNY")]  # not 10,000.00


def test_a_provider_paid_in_two_currencies_gets_one_statement_per_currency(
    migrated,
    registry,
    db,
) -> None:
    from linkstar.core.identity.models import Account

    provider = Provider(
        legal_name="Kowloon Express", region=Region.HK_MACAU_TAIWAN, registration_number="HK-1"
    )
    seller = Account(email="hk@example.com", display_name="S", password_hash="x", role=Role.SELLER)
    db.add_all([provider, seller])
    db.commit()
    rules = registry.category("logistics").fee_rules

    async def october_in_two_currencies(session: AsyncSession) -> list[settlement.Statement]:
        rate = orders.commission_rate("logistics", rules, Region.HK_MACAU_TAIWAN, Tier.REGULAR)
        for order_id, money in ((1, Money.of("20000.00", "HKD")), (2, Money.of("1000.00", "USD"))):
            party = orders.OrderParty(order_id, provider.id, seller.id, "logistics")
            await orders.record_seller_payment(session, party, money, f"HSBC-{order_id}")
            await orders.complete_order(session, party, money, rate, Tier.REGULAR, october(9))
        return await settlement.settle(
            session,
            settlement.cycle_of("2026-10"),
            ["logistics"],
            now=datetime(2026, 11, 2, tzinfo=UTC),
        )

    statements = run(migrated, october_in_two_currencies)
    assert sorted((s.currency, s.orders, s.commission, s.payout) for s in statements) == [
        ("HKD", Decimal("19400.00"), Decimal("600.00"), Decimal("19400.00")),
        ("USD", Decimal("970.00"), Decimal("30.00"), Decimal("970.00")),
    ]


def test_the_readme_month_from_charges_to_payout(migrated, registry, parties) -> None:
    provider_id, seller_id = parties
    rules = registry.category("logistics").fee_rules

    charged: dict[str, Decimal] = {}

    async def month(session: AsyncSession) -> tuple[settlement.Statement, settlement.Payout]:
        occasion = billing.ChargeOccasion(
            "APPROVAL", provider_id, None, "logistics", Region.OVERSEAS, Tier.REGULAR
        )
        for charge in await billing.issue_charges(session, occasion, rules):
            charged[charge.kind] = charge.amount
            money = Money(charge.amount, charge.currency)
            await billing.record_payment(session, charge, money, f"HSBC-{charge.id}", recorded_by=1)
        party = orders.OrderParty(1, provider_id, seller_id, "logistics")
        money = Money.of("1000.00", "USD")
        await orders.record_seller_payment(session, party, money, "HSBC-0005")
        rate = orders.commission_rate("logistics", rules, Region.OVERSEAS, Tier.REGULAR)
        await orders.complete_order(session, party, money, rate, Tier.REGULAR, october(12))
        await orders.deduct_penalty(
            session,
            provider_id=provider_id,
            category="logistics",
            money=Money.of("50.00", "USD"),
            cause_type="sanction",
            cause_id=3,
            memo="complaint rate over the limit",
            posted_at=october(25),
        )
        (statement,) = await settlement.settle(
            session,
            settlement.cycle_of("2026-10"),
            ["logistics"],
            now=datetime(2026, 11, 2, tzinfo=UTC),
        )
        payout = await settlement.payout_of(session, statement.id)
        assert payout is not None
        await settlement.decide_payout(session, payout, settlement.PayoutAction.APPROVE, by=1)
        await settlement.decide_payout(
            session, payout, settlement.PayoutAction.PAY, by=2, bank_reference="SWIFT-1103"
        )
        owner = journal.provider_owner(provider_id)
        assert await journal.balance(session, "DEPOSIT_HELD", owner, "USD") == Money.of(
            "4500.00", "USD"
        )
        assert await journal.balance(session, "PROVIDER_PAYABLE", owner, "USD") == Money.of(
            "0.00", "USD"
        )
        return statement, payout

    statement, payout = run(migrated, month)
    assert (statement.orders, statement.commission, statement.penalties, statement.closing) == (
        Decimal("970.00"),
        Decimal("30.00"),
        Decimal("50.00"),
        Decimal("920.00"),
    )
    assert (payout.status, payout.amount) == ("PAID", Decimal("920.00"))
    # the README's table shows these very figures
    readme = (REPO / "README.md").read_text()
    assert charged == {"DEPOSIT": Decimal("4500.00"), "ANNUAL_FEE": Decimal("1000.00")}
    assert "approved: deposit USD 4,500.00, annual fee 1,000.00 charged" in readme
    assert (
        f"statement: orders {statement.orders:,.2f}, commission {statement.commission:,.2f}, "
        f"penalties {statement.penalties:,.2f}, closing and payout {payout.amount:,.2f} (PENDING)"
    ) in readme
    assert f"Dr payable {payout.amount:,.2f} · Cr bank {payout.amount:,.2f}" in readme
