"""Onboarding tables: applications, their documents, signed agreements and interviews."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from linkstar.core.kernel.db import Base, IdType, UTCDateTime, enum_column, utcnow
from linkstar.core.kernel.vocabulary import (
    ApplicationStatus,
    DocumentStatus,
    Tier,
)


class Application(Base):
    """A provider's application for (and, once active, membership of) one category."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_category_status", "category_key", "status"),
        # dispatch asks when a category's applications last changed (one index probe)
        Index("ix_applications_category_changed", "category_key", "updated_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    category_key: Mapped[str] = mapped_column(String(63))
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_column(ApplicationStatus, "application_status")
    )
    tier: Mapped[Tier] = mapped_column(enum_column(Tier, "tier"), default=Tier.REGULAR)
    reviewer_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    probation_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    probation_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pilot_order_quota: Mapped[int | None] = mapped_column(Integer)
    probation_extended: Mapped[bool] = mapped_column(Boolean, default=False)
    # the state a termination ended: only a membership (probation, active) is reinstated
    terminated_from: Mapped[ApplicationStatus | None] = mapped_column(
        enum_column(ApplicationStatus, "terminated_from")
    )
    # Optimistic locking: concurrent reviewers cannot both win one transition.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class Document(Base):
    """An uploaded document, addressed by the SHA-256 of its bytes (tamper-evident)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL"), index=True
    )
    requirement_key: Mapped[str] = mapped_column(String(63))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    expires_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[DocumentStatus] = mapped_column(
        enum_column(DocumentStatus, "document_status"), default=DocumentStatus.PENDING
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    storage_key: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[int | None] = mapped_column(IdType)
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(IdType)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # set when the category's retention ran out and the bytes were removed (storage_key then
    # None); the row, its hash and its timeline stay
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AgreementSignature(Base):
    """Who signed which exact text (version and SHA-256) of an agreement, and when."""

    __tablename__ = "agreement_signatures"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    agreement_key: Mapped[str] = mapped_column(String(63))
    version: Mapped[str] = mapped_column(String(20))
    text_sha256: Mapped[str] = mapped_column(String(64))
    signer_account_id: Mapped[int] = mapped_column(IdType)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Interview(Base):
    """An interview of an applicant: when, who, how, and its outcome once held."""

    __tablename__ = "interviews"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    interviewer_account_id: Mapped[int] = mapped_column(IdType)
    channel: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(20))  # PASSED / FAILED
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProviderBar(Base):
    """A provider barred from the platform (a veto): no new application, its number not again.

    `registration_key` is the registration number reduced to letters and digits, so the same
    number written with spaces or dashes, or under another region, is still recognised. Only a
    reviewer lifts a bar; the lift is recorded here and on the timeline.
    """

    __tablename__ = "provider_bars"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    registration_key: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    violation_id: Mapped[int | None] = mapped_column(IdType)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by: Mapped[str | None] = mapped_column(String(254))
    lift_reason: Mapped[str | None] = mapped_column(Text)
