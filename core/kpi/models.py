"""KPI tables: metric definition versions, observations, scorecards, alert lines and alerts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from linkstar.core.kernel.db import Base, IdType, ScaledDecimal, UTCDateTime, enum_column, utcnow
from linkstar.core.kernel.vocabulary import (
    ObservationSource,
)

OBSERVATION_SCALE = 6  # decimals kept exactly for every KPI observation value


class MetricDefinitionVersion(Base):
    """Every distinct metric definition ever served, so old results still explain themselves."""

    __tablename__ = "metric_definition_versions"
    __table_args__ = (UniqueConstraint("category_key", "metric_key", "fingerprint"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    category_key: Mapped[str] = mapped_column(String(63))
    metric_key: Mapped[str] = mapped_column(String(63))
    fingerprint: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class KpiObservation(Base):
    """One observed fact about a provider for one metric (an event, a rating, a duration, …).

    Never edited in place: a correction is a new row that `supersedes` the old one.
    """

    __tablename__ = "kpi_observations"
    __table_args__ = (
        UniqueConstraint("provider_id", "idempotency_key"),
        Index("ix_kpi_observations_metric_time", "category_key", "metric_key", "observed_at"),
        Index("ix_kpi_observations_provider_metric", "provider_id", "metric_key", "observed_at"),
        # Partial: only corrections are indexed (almost every row has no supersedes_id).
        Index(
            "ix_kpi_observations_supersedes_id",
            "supersedes_id",
            postgresql_where=text("supersedes_id IS NOT NULL"),
            sqlite_where=text("supersedes_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    category_key: Mapped[str] = mapped_column(String(63))
    metric_key: Mapped[str] = mapped_column(String(63))
    subject_ref: Mapped[str] = mapped_column(String(120))  # client / store / shipment reference
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[Decimal] = mapped_column(ScaledDecimal(OBSERVATION_SCALE))
    source: Mapped[ObservationSource] = mapped_column(
        enum_column(ObservationSource, "observation_source")
    )
    attributable: Mapped[bool] = mapped_column(Boolean, default=True)
    non_attributable_reason: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(120))
    evidence_ref: Mapped[str | None] = mapped_column(String(255))
    # an uploaded document (the provider's own) that proves the record, the correction or
    # the not-attributable claim
    evidence_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL")
    )
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("kpi_observations.id"))
    correction_reason: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str | None] = mapped_column(String(120))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # a provider's correction of its own record or its not-attributable claim awaits a reviewer:
    # NULL (nothing to review), PENDING, ACCEPTED or REJECTED (see core/kpi/corrections.py)
    review_status: Mapped[str | None] = mapped_column(String(20))
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(Text)


class Scorecard(Base):
    """One provider's evaluation of one category for one period. Immutable: a re-evaluation
    that changes anything adds a new revision; one that changes nothing adds nothing."""

    __tablename__ = "scorecards"
    __table_args__ = (
        UniqueConstraint("provider_id", "category_key", "period", "revision"),
        Index("ix_scorecards_category_period", "category_key", "period"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    category_key: Mapped[str] = mapped_column(String(63))
    period: Mapped[str] = mapped_column(String(10))  # "2026-10", in the category's time zone
    revision: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    composite: Mapped[Decimal | None] = mapped_column(ScaledDecimal(2))
    history_score: Mapped[Decimal | None] = mapped_column(ScaledDecimal(2))
    standing: Mapped[str] = mapped_column(String(40))
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    definitions: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # metric key → the exact definition used
    inputs_digest: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CurrentComposite(Base):
    """Each provider's public composite in a category: its latest scorecard's (latest period,
    latest revision). Kept by the evaluation when it writes a scorecard, so dispatch and the
    directory join one row per provider instead of ranking every scorecard on each request."""

    __tablename__ = "current_composites"
    # dispatch asks when a category's composites last changed (one index probe)
    __table_args__ = (Index("ix_current_composites_changed", "category_key", "updated_at"),)

    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    category_key: Mapped[str] = mapped_column(String(63), primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))
    revision: Mapped[int] = mapped_column(Integer)
    composite: Mapped[Decimal | None] = mapped_column(ScaledDecimal(2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AlertThreshold(Base):
    """A provider's own early-warning line for a metric, stricter than the platform's."""

    __tablename__ = "alert_thresholds"
    __table_args__ = (UniqueConstraint("provider_id", "category_key", "metric_key"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    category_key: Mapped[str] = mapped_column(String(63))
    metric_key: Mapped[str] = mapped_column(String(63))
    threshold: Mapped[Decimal] = mapped_column(ScaledDecimal(OBSERVATION_SCALE))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Alert(Base):
    """A running metric value crossed a line while the period was open."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    category_key: Mapped[str] = mapped_column(String(63))
    metric_key: Mapped[str] = mapped_column(String(63))
    period: Mapped[str] = mapped_column(String(10))
    line: Mapped[str] = mapped_column(
        String(30)
    )  # INTERNAL / PLATFORM_WARNING / PLATFORM_THRESHOLD
    value: Mapped[Decimal] = mapped_column(ScaledDecimal(OBSERVATION_SCALE))
    threshold: Mapped[Decimal] = mapped_column(ScaledDecimal(OBSERVATION_SCALE))
    sample_size: Mapped[int] = mapped_column(Integer)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EvaluationRun(Base):
    """A (category, month) that has been evaluated: the claim that makes exactly one process
    evaluate a closed period at its close (inserted in the evaluating transaction, so a failed
    evaluation leaves no claim behind)."""

    __tablename__ = "evaluation_runs"
    __table_args__ = (UniqueConstraint("category_key", "period"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    category_key: Mapped[str] = mapped_column(String(63))
    period: Mapped[str] = mapped_column(String(10))
    evaluated_by: Mapped[str] = mapped_column(String(120))  # "scheduler", "cli", "account:7", …
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
