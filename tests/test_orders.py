"""Orders over HTTP: milestones, delivery, rating, cancellation with blame, disputes, and the
platform-sourced KPI data the order events produce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from linkstar.core.kernel.vocabulary import ObservationSource, Role
from linkstar.core.runtime import tables as models
from tests.harness import GraphQLClient, global_id
from tests.test_marketplace import ACCEPT, OFFERS, REQUEST, pool, request_input  # noqa: F401

MILESTONE = """mutation($o: ID!, $t: String!, $d: DateTime!) {
  addMilestone(order: $o, title: $t, dueAt: $d) { id title dueAt } }"""
DELIVER_MILESTONE = """mutation($m: ID!) { deliverMilestone(milestone: $m, note: "listing pack v1 attached") {
  id deliveredAt late } }"""
ORDER = """query($id: ID!) { node(id: $id) { ... on Order { id status rating blame
  milestones { title late deliveredAt acceptedAt } timeline { eventType actor } } } }"""
SOURCES = """query($p: ID!, $period: String!) { provider(id: $p) {
  observationSources(category: "agency", period: $period) { metric platform selfReported } } }"""


def order_with(pool: dict[str, Any], seller: GraphQLClient, name: str) -> str:
    """A direct request to provider `name`, accepted: the order's id."""
    seller(REQUEST, {"i": request_input(provider=global_id("Provider", pool["rows"][name].id))})
    partner = pool["partners"][name]
    offer = partner(OFFERS, {"s": "PENDING"})["offers"]["edges"][0]["node"]["id"]
    return partner(ACCEPT, {"o": offer})["acceptOffer"]["id"]


def act(client: GraphQLClient, mutation: str, **args: Any) -> dict[str, Any]:
    params = ", ".join(f"{k}: ${k}" for k in args)
    kinds = {
        "order": "ID!",
        "reason": "String!",
        "rating": "Int!",
        "blame": "Blame",
        "cancel": "Boolean!",
    }
    header = ", ".join(f"${k}: {kinds[k]}" for k in args)
    return client.raw(
        f"mutation({header}) {{ {mutation}({params}) {{ id status rating blame }} }}", args
    ).json()


def test_an_order_is_planned_delivered_late_once_sent_back_completed_and_rated(
    pool, sign_in, staff, db
) -> None:
    seller = sign_in(Role.SELLER)
    provider = pool["partners"]["A"]
    order = order_with(pool, seller, "A")
    soon = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    first = provider(MILESTONE, {"o": order, "t": "Listings", "d": soon})["addMilestone"]
    second = seller(MILESTONE, {"o": order, "t": "Ad campaign", "d": soon})["addMilestone"]
    # The second milestone's due date passes before it is delivered.
    db.query(models.OrderMilestone).filter_by(title="Ad campaign").update(
        {"due_at": datetime.now(UTC) - timedelta(hours=3)}
    )
    db.commit()

    early = act(provider, "deliverOrder", order=order)
    assert early["errors"][0]["extensions"]["code"] == "INVALID_INPUT"  # milestones open
    assert provider(DELIVER_MILESTONE, {"m": first["id"]})["deliverMilestone"]["late"] is False
    assert provider(DELIVER_MILESTONE, {"m": second["id"]})["deliverMilestone"]["late"] is True
    twice = provider.errors(DELIVER_MILESTONE, {"m": second["id"]})
    assert twice[0]["extensions"]["code"] == "CONFLICT"
    refused = seller.errors(DELIVER_MILESTONE, {"m": first["id"]})
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    seller(
        "mutation($m: ID!) { acceptMilestone(milestone: $m) { acceptedAt } }", {"m": first["id"]}
    )

    not_yet = act(seller, "completeOrder", order=order, rating=5)
    assert not_yet["errors"][0]["extensions"]["code"] == "INVALID_TRANSITION"
    assert not_yet["errors"][0]["extensions"]["details"]["allowedActions"] == [
        "DELIVER",
        "CANCEL",
        "OPEN_DISPUTE",
        "EXTEND",
    ]
    assert (
        act(provider, "deliverOrder", order=order)["data"]["deliverOrder"]["status"] == "DELIVERED"
    )
    back = act(seller, "requestChanges", order=order, reason="Add the German listings")
    assert back["data"]["requestChanges"]["status"] == "IN_PROGRESS"
    act(provider, "deliverOrder", order=order)
    out_of_range = act(seller, "completeOrder", order=order, rating=6)
    assert out_of_range["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    # the seller's money reached the platform's bank (staff record it): held for the order
    staff(
        """mutation($o: ID!) { recordSellerPayment(order: $o, bankReference: "HSBC-77",
          amount: {amount: "12000.00", currency: "USD"}) { kind } }""",
        {"o": order},
    )
    done = act(seller, "completeOrder", order=order, rating=5)["data"]["completeOrder"]
    assert (done["status"], done["rating"]) == ("COMPLETED", 5)

    # The completion moved the money: the category's commission for the provider's tier, the
    # rest payable to the provider, recorded with the rule that set the rate.
    (commission,) = db.query(models.Commission).all()
    assert commission.rule_keys.startswith("agency.") and commission.rate_percent > 0
    balances = provider(
        "query($p: ID!) { node(id: $p) { ... on Provider { ledgerBalances { code balance { amount } } } } }",
        {"p": global_id("Provider", pool["rows"]["A"].id)},
    )["node"]["ledgerBalances"]
    payable = {b["code"]: b["balance"]["amount"] for b in balances}["PROVIDER_PAYABLE"]
    assert Decimal(payable) == commission.order_amount - commission.commission

    data = seller(ORDER, {"id": order})["node"]
    assert sorted((m["title"], m["late"]) for m in data["milestones"]) == [
        ("Ad campaign", True),
        ("Listings", False),
    ]
    assert [e["eventType"] for e in data["timeline"]] == [
        "order.created",
        "order.milestone_added",
        "order.milestone_added",
        "order.milestone_delivered",
        "order.milestone_delivered",
        "order.milestone_accepted",
        "order.deliver",
        "order.request_changes",
        "order.deliver",
        "order.complete",
    ]
    # Nobody else sees the order.
    assert pool["partners"]["B"](ORDER, {"id": order})["node"] is None
    assert sign_in(Role.SELLER)(ORDER, {"id": order})["node"] is None
    assert staff(ORDER, {"id": order})["node"]["status"] == "COMPLETED"

    # The order's events became platform observations with lineage back to the order.
    rows = (
        db.query(models.KpiObservation)
        .filter_by(source=ObservationSource.PLATFORM)
        .order_by(models.KpiObservation.id)
        .all()
    )
    order_id = int(__import__("base64").b64decode(order).decode().split(":")[1])
    assert [(r.metric_key, int(r.value)) for r in rows] == [
        ("on_time_task_completion", 1),
        ("on_time_task_completion", 0),
        ("customer_satisfaction", 5),
        ("complaint_rate", 0),  # a closed order the seller did not complain about
    ]
    assert {r.subject_ref for r in rows} == {f"order:{order_id}"}
    assert all(r.evidence_ref.startswith(f"order:{order_id}/") for r in rows)

    # The month is still open: its running values (the projection the evaluation at close
    # will confirm) count them, and the sources are shown per metric.
    period = (
        datetime.now(UTC)
        .astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
        .strftime("%Y-%m")
    )
    projection = staff(
        """query($p: ID!) { provider(id: $p) { kpiProjection(category: "agency") {
        period metrics { metric value sampleSize } } } }""",
        {"p": global_id("Provider", pool["rows"]["A"].id)},
    )["provider"]["kpiProjection"]
    assert projection["period"] == period
    metrics = {m["metric"]: m for m in projection["metrics"]}
    assert metrics["on_time_task_completion"]["sampleSize"] == 2
    assert metrics["customer_satisfaction"]["sampleSize"] == 1
    sources = provider(
        SOURCES, {"p": global_id("Provider", pool["rows"]["A"].id), "period": period}
    )
    counted = {
        s["metric"]: (s["platform"], s["selfReported"])
        for s in sources["provider"]["observationSources"]
    }
    assert counted["on_time_task_completion"] == (2, 0)
    assert counted["customer_satisfaction"] == (1, 0)
    # A re-order of the same seller counts as a renewal.
    order_with(pool, seller, "A")
    renewal = db.query(models.KpiObservation).filter_by(metric_key="customer_renewal_rate").all()
    assert [int(r.value) for r in renewal] == [1]
    # Ordering the category from another provider instead is a contract not renewed: a 0 for
    # the completed order's provider, once per completed order (a second one adds nothing).
    order_with(pool, seller, "B")
    order_with(pool, seller, "B")
    renewal = (
        db.query(models.KpiObservation)
        .filter_by(metric_key="customer_renewal_rate")
        .order_by(models.KpiObservation.id)
        .all()
    )
    a = pool["rows"]["A"].id
    assert [(r.provider_id, int(r.value)) for r in renewal] == [(a, 1), (a, 0)]
    assert renewal[1].subject_ref == f"order:{order_id}"  # on A's own completed order


def test_cancellation_blame_decides_attribution_and_disputes_go_to_staff(
    pool, sign_in, staff, db
) -> None:
    seller = sign_in(Role.SELLER)
    by_seller = order_with(pool, seller, "B")
    by_provider = order_with(pool, seller, "C")
    disputed = order_with(pool, seller, "A")

    no_reason = act(seller, "cancelOrder", order=by_seller, reason=" ")
    assert no_reason["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    cancelled = act(seller, "cancelOrder", order=by_seller, reason="Project shelved")
    assert cancelled["data"]["cancelOrder"]["blame"] == "SELLER"
    mine = act(pool["partners"]["C"], "cancelOrder", order=by_provider, reason="Team left")
    assert mine["data"]["cancelOrder"]["blame"] == "PROVIDER"
    rows = {
        r.provider_id: r
        for r in db.query(models.KpiObservation).filter_by(metric_key="on_time_task_completion")
    }
    assert rows[pool["rows"]["B"].id].attributable is False
    assert (
        rows[pool["rows"]["C"].id].attributable is True
        and int(rows[pool["rows"]["C"].id].value) == 0
    )

    opened = act(pool["partners"]["A"], "openDispute", order=disputed, reason="Seller unresponsive")
    assert opened["data"]["openDispute"]["status"] == "DISPUTED"
    assert (
        act(seller, "resolveDispute", order=disputed, cancel=True, reason="x")["errors"][0][
            "extensions"
        ]["code"]
        == "FORBIDDEN"
    )
    unnamed = act(staff, "resolveDispute", order=disputed, cancel=True, reason="No delivery")
    assert unnamed["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    resolved = act(
        staff, "resolveDispute", order=disputed, cancel=True, reason="No delivery", blame="PROVIDER"
    )
    assert resolved["data"]["resolveDispute"]["blame"] == "PROVIDER"


def test_termination_flags_the_providers_open_orders_for_reassignment_at_once(
    pool, sign_in, staff, db
) -> None:
    seller = sign_in(Role.SELLER)
    open_order = order_with(pool, seller, "B")
    closed = order_with(pool, seller, "B")
    act(seller, "cancelOrder", order=closed, reason="changed plans")
    other = order_with(pool, seller, "A")
    veto = """mutation($p: ID!, $at: DateTime!) { recordViolation(provider: $p, category: "agency",
      severity: VETO, description: "Review manipulation", occurredAt: $at) { id } }"""
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    staff(veto, {"p": global_id("Provider", pool["rows"]["B"].id), "at": at})
    # In the veto's own transaction, no sweep needed: B's open order waits for a new provider.
    flagged = "query($id: ID!) { node(id: $id) { ... on Order { status needsReassignment } } }"
    assert seller(flagged, {"id": open_order})["node"] == {
        "status": "IN_PROGRESS",
        "needsReassignment": True,
    }
    assert seller(flagged, {"id": closed})["node"]["needsReassignment"] is False
    assert seller(flagged, {"id": other})["node"]["needsReassignment"] is False
    order_id = int(__import__("base64").b64decode(open_order).decode().split(":")[1])
    timeline = [
        e.event_type
        for e in db.query(models.DomainEvent).filter_by(subject_type="Order", subject_id=order_id)
    ]
    assert timeline[-1] == "order.needs_reassignment"
    # And B gets no new offer: the next direct request finds nobody.
    again = seller(
        REQUEST, {"i": request_input(provider=global_id("Provider", pool["rows"]["B"].id))}
    )
    assert again["createServiceRequest"]["status"] == "UNMATCHED"


def test_done_means_one_request_from_dispatch_to_the_months_kpi_values(
    pool, sign_in, staff, db
) -> None:
    """Issue #10's "done means", in one flow: dispatched, declined once, expired once,
    accepted, delivered late on one milestone, rated, completed; the month's values then show
    those platform-sourced observations."""
    from tests.test_marketplace import DECLINE, pending_offer

    seller = sign_in(Role.SELLER)
    seller(REQUEST, {"i": request_input()})
    first, offer = pending_offer(pool, staff)
    pool["partners"][first](DECLINE, {"o": offer["id"], "r": "fully booked"})
    second, _ = pending_offer(pool, staff)
    db.query(models.Offer).filter_by(status="PENDING").update(
        {"respond_by": datetime.now(UTC) - timedelta(minutes=1)}
    )
    db.commit()
    assert staff("mutation { expireOffers }")["expireOffers"] == 1
    third, offer = pending_offer(pool, staff)
    assert len({first, second, third}) == 3 and "R" not in {first, second, third}
    provider = pool["partners"][third]
    order = provider(ACCEPT, {"o": offer["id"]})["acceptOffer"]["id"]

    soon = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    on_time = provider(MILESTONE, {"o": order, "t": "Listings", "d": soon})["addMilestone"]
    late = provider(MILESTONE, {"o": order, "t": "Ads", "d": soon})["addMilestone"]
    db.query(models.OrderMilestone).filter_by(title="Ads").update(
        {"due_at": datetime.now(UTC) - timedelta(hours=1)}
    )
    db.commit()
    assert provider(DELIVER_MILESTONE, {"m": on_time["id"]})["deliverMilestone"]["late"] is False
    assert provider(DELIVER_MILESTONE, {"m": late["id"]})["deliverMilestone"]["late"] is True
    act(provider, "deliverOrder", order=order)
    done = act(seller, "completeOrder", order=order, rating=3)["data"]["completeOrder"]
    assert (done["status"], done["rating"]) == ("COMPLETED", 3)

    who = global_id("Provider", pool["rows"][third].id)
    projection = staff(
        """query($p: ID!) { provider(id: $p) { kpiProjection(category: "agency") {
        period metrics { metric value sampleSize } } } }""",
        {"p": who},
    )["provider"]["kpiProjection"]
    metrics = {m["metric"]: (m["value"], m["sampleSize"]) for m in projection["metrics"]}
    assert metrics["on_time_task_completion"] == ("50.0000", 2)  # one of two on time
    assert metrics["customer_satisfaction"] == ("0.0000", 1)  # 3 stars: below the 4-star cut
    assert metrics["complaint_rate"] == ("0.0000", 1)
    sources = provider(SOURCES, {"p": who, "period": projection["period"]})
    counted = {
        s["metric"]: (s["platform"], s["selfReported"])
        for s in sources["provider"]["observationSources"]
    }
    assert counted["on_time_task_completion"] == (2, 0)
    assert counted["customer_satisfaction"] == (1, 0)
