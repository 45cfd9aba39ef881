"""A deposit's life and the charges after approval, worked by hand (logistics rules: the
deposit is required before the pool, a tier change calls what a higher deposit adds, a top-up
is due below half of it, the refund comes 180 days after exit; the annual fee recurs at each
renewal).

MAINLAND_CHINA logistics deposits: REGULAR CNY 30,000.00, PREFERRED 15,000.00; annual fee
CNY 6,800.00.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing import charges as billing
from linkstar.core.billing import deposits
from linkstar.core.billing.models import Charge
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role, Tier
from linkstar.core.ledger import journal
from linkstar.core.runtime import tables as models
from tests.harness import global_id
from tests.test_marketplace import OFFERS, REQUEST, _provider, request_input
from tests.test_settlement import run

PAY = """mutation($c: ID!, $a: Decimal!, $r: String!) {
  recordChargePayment(charge: $c, amount: {amount: $a, currency: "CNY"}, bankReference: $r) {
    status } }"""
CHARGES = """query($p: ID!) { node(id: $p) { ... on Provider { charges { edges { node {
  id name occasion status amount { amount currency } } } } } } }"""
SHIPPING = request_input(
    category="logistics",
    requirements={"origin_country": "cn", "destination_country": "us", "modes": ["SEA_FREIGHT"]},
)


def carrier(db: Any, name: str, status: ApplicationStatus, tier: Tier = Tier.REGULAR) -> Any:
    from linkstar.plugins.logistics.models import LogisticsLane, LogisticsMode

    row = _provider(db, name, status, tier)
    db.query(models.Application).filter_by(provider_id=row.id).update({"category_key": "logistics"})
    db.add(
        LogisticsLane(
            provider_id=row.id,
            origin_country="CN",
            destination_country="US",
            mode=LogisticsMode.SEA_FREIGHT,
            typical_transit_days=20,
        )
    )
    db.commit()
    return row


def approval_charges(url: Any, registry: Any, provider_id: int, tier: Tier) -> list[Charge]:
    async def work(session: AsyncSession) -> list[Charge]:
        occasion = billing.ChargeOccasion(
            "APPROVAL", provider_id, None, "logistics", Region.MAINLAND_CHINA, tier
        )
        return await billing.issue_charges(
            session, occasion, registry.category("logistics").fee_rules
        )

    return run(url, work)


def candidates(staff: Any, title: str) -> list[int]:
    for edge in staff(OFFERS, {"s": None})["offers"]["edges"]:
        if edge["node"]["request"]["title"] == title:
            return [c["provider_id"] for c in edge["node"]["explanation"]["candidates"]]
    return []


def test_a_carrier_enters_the_pool_once_its_deposit_is_paid(
    migrated, registry, db, sign_in, staff
) -> None:
    paid = carrier(db, "Carrier paid", ApplicationStatus.ACTIVE)
    unpaid = carrier(db, "Carrier unpaid", ApplicationStatus.ACTIVE)
    deposits = {}
    for row in (paid, unpaid):
        issued = approval_charges(migrated, registry, row.id, Tier.REGULAR)
        (deposit,) = [c for c in issued if c.kind == "DEPOSIT"]
        assert deposit.blocks_pool and deposit.amount == Decimal("30000.00")
        deposits[row.id] = global_id("Charge", deposit.id)
    staff(PAY, {"c": deposits[paid.id], "a": "30000.00", "r": "ICBC-1"})

    seller = sign_in(Role.SELLER)
    seller(REQUEST, {"i": {**SHIPPING, "title": "First shipment"}})
    assert candidates(staff, "First shipment") == [paid.id]  # the unpaid one is not eligible

    # half paid is not paid; all of it is
    staff(PAY, {"c": deposits[unpaid.id], "a": "10000.00", "r": "ICBC-2"})
    seller(REQUEST, {"i": {**SHIPPING, "title": "Second shipment"}})
    assert candidates(staff, "Second shipment") == [paid.id]
    staff(PAY, {"c": deposits[unpaid.id], "a": "20000.00", "r": "ICBC-3"})
    seller(REQUEST, {"i": {**SHIPPING, "title": "Third shipment"}})
    assert sorted(candidates(staff, "Third shipment")) == sorted([paid.id, unpaid.id])


def test_renewal_tier_change_top_up_and_refund_at_exit_by_the_daily_sweep(
    migrated, registry, db, sign_in, staff
) -> None:
    from tests.test_cli import run as linkstar

    now = datetime.now(UTC)
    # a carrier approved at PREFERRED 400 days ago, downgraded to REGULAR today
    stays = carrier(db, "Carrier stays", ApplicationStatus.ACTIVE, Tier.PREFERRED)
    app = db.query(models.Application).filter_by(provider_id=stays.id).one()
    approval_charges(migrated, registry, stays.id, Tier.PREFERRED)
    app.decided_at = now - timedelta(days=400)
    app.tier = Tier.REGULAR
    db.add(
        models.TierChange(
            application_id=app.id,
            provider_id=stays.id,
            category_key="logistics",
            from_tier=Tier.PREFERRED,
            to_tier=Tier.REGULAR,
            reason="two failing months",
            cause={},
            decided_by="policy",
        )
    )
    # a carrier that left 200 days ago (retention: 180) with its deposit held and its annual
    # fee unpaid; another that left 10 days ago
    left = carrier(db, "Carrier left", ApplicationStatus.TERMINATED)
    recent = carrier(db, "Carrier recent", ApplicationStatus.TERMINATED)
    db.commit()
    for row in (left, recent):
        issued = approval_charges(migrated, registry, row.id, Tier.REGULAR)
        (deposit,) = [c for c in issued if c.kind == "DEPOSIT"]
        staff(PAY, {"c": global_id("Charge", deposit.id), "a": "30000.00", "r": f"D-{row.id}"})
    db.query(models.Application).filter_by(provider_id=left.id).update(
        {"updated_at": now - timedelta(days=200)}
    )
    db.query(models.Application).filter_by(provider_id=recent.id).update(
        {"updated_at": now - timedelta(days=10)}
    )
    db.commit()

    first = linkstar("money-sweep", url=migrated)
    assert first.returncode == 0, first.stderr
    assert "renewal charges 1\ttier-change charges 1\ttop-ups 0\tdeposit refunds 1" in first.stdout
    again = linkstar("money-sweep", url=migrated)
    assert "renewal charges 0\ttier-change charges 0\ttop-ups 0\tdeposit refunds 0" in again.stdout

    partner = sign_in(Role.PARTNER, provider_id=stays.id, owner=True)
    edges = partner(CHARGES, {"p": global_id("Provider", stays.id)})["node"]["charges"]["edges"]
    charges = [e["node"] for e in edges]
    by_occasion = {(c["occasion"], c["name"]): c["amount"]["amount"] for c in charges}
    assert by_occasion == {
        ("APPROVAL", "Performance deposit"): "15000.00",
        ("APPROVAL", "Annual platform fee"): "6800.00",
        ("RENEWAL:1", "Annual platform fee"): "6800.00",  # the first anniversary
        # REGULAR asks CNY 30,000.00: the difference to what was called
        (f"TIER_CHANGE:{db.query(models.TierChange).one().id}", "Performance deposit"): (
            "15000.00"
        ),
    }

    # the carrier that left 200 days ago: its unpaid annual fee came out of the deposit, the
    # rest (30,000.00 - 6,800.00) is payable with its next statement; the recent one waits
    async def after_exit(session: AsyncSession) -> dict[str, Money]:
        owner = journal.provider_owner(left.id)
        recent_owner = journal.provider_owner(recent.id)
        return {
            "held": await journal.balance(session, "DEPOSIT_HELD", owner, "CNY"),
            "payable": await journal.balance(session, "PROVIDER_PAYABLE", owner, "CNY"),
            "receivable": await journal.balance(session, "PROVIDER_RECEIVABLE", owner, "CNY"),
            "recent_held": await journal.balance(session, "DEPOSIT_HELD", recent_owner, "CNY"),
        }

    assert run(migrated, after_exit) == {
        "held": Money.of("0.00", "CNY"),
        "payable": Money.of("23200.00", "CNY"),
        "receivable": Money.of("0.00", "CNY"),
        "recent_held": Money.of("30000.00", "CNY"),
    }
    fee = db.query(models.Charge).filter_by(provider_id=left.id, kind="ANNUAL_FEE").one()
    db.refresh(fee)
    assert fee.status == "PAID"
    rows = staff("{ ledgerReconciliation { balanced } }")["ledgerReconciliation"]
    assert all(r["balanced"] for r in rows)


def test_a_deduction_below_the_minimum_calls_a_top_up_that_keeps_the_carrier_out_of_the_pool(
    migrated, registry, db, sign_in, staff
) -> None:
    from tests.test_cli import run as linkstar

    row = carrier(db, "Carrier fined", ApplicationStatus.ACTIVE)
    (deposit,) = [
        c for c in approval_charges(migrated, registry, row.id, Tier.REGULAR) if c.kind == "DEPOSIT"
    ]
    staff(PAY, {"c": global_id("Charge", deposit.id), "a": "30000.00", "r": "ICBC-9"})

    async def fine(session: AsyncSession, amount: str, cause: int) -> None:
        await deposits.deduct_from_deposit(
            session,
            provider_id=row.id,
            category="logistics",
            money=Money.of(amount, "CNY"),
            cause_type="sanction",
            cause_id=cause,
            memo="loss claim unpaid",
        )

    # CNY 10,000.00 out of 30,000.00 leaves 20,000.00: above the minimum (15,000.00)
    run(migrated, lambda s: fine(s, "10000.00", 1))
    assert "top-ups 0" in linkstar("money-sweep", url=migrated).stdout
    # another 6,000.00 leaves 14,000.00: a top-up of 16,000.00, once
    run(migrated, lambda s: fine(s, "6000.00", 2))
    assert "top-ups 1" in linkstar("money-sweep", url=migrated).stdout
    assert "top-ups 0" in linkstar("money-sweep", url=migrated).stdout
    top_up = (
        db.query(models.Charge)
        .filter_by(provider_id=row.id, occasion=f"TOP_UP:{_last_deduction(db)}")
        .one()
    )
    assert top_up.amount == Decimal("16000.00") and top_up.blocks_pool

    seller = sign_in(Role.SELLER)
    seller(REQUEST, {"i": {**SHIPPING, "title": "While short"}})
    assert candidates(staff, "While short") == []
    staff(PAY, {"c": global_id("Charge", top_up.id), "a": "16000.00", "r": "ICBC-10"})
    seller(REQUEST, {"i": {**SHIPPING, "title": "Topped up"}})
    assert candidates(staff, "Topped up") == [row.id]
    rows = staff("{ ledgerReconciliation { balanced } }")["ledgerReconciliation"]
    assert all(r["balanced"] for r in rows)


def _last_deduction(db: Any) -> int:
    return max(
        e.id for e in db.query(models.JournalEntry).filter_by(kind="DEPOSIT_DEDUCTION").all()
    )
