"""The webhook outbox: deliveries are written in the same transaction as their event.

Domains add `DomainEvent` rows in many places; rather than asking each to remember webhooks,
an `after_flush` hook on every ORM session turns each newly flushed provider event into one
`webhook_deliveries` row per active endpoint of that provider that wants its kind. The rows go
through the flushing transaction's own connection, so an event that is rolled back leaves no
delivery, and a committed event always has its deliveries.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.events import DomainEvent
from linkstar.core.live.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, matches

_installed = False


def _write_deliveries(session: Session, _flush_context: Any) -> None:
    events = [
        o
        for o in session.new
        if isinstance(o, DomainEvent) and o.provider_id is not None and not o.internal
    ]
    if not events:
        return
    connection = session.connection()
    endpoints = connection.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.provider_id, WebhookEndpoint.event_types).where(
            WebhookEndpoint.provider_id.in_({e.provider_id for e in events}),
            WebhookEndpoint.active.is_(True),
        )
    ).all()
    if not endpoints:
        return
    now = utcnow()
    rows = [
        {
            "endpoint_id": endpoint_id,
            "event_id": e.id,
            "event_type": e.event_type,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for e in events
        for endpoint_id, provider_id, kinds in endpoints
        if provider_id == e.provider_id and matches(list(kinds or []), e.event_type)
    ]
    if rows:
        connection.execute(insert(WebhookDelivery), rows)


def install() -> None:
    """Register the hook on every ORM session (idempotent)."""
    global _installed
    if not _installed:
        event.listen(Session, "after_flush", _write_deliveries)
        _installed = True
