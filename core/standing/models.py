"""Standing tables: violations, sanctions, tier changes and appeals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from linkstar.core.kernel.db import Base, IdType, UTCDateTime, enum_column, utcnow
from linkstar.core.kernel.vocabulary import (
    SanctionKind,
    SanctionStatus,
    Severity,
    Tier,
)


class Violation(Base):
    """A compliance violation a reviewer recorded; its points expire, a VETO never does."""

    __tablename__ = "violations"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    category_key: Mapped[str] = mapped_column(String(63))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "severity"))
    points: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    evidence_ref: Mapped[str | None] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by: Mapped[int | None] = mapped_column(IdType)
    overturned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Sanction(Base):
    """A consequence applied to a provider in a category, with what caused it."""

    __tablename__ = "sanctions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    category_key: Mapped[str] = mapped_column(String(63))
    kind: Mapped[SanctionKind] = mapped_column(enum_column(SanctionKind, "sanction_kind"))
    status: Mapped[SanctionStatus] = mapped_column(enum_column(SanctionStatus, "sanction_status"))
    dedupe_key: Mapped[str] = mapped_column(
        String(120), unique=True
    )  # re-evaluation adds nothing twice
    period: Mapped[str | None] = mapped_column(String(10))
    cause: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # {"scorecards": [...], "violations": [...]}
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(254))
    resolution: Mapped[str | None] = mapped_column(Text)


class TierChange(Base):
    """Tier history: every promotion and demotion, why, and whether it was reversed."""

    __tablename__ = "tier_changes"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    category_key: Mapped[str] = mapped_column(String(63))
    from_tier: Mapped[Tier] = mapped_column(enum_column(Tier, "from_tier"))
    to_tier: Mapped[Tier] = mapped_column(enum_column(Tier, "to_tier"))
    reason: Mapped[str] = mapped_column(Text)
    cause: Mapped[dict[str, Any]] = mapped_column(JSON)
    decided_by: Mapped[str] = mapped_column(String(254))
    decided_by_account_id: Mapped[int | None] = mapped_column(IdType)  # None: the policy
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reversed_by: Mapped[str | None] = mapped_column(String(254))
    reversal_reason: Mapped[str | None] = mapped_column(Text)


class Appeal(Base):
    """A provider's appeal against a metric result, a violation or a sanction."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    category_key: Mapped[str] = mapped_column(String(63))
    subject_type: Mapped[str] = mapped_column(String(20))  # METRIC_RESULT / VIOLATION / SANCTION
    subject_id: Mapped[int] = mapped_column(IdType)
    metric_key: Mapped[str | None] = mapped_column(String(63))
    reason_code: Mapped[str] = mapped_column(String(40))
    statement: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSON)
    # uploaded documents (ids) the provider links as evidence: typed, checked to be its own
    document_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    observation_ids: Mapped[list[int]] = mapped_column(JSON)
    round: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # OPEN / UPHELD / REJECTED
    filed_by: Mapped[str] = mapped_column(String(254))
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    effects: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApprovalRequest(Base):
    """A decision one staff member asked for and a second, different one must approve
    (four eyes): raising a tier above computed eligibility, confirming a termination,
    deciding the second round of an appeal.

    `pending_key` is set while the request is pending and cleared once decided: its unique
    constraint allows one pending request per subject.
    """

    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int] = mapped_column(IdType)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))  # PENDING / APPROVED / REJECTED
    pending_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    requested_by: Mapped[str] = mapped_column(String(254))
    requested_by_account_id: Mapped[int | None] = mapped_column(IdType)
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decided_by_account_id: Mapped[int | None] = mapped_column(IdType)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
