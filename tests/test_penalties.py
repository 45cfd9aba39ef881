"""Penalty rules (the `linkstar_penalty_rules` hook): their maths, their validation at start-up,
deductions linked to their cause, and the reversal when an appeal removes the cause."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing import orders
from linkstar.core.fees.rules import PenaltyRule
from linkstar.core.identity.models import Account
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.vocabulary import Region, Tier
from linkstar.core.ledger import journal
from tests.fixture_category import KEY
from tests.sample_provider import evaluate, month_of_data, shipper  # noqa: F401
from tests.test_plugin_contract import make_plugin, refused
from tests.test_settlement import october, parties, run  # noqa: F401

CAP = Money.of("5000.00", "CNY")
SHARE = PenaltyRule(
    key="share", name="Share", on="RESTRICTED_INTAKE", revenue_percent=Decimal("5"), caps=(CAP,)
)
FIXED = PenaltyRule(key="fixed", name="Fixed", on="DOWNGRADE", amount=Money.of("2000.00", "CNY"))


async def complete(session, registry, provider_id, seller_id, order_id, amount, when) -> None:
    """An order of the fixture category `sample`, paid in USD by the seller and completed for an
    overseas provider of the regular tier (10 % commission)."""
    party = orders.OrderParty(order_id, provider_id, seller_id, KEY)
    money = Money.of(amount, "USD")
    await orders.record_seller_payment(session, party, money, f"PAY-{order_id}")
    rate = orders.commission_rate(
        KEY, registry.category(KEY).fee_rules, Region.OVERSEAS, Tier.REGULAR
    )
    await orders.complete_order(session, party, money, rate, Tier.REGULAR, when)


revenues = st.integers(min_value=0, max_value=10**12).map(
    lambda cents: Money(Decimal(cents).scaleb(-2), "CNY")
)


@given(revenue=revenues)
def test_a_share_is_five_percent_never_above_the_cap_and_never_negative(revenue) -> None:
    penalty = SHARE.charge(revenue)
    expected = revenue.times(Decimal("0.05"))
    if expected.amount == 0:
        assert penalty is None  # nothing to deduct
    else:
        assert penalty is not None and penalty.currency == "CNY"
        assert penalty.amount == min(expected.amount, CAP.amount)


@given(revenue=revenues)
def test_a_fixed_penalty_ignores_revenue(revenue) -> None:
    assert FIXED.charge(revenue) == FIXED.charge(None) == Money.of("2000.00", "CNY")


def test_a_cap_in_another_currency_does_not_apply() -> None:
    assert SHARE.charge(Money.of("1000000.00", "USD")) == Money.of("50000.00", "USD")


def test_malformed_penalty_rules_stop_start_up_naming_the_plugin() -> None:
    for rule, words in (
        (PenaltyRule(key="Bad Key", name="x", on="WARNING", amount=CAP), "snake_case"),
        (
            PenaltyRule(key="both", name="x", on="WARNING", amount=CAP, revenue_percent=Decimal(1)),
            "either",
        ),
        (PenaltyRule(key="neither", name="x", on="WARNING"), "either"),
        (PenaltyRule(key="pct", name="x", on="WARNING", revenue_percent=Decimal(101)), "(0, 100]"),
        (
            PenaltyRule(
                key="caps", name="x", on="WARNING", revenue_percent=Decimal(1), caps=(CAP, CAP)
            ),
            "one cap per currency",
        ),
    ):
        plugin = make_plugin(linkstar_penalty_rules=lambda category, r=rule: [r])
        error = refused(("fines", plugin))
        assert error.plugin == "fines" and words in str(error), (rule, error)


def test_a_sanction_deducts_its_penalty_once_and_an_upheld_appeal_reverses_it(
    migrated,
    registry,
    parties,
) -> None:
    provider_id, seller_id = parties
    rules = [SHARE, FIXED]

    async def scenario(session: AsyncSession) -> tuple[Money, Money]:
        await complete(session, registry, provider_id, seller_id, 1, "30000.00", october(3))
        await complete(session, registry, provider_id, seller_id, 2, "10000.00", october(9))
        for _ in range(2):  # the same sanction twice deducts once
            await orders.penalize(
                session,
                rules,
                on="RESTRICTED_INTAKE",
                provider_id=provider_id,
                category=KEY,
                cause_type="sanction",
                cause_id=41,
                period_start=datetime(2026, 10, 1, tzinfo=UTC),
                period_end=datetime(2026, 11, 1, tzinfo=UTC),
            )
        owner = journal.provider_owner(provider_id)
        fined = await journal.balance(session, "PROVIDER_PAYABLE", owner, "USD")
        for _ in range(2):
            await orders.reverse_penalties(session, "sanction", 41, "appeal upheld")
        restored = await journal.balance(session, "PROVIDER_PAYABLE", owner, "USD")
        return fined, restored

    fined, restored = run(migrated, scenario)
    # USD 40,000 of orders at 10 % commission leaves 36,000.00 payable; 5 % of the revenue
    # is USD 2,000.00 (the CNY cap does not apply to USD), and the DOWNGRADE rule does not fire
    assert fined == Money.of("34000.00", "USD")
    assert restored == Money.of("36000.00", "USD")


def test_the_ladder_deducts_the_penalty_of_a_restriction_and_its_reversal_gives_it_back(
    migrated,
    registry,
    sign_in,
    db,
    shipper,
) -> None:
    from sqlalchemy import select

    from linkstar.core.kernel.vocabulary import Role, SanctionKind
    from linkstar.core.standing.models import Sanction
    from linkstar.core.standing.states import SanctionAction, move_sanction

    provider = shipper
    seller = Account(
        email="seller@example.com", display_name="Seller", password_hash="x", role=Role.SELLER
    )
    db.add(seller)
    db.commit()

    async def august_orders(session: AsyncSession) -> None:
        for order, amount in ((1, "6000.00"), (2, "4000.00")):
            party = orders.OrderParty(order, provider.id, seller.id, KEY)
            money = Money.of(amount, "CNY")
            await orders.record_seller_payment(session, party, money, f"p{order}")
            rate = orders.commission_rate(
                KEY,
                registry.category(KEY).fee_rules,
                Region.MAINLAND_CHINA,
                Tier.PREFERRED,
            )
            when = datetime(2026, 8, 10, tzinfo=UTC)
            await orders.complete_order(session, party, money, rate, Tier.PREFERRED, when)

    run(migrated, august_orders)
    for month in (7, 8):
        month_of_data(db, provider.id, 2026, month, lost=2)
    admin = sign_in(Role.ADMIN)
    evaluate(admin, "2026-07")
    evaluate(admin, "2026-08")  # the second failing month restricts intake

    owner = journal.provider_owner(provider.id)

    async def payable(session: AsyncSession) -> Money:
        return await journal.balance(session, "PROVIDER_PAYABLE", owner, "CNY")

    # CNY 10,000 at the fixture's 8 % commission (PREFERRED) leaves 9,200.00; its restricted-
    # intake penalty is a fixed CNY 100.00
    assert run(migrated, payable) == Money.of("9100.00", "CNY")
    evaluate(admin, "2026-08")  # idempotent: no second deduction
    assert run(migrated, payable) == Money.of("9100.00", "CNY")

    async def reverse_restriction(session: AsyncSession) -> None:
        restriction = (
            await session.execute(
                select(Sanction).where(
                    Sanction.provider_id == provider.id,
                    Sanction.kind == SanctionKind.RESTRICTED_INTAKE,
                )
            )
        ).scalar_one()
        await move_sanction(
            session, restriction, SanctionAction.REVERSE, "reviewer", "appeal upheld"
        )

    run(migrated, reverse_restriction)
    assert run(migrated, payable) == Money.of("9200.00", "CNY")
