"""The core's tables. Generic only: no category is named here.

Lifecycles (onboarding, KPI evaluation) come later; these tables hold the facts they act on.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from linkstar.core.db import Base, IdType, ScaledDecimal, UTCDateTime, utcnow
from linkstar.core.vocabulary import (
    ApplicationStatus,
    AuditOutcome,
    DocumentStatus,
    Marketplace,
    ObservationSource,
    Region,
    Role,
    SanctionKind,
    SanctionStatus,
    Severity,
    Tier,
)

OBSERVATION_SCALE = 6  # decimals kept exactly for every KPI observation value


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR with a CHECK constraint: portable and readable in SQL."""
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=40)


class Provider(Base):
    """A service-provider organisation (服务商)."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    region: Mapped[Region] = mapped_column(_enum(Region, "region"), index=True)
    registration_number: Mapped[str] = mapped_column(String(64), unique=True)
    # Registration details (legal representative, contact, team, cases, services, …): validated
    # by linkstar.core.registration; private to the provider and staff.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    marketplaces: Mapped[list[ProviderMarketplace]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", lazy="raise"
    )


class ProviderMarketplace(Base):
    """A marketplace a provider serves sellers on."""

    __tablename__ = "provider_marketplaces"

    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    marketplace: Mapped[Marketplace] = mapped_column(
        _enum(Marketplace, "marketplace"), primary_key=True, index=True
    )

    provider: Mapped[Provider] = relationship(back_populates="marketplaces", lazy="raise")


class Application(Base):
    """A provider's application for (and, once active, membership of) one category."""

    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_category_status", "category_key", "status"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    category_key: Mapped[str] = mapped_column(String(63))
    status: Mapped[ApplicationStatus] = mapped_column(
        _enum(ApplicationStatus, "application_status")
    )
    tier: Mapped[Tier] = mapped_column(_enum(Tier, "tier"), default=Tier.REGULAR)
    reviewer_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    probation_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    probation_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pilot_order_quota: Mapped[int | None] = mapped_column(Integer)
    probation_extended: Mapped[bool] = mapped_column(Boolean, default=False)
    # Optimistic locking: concurrent reviewers cannot both win one transition.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class CategoryProfileRow(Base):
    """The category-specific data of a provider, validated by the category's plugin."""

    __tablename__ = "category_profiles"
    __table_args__ = (UniqueConstraint("provider_id", "category_key"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    category_key: Mapped[str] = mapped_column(String(63))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


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
        _enum(DocumentStatus, "document_status"), default=DocumentStatus.PENDING
    )
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    storage_key: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[int | None] = mapped_column(IdType)
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(IdType)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


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
        _enum(ObservationSource, "observation_source")
    )
    attributable: Mapped[bool] = mapped_column(Boolean, default=True)
    non_attributable_reason: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(120))
    evidence_ref: Mapped[str | None] = mapped_column(String(255))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("kpi_observations.id"))
    correction_reason: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str | None] = mapped_column(String(120))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DomainEvent(Base):
    """Append-only record of what happened; the timeline, audit and alerts all read from it."""

    __tablename__ = "domain_events"
    __table_args__ = (Index("ix_domain_events_subject", "subject_type", "subject_id"),)

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


class Account(Base):
    """A person who signs in: staff, a provider's member, or a seller."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("providers.id", ondelete="SET NULL"), index=True
    )
    is_provider_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuthSession(Base):
    """A signed-in session: its refresh token (hashed) and whether it is revoked.

    Access tokens name their session, so revoking it (logout, password change) stops them too.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(80))


class ApiToken(Base):
    """A personal API token for machine clients; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Invitation(Base):
    """A provider owner's invitation for a new member; only the token's SHA-256 is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Append-only: who (account, token) did what, when, with which outcome."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_actor", "actor_account_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_account_id: Mapped[int | None] = mapped_column(IdType)
    actor_token_id: Mapped[int | None] = mapped_column(IdType)
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(80), index=True)
    target: Mapped[str | None] = mapped_column(String(254))
    outcome: Mapped[AuditOutcome] = mapped_column(_enum(AuditOutcome, "audit_outcome"))
    client_address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RateLimitWindow(Base):
    """A fixed-window counter shared by every app process (the database is the shared state)."""

    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch seconds
    hits: Mapped[int] = mapped_column(Integer, default=0)


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


class Violation(Base):
    """A compliance violation a reviewer recorded; its points expire, a VETO never does."""

    __tablename__ = "violations"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    category_key: Mapped[str] = mapped_column(String(63))
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "severity"))
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
    kind: Mapped[SanctionKind] = mapped_column(_enum(SanctionKind, "sanction_kind"))
    status: Mapped[SanctionStatus] = mapped_column(_enum(SanctionStatus, "sanction_status"))
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
    from_tier: Mapped[Tier] = mapped_column(_enum(Tier, "from_tier"))
    to_tier: Mapped[Tier] = mapped_column(_enum(Tier, "to_tier"))
    reason: Mapped[str] = mapped_column(Text)
    cause: Mapped[dict[str, Any]] = mapped_column(JSON)
    decided_by: Mapped[str] = mapped_column(String(254))
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reversed_by: Mapped[str | None] = mapped_column(String(254))
    reversal_reason: Mapped[str | None] = mapped_column(Text)


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
    observation_ids: Mapped[list[int]] = mapped_column(JSON)
    round: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # OPEN / UPHELD / REJECTED
    filed_by: Mapped[str] = mapped_column(String(254))
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    effects: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
