"""Sellers' tickets, complaints, extensions and store GMV over HTTP, and the platform-sourced
KPI data they make through each category's rules (the core names no metric).

World: the marketplace pool of tests/test_marketplace.py (agency: A strategic, B preferred, …);
A also holds ERP in the pool.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from linkstar.core.kernel.vocabulary import ApplicationStatus, ObservationSource, Role, TokenScope
from linkstar.core.runtime import tables as models
from tests.harness import GraphQLClient, global_id
from tests.test_marketplace import ACCEPT, OFFERS, REQUEST, STORE, pool, request_input  # noqa: F401
from tests.test_orders import act

OPEN = """mutation($i: SellerTicketInput!) { openSellerTicket(input: $i) {
  id kind status order store firstResponseAt } }"""
RESPOND = """mutation($t: ID!, $m: String!, $r: Boolean!) { respondToTicket(ticket: $t, message: $m, resolve: $r) {
  id status firstResponseAt closedAt resolvedByProvider } }"""
REPLY = "mutation($t: ID!, $m: String!) { replyToTicket(ticket: $t, message: $m) { id status } }"
CLOSE = "mutation($t: ID!, $m: String!) { closeTicket(ticket: $t, message: $m) { id status } }"
TICKETS = "{ sellerTickets(first: 50) { totalCount edges { node { id status kind } } } }"
TICKET = """query($id: ID!) { node(id: $id) { ... on SellerTicket { id status
  timeline { eventType actor payload } } } }"""
SALES = """mutation($s: ID!, $m: String!, $a: Decimal!, $c: String!) {
  reportStoreSales(store: $s, month: $m, sales: {amount: $a, currency: $c}) {
  month sales { amount currency } source observations } }"""


def raw_id(global_: str) -> int:
    return int(base64.b64decode(global_).decode().split(":")[1])


def store_order(
    pool: dict[str, Any], seller: GraphQLClient, name: str, category: str = "agency", **extra: Any
) -> tuple[str, str]:
    """A store of the seller and an accepted direct request about it to provider `name`."""
    store = seller(
        STORE, {"m": "AMAZON", "s": "US", "n": f"Shop {extra.pop('tag', name)}", "c": "USD"}
    )["createStore"]["id"]
    data = request_input(
        provider=global_id("Provider", pool["rows"][name].id),
        stores=[store],
        marketplaces=[],
        category=category,
        **extra,
    )
    seller(REQUEST, {"i": data})
    partner = pool["partners"][name]
    offers = partner(OFFERS, {"s": "PENDING"})["offers"]["edges"]
    order = partner(ACCEPT, {"o": offers[0]["node"]["id"]})["acceptOffer"]["id"]
    return store, order


def platform_rows(db: Any, metric: str) -> list[Any]:
    db.expire_all()
    return (
        db.query(models.KpiObservation)
        .filter_by(metric_key=metric, source=ObservationSource.PLATFORM)
        .order_by(models.KpiObservation.id)
        .all()
    )


def test_a_negative_review_ticket_is_answered_then_resolved_and_its_handling_time_is_scored(
    pool, sign_in, staff, db
) -> None:
    seller = sign_in(Role.SELLER)
    store, order = store_order(pool, seller, "A")
    provider, outsider = pool["partners"]["A"], pool["partners"]["B"]

    refused = seller.errors(
        OPEN, {"i": {"kind": "NEGATIVE_REVIEW", "subject": "1-star", "body": "x"}}
    )
    assert refused[0]["extensions"]["code"] == "INVALID_INPUT"  # which store?
    # The store alone finds its provider: the one holding the seller's order for it.
    ticket = seller(
        OPEN,
        {
            "i": {
                "kind": "NEGATIVE_REVIEW",
                "subject": "1-star review on B0C1",
                "body": "Item arrived late",
                "store": store,
            }
        },
    )["openSellerTicket"]
    assert (ticket["status"], ticket["order"], ticket["store"]) == ("OPEN", order, store)

    # Role matrix: the seller and A see it, B and another seller do not, staff do.
    assert seller(TICKETS)["sellerTickets"]["totalCount"] == 1
    assert provider(TICKETS)["sellerTickets"]["totalCount"] == 1
    assert outsider(TICKETS)["sellerTickets"]["totalCount"] == 0
    assert sign_in(Role.SELLER)(TICKETS)["sellerTickets"]["totalCount"] == 0
    assert outsider(TICKET, {"id": ticket["id"]})["node"] is None
    assert staff(TICKETS)["sellerTickets"]["totalCount"] == 1
    assert (
        outsider.errors(RESPOND, {"t": ticket["id"], "m": "hi", "r": False})[0]["extensions"][
            "code"
        ]
        == "NOT_FOUND"
    )
    # Only the provider answers; only the seller replies or closes.
    assert (
        seller.errors(RESPOND, {"t": ticket["id"], "m": "me", "r": False})[0]["extensions"]["code"]
        == "FORBIDDEN"
    )

    # The review came in 30 hours ago.
    db.query(models.SellerTicket).filter_by(id=raw_id(ticket["id"])).update(
        {"opened_at": datetime.now(UTC) - timedelta(hours=30)}
    )
    db.commit()
    answered = provider(RESPOND, {"t": ticket["id"], "m": "Contacting the buyer", "r": False})[
        "respondToTicket"
    ]
    assert answered["status"] == "ANSWERED" and answered["firstResponseAt"] is not None
    assert (
        provider.errors(CLOSE, {"t": ticket["id"], "m": "done"})[0]["extensions"]["code"]
        == "FORBIDDEN"
    )
    assert seller(REPLY, {"t": ticket["id"], "m": "Any news?"})["replyToTicket"]["status"] == "OPEN"
    resolved = provider(
        RESPOND, {"t": ticket["id"], "m": "Buyer updated the review to 4 stars", "r": True}
    )["respondToTicket"]
    assert (resolved["status"], resolved["resolvedByProvider"]) == ("CLOSED", True)
    assert resolved["firstResponseAt"] == answered["firstResponseAt"]  # the first answer counts
    closed = seller.errors(REPLY, {"t": ticket["id"], "m": "thanks"})
    assert closed[0]["extensions"]["code"] == "INVALID_TRANSITION"

    # The resolving answer is agency's negative-review handling time: ~30 hours, platform data
    # with lineage to the ticket; agency has no rule for a first answer, so nothing else.
    (row,) = platform_rows(db, "negative_review_response_time")
    assert Decimal("29.9") < row.value < Decimal("30.1")
    assert (row.subject_ref, row.evidence_ref) == (
        f"ticket:{raw_id(ticket['id'])}",
        f"ticket:{raw_id(ticket['id'])}/negative_review_resolved",
    )
    events = [e["eventType"] for e in seller(TICKET, {"id": ticket["id"]})["node"]["timeline"]]
    assert events == ["ticket.opened", "ticket.respond", "ticket.reply", "ticket.resolve"]


def test_an_erp_vendors_first_answer_to_a_ticket_is_its_response_time(pool, sign_in, db) -> None:
    db.add(
        models.Application(
            provider_id=pool["rows"]["A"].id,
            category_key="erp",
            status=ApplicationStatus.ACTIVE,
            tier="REGULAR",
        )
    )
    db.commit()
    seller = sign_in(Role.SELLER)
    _, order = store_order(
        pool,
        seller,
        "A",
        category="erp",
        requirements={"integrate_marketplaces": ["AMAZON"]},
        tag="erp",
    )
    ticket = seller(
        OPEN,
        {
            "i": {
                "kind": "GENERAL",
                "subject": "Orders not syncing",
                "body": "Since 9:00",
                "order": order,
            }
        },
    )["openSellerTicket"]
    db.query(models.SellerTicket).filter_by(id=raw_id(ticket["id"])).update(
        {"opened_at": datetime.now(UTC) - timedelta(hours=2)}
    )
    db.commit()
    pool["partners"]["A"](RESPOND, {"t": ticket["id"], "m": "Looking into it", "r": False})
    pool["partners"]["A"](RESPOND, {"t": ticket["id"], "m": "Fixed", "r": False})
    (row,) = platform_rows(db, "ticket_first_response_time")  # once: the first answer
    assert (row.category_key, Decimal("1.9") < row.value < Decimal("2.1")) == ("erp", True)
    # The seller closing a general ticket is no negative-review signal.
    seller(CLOSE, {"t": ticket["id"], "m": "Thanks"})
    assert platform_rows(db, "negative_review_response_time") == []


def test_complaints_and_disputes_feed_the_complaint_rate_and_an_extension_is_a_renewal(
    pool, sign_in, staff, db
) -> None:
    seller = sign_in(Role.SELLER)
    _, quiet = store_order(pool, seller, "A", tag="quiet")
    _, complained = store_order(pool, seller, "A", tag="complained")
    _, disputed = store_order(pool, seller, "A", tag="disputed")
    seller(
        OPEN,
        {
            "i": {
                "kind": "COMPLAINT",
                "subject": "Missed the launch",
                "body": "…",
                "order": complained,
            }
        },
    )
    no_order = seller.errors(OPEN, {"i": {"kind": "COMPLAINT", "subject": "x", "body": "y"}})
    assert no_order[0]["extensions"]["code"] == "INVALID_INPUT"
    provider = pool["partners"]["A"]
    for order in (quiet, complained):
        assert (
            act(provider, "deliverOrder", order=order)["data"]["deliverOrder"]["status"]
            == "DELIVERED"
        )
    # Extending the delivered engagement is a renewal; the order goes on.
    extended = act(seller, "extendOrder", order=quiet, reason="Run Q1 as well")["data"][
        "extendOrder"
    ]
    assert extended["status"] == "IN_PROGRESS"
    act(provider, "deliverOrder", order=quiet)
    for order in (quiet, complained):
        act(seller, "completeOrder", order=order, rating=5)
    act(seller, "openDispute", order=disputed, reason="Nothing delivered")
    act(
        staff, "resolveDispute", order=disputed, cancel=True, reason="No delivery", blame="PROVIDER"
    )

    rates = {row.subject_ref: int(row.value) for row in platform_rows(db, "complaint_rate")}
    assert rates == {
        f"order:{raw_id(quiet)}": 0,
        f"order:{raw_id(complained)}": 1,
        f"order:{raw_id(disputed)}": 1,
    }
    renewals = platform_rows(db, "customer_renewal_rate")
    assert [(r.subject_ref, int(r.value)) for r in renewals] == [(f"order:{raw_id(quiet)}", 1)]


def test_store_sales_snapshots_feed_the_agency_running_the_store_once_per_snapshot(
    pool, sign_in, staff, db, server
) -> None:
    seller = sign_in(Role.SELLER)
    store, _ = store_order(pool, seller, "A")
    other_store = seller(STORE, {"m": "AMAZON", "s": "DE", "n": "No agency", "c": "EUR"})[
        "createStore"
    ]["id"]
    tz = ZoneInfo("Asia/Shanghai")
    now = datetime.now(UTC)
    month = now.strftime("%Y-%m")
    # Last month's figure was recorded then (its KPI period may be closed by now).
    previous = (now.replace(day=1) - timedelta(days=1)).replace(day=15, hour=12)
    db.add(
        models.KpiObservation(
            provider_id=pool["rows"]["A"].id,
            category_key="agency",
            metric_key="store_gmv_growth",
            subject_ref=f"store:{raw_id(store)}",
            observed_at=previous,
            value=Decimal("100000"),
            source=ObservationSource.PLATFORM,
            idempotency_key=f"platform:store:{raw_id(store)}:sales:{previous:%Y-%m}:store_gmv_growth",
            reported_by="platform:orders",
        )
    )
    db.commit()

    reported = seller(SALES, {"s": store, "m": month, "a": "120000.00", "c": "USD"})[
        "reportStoreSales"
    ]
    assert reported == {
        "month": month,
        "sales": {"amount": "120000.00", "currency": "USD"},
        "source": "SELLER",
        "observations": 1,
    }
    again = seller(SALES, {"s": store, "m": month, "a": "120000.00", "c": "USD"})[
        "reportStoreSales"
    ]
    assert again["observations"] == 0  # the same snapshot: nothing new
    changed = seller.errors(SALES, {"s": store, "m": month, "a": "1.00", "c": "USD"})
    assert changed[0]["extensions"]["code"] == "DUPLICATE"
    assert (
        seller.errors(SALES, {"s": store, "m": "2026-13", "a": "1", "c": "USD"})[0]["extensions"][
            "code"
        ]
        == "INVALID_INPUT"
    )
    assert (
        seller.errors(SALES, {"s": store, "m": "2025-01", "a": "1", "c": "EUR"})[0]["extensions"][
            "code"
        ]
        == "INVALID_INPUT"
    )
    # A month before the order, and a store nobody runs: kept, but they feed no provider.
    assert (
        seller(SALES, {"s": store, "m": "2025-01", "a": "5.00", "c": "USD"})["reportStoreSales"][
            "observations"
        ]
        == 0
    )
    assert (
        seller(SALES, {"s": other_store, "m": month, "a": "9.00", "c": "EUR"})["reportStoreSales"][
            "observations"
        ]
        == 0
    )
    # Another seller's store, a provider, a read-only token: refused.
    assert (
        sign_in(Role.SELLER).errors(SALES, {"s": store, "m": "2025-02", "a": "1", "c": "USD"})[0][
            "extensions"
        ]["code"]
        == "NOT_FOUND"
    )
    assert (
        pool["partners"]["A"].errors(SALES, {"s": store, "m": "2025-02", "a": "1", "c": "USD"})[0][
            "extensions"
        ]["code"]
        == "FORBIDDEN"
    )

    # The seller's ERP integration reports with a token of scope REPORT_STORE_DATA.
    create = 'mutation($s: [TokenScope!]!) { createApiToken(name: "erp", scopes: $s, expiresInDays: 5) { token } }'
    token = seller(create, {"s": [TokenScope.REPORT_STORE_DATA.value]})["createApiToken"]["token"]
    read = seller(create, {"s": [TokenScope.READ.value]})["createApiToken"]["token"]
    integration = GraphQLClient(server.url, token)
    by_program = integration(SALES, {"s": store, "m": "2025-03", "a": "7.00", "c": "USD"})[
        "reportStoreSales"
    ]
    assert by_program["source"] == "INTEGRATION"
    assert (
        GraphQLClient(server.url, read).errors(
            SALES, {"s": store, "m": "2025-04", "a": "1", "c": "USD"}
        )[0]["extensions"]["code"]
        == "FORBIDDEN"
    )
    snapshots = seller("query($s: ID!) { storeSales(store: $s) { month source } }", {"s": store})[
        "storeSales"
    ]
    assert [s["month"] for s in snapshots] == ["2025-01", "2025-03", month]

    (row,) = [r for r in platform_rows(db, "store_gmv_growth") if r.observed_at > previous]
    assert (row.subject_ref, row.value, row.evidence_ref) == (
        f"store:{raw_id(store)}",
        Decimal("120000"),
        f"store:{raw_id(store)}/sales:{month}",
    )
    # This month's running value: the store grew 20 % on last month.
    projection = staff(
        """query($p: ID!) { provider(id: $p) { kpiProjection(category: "agency") {
        period metrics { metric value sampleSize } } } }""",
        {"p": global_id("Provider", pool["rows"]["A"].id)},
    )["provider"]["kpiProjection"]
    if projection["period"] == now.astimezone(tz).strftime("%Y-%m") == month:
        growth = {m["metric"]: m for m in projection["metrics"]}["store_gmv_growth"]
        assert (Decimal(growth["value"]), growth["sampleSize"]) == (Decimal("20"), 1)
