"""Order events that become platform-sourced KPI observations, as each category decides.

A category plugin answers `linkstar_order_observations` with `ObservationRule`s: on which
order event, for which of its metrics, which value (a function of the `OrderFacts`; None
records nothing). The core stores the values through the reporting core with source
PLATFORM, an idempotency key derived from the event (re-running adds nothing) and lineage
back to the order (`subject_ref`, `evidence_ref`). Events of an order cancelled by the seller
are stored as not attributable.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from linkstar.core.marketplace.vocabulary import Blame


class OrderEventKind(enum.StrEnum):
    OFFER_ANSWERED = "OFFER_ANSWERED"  # the provider accepted or declined an offer
    MILESTONE_DELIVERED = "MILESTONE_DELIVERED"
    ORDER_COMPLETED = "ORDER_COMPLETED"  # the seller accepted the delivery and rated it
    ORDER_CANCELLED = "ORDER_CANCELLED"
    REORDERED = "REORDERED"  # the seller's order with a provider it has completed one with
    ORDER_EXTENDED = "ORDER_EXTENDED"  # the seller extends an order with the same provider
    # the seller orders the category again from another provider after completing an order
    # with this one (observed once per completed order: the engagement was not renewed)
    CUSTOMER_LOST = "CUSTOMER_LOST"
    TICKET_FIRST_RESPONSE = "TICKET_FIRST_RESPONSE"  # the provider's first answer to a ticket
    NEGATIVE_REVIEW_RESOLVED = "NEGATIVE_REVIEW_RESOLVED"  # the answer resolving such a ticket
    STORE_SALES_REPORTED = "STORE_SALES_REPORTED"  # a month's sales of a store the order concerns


@dataclass(frozen=True)
class OrderFacts:
    """What the platform knows when an order event happens."""

    kind: OrderEventKind
    occurred_at: datetime
    order_id: int | None = None
    offer_id: int | None = None
    milestone_id: int | None = None
    offered_at: datetime | None = None
    responded_at: datetime | None = None
    due_at: datetime | None = None
    delivered_at: datetime | None = None
    rating: int | None = None
    blame: Blame | None = None
    repeat_customer: bool = False
    complained: bool = False  # the seller filed a complaint or opened a dispute about the order
    ticket_id: int | None = None
    ticket_kind: str | None = None
    opened_at: datetime | None = None  # when the ticket was opened
    store_id: int | None = None
    month: str | None = None  # the sales snapshot's month, "2026-10"
    amount: Decimal | None = None  # the store's sales that month (in the store's currency)

    def lineage(self) -> tuple[str, str]:
        """(subject, part): what the observation is about and which event of it, for the
        observation's subject_ref, evidence_ref and idempotency key."""
        if self.kind is OrderEventKind.STORE_SALES_REPORTED:
            return f"store:{self.store_id}", f"sales:{self.month}"
        if self.ticket_id is not None:
            return f"ticket:{self.ticket_id}", self.kind.value.lower()
        subject = f"order:{self.order_id}" if self.order_id else f"offer:{self.offer_id}"
        if self.milestone_id:
            return subject, f"milestone:{self.milestone_id}"
        return subject, self.kind.value.lower()


@dataclass(frozen=True)
class ObservationRule:
    """On `event`, observe `metric` with `value(facts)` (None: nothing this time)."""

    event: OrderEventKind
    metric: str
    value: Callable[[OrderFacts], Decimal | None]


def response_hours(facts: OrderFacts) -> Decimal | None:
    """Hours from the offer (or the ticket's opening) to the provider's answer."""
    start = facts.opened_at or facts.offered_at
    if start is None or facts.responded_at is None:
        return None
    seconds = Decimal(int((facts.responded_at - start).total_seconds()))
    return (seconds / 3600).quantize(Decimal("0.01"))


def delivered_on_time(facts: OrderFacts) -> Decimal | None:
    """1 if the milestone was delivered by its due date, else 0."""
    if facts.due_at is None or facts.delivered_at is None:
        return None
    return Decimal(1) if facts.delivered_at <= facts.due_at else Decimal(0)


def seller_rating(facts: OrderFacts) -> Decimal | None:
    """The seller's 1-5 rating at completion."""
    return None if facts.rating is None else Decimal(facts.rating)


def task_failed(facts: OrderFacts) -> Decimal | None:
    """A cancelled order is a task not completed (0); who is to blame decides attribution."""
    return Decimal(0)


def renewed(facts: OrderFacts) -> Decimal | None:
    """1 when the seller orders again from a provider it completed an order with, or extends
    an order; 0 when it went to another provider instead (`CUSTOMER_LOST`)."""
    if facts.kind is OrderEventKind.CUSTOMER_LOST:
        return Decimal(0)
    return Decimal(1) if facts.repeat_customer else None


def complaint(facts: OrderFacts) -> Decimal | None:
    """For a closed order: 1 if the seller complained (a complaint ticket or a dispute it
    opened), else 0."""
    return Decimal(1) if facts.complained else Decimal(0)


def store_sales(facts: OrderFacts) -> Decimal | None:
    """The store's sales of the snapshot's month (growth is the metric's aggregation)."""
    return facts.amount


def rule_problems(rules: list[ObservationRule], metric_keys: set[str]) -> list[str]:
    """Everything wrong with a category's rules (empty when they are usable)."""
    problems = []
    for rule in rules:
        if not isinstance(rule, ObservationRule):
            problems.append(f"{rule!r} is not an ObservationRule")
            continue
        if rule.metric not in metric_keys:
            problems.append(f"rule for {rule.event.value} names unknown metric {rule.metric!r}")
        if not callable(rule.value):
            problems.append(f"rule for {rule.metric!r}: value must be callable")
    return problems
