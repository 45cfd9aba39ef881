"""Worked example: a payout held while the provider's appeal is open, released when it is
decided (over HTTP).

A MAINLAND_CHINA provider of the fixture category `sample` at PREFERRED (commission 8 %)
completes CNY 6,000.00 and 4,000.00 of orders in August 2026 (paid for by the seller): payable
9,200.00. Two failing months restrict its intake, and the restriction's penalty (the fixture's
fixed CNY 100.00) is deducted today: payable 9,100.00. The provider appeals the restriction.

    settle 2026-08  orders 9,200.00, closing 9,200.00, payout HELD ("held while appeal N is
                    open"); the penalty, posted today, belongs to today's (open) cycle
    appeal upheld   the restriction and its penalty are reversed (payable 9,200.00 again); the
                    payout is PENDING again, approved by one staff member, paid by another
    afterwards      payable 0.00: the penalty and its reversal net to zero in the open cycle
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing import orders
from linkstar.core.identity.models import Account
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.vocabulary import Region, Role, Tier
from linkstar.core.providers.models import Provider
from linkstar.core.runtime import tables as models
from tests.fixture_category import KEY
from tests.harness import global_id
from tests.sample_provider import evaluate, month_of_data, shipper  # noqa: F401
from tests.test_settlement import run

STATEMENTS = """query($p: ID!) { node(id: $p) { ... on Provider { statements { edges { node {
  cycle orders { amount } penalties { amount } closing { amount }
  payout { id status reason amount { amount } } } } } } } }"""
SETTLE = "mutation($c: String!) { settleCycle(cycle: $c) { id } }"
APPEAL = """mutation($s: ID!) { fileAppeal(subjectType: SANCTION, subject: $s,
  reason: WRONG_FINDING, statement: "The parcels were delivered; the carrier mis-scanned them.",
  evidence: ["delivery-log.pdf"]) { id } }"""
DECIDE = """mutation($a: ID!) { decideAppeal(appeal: $a, uphold: true,
  reason: "The delivery log shows every parcel signed for.") { status } }"""
PAYOUT = """mutation($p: ID!, $a: PayoutAction!, $b: String) {
  decidePayout(payout: $p, action: $a, bankReference: $b) { status } }"""


def payable(staff) -> str:
    rows = staff("{ ledgerBalances { code owner balance { amount } } }")["ledgerBalances"]
    (row,) = [r for r in rows if r["code"] == "PROVIDER_PAYABLE"]
    return row["balance"]["amount"]


def test_a_payout_held_for_an_open_appeal_is_released_when_the_appeal_is_decided(
    migrated,
    registry,
    sign_in,
    db,
    shipper,
) -> None:
    provider = shipper
    seller = Account(
        email="buyer@example.com", display_name="Buyer", password_hash="x", role=Role.SELLER
    )
    db.add(seller)
    db.commit()

    async def august_orders(session: AsyncSession) -> None:
        rules = registry.category(KEY).fee_rules
        rate = orders.commission_rate(KEY, rules, Region.MAINLAND_CHINA, Tier.PREFERRED)
        for order, amount in ((1, "6000.00"), (2, "4000.00")):
            party = orders.OrderParty(order, provider.id, seller.id, KEY)
            money = Money.of(amount, "CNY")
            await orders.record_seller_payment(session, party, money, f"BOC-{order}")
            when = datetime(2026, 8, 10, tzinfo=UTC)
            await orders.complete_order(session, party, money, rate, Tier.PREFERRED, when)

    run(migrated, august_orders)
    for month in (7, 8):
        month_of_data(db, provider.id, 2026, month, lost=2)
    admin, reviewer = sign_in(Role.ADMIN), sign_in(Role.REVIEWER)
    partner = sign_in(Role.PARTNER, provider_id=provider.id, owner=True)
    evaluate(admin, "2026-07")
    evaluate(admin, "2026-08")  # the second failing month restricts intake: CNY 100.00

    restriction = (
        db.query(models.Sanction).filter_by(provider_id=provider.id, kind="RESTRICTED_INTAKE").one()
    )
    appeal = partner(APPEAL, {"s": global_id("Sanction", restriction.id)})["fileAppeal"]["id"]

    # settling August while the appeal is open: the payout waits
    reviewer(SETTLE, {"c": "2026-08"})
    provider_id = global_id("Provider", provider.id)
    (august,) = [
        e["node"] for e in partner(STATEMENTS, {"p": provider_id})["node"]["statements"]["edges"]
    ]
    assert (august["orders"], august["penalties"], august["closing"]) == (
        {"amount": "9200.00"},
        {"amount": "0.00"},
        {"amount": "9200.00"},
    )
    assert payable(reviewer) == "9100.00"  # the penalty was deducted
    payout = august["payout"]
    assert payout["status"] == "HELD" and payout["amount"] == {"amount": "9200.00"}
    assert "appeal" in payout["reason"]
    refused = reviewer.errors(PAYOUT, {"p": payout["id"], "a": "APPROVE"})
    assert refused[0]["extensions"]["code"] == "INVALID_TRANSITION"

    # the appeal is upheld: the penalty is reversed and the payout released
    assert reviewer(DECIDE, {"a": appeal})["decideAppeal"]["status"] == "UPHELD"
    (august,) = [
        e["node"] for e in partner(STATEMENTS, {"p": provider_id})["node"]["statements"]["edges"]
    ]
    assert august["payout"]["status"] == "PENDING"
    assert payable(reviewer) == "9200.00"
    reviewer(PAYOUT, {"p": payout["id"], "a": "APPROVE"})
    paid = admin(PAYOUT, {"p": payout["id"], "a": "PAY", "b": "SWIFT-0908"})
    assert paid["decidePayout"]["status"] == "PAID"

    assert payable(reviewer) == "0.00"  # paid, and the penalty given back


def test_filing_an_appeal_holds_the_payouts_not_yet_paid(migrated, registry, db) -> None:
    from linkstar.core.billing import settlement
    from tests.test_settlement import complete, october

    async def scenario(session: AsyncSession) -> list[tuple[str, str | None]]:
        provider = Provider(
            legal_name="Xiamen Line", region=Region.OVERSEAS, registration_number="R-XL"
        )
        seller = Account(
            email="s@example.com", display_name="S", password_hash="x", role=Role.SELLER
        )
        session.add_all([provider, seller])
        await session.flush()
        await complete(session, registry, provider.id, seller.id, 1, "100.00", october(3))
        (statement,) = await settlement.settle(
            session,
            settlement.cycle_of("2026-10"),
            [KEY],
            now=datetime(2026, 11, 2, tzinfo=UTC),
        )
        payout = await settlement.payout_of(session, statement.id)
        assert payout is not None
        seen = [(payout.status, payout.held_for)]
        await settlement.hold_for_appeal(session, provider.id, 77)
        seen.append((payout.status, payout.held_for))
        await settlement.release_for_appeal(session, 77)
        seen.append((payout.status, payout.held_for))
        return seen

    assert run(migrated, scenario) == [
        ("PENDING", None),
        ("HELD", "appeal:77"),
        ("PENDING", None),
    ]
