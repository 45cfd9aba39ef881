"""Money on a double-entry ledger: charges from the fee rules at approval, payments, waivers,
deposits held, an append-only journal, and a reconciliation that always balances."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from linkstar.core.kernel.vocabulary import Role
from tests.harness import GraphQLClient
from tests.test_onboarding import prepare, register

CHARGES = """query($p: ID!) { node(id: $p) { ... on Provider {
  charges { edges { node { id ruleKey name kind occasion status scope dueOn
    amount { amount currency } paid { amount } waived { amount } outstanding { amount }
    waiveReason } } }
  depositHeld { amount currency }
  ledgerBalances { code balance { amount currency } }
  ledgerLines(limit: 20) { entryId kind account side amount { amount currency } }
} } }"""

PAY = """mutation($c: ID!, $a: Decimal!, $cur: String!, $r: String!) {
  recordChargePayment(charge: $c, amount: {amount: $a, currency: $cur}, bankReference: $r) {
    status paid { amount } outstanding { amount } } }"""

WAIVE = """mutation($c: ID!, $r: String!) { waiveCharge(charge: $c, reason: $r) {
  status waived { amount } outstanding { amount } waiveReason } }"""

RECONCILE = """{ ledgerReconciliation { currency balanced
  ledgerDebits { amount } ledgerCredits { amount }
  receivableInLedger { amount } outstandingOnCharges { amount }
  depositsInLedger { amount } depositsPaidOnCharges { amount } } }"""


def approved_logistics(gql, server, sign_in, registry) -> tuple[GraphQLClient, GraphQLClient]:
    """An OVERSEAS logistics provider whose application a reviewer approved, and the reviewer."""
    owner = register(gql, server.url, "OVERSEAS", "Harbour Freight Ltd")
    app_id = prepare(owner, gql, registry, "logistics", "OVERSEAS")
    owner("mutation($a: ID!) { submitApplication(application: $a) { id } }", {"a": app_id})
    reviewer = sign_in(Role.REVIEWER)
    reviewer("mutation($a: ID!) { startReview(application: $a) { id } }", {"a": app_id})
    for edge in reviewer(
        "query($a: ID!) { node(id: $a) { ... on Application { documents { edges { node { id } } } } } }",
        {"a": app_id},
    )["node"]["documents"]["edges"]:
        reviewer(
            "mutation($d: ID!) { reviewDocument(document: $d, decision: ACCEPT) { status } }",
            {"d": edge["node"]["id"]},
        )
    reviewer("mutation($a: ID!) { approveApplication(application: $a) { id } }", {"a": app_id})
    return owner, reviewer


def charges_of(client: GraphQLClient, provider_id: str) -> dict[str, Any]:
    return client(CHARGES, {"p": provider_id})["node"]


def by_rule(node: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["node"]["ruleKey"]: e["node"] for e in node["charges"]["edges"]}


def test_approval_charges_the_fee_rules_and_payments_and_waivers_move_the_ledger(
    gql, server, sign_in, registry, db
) -> None:
    # given an OVERSEAS logistics provider just approved (REGULAR tier)
    owner, reviewer = approved_logistics(gql, server, sign_in, registry)
    pid = owner.provider_id  # type: ignore[attr-defined]

    # then its category's up-front rules became charges, each naming its rule
    charges = by_rule(charges_of(owner, pid))
    assert set(charges) == {"logistics.deposit", "logistics.annual_fee"}
    deposit, annual = charges["logistics.deposit"], charges["logistics.annual_fee"]
    assert deposit["amount"] == {"amount": "4500.00", "currency": "USD"}
    assert annual["amount"] == {"amount": "1000.00", "currency": "USD"}
    assert deposit["status"] == annual["status"] == "OPEN"
    assert deposit["occasion"] == "APPROVAL" and "OVERSEAS" in deposit["scope"]
    assert charges_of(owner, pid)["depositHeld"] == []

    # when staff record part of the deposit
    part = reviewer(PAY, {"c": deposit["id"], "a": "2000.00", "cur": "USD", "r": "HSBC-0001"})
    assert part["recordChargePayment"] == {
        "status": "OPEN",
        "paid": {"amount": "2000.00"},
        "outstanding": {"amount": "2500.00"},
    }
    # then the deposit held is what was paid, not what was asked
    assert charges_of(owner, pid)["depositHeld"] == [{"amount": "2000.00", "currency": "USD"}]

    # and bad payments are refused with codes, changing nothing
    for variables, code in (
        ({"a": "100.00", "r": "HSBC-0001"}, "DUPLICATE_PAYMENT"),
        ({"a": "2500.01", "r": "HSBC-0002"}, "OVERPAYMENT"),
        ({"a": "100.00", "r": "HSBC-0003", "cur": "CNY"}, "CURRENCY_MISMATCH"),
        ({"a": "100.001", "r": "HSBC-0004"}, "INVALID_AMOUNT"),
        ({"a": "-5.00", "r": "HSBC-0005"}, "INVALID_AMOUNT"),
        ({"a": "5.00", "r": "   "}, "INVALID_BANK_REFERENCE"),
    ):
        error = reviewer.errors(PAY, {"c": deposit["id"], "cur": "USD", **variables})[0]
        assert error["extensions"]["code"] == code, (variables, error)
    assert by_rule(charges_of(owner, pid))["logistics.deposit"]["paid"] == {"amount": "2000.00"}

    # a partner may neither pay nor waive, not even its own charges
    assert (
        owner.errors(PAY, {"c": deposit["id"], "a": "1.00", "cur": "USD", "r": "X"})[0][
            "extensions"
        ]["code"]
        == "FORBIDDEN"
    )
    assert (
        owner.errors(WAIVE, {"c": annual["id"], "r": "please"})[0]["extensions"]["code"]
        == "FORBIDDEN"
    )

    # when the rest is paid and the annual fee waived
    rest = reviewer(PAY, {"c": deposit["id"], "a": "2500.00", "cur": "USD", "r": "HSBC-0006"})
    assert rest["recordChargePayment"]["status"] == "PAID"
    waived = reviewer(WAIVE, {"c": annual["id"], "r": "First-year waiver for pilot lane"})
    assert waived["waiveCharge"] == {
        "status": "WAIVED",
        "waived": {"amount": "1000.00"},
        "outstanding": {"amount": "0.00"},
        "waiveReason": "First-year waiver for pilot lane",
    }
    assert (
        reviewer.errors(WAIVE, {"c": annual["id"], "r": "again"})[0]["extensions"]["code"]
        == "CHARGE_NOT_OPEN"
    )
    assert (
        reviewer.errors(PAY, {"c": deposit["id"], "a": "1.00", "cur": "USD", "r": "late"})[0][
            "extensions"
        ]["code"]
        == "CHARGE_NOT_OPEN"
    )

    # then the provider's ledger tells the same story, line by line
    node = charges_of(owner, pid)
    assert node["depositHeld"] == [{"amount": "4500.00", "currency": "USD"}]
    balances = {b["code"]: b["balance"]["amount"] for b in node["ledgerBalances"]}
    assert balances == {
        "DEPOSIT_CALLED": "0.00",
        "DEPOSIT_HELD": "4500.00",
        "PROVIDER_RECEIVABLE": "0.00",
    }
    kinds = [line["kind"] for line in node["ledgerLines"]]
    # the lines on the provider's own accounts: the deposit charge touches two of them (the
    # receivable and the deposit called), each deposit payment three, the fee's waiver one
    assert (kinds.count("CHARGE"), kinds.count("PAYMENT"), kinds.count("WAIVER")) == (3, 6, 1)

    # and the whole ledger reconciles with the charges
    (usd,) = reviewer(RECONCILE)["ledgerReconciliation"]
    assert usd["balanced"] is True
    assert usd["ledgerDebits"] == usd["ledgerCredits"]
    assert usd["receivableInLedger"] == usd["outstandingOnCharges"] == {"amount": "0.00"}
    assert usd["depositsInLedger"] == usd["depositsPaidOnCharges"] == {"amount": "4500.00"}


def test_money_is_private_to_the_provider_and_staff(gql, server, sign_in, registry, db) -> None:
    owner, _ = approved_logistics(gql, server, sign_in, registry)
    pid = owner.provider_id  # type: ignore[attr-defined]
    stranger = register(gql, server.url, "OVERSEAS", "Nosy Parcel Ltd")
    for client in (stranger, gql, sign_in(Role.SELLER)):
        node = client(CHARGES, {"p": pid})["node"]
        assert node is None or (
            node["charges"]["edges"] == []
            and node["depositHeld"] == []
            and node["ledgerBalances"] == []
            and node["ledgerLines"] == []
        )
    charge_id = by_rule(charges_of(owner, pid))["logistics.deposit"]["id"]
    # a charge reached by id answers like a missing one for anyone but its provider and staff
    lookup = "query($c: ID!) { node(id: $c) { ... on Charge { id amount { amount } } } }"
    assert stranger(lookup, {"c": charge_id})["node"] is None
    assert owner(lookup, {"c": charge_id})["node"]["id"] == charge_id
    for client in (stranger, owner):
        assert client.errors(RECONCILE)[0]["extensions"]["code"] == "FORBIDDEN"


def test_two_payments_racing_for_the_last_amount_leave_one_winner(
    gql, server, sign_in, registry, db
) -> None:
    owner, reviewer = approved_logistics(gql, server, sign_in, registry)
    deposit = by_rule(charges_of(owner, owner.provider_id))["logistics.deposit"]  # type: ignore[attr-defined]

    async def race() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {reviewer.token}"}, timeout=30
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        "/graphql",
                        json={
                            "query": PAY,
                            "variables": {
                                "c": deposit["id"],
                                "a": "4500.00",
                                "cur": "USD",
                                "r": f"RACE-{i}",
                            },
                        },
                    )
                    for i in range(6)
                )
            )
        return [r.json() for r in responses]

    bodies = asyncio.run(race())
    codes = [b["errors"][0]["extensions"]["code"] if b.get("errors") else None for b in bodies]
    assert codes.count(None) == 1, bodies
    assert set(codes) - {None} <= {"CONFLICT", "CHARGE_NOT_OPEN"}, codes
    (usd,) = reviewer(RECONCILE)["ledgerReconciliation"]
    assert usd["balanced"] is True
    assert usd["depositsInLedger"] == {"amount": "4500.00"}


@pytest.mark.parametrize(
    "statement",
    ["UPDATE journal_lines SET amount = amount + 1", "UPDATE journal_entries SET memo = 'edited'"],
)
def test_the_journal_cannot_be_edited(statement, gql, server, sign_in, registry, db) -> None:
    approved_logistics(gql, server, sign_in, registry)
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text(statement))
    db.rollback()
    if db.bind.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(text("DELETE FROM journal_lines"))
        db.rollback()
    assert db.execute(text("SELECT count(*) FROM journal_lines")).scalar_one() > 0
