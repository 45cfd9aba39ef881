"""Commission on completed orders, penalties, settlement statements and payouts.

Worked by hand: an OVERSEAS provider of the fixture category `sample` at tier REGULAR
(commission 10 %, rule `sample.order_commission`, tests/fixture_category.py) completes, in
October 2026, an order of USD 1,000.00 and one of USD 500.00, and is fined USD 50.00 for a
sanction:

    orders      1,000.00 × 90 % = 900.00  +  500.00 × 90 % = 450.00   →  1,350.00
    commission    100.00 + 50.00                                      →    150.00
    penalties                                                         →     50.00
    closing = 0 + 1,350.00 - 50.00                                    →  1,300.00 = the payout
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from linkstar.core.billing import orders, settlement
from linkstar.core.identity.models import Account
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.vocabulary import Region, Role, Tier
from linkstar.core.ledger import journal
from linkstar.core.providers.models import Provider
from tests.fixture_category import KEY
from tests.harness import global_id

USD = "USD"
STATEMENTS = """query($p: ID!) { node(id: $p) { ... on Provider { statements { edges { node {
  id cycle orderCount opening { amount } orders { amount } commission { amount }
  penalties { amount } adjustments { amount } heldBack { amount } closing { amount }
  payout { id status amount { amount currency } } csv } } } } } }"""
SETTLE = (
    """mutation($c: String!) { settleCycle(cycle: $c) { id cycle closing { amount currency } } }"""
)
DECIDE = """mutation($p: ID!, $a: PayoutAction!, $r: String, $b: String) {
  decidePayout(payout: $p, action: $a, reason: $r, bankReference: $b) { status } }"""


def run(url: Any, work: Any) -> Any:
    async def main() -> Any:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@pytest.fixture
def parties(db) -> tuple[int, int]:
    provider = Provider(
        legal_name="Harbour Freight Ltd", region=Region.OVERSEAS, registration_number="R-HF"
    )
    seller = Account(
        email="seller@example.com", display_name="Seller", password_hash="x", role=Role.SELLER
    )
    db.add_all([provider, seller])
    db.commit()
    return provider.id, seller.id


def october(day: int) -> datetime:
    return datetime(2026, 10, day, 12, tzinfo=UTC)


async def complete(
    session, registry, provider_id, seller_id, order_id, amount, when, category=KEY
) -> None:
    """An order of `category` (the fixture category unless named) paid in USD and completed
    for an overseas regular provider."""
    party = orders.OrderParty(order_id, provider_id, seller_id, category)
    money = Money.of(amount, USD)
    await orders.record_seller_payment(session, party, money, f"PAY-{order_id}")
    rate = orders.commission_rate(
        category, registry.category(category).fee_rules, Region.OVERSEAS, Tier.REGULAR
    )
    await orders.complete_order(session, party, money, rate, Tier.REGULAR, when)


def test_a_month_is_settled_into_one_statement_and_paid_by_a_second_person(
    migrated, registry, parties, sign_in, server
) -> None:
    provider_id, seller_id = parties

    async def october_activity(session: AsyncSession) -> None:
        await complete(session, registry, provider_id, seller_id, 1, "1000.00", october(5), KEY)
        await complete(session, registry, provider_id, seller_id, 2, "500.00", october(20), KEY)
        await orders.deduct_penalty(
            session,
            provider_id=provider_id,
            category=KEY,
            money=Money.of("50.00", USD),
            cause_type="sanction",
            cause_id=7,
            memo="complaint rate over the limit",
            posted_at=october(25),
        )

    run(migrated, october_activity)
    first, second = sign_in(Role.REVIEWER), sign_in(Role.ADMIN)
    partner = sign_in(Role.PARTNER, provider_id=provider_id, owner=True)

    # two settlement runs at the same moment yield one statement
    async def race() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {first.token}"}, timeout=60
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.post("/graphql", json={"query": SETTLE, "variables": {"c": "2026-10"}})
                    for _ in range(3)
                )
            )
        return [r.json() for r in responses]

    bodies = asyncio.run(race())
    assert all(not b.get("errors") for b in bodies), bodies
    assert len({s["id"] for b in bodies for s in b["data"]["settleCycle"]}) == 1

    (edge,) = partner(STATEMENTS, {"p": global_id("Provider", provider_id)})["node"]["statements"][
        "edges"
    ]
    statement = edge["node"]
    assert statement["cycle"] == "2026-10" and statement["orderCount"] == 2
    assert statement["orders"] == {"amount": "1350.00"}
    assert statement["commission"] == {"amount": "150.00"}
    assert statement["penalties"] == {"amount": "50.00"}
    assert statement["opening"] == {"amount": "0.00"}
    assert statement["closing"] == {"amount": "1300.00"}
    assert statement["payout"]["status"] == "PENDING"
    assert statement["payout"]["amount"] == {"amount": "1300.00", "currency": "USD"}
    assert "ORDER_COMPLETED" in statement["csv"] and "PENALTY" in statement["csv"]

    payout = statement["payout"]["id"]
    assert partner.errors(DECIDE, {"p": payout, "a": "APPROVE"})[0]["extensions"]["code"] == (
        "FORBIDDEN"
    )
    first(DECIDE, {"p": payout, "a": "APPROVE"})
    same = first.errors(DECIDE, {"p": payout, "a": "PAY", "b": "SWIFT-1"})[0]
    assert same["extensions"]["code"] == "SAME_PERSON"
    assert second.errors(DECIDE, {"p": payout, "a": "PAY"})[0]["extensions"]["code"] == (
        "INVALID_BANK_REFERENCE"
    )
    assert second(DECIDE, {"p": payout, "a": "PAY", "b": "SWIFT-1"})["decidePayout"] == {
        "status": "PAID"
    }
    again = second.errors(DECIDE, {"p": payout, "a": "PAY", "b": "SWIFT-2"})[0]
    assert again["extensions"]["code"] == "INVALID_TRANSITION"

    async def payable(session: AsyncSession) -> Money:
        return await journal.balance(
            session, "PROVIDER_PAYABLE", journal.provider_owner(provider_id), USD
        )

    assert run(migrated, payable) == Money.of("0.00", USD)

    # an open cycle, and nonsense, are refused with codes
    assert first.errors(SETTLE, {"c": "2026-12"})[0]["extensions"]["code"] == "CYCLE_NOT_CLOSED"
    assert first.errors(SETTLE, {"c": "2026-13"})[0]["extensions"]["code"] != (
        "INTERNAL_SERVER_ERROR"
    )
    stranger = sign_in(Role.PARTNER)
    node = stranger(STATEMENTS, {"p": global_id("Provider", provider_id)})["node"]
    assert node is None or node["statements"]["edges"] == []


def test_corrections_land_in_the_next_statement_and_disputes_are_held_back(
    migrated, registry, parties
) -> None:
    provider_id, seller_id = parties
    party = orders.OrderParty(1, provider_id, seller_id, KEY)

    async def scenario(session: AsyncSession) -> list[list[settlement.Statement]]:
        await complete(session, registry, provider_id, seller_id, 1, "1000.00", october(5), KEY)
        await complete(session, registry, provider_id, seller_id, 3, "200.00", october(28), KEY)
        results = [
            await settlement.settle(
                session,
                settlement.cycle_of("2026-10"),
                [KEY],
                held_orders=[3],  # the seller disputes order 3
                now=datetime(2026, 11, 2, tzinfo=UTC),
            )
        ]
        # November: the dispute on order 1 is lost after October was settled (a clawback of
        # 300.00), and order 3's dispute is resolved for the provider (no longer held)
        await orders.claw_back(
            session,
            party,
            Money.of("300.00", USD),
            "dispute lost",
            posted_at=datetime(2026, 11, 10, tzinfo=UTC),
        )
        results.append(
            await settlement.settle(
                session,
                settlement.cycle_of("2026-11"),
                [KEY],
                now=datetime(2026, 12, 2, tzinfo=UTC),
            )
        )
        return results

    october_statements, november_statements = run(migrated, scenario)
    (oct_statement,) = october_statements
    assert oct_statement.orders == Decimal("900.00")  # order 1 only, less 10 %
    assert oct_statement.held_back == Decimal("180.00")  # order 3's share waits
    assert oct_statement.payout == Decimal("900.00")
    (nov_statement,) = november_statements
    assert nov_statement.opening == Decimal("0")  # October's payout is reserved
    assert nov_statement.orders == Decimal("180.00")  # order 3, released
    assert nov_statement.adjustments == Decimal("-300.00")  # the clawback
    assert nov_statement.closing == Decimal("-120.00")
    assert nov_statement.payout == Decimal("0")  # carried, never a negative payout


def test_the_cli_settles_a_closed_cycle_once(migrated, registry, parties) -> None:
    # `linkstar` runs the installed plugins only: the order is in a built-in category (logistics,
    # 3 % commission for an overseas regular provider)
    from tests.test_cli import run as linkstar

    provider_id, seller_id = parties

    async def one_order(session: AsyncSession) -> None:
        await complete(
            session, registry, provider_id, seller_id, 9, "100.00", october(3), "logistics"
        )

    run(migrated, one_order)
    first = linkstar("settle", "--cycle", "2026-10", url=migrated)
    assert first.returncode == 0, first.stderr
    assert f"provider {provider_id}\tUSD\tclosing 97.00\tpayout 97.00" in first.stdout
    second = linkstar("settle", "--cycle", "2026-10", url=migrated)
    assert second.stdout == first.stdout  # the same statement, not a second one
    early = linkstar("settle", "--cycle", "2099-01", url=migrated)
    assert early.returncode == 2 and early.stderr.startswith("linkstar: error: cycle 2099-01")
    assert "Traceback" not in early.stderr
