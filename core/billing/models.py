"""Billing tables: charges issued to providers and the payments recorded against them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linkstar.core.kernel.db import Base, IdType, ScaledDecimal, UTCDateTime, utcnow
from linkstar.core.ledger.models import AMOUNT_SCALE


class Charge(Base):
    """One amount a provider owes under one fee rule, on one occasion (e.g. its approval).

    `amount` never changes; `paid` and `waived` grow, each step posted to the ledger. The
    rule's key, name and scope are copied so the charge explains itself after the rules change.
    """

    __tablename__ = "charges"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), index=True
    )
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="RESTRICT"), index=True
    )
    category_key: Mapped[str] = mapped_column(String(63))
    rule_key: Mapped[str] = mapped_column(String(127))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(Text)
    occasion: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    paid: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE), default=Decimal(0))
    waived: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE), default=Decimal(0))
    status: Mapped[str] = mapped_column(String(10), default="OPEN")
    due_on: Mapped[date] = mapped_column(Date)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    # the issuing entry; set in the transaction that issues the charge
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT")
    )
    waive_reason: Mapped[str | None] = mapped_column(Text)
    waived_by: Mapped[int | None] = mapped_column(IdType)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChargePayment(Base):
    """Money received against a charge, identified by the bank's reference."""

    __tablename__ = "charge_payments"
    __table_args__ = (
        UniqueConstraint("charge_id", "bank_reference", name="uq_charge_payment_reference"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    charge_id: Mapped[int] = mapped_column(
        ForeignKey("charges.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    currency: Mapped[str] = mapped_column(String(3))
    bank_reference: Mapped[str] = mapped_column(String(120))
    recorded_by: Mapped[int | None] = mapped_column(IdType)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
