"""Why a provider got no offer: staff ask a request's `dispatchCheck` for any provider.

World: the pool of tests/test_marketplace.py (agency, AMAZON): A, B, C ACTIVE; R under
RESTRICTED_INTAKE; S serves only SHOPEE; T TERMINATED; P on PROBATION with a pilot quota of 1.
"""

from __future__ import annotations

from typing import Any

from linkstar.core.kernel.vocabulary import Region, Role
from linkstar.core.runtime import tables as models
from tests.harness import global_id
from tests.test_marketplace import OFFERS, REQUEST, pool, request_input  # noqa: F401

# A request is private to its seller and admins (reviewers list them with `serviceRequests`).
CHECK = """query($r: ID!, $p: ID!) { node(id: $r) { ... on ServiceRequest {
  dispatchCheck(provider: $p) { eligible exclusions { rule reason } } } } }"""
LISTED = """query($p: ID!) { serviceRequests(first: 5) { edges { node {
  dispatchCheck(provider: $p) { eligible } } } } }"""


def rules(admin: Any, request_id: str, provider_id: int) -> list[str]:
    check = admin(CHECK, {"r": request_id, "p": global_id("Provider", provider_id)})["node"]
    found = check["dispatchCheck"]
    assert found["eligible"] is (not found["exclusions"])
    assert all(e["reason"] for e in found["exclusions"])
    return [e["rule"] for e in found["exclusions"]]


def test_each_excluded_provider_names_the_rules_it_fails(pool, sign_in, staff, db) -> None:
    # given: a seller's AMAZON request that excludes B, offered to one provider
    rows = pool["rows"]
    seller = sign_in(Role.SELLER)
    created = seller(
        REQUEST,
        {"i": request_input(excludeProviders=[global_id("Provider", rows["B"].id)])},
    )["createServiceRequest"]
    offer = staff(OFFERS, {"s": "PENDING"})["offers"]["edges"][0]["node"]
    offered = pool["name_of"][offer["explanation"]["chosen"]["provider_id"]]
    assert offered in {"A", "C", "P"}
    request_id = created["id"]
    admin = sign_in(Role.ADMIN)

    # when: staff ask, provider by provider; then: each names exactly the rules it fails
    expected = {
        "B": ["EXCLUDED_BY_SELLER"],
        "R": ["SANCTIONED"],
        "S": ["MARKETPLACE"],
        "T": ["STATUS"],
        offered: ["ALREADY_OFFERED"] + (["STATUS"] if offered == "P" else []),
    }
    for name in ("A", "C", "P"):
        expected.setdefault(name, [])
    for name, wanted in expected.items():
        assert sorted(rules(admin, request_id, rows[name].id)) == sorted(wanted), name


def test_a_provider_outside_the_category_and_who_may_ask(pool, sign_in, db) -> None:
    rows = pool["rows"]
    seller = sign_in(Role.SELLER)
    request_id = seller(REQUEST, {"i": request_input(category="agency")})["createServiceRequest"][
        "id"
    ]
    # a provider that never applied to the category fails CATEGORY alone
    outsider = models.Provider(
        legal_name="Outsider Ltd", region=Region.OVERSEAS, registration_number="REG-OUT"
    )
    db.add(outsider)
    db.commit()
    admin = sign_in(Role.ADMIN)
    assert rules(admin, request_id, outsider.id) == ["CATEGORY"]
    # the seller reaches its request but not the check; others do not reach the request
    ids = {"r": request_id, "p": global_id("Provider", rows["S"].id)}
    assert seller.errors(CHECK, ids)[0]["extensions"]["code"] == "FORBIDDEN"
    reviewer = staff_reviewer(sign_in)
    for client in (pool["partners"]["A"], reviewer):
        assert client(CHECK, ids)["node"] is None
    # a reviewer asks through the list of every request
    listed = reviewer(LISTED, {"p": ids["p"]})["serviceRequests"]["edges"]
    assert [e["node"]["dispatchCheck"]["eligible"] for e in listed] == [False]  # S: SHOPEE


def staff_reviewer(sign_in: Any) -> Any:
    """A reviewer: may ask dispatchCheck, but cannot reach a seller's request by id."""
    return sign_in(Role.REVIEWER)
