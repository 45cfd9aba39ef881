"""Money on a double-entry ledger: charges from the fee rules at approval, payments, waivers,
deposits held, an append-only journal, and a reconciliation that always balances.

On the fixture category `sample` (tests/fixture_category.py): an OVERSEAS provider approved at
REGULAR owes a deposit of USD 1,000.00 and an annual fee of USD 100.00."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from linkstar.core.kernel.vocabulary import Role
from tests.fixture_category import KEY, PROFILE_DATA
from tests.harness import GraphQLClient
from tests.test_onboarding import NEXT_YEAR, PDF, PNG, category_info, register, upload

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


def prepare(owner: GraphQLClient, gql: GraphQLClient) -> str:
    """A draft application to `sample` with its profile, every mandatory document and every
    agreement."""
    app_id = owner("mutation($c: String!) { startApplication(category: $c) { id } }", {"c": KEY})[
        "startApplication"
    ]["id"]
    owner(
        "mutation($c: String!, $d: JSON!) { saveCategoryProfile(category: $c, data: $d) { id } }",
        {"c": KEY, "d": PROFILE_DATA},
    )
    info = category_info(gql, KEY)
    for doc in info["requiredDocuments"]:
        if not doc["mandatory"] or "OVERSEAS" not in doc["regions"]:
            continue
        pdf = "application/pdf" in doc["mediaTypes"]
        content, name = (PDF, f"{doc['key']}.pdf") if pdf else (PNG, f"{doc['key']}.png")
        expires = NEXT_YEAR if doc["expires"] else None
        response = upload(owner, app_id, doc["key"], content, name, expires)
        assert response.status_code == 200 and "errors" not in response.json(), response.text
    for agreement in info["agreements"]:
        owner(
            "mutation($a: ID!, $k: String!, $v: String!, $h: String!) { signAgreement("
            "application: $a, agreement: $k, version: $v, textSha256: $h) { id } }",
            {
                "a": app_id,
                "k": agreement["key"],
                "v": agreement["version"],
                "h": agreement["sha256"],
            },
        )
    return app_id


def approved_member(gql, server, sign_in) -> tuple[GraphQLClient, GraphQLClient]:
    """An OVERSEAS provider whose `sample` application a reviewer approved, and the reviewer."""
    owner = register(gql, server.url, "OVERSEAS", "Harbour Freight Ltd")
    app_id = prepare(owner, gql)
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
    # given an OVERSEAS provider just approved (REGULAR tier)
    owner, reviewer = approved_member(gql, server, sign_in)
    pid = owner.provider_id  # type: ignore[attr-defined]

    # then its category's up-front rules became charges, each naming its rule
    charges = by_rule(charges_of(owner, pid))
    assert set(charges) == {"sample.deposit", "sample.annual_fee"}
    deposit, annual = charges["sample.deposit"], charges["sample.annual_fee"]
    assert deposit["amount"] == {"amount": "1000.00", "currency": "USD"}
    assert annual["amount"] == {"amount": "100.00", "currency": "USD"}
    assert deposit["status"] == annual["status"] == "OPEN"
    assert deposit["occasion"] == "APPROVAL" and "OVERSEAS" in deposit["scope"]
    assert charges_of(owner, pid)["depositHeld"] == []

    # when staff record part of the deposit
    part = reviewer(PAY, {"c": deposit["id"], "a": "400.00", "cur": "USD", "r": "HSBC-0001"})
    assert part["recordChargePayment"] == {
        "status": "OPEN",
        "paid": {"amount": "400.00"},
        "outstanding": {"amount": "600.00"},
    }
    # then the deposit held is what was paid, not what was asked
    assert charges_of(owner, pid)["depositHeld"] == [{"amount": "400.00", "currency": "USD"}]

    # and bad payments are refused with codes, changing nothing
    for variables, code in (
        ({"a": "100.00", "r": "HSBC-0001"}, "DUPLICATE_PAYMENT"),
        ({"a": "600.01", "r": "HSBC-0002"}, "OVERPAYMENT"),
        ({"a": "100.00", "r": "HSBC-0003", "cur": "CNY"}, "CURRENCY_MISMATCH"),
        ({"a": "100.001", "r": "HSBC-0004"}, "INVALID_AMOUNT"),
        ({"a": "-5.00", "r": "HSBC-0005"}, "INVALID_AMOUNT"),
        ({"a": "5.00", "r": "   "}, "INVALID_BANK_REFERENCE"),
    ):
        error = reviewer.errors(PAY, {"c": deposit["id"], "cur": "USD", **variables})[0]
        assert error["extensions"]["code"] == code, (variables, error)
    assert by_rule(charges_of(owner, pid))["sample.deposit"]["paid"] == {"amount": "400.00"}

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
    rest = reviewer(PAY, {"c": deposit["id"], "a": "600.00", "cur": "USD", "r": "HSBC-0006"})
    assert rest["recordChargePayment"]["status"] == "PAID"
    waived = reviewer(WAIVE, {"c": annual["id"], "r": "First-year waiver for pilot lane"})
    assert waived["waiveCharge"] == {
        "status": "WAIVED",
        "waived": {"amount": "100.00"},
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
    assert node["depositHeld"] == [{"amount": "1000.00", "currency": "USD"}]
    balances = {b["code"]: b["balance"]["amount"] for b in node["ledgerBalances"]}
    assert balances == {
        "DEPOSIT_CALLED": "0.00",
        "DEPOSIT_HELD": "1000.00",
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
    assert usd["depositsInLedger"] == usd["depositsPaidOnCharges"] == {"amount": "1000.00"}


def test_money_is_private_to_the_provider_and_staff(gql, server, sign_in, registry, db) -> None:
    owner, _ = approved_member(gql, server, sign_in)
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
    charge_id = by_rule(charges_of(owner, pid))["sample.deposit"]["id"]
    # a charge reached by id answers like a missing one for anyone but its provider and staff
    lookup = "query($c: ID!) { node(id: $c) { ... on Charge { id amount { amount } } } }"
    assert stranger(lookup, {"c": charge_id})["node"] is None
    assert owner(lookup, {"c": charge_id})["node"]["id"] == charge_id
    for client in (stranger, owner):
        assert client.errors(RECONCILE)[0]["extensions"]["code"] == "FORBIDDEN"


def test_two_payments_racing_for_the_last_amount_leave_one_winner(
    gql, server, sign_in, registry, db
) -> None:
    owner, reviewer = approved_member(gql, server, sign_in)
    deposit = by_rule(charges_of(owner, owner.provider_id))["sample.deposit"]  # type: ignore[attr-defined]

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
                                "a": "1000.00",
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
    assert usd["depositsInLedger"] == {"amount": "1000.00"}


@pytest.mark.parametrize(
    "statement",
    ["UPDATE journal_lines SET amount = amount + 1", "UPDATE journal_entries SET memo = 'edited'"],
)
def test_the_journal_cannot_be_edited(statement, gql, server, sign_in, registry, db) -> None:
    approved_member(gql, server, sign_in)
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text(statement))
    db.rollback()
    if db.bind.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(text("DELETE FROM journal_lines"))
        db.rollback()
    assert db.execute(text("SELECT count(*) FROM journal_lines")).scalar_one() > 0
