"""Ledger tables: accounts, journal entries and their lines. Entries and lines are append-only."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linkstar.core.kernel.db import Base, IdType, ScaledDecimal, UTCDateTime, utcnow

# Four decimals hold every ISO 4217 minor unit (0 to 4) exactly.
AMOUNT_SCALE = 4


class LedgerAccount(Base):
    """One account of the chart (a code) for one owner (the platform, a provider, a seller)
    in one currency. Balances are never stored: they are summed from the lines."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (UniqueConstraint("code", "owner", "currency", name="uq_ledger_account"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str] = mapped_column(String(40))  # "platform", "provider:12", "seller:7"
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), index=True
    )
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JournalEntry(Base):
    """One balanced movement of money, with what caused it. Never updated: a mistake is
    corrected by a reversing entry that names the entry it reverses."""

    __tablename__ = "journal_entries"
    # an order's (a sanction's) entries are looked up by their cause
    __table_args__ = (Index("ix_journal_entries_source", "source_type", "source_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    memo: Mapped[str] = mapped_column(Text)
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[int | None] = mapped_column(IdType)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), index=True
    )
    category_key: Mapped[str | None] = mapped_column(String(63))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    reverses_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT"), unique=True
    )
    posted_by: Mapped[int | None] = mapped_column(IdType)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class JournalLine(Base):
    """A debit or a credit of one account within an entry; amounts are positive."""

    __tablename__ = "journal_lines"
    __table_args__ = (
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint("side IN ('DEBIT', 'CREDIT')", name="side"),
        Index("ix_journal_lines_account", "account_id", "entry_id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id", ondelete="RESTRICT"))
    side: Mapped[str] = mapped_column(String(6))
    amount: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    currency: Mapped[str] = mapped_column(String(3))
