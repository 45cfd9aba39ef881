"""Seller payments against orders, over HTTP: staff record what the platform's bank received,
the completion moves money only once the order is paid for, cancelling refunds.

Worked by hand: order of USD 12,000.00 with provider A (agency, STRATEGIC_PARTNER).

    HSBC-1   5,000.00 received         seller's held 5,000.00
    completed (not yet covered)         nothing moves; held stays 5,000.00, never negative
    HSBC-2   7,000.00 received         covered: held 12,000.00 → 0.00; commission + payable
    a second order, 3,000.00 received, cancelled by the seller → refund 3,000.00, held 0.00
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from linkstar.core.kernel.vocabulary import Role
from linkstar.core.runtime import tables as models
from tests.harness import GraphQLClient, global_id
from tests.test_marketplace import pool  # noqa: F401
from tests.test_orders import act, order_with

PAY = """mutation($o: ID!, $a: Decimal!, $c: String!, $r: String!) {
  recordSellerPayment(order: $o, amount: {amount: $a, currency: $c}, bankReference: $r) {
    id kind amount { amount currency } bankReference orderId } }"""
MINE = """query($o: ID) { sellerPayments(order: $o) { id kind amount { amount } orderId } }"""
BALANCES = "{ ledgerBalances { code owner balance { amount currency } } }"


def held(staff: GraphQLClient, seller_id: int) -> Decimal:
    rows = staff(BALANCES)["ledgerBalances"]
    found = [
        Decimal(r["balance"]["amount"])
        for r in rows
        if r["code"] == "SELLER_PAYMENTS_HELD" and r["owner"] == f"seller:{seller_id}"
    ]
    return sum(found, Decimal(0))


def payable(staff: GraphQLClient, provider_id: int) -> Decimal:
    rows = staff(BALANCES)["ledgerBalances"]
    return sum(
        (
            Decimal(r["balance"]["amount"])
            for r in rows
            if r["code"] == "PROVIDER_PAYABLE" and r["owner"] == f"provider:{provider_id}"
        ),
        Decimal(0),
    )


def pay(staff: GraphQLClient, order: str, amount: str, reference: str, currency: str = "USD"):
    return staff.raw(PAY, {"o": order, "a": amount, "c": currency, "r": reference}).json()


def code(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["code"]


def test_an_order_is_paid_in_two_parts_completed_in_between_and_another_refunded(
    pool,
    sign_in,
    staff,
    db,
) -> None:
    seller = sign_in(Role.SELLER)
    other_seller = sign_in(Role.SELLER)
    provider = pool["partners"]["A"]
    provider_id = pool["rows"]["A"].id
    seller_id = db.query(models.Account).filter_by(email=seller.email).one().id
    order = order_with(pool, seller, "A")

    # given the first part of the seller's money arrived
    body = pay(staff, order, "5000.00", "HSBC-1")
    assert not body.get("errors"), body
    first = body["data"]["recordSellerPayment"]
    assert first["kind"] == "PAYMENT" and first["orderId"] == order
    assert held(staff, seller_id) == Decimal("5000.00")
    # refusals: nobody but staff records, no conversion, never more than the price, once
    assert code(pay(seller, order, "1.00", "MINE")) == "FORBIDDEN"
    assert code(pay(staff, order, "10.00", "X-1", "EUR")) == "CURRENCY_MISMATCH"
    assert code(pay(staff, order, "7000.01", "X-2")) == "OVERPAYMENT"
    assert code(pay(staff, order, "1.00", "HSBC-1")) == "DUPLICATE_PAYMENT"
    assert code(pay(staff, order, "0.00", "X-3")) == "INVALID_AMOUNT"
    assert code(pay(staff, global_id("Order", 987654), "1.00", "X-4")) == "NOT_FOUND"

    # the seller sees its own payment; another seller sees nothing, not even by id
    assert [p["id"] for p in seller(MINE, {"o": order})["sellerPayments"]] == [first["id"]]
    assert other_seller(MINE, {"o": order})["sellerPayments"] == []
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert other_seller(node, {"id": first["id"]})["node"] is None
    assert provider(node, {"id": first["id"]})["node"] == {"id": first["id"]}

    # when the order completes before it is paid for, nothing moves yet
    provider.raw("mutation($o: ID!) { deliverOrder(order: $o) { id } }", {"o": order})
    done = act(seller, "completeOrder", order=order, rating=5)["data"]["completeOrder"]
    assert done["status"] == "COMPLETED"
    assert held(staff, seller_id) == Decimal("5000.00")  # never below zero
    assert payable(staff, provider_id) == Decimal(0)

    # then the rest arrives: the completion's money moves now
    pay(staff, order, "7000.00", "HSBC-2")
    (commission,) = db.query(models.Commission).all()
    assert commission.entry_id is not None
    assert held(staff, seller_id) == Decimal("0.00")
    assert payable(staff, provider_id) == commission.order_amount - commission.commission
    assert code(pay(staff, order, "0.01", "HSBC-3")) == "OVERPAYMENT"  # fully paid

    # a second order, paid, then cancelled by the seller: the money goes back
    second = order_with(pool, seller, "A")
    pay(staff, second, "3000.00", "HSBC-9")
    assert held(staff, seller_id) == Decimal("3000.00")
    cancelled = act(seller, "cancelOrder", order=second, reason="Project shelved")
    assert cancelled["data"]["cancelOrder"]["status"] == "CANCELLED"
    assert held(staff, seller_id) == Decimal("0.00")
    kinds = [
        (p["kind"], p["amount"]["amount"]) for p in seller(MINE, {"o": second})["sellerPayments"]
    ]
    assert kinds == [("REFUND", "3000.00"), ("PAYMENT", "3000.00")]
    assert code(pay(staff, second, "1.00", "HSBC-10")) == "INVALID_TRANSITION"
    # staff see every seller's payments
    assert len(staff(MINE, {"o": None})["sellerPayments"]) == 4
    assert all(
        r["balanced"]
        for r in staff("{ ledgerReconciliation { balanced } }")["ledgerReconciliation"]
    )
