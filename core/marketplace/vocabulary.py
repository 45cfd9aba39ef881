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
