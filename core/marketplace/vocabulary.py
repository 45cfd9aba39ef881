"""States of the marketplace's objects."""

from __future__ import annotations

import enum


class RequestStatus(enum.StrEnum):
    """Where a seller's service request stands."""

    OPEN = "OPEN"  # waiting to be offered (new, or every offer so far declined or expired)
    OFFERED = "OFFERED"  # one offer is out, waiting for the provider's answer
    ORDERED = "ORDERED"  # a provider accepted: an order exists
    UNMATCHED = "UNMATCHED"  # no eligible provider is left; staff or the seller may retry
    CANCELLED = "CANCELLED"  # the seller withdrew it


class OfferStatus(enum.StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"
    WITHDRAWN = "WITHDRAWN"  # the request was cancelled while the offer was out


class OrderStatus(enum.StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    DELIVERED = "DELIVERED"  # the provider delivered everything; waiting for the seller
    DISPUTED = "DISPUTED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class Blame(enum.StrEnum):
    """Who caused a cancellation; only PROVIDER counts against the provider's KPIs."""

    SELLER = "SELLER"
    PROVIDER = "PROVIDER"
    PLATFORM = "PLATFORM"
    NONE = "NONE"


class TicketKind(enum.StrEnum):
    """What a seller's ticket to a provider is about."""

    GENERAL = "GENERAL"  # a question or request about an order or a store
    NEGATIVE_REVIEW = "NEGATIVE_REVIEW"  # a store got a negative review: handle it
    COMPLAINT = "COMPLAINT"  # the seller complains about the provider's work on an order


class TicketStatus(enum.StrEnum):
    OPEN = "OPEN"  # waiting for the provider
    ANSWERED = "ANSWERED"  # the provider answered; the seller may reply or close
    CLOSED = "CLOSED"  # resolved by the provider, or closed by the seller


class SnapshotSource(enum.StrEnum):
    """Who reported a store's monthly sales."""

    SELLER = "SELLER"  # the seller, signed in
    INTEGRATION = "INTEGRATION"  # a program (an ERP integration) with the seller's API token
