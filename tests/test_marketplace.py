"""The marketplace loop over HTTP: stores, requests, dispatch, offers answered, orders.

World (category agency, marketplace AMAZON): three ACTIVE providers A (strategic), B
(preferred), C (regular); R is ACTIVE but under RESTRICTED_INTAKE; S serves only SHOPEE; T was
TERMINATED; P is on PROBATION with a pilot quota of 1.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from linkstar.core.kernel.vocabulary import (
    ApplicationStatus,
    Marketplace,
    Region,
    Role,
    SanctionKind,
    SanctionStatus,
    Tier,
)
from linkstar.core.runtime import tables as models
from tests.harness import GraphQLClient, global_id
from tests.test_concurrency import at_once, codes

STORE = """mutation($m: Marketplace!, $s: String!, $n: String!, $c: String!) {
  createStore(marketplace: $m, site: $s, name: $n, currency: $c) { id marketplace site name currency } }"""
REQUEST = """mutation($i: ServiceRequestInput!) { createServiceRequest(input: $i) {
  id status offersMade marketplaces budget { amount currency } requirements } }"""
OFFERS = """query($s: OfferStatus) { offers(status: $s, first: 50) { totalCount edges { node {
  id status round pilot declineReason explanation request { id title } } } } }"""
ACCEPT = (
    "mutation($o: ID!) { acceptOffer(offer: $o) { id status price { amount currency } pilot } }"
)
DECLINE = "mutation($o: ID!, $r: String!) { declineOffer(offer: $o, reason: $r) { id status declineReason } }"
ORDERS = "{ orders(first: 50) { totalCount edges { node { id status } } } }"
REQUESTS = "{ serviceRequests(first: 50) { totalCount edges { node { id status offersMade order { id status } } } } }"


def _provider(
    db: Any,
    name: str,
    status: ApplicationStatus,
    tier: Tier = Tier.REGULAR,
    marketplaces: tuple[Marketplace, ...] = (Marketplace.AMAZON,),
    quota: int | None = None,
) -> models.Provider:
    row = models.Provider(
        legal_name=name, region=Region.MAINLAND_CHINA, registration_number=f"REG-{name}"
    )
    db.add(row)
    db.flush()
    db.add(
        models.Application(
            provider_id=row.id,
            category_key="agency",
            status=status,
            tier=tier,
            pilot_order_quota=quota,
        )
    )
    for marketplace in marketplaces:
        db.add(models.ProviderMarketplace(provider_id=row.id, marketplace=marketplace))
    return row


@pytest.fixture
def pool(db, sign_in) -> dict[str, Any]:
    names = {
        "A": (ApplicationStatus.ACTIVE, Tier.STRATEGIC_PARTNER, (Marketplace.AMAZON,), None),
        "B": (ApplicationStatus.ACTIVE, Tier.PREFERRED, (Marketplace.AMAZON,), None),
        "C": (ApplicationStatus.ACTIVE, Tier.REGULAR, (Marketplace.AMAZON,), None),
        "R": (ApplicationStatus.ACTIVE, Tier.STRATEGIC_PARTNER, (Marketplace.AMAZON,), None),
        "S": (ApplicationStatus.ACTIVE, Tier.STRATEGIC_PARTNER, (Marketplace.SHOPEE,), None),
        "T": (ApplicationStatus.TERMINATED, Tier.STRATEGIC_PARTNER, (Marketplace.AMAZON,), None),
        "P": (ApplicationStatus.PROBATION, Tier.REGULAR, (Marketplace.AMAZON,), 1),
    }
    rows = {n: _provider(db, f"Agency {n}", *spec) for n, spec in names.items()}
    db.add(
        models.Sanction(
            provider_id=rows["R"].id,
            category_key="agency",
            kind=SanctionKind.RESTRICTED_INTAKE,
            status=SanctionStatus.ACTIVE,
            dedupe_key=f"{rows['R'].id}:agency:restricted:2026-10",
            period="2026-10",
            cause={},
            reason="two failing months",
        )
    )
    db.commit()
    partners = {n: sign_in(Role.PARTNER, provider_id=row.id, owner=True) for n, row in rows.items()}
    by_id = {row.id: n for n, row in rows.items()}
    return {"rows": rows, "partners": partners, "name_of": by_id}


def request_input(**overrides: Any) -> dict[str, Any]:
    data = {
        "category": "agency",
        "title": "Run our US Amazon store",
        "scope": "Listings, advertising and customer service for 40 SKUs",
        "budget": {"amount": "12000.00", "currency": "USD"},
        "desiredStart": str(date(2026, 12, 15)),
        "requirements": {"service_models": ["FULL_STORE_OPERATION"], "sku_count": 40},
        "marketplaces": ["AMAZON"],
    }
    data.update(overrides)
    return data


def pending_offer(pool: dict[str, Any], staff: GraphQLClient) -> tuple[str, dict[str, Any]]:
    """(provider name, offer) of the one PENDING offer."""
    edges = staff(OFFERS, {"s": "PENDING"})["offers"]["edges"]
    assert len(edges) == 1, edges
    offer = edges[0]["node"]
    provider_id = offer["explanation"]["chosen"]["provider_id"]
    return pool["name_of"][provider_id], offer


def test_a_request_is_declined_once_expired_once_then_accepted(pool, sign_in, staff, db) -> None:
    seller = sign_in(Role.SELLER)
    store = seller(STORE, {"m": "AMAZON", "s": "us", "n": "Acme US", "c": "USD"})["createStore"]
    assert store["site"] == "US"
    created = seller(REQUEST, {"i": request_input(stores=[store["id"]], marketplaces=[])})[
        "createServiceRequest"
    ]
    assert (created["status"], created["offersMade"], created["marketplaces"]) == (
        "OFFERED",
        1,
        ["AMAZON"],
    )
    assert created["budget"] == {"amount": "12000.00", "currency": "USD"}

    # The first provider declines: a reason is required, and it is remembered.
    first, offer = pending_offer(pool, staff)
    assert first in {"A", "B", "C", "P"}
    explanation = offer["explanation"]
    assert {"kpi", "tier_weight", "load", "score"} <= set(explanation["chosen"])
    assert {pool["name_of"][c["provider_id"]] for c in explanation["candidates"]} == {
        "A",
        "B",
        "C",
        "P",
    }
    refused = pool["partners"][first].errors(DECLINE, {"o": offer["id"], "r": "  "})
    assert refused[0]["extensions"]["code"] == "INVALID_INPUT"
    declined = pool["partners"][first](DECLINE, {"o": offer["id"], "r": "fully booked"})
    assert declined["declineOffer"] == {
        "id": offer["id"],
        "status": "DECLINED",
        "declineReason": "fully booked",
    }
    # Another provider cannot answer an offer that is not its own.
    second, offer2 = pending_offer(pool, staff)
    assert second != first
    outsider = next(n for n in "ABC" if n not in {first, second})
    assert (
        pool["partners"][outsider].errors(ACCEPT, {"o": offer2["id"]})[0]["extensions"]["code"]
        == "NOT_FOUND"
    )

    # The second lets its deadline pass: expiry moves the request to a third provider.
    db.query(models.Offer).filter_by(status="PENDING").update(
        {"respond_by": datetime.now(UTC) - timedelta(minutes=1)}
    )
    db.commit()
    late = pool["partners"][second].errors(ACCEPT, {"o": offer2["id"]})
    assert late[0]["extensions"]["code"] == "INVALID_TRANSITION"
    assert staff("mutation { expireOffers }")["expireOffers"] == 1
    assert staff("mutation { expireOffers }")["expireOffers"] == 0  # never twice
    third, offer3 = pending_offer(pool, staff)
    assert third not in {first, second}

    order = pool["partners"][third](ACCEPT, {"o": offer3["id"]})["acceptOffer"]
    assert order["status"] == "IN_PROGRESS"
    assert order["price"] == {"amount": "12000.00", "currency": "USD"}
    assert order["pilot"] is (third == "P")
    # Accepting twice gives no second order.
    again = pool["partners"][third].errors(ACCEPT, {"o": offer3["id"]})
    assert again[0]["extensions"]["code"] == "INVALID_TRANSITION"

    requests = seller(REQUESTS)["serviceRequests"]["edges"]
    assert [(e["node"]["status"], e["node"]["offersMade"]) for e in requests] == [("ORDERED", 3)]
    assert requests[0]["node"]["order"]["id"] == order["id"]
    assert seller(ORDERS)["orders"]["totalCount"] == 1
    assert pool["partners"][third](ORDERS)["orders"]["totalCount"] == 1
    assert pool["partners"][first](ORDERS)["orders"]["totalCount"] == 0

    # Each provider sees only its own offers, and only its own part of the explanation.
    mine = pool["partners"][first](OFFERS, {"s": None})["offers"]["edges"]
    assert [e["node"]["status"] for e in mine] == ["DECLINED"]
    assert "candidates" not in mine[0]["node"]["explanation"]
    assert mine[0]["node"]["explanation"]["chosen"]["provider_id"] == pool["rows"][first].id
    for name in ("R", "S", "T"):
        assert pool["partners"][name](OFFERS, {"s": None})["offers"]["totalCount"] == 0

    # Another seller sees none of it; the timeline of the request tells the whole story.
    other = sign_in(Role.SELLER)
    assert other(REQUESTS)["serviceRequests"]["totalCount"] == 0
    assert other(ORDERS)["orders"]["totalCount"] == 0
    assert other("{ stores { totalCount } }")["stores"]["totalCount"] == 0
    events = [
        e.event_type
        for e in db.query(models.DomainEvent)
        .filter_by(subject_type="ServiceRequest")
        .order_by(models.DomainEvent.id)
    ]
    assert events == [
        "request.created",
        "request.offered",
        "offer.declined",
        "request.offered",
        "offer.expired",
        "request.offered",
        "offer.accepted",
    ]


def test_restricted_and_excluded_providers_get_no_offer_and_the_request_ends_unmatched(
    pool, sign_in, staff
) -> None:
    seller = sign_in(Role.SELLER)
    exclude = [global_id("Provider", pool["rows"][n].id) for n in ("B", "C", "P")]
    created = seller(REQUEST, {"i": request_input(excludeProviders=exclude)})[
        "createServiceRequest"
    ]
    name, offer = pending_offer(pool, staff)
    assert name == "A"  # R is a strategic partner too, but restricted
    pool["partners"]["A"](DECLINE, {"o": offer["id"], "r": "not our niche"})
    data = seller(REQUESTS)["serviceRequests"]["edges"][0]["node"]
    assert (data["id"], data["status"], data["offersMade"]) == (created["id"], "UNMATCHED", 1)
    # Retrying finds nobody new: A declined once and is never asked again.
    retry = "mutation($r: ID!) { dispatchServiceRequest(request: $r) { status offersMade } }"
    assert seller(retry, {"r": created["id"]})["dispatchServiceRequest"] == {
        "status": "UNMATCHED",
        "offersMade": 1,
    }


def test_a_probation_provider_stops_at_its_pilot_quota(pool, sign_in, staff) -> None:
    seller = sign_in(Role.SELLER)
    direct = global_id("Provider", pool["rows"]["P"].id)
    seller(REQUEST, {"i": request_input(provider=direct)})
    name, offer = pending_offer(pool, staff)
    assert name == "P" and offer["pilot"] is True
    order = pool["partners"]["P"](ACCEPT, {"o": offer["id"]})["acceptOffer"]
    assert order["pilot"] is True
    second = seller(REQUEST, {"i": request_input(provider=direct)})["createServiceRequest"]
    assert second["status"] == "UNMATCHED"  # the quota of one pilot order is used up


def test_invalid_requests_are_refused_whole(pool, sign_in) -> None:
    seller = sign_in(Role.SELLER)
    cases = [
        (request_input(category="nope"), "NOT_FOUND"),
        (request_input(budget={"amount": "0", "currency": "USD"}), "INVALID_INPUT"),
        (request_input(budget={"amount": "1.001", "currency": "USD"}), "INVALID_INPUT"),
        (request_input(marketplaces=[]), "INVALID_INPUT"),
        (request_input(requirements={"colour": "red"}), "PROFILE_INVALID"),
    ]
    for data, code in cases:
        assert seller.errors(REQUEST, {"i": data})[0]["extensions"]["code"] == code, data
    assert seller(REQUESTS)["serviceRequests"]["totalCount"] == 0
    partner = pool["partners"]["A"]
    assert partner.errors(REQUEST, {"i": request_input()})[0]["extensions"]["code"] == "FORBIDDEN"


def test_many_accepts_racing_one_providers_capacity_make_one_order(pool, sign_in, staff) -> None:
    seller = sign_in(Role.SELLER)
    direct = global_id("Provider", pool["rows"]["C"].id)
    for _ in range(4):
        seller(REQUEST, {"i": request_input(provider=direct)})
    partner = pool["partners"]["C"]
    offers = [e["node"]["id"] for e in partner(OFFERS, {"s": "PENDING"})["offers"]["edges"]]
    assert len(offers) == 4
    partner('mutation { declareCapacity(category: "agency", maxOpenOrders: 1) { maxOpenOrders } }')
    bodies = at_once(*((partner, ACCEPT, {"o": o}) for o in offers))
    found = codes(bodies)
    assert found.count(None) == 1 and set(found) <= {None, "CAPACITY_FULL", "CONFLICT"}, bodies
    assert partner(ORDERS)["orders"]["totalCount"] == 1


def test_two_accepts_of_one_offer_at_once_make_one_order(pool, sign_in, staff) -> None:
    seller = sign_in(Role.SELLER)
    seller(REQUEST, {"i": request_input(provider=global_id("Provider", pool["rows"]["B"].id))})
    _, offer = pending_offer(pool, staff)
    partner = pool["partners"]["B"]
    found = codes(
        at_once((partner, ACCEPT, {"o": offer["id"]}), (partner, ACCEPT, {"o": offer["id"]}))
    )
    assert found.count(None) == 1 and set(found) <= {None, "CONFLICT", "INVALID_TRANSITION"}
    assert seller(ORDERS)["orders"]["totalCount"] == 1


def test_the_cli_expires_overdue_offers_once_even_from_two_processes(
    pool, sign_in, staff, db, migrated
) -> None:
    import subprocess

    from tests.test_cli import LINKSTAR

    seller = sign_in(Role.SELLER)
    for name in ("A", "B"):
        seller(REQUEST, {"i": request_input(provider=global_id("Provider", pool["rows"][name].id))})
    db.query(models.Offer).update({"respond_by": datetime.now(UTC) - timedelta(seconds=1)})
    db.commit()
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("LINKSTAR_")}
    env["LINKSTAR_DATABASE_URL"] = migrated.render_as_string(hide_password=False)
    runs = [
        subprocess.Popen(
            [str(LINKSTAR), "dispatch", "expire"], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    expired = sum(int(out.split()[1]) for out in outputs)
    # The test server's own minute sweep may get there first when the machine is slow to
    # start the two processes: together they expire each offer exactly once.
    swept = db.query(models.DomainEvent).filter_by(event_type="offer.expired").count()
    db.rollback()
    assert swept == 2 and expired <= 2, outputs
    statuses = sorted(e["node"]["status"] for e in seller(REQUESTS)["serviceRequests"]["edges"])
    assert statuses == ["UNMATCHED", "UNMATCHED"]  # direct requests: nobody else to ask
    assert staff(OFFERS, {"s": "EXPIRED"})["offers"]["totalCount"] == 2


def _card(db: Any, provider_id: int, period: str, composite: str, revision: int = 1) -> None:
    from decimal import Decimal

    db.add(
        models.Scorecard(
            provider_id=provider_id,
            category_key="agency",
            period=period,
            revision=revision,
            period_start=datetime(2026, 10, 1, tzinfo=UTC),
            period_end=datetime(2026, 11, 1, tzinfo=UTC),
            composite=Decimal(composite),
            standing="GOOD",
            results=[],
            definitions={},
            inputs_digest=f"{provider_id}-{period}-{revision}",
        )
    )
    db.flush()
    # what the evaluation keeps beside each scorecard it writes: the provider's newest one
    card = (
        db.query(models.Scorecard)
        .filter_by(provider_id=provider_id)
        .order_by(models.Scorecard.period.desc(), models.Scorecard.revision.desc())[0]
    )
    db.merge(
        models.CurrentComposite(
            provider_id=provider_id,
            category_key="agency",
            scorecard_id=card.id,
            period=card.period,
            revision=card.revision,
            composite=card.composite,
        )
    )


def test_the_directory_ranks_by_the_public_kpi_summary_with_filters_and_reasons(
    pool, sign_in, db
) -> None:
    rows = pool["rows"]
    _card(db, rows["A"].id, "2026-09", "95")
    _card(db, rows["A"].id, "2026-10", "70")  # the latest period counts
    _card(db, rows["B"].id, "2026-10", "80")
    _card(db, rows["B"].id, "2026-10", "90", revision=2)  # and its latest revision
    db.commit()
    query = """query($m: Marketplace, $t: Tier) { providerRanking(category: "agency", marketplace: $m, tier: $t) {
      totalCount edges { node { rank composite tier acceptingOrders why provider { legalName } } } } }"""
    seller = sign_in(Role.SELLER)
    entries = [e["node"] for e in seller(query)["providerRanking"]["edges"]]
    names = [e["provider"]["legalName"][-1] for e in entries]
    assert names == ["B", "A", "R", "S", "C"]  # rated first; then unrated by tier; T, P not in pool
    assert entries[0]["composite"] == "90" and entries[0]["why"].startswith(
        "#1 of 5: KPI composite 90"
    )
    restricted = entries[2]
    assert restricted["acceptingOrders"] is False and "intake restricted" in restricted["why"]
    shopee = seller(query, {"m": "SHOPEE"})["providerRanking"]["edges"]
    assert [e["node"]["provider"]["legalName"] for e in shopee] == ["Agency S"]
    preferred = seller(query, {"t": "PREFERRED"})["providerRanking"]["edges"]
    assert [e["node"]["provider"]["legalName"] for e in preferred] == ["Agency B"]


def test_the_evaluation_keeps_each_providers_current_composite_for_dispatch(
    pool, sign_in, db
) -> None:
    from decimal import Decimal

    from linkstar.core.kernel.vocabulary import ObservationSource

    # given: A's sellers were happy in October, unhappy in September
    a = pool["rows"]["A"].id
    for month, stars in ((9, 1), (10, 5)):
        for i in range(10):
            db.add(
                models.KpiObservation(
                    provider_id=a,
                    category_key="agency",
                    metric_key="customer_satisfaction",
                    subject_ref=f"c{i}",
                    observed_at=datetime(2026, month, 10, 4, tzinfo=UTC),
                    value=Decimal(stars),
                    source=ObservationSource.PLATFORM,
                    idempotency_key=f"current-{month}-{i}",
                )
            )
    db.commit()
    admin = sign_in(Role.ADMIN)
    evaluate = (
        'mutation($p: String!) { evaluatePeriod(period: $p, category: "agency") { written } }'
    )
    # when: October is evaluated, then September (late): the later month stays current
    admin(evaluate, {"p": "2026-10"})
    october = db.query(models.Scorecard).filter_by(provider_id=a, period="2026-10").one()
    admin(evaluate, {"p": "2026-09"})
    db.expire_all()
    current = db.query(models.CurrentComposite).filter_by(provider_id=a).one()
    assert (current.period, current.scorecard_id, current.composite) == (
        "2026-10",
        october.id,
        october.composite,
    )
    # then: dispatch and the directory read it
    ranking = sign_in(Role.SELLER)(
        '{ providerRanking(category: "agency") { edges { node { composite provider { legalName } } } } }'
    )["providerRanking"]["edges"]
    assert ranking[0]["node"]["provider"] == {"legalName": "Agency A"}
    assert Decimal(ranking[0]["node"]["composite"]) == october.composite
    seller = sign_in(Role.SELLER)
    seller(REQUEST, {"i": request_input()})
    offer = sign_in(Role.ADMIN)(OFFERS, {"s": "PENDING"})["offers"]["edges"][0]["node"]
    composites = {c["provider_id"]: c["composite"] for c in offer["explanation"]["candidates"]}
    assert Decimal(composites[a]) == october.composite
