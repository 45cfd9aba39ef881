"""Sanction.causedBy, TierChange.causedBy and Appeal.outcome carry global ids that resolve with
node(id:), where the deprecated JSON fields carried raw database integers (issue #12, point 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from linkstar.core.kernel.vocabulary import Role
from tests.harness import global_id
from tests.sample_provider import shipper  # noqa: F401  (fixture)

DECIDE = """mutation($a: ID!) { decideAppeal(appeal: $a, uphold: true, reason: "Checked the logs.") {
  status outcome { overturnedViolation reversedSanctions reversedTierChanges excludedObservations
  reevaluatedPeriod scorecardsWritten } } }"""
SANCTIONS = """query($id: ID!) { provider(id: $id) { sanctions(first: 10) { edges { node {
  id kind causedBy { scorecards violations } } } } } }"""
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


def test_causes_and_appeal_outcomes_are_global_ids(shipper, sign_in, db) -> None:
    reviewer = sign_in(Role.REVIEWER)
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    violation = reviewer(
        'mutation($p: ID!, $at: DateTime!) { recordViolation(provider: $p, category: "sample", severity: VETO, description: "Forged job records", occurredAt: $at) { id } }',
        {"p": global_id("Provider", shipper.id), "at": at},
    )["recordViolation"]
    sanctions = reviewer(SANCTIONS, {"id": global_id("Provider", shipper.id)})["provider"]
    (sanction,) = [e["node"] for e in sanctions["sanctions"]["edges"]]
    assert sanction["causedBy"] == {"scorecards": [], "violations": [violation["id"]]}

    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    appeal = partner(
        'mutation($v: ID!) { fileAppeal(subjectType: VIOLATION, subject: $v, reason: WRONG_FINDING, statement: "The numbers were real; carrier API logs attached.", evidence: ["api-log.csv"]) { id outcome { reversedSanctions overturnedViolation } } }',
        {"v": violation["id"]},
    )["fileAppeal"]
    assert appeal["outcome"] == {"reversedSanctions": [], "overturnedViolation": None}
    outcome = reviewer(DECIDE, {"a": appeal["id"]})["decideAppeal"]["outcome"]
    assert outcome["overturnedViolation"] == violation["id"]
    assert outcome["reversedSanctions"] == [sanction["id"]]
    assert outcome["excludedObservations"] == [] and outcome["reevaluatedPeriod"] is None
    # every id resolves to the object it names
    assert reviewer(NODE, {"id": outcome["reversedSanctions"][0]})["node"]["__typename"] == (
        "Sanction"
    )
    assert reviewer(NODE, {"id": outcome["overturnedViolation"]})["node"]["__typename"] == (
        "Violation"
    )


REGISTRATION = """query($id: ID!) { provider(id: $id) { registration {
  legalRepresentative { name idType } contactPerson { name email }
  team { roles { role headcount } background }
  serviceCases { client productCategories results }
  services { name price { amount currency } billingBasis } certifications } } }"""


def test_registration_details_are_typed_and_private(gql, server, db) -> None:
    from tests.test_onboarding import register

    owner = register(gql, server.url, "OVERSEAS", "Typed Details Ltd")
    details = owner(REGISTRATION, {"id": owner.provider_id})["provider"]["registration"]
    assert details["legalRepresentative"] == {"name": "Li Wei", "idType": "PASSPORT"}
    assert details["contactPerson"] == {"name": "Chen Jing", "email": "ops@example.com"}
    assert details["team"]["roles"] == [
        {"role": "Operators", "headcount": 12},
        {"role": "Engineers", "headcount": 4},
    ]
    assert details["services"] == [
        {
            "name": "Store operation",
            "price": {"amount": "8000.00", "currency": "CNY"},
            "billingBasis": "per store per month",
        }
    ]
    assert details["serviceCases"][0]["productCategories"] == ["Home & Kitchen"]
    assert details["certifications"] == ["Amazon SPN"]
    # a stranger sees nothing (the provider is not even listed)
    assert gql.raw(REGISTRATION, {"id": owner.provider_id}).json()["data"]["provider"] is None


def test_a_downgrade_names_its_scorecards_by_global_id(shipper, sign_in, db) -> None:
    from tests.sample_provider import evaluate, month_of_data

    admin = sign_in(Role.ADMIN)
    for month in (8, 9):
        month_of_data(db, shipper.id, 2026, month, lost=2)
    evaluate(admin, "2026-08")
    evaluate(admin, "2026-09")
    history = admin(
        """query($id: ID!) { provider(id: $id) {
          tierHistory { edges { node { toTier causedBy { scorecards violations } } } } } }""",
        {"id": global_id("Provider", shipper.id)},
    )["provider"]["tierHistory"]["edges"]
    (change,) = [e["node"] for e in history]
    assert change["toTier"] == "REGULAR" and change["causedBy"]["violations"] == []
    cards = change["causedBy"]["scorecards"]
    resolved = [
        admin(
            "query($id: ID!) { node(id: $id) { __typename ... on Scorecard { period } } }",
            {"id": card},
        )["node"]
        for card in cards
    ]
    assert sorted((n["__typename"], n["period"]) for n in resolved) == [
        ("Scorecard", "2026-08"),
        ("Scorecard", "2026-09"),
    ]
