"""Webhooks: endpoints a provider registers, and the outbox of deliveries to them.

Importing the `live` package (as importing this module does) installs the outbox writer
(`core.live.outbox`): every flush that adds provider events also adds their deliveries, in the
same transaction.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from linkstar.core.kernel.db import Base, IdType, UTCDateTime, enum_column, utcnow


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"  # waiting for its first attempt or a retry
    DELIVERED = "DELIVERED"  # the endpoint answered 2xx
    DEAD = "DEAD"  # gave up after MAX_ATTEMPTS (the dead letter), or the endpoint was refused


class WebhookEndpoint(Base):
    """An HTTPS URL of a provider's system that receives some kinds of its events."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))  # signs deliveries; shown once
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_account_id: Mapped[int | None] = mapped_column(IdType)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One event to send to one endpoint: the outbox row, then the record of its attempts."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("domain_events.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(80))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def matches(event_types: list[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to `event_types` wants `event_type` (`x.*` families)."""
    family = event_type.split(".", 1)[0] + ".*"
    return event_type in event_types or family in event_types or "*" in event_types


__all__ = ["DeliveryStatus", "WebhookDelivery", "WebhookEndpoint"]
