"""Identity tables: accounts, sessions, API tokens, invitations, the audit log, rate windows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from linkstar.core.kernel.db import Base, IdType, UTCDateTime, enum_column, utcnow
from linkstar.core.kernel.vocabulary import (
    AuditOutcome,
    Role,
)


class Account(Base):
    """A person who signs in: staff, a provider's member, or a seller."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("providers.id", ondelete="SET NULL"), index=True
    )
    is_provider_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # None until the owner proves the address. Only self-service sign-up (sign_up) leaves it
    # None; accounts made by an admin, the CLI or an emailed invitation start verified.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)


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
    outcome: Mapped[AuditOutcome] = mapped_column(enum_column(AuditOutcome, "audit_outcome"))
    client_address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RateLimitWindow(Base):
    """A fixed-window counter shared by every app process (the database is the shared state)."""

    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch seconds
    hits: Mapped[int] = mapped_column(Integer, default=0)


class LoginThrottle(Base):
    """Failed sign-ins of one (account, address) pair and until when that pair must wait.

    Keyed by the email as typed (normalised), so unknown addresses are throttled exactly
    like real ones and the throttle tells nothing about which accounts exist.
    """

    __tablename__ = "login_throttles"

    account_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SpentRefreshToken(Base):
    """A refresh token already rotated away: presenting it again means it was stolen.

    Kept as long as its session lives, so a reuse is recognised and ends the session.
    """

    __tablename__ = "spent_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    spent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EmailVerification(Base):
    """A single-use token mailed to an account's address; using it proves the address."""

    __tablename__ = "email_verifications"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """An email waiting to be sent: written in the transaction that needs it, drained later.

    A mail sender (`linkstar mail drain`, or any process calling `outbox.drain`) sends and
    marks it; nothing is lost when the mail server is down, and nothing is sent for a
    transaction that rolled back.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
