"""The append-only domain event log every domain writes its timeline to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from linkstar.core.kernel.db import Base, IdType, UTCDateTime, utcnow


class DomainEvent(Base):
    """Append-only record of what happened; the timeline, audit and alerts all read from it."""

    __tablename__ = "domain_events"
    # Event ids are cursors (subscribers resume "after" one), so they are never reused: on
    # SQLite that needs AUTOINCREMENT, or deleting the newest rows would hand their ids out again.
    __table_args__ = (
        Index("ix_domain_events_subject", "subject_type", "subject_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    event_type: Mapped[str] = mapped_column(String(80))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(IdType)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("providers.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    application_id: Mapped[int | None] = mapped_column(IdType, index=True)
    actor_account_id: Mapped[int | None] = mapped_column(IdType)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)  # staff-only entries
