"""Billing tables: charges issued to providers and the payments recorded against them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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
    # a deposit the category requires paid before the provider enters the dispatch pool
    blocks_pool: Mapped[bool] = mapped_column(Boolean, default=False)
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


class Commission(Base):
    """The commission taken on one completed order, with the rule and rate that set it."""

    __tablename__ = "commissions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    order_ref: Mapped[str] = mapped_column(String(80), unique=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), index=True
    )
    seller_account_id: Mapped[int] = mapped_column(IdType)
    category_key: Mapped[str] = mapped_column(String(63))
    tier: Mapped[str] = mapped_column(String(20))
    rule_keys: Mapped[str] = mapped_column(String(255))
    rate_percent: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    currency: Mapped[str] = mapped_column(String(3))
    order_amount: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    commission: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # None while the seller's payment does not cover the order: the provider's share becomes
    # payable when it does (the platform never pays out money it has not received)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT"), index=True
    )


class Statement(Base):
    """One provider's settlement for one cycle in one currency. Never changed once written:
    a later correction lands in a later statement."""

    __tablename__ = "statements"
    __table_args__ = (
        UniqueConstraint("provider_id", "cycle", "currency", name="uq_statement_cycle"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), index=True
    )
    cycle: Mapped[str] = mapped_column(String(10), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    opening: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    orders: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    commission: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    penalties: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    adjustments: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    held_back: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    closing: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    payout: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    order_count: Mapped[int] = mapped_column(Integer)
    # What the statement covers: the provider's payable lines with id <= watermark posted
    # before period_end that the previous statement (a smaller rectangle) did not cover.
    watermark: Mapped[int | None] = mapped_column(BigInteger)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StatementHold(Base):
    """A payable line a statement held back (its order is disputed), and the later statement
    that settled it once released (None while it is still held)."""

    __tablename__ = "statement_holds"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    journal_line_id: Mapped[int] = mapped_column(
        ForeignKey("journal_lines.id", ondelete="RESTRICT"), unique=True
    )
    held_in: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="RESTRICT"), index=True
    )
    released_in: Mapped[int | None] = mapped_column(
        ForeignKey("statements.id", ondelete="RESTRICT"), index=True
    )


class Payout(Base):
    """The money a statement pays the provider: PENDING → APPROVED → PAID, or HELD/DECLINED."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="RESTRICT"), unique=True
    )
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="RESTRICT"), index=True
    )
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    status: Mapped[str] = mapped_column(String(10), default="PENDING")
    reason: Mapped[str | None] = mapped_column(Text)
    bank_reference: Mapped[str | None] = mapped_column(String(120))
    approved_by: Mapped[int | None] = mapped_column(IdType)
    paid_by: Mapped[int | None] = mapped_column(IdType)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id", ondelete="RESTRICT")
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    # what a HELD payout waits for, e.g. "appeal:12"; released when that is decided
    held_for: Mapped[str | None] = mapped_column(String(80), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SellerPayment(Base):
    """Money a seller paid for an order (PAYMENT, recorded by staff with the bank's reference)
    or was paid back (REFUND), each posted to SELLER_PAYMENTS_HELD."""

    __tablename__ = "seller_payments"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", "bank_reference", name="uq_seller_payment_reference"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    order_id: Mapped[int] = mapped_column(IdType, index=True)
    seller_account_id: Mapped[int] = mapped_column(IdType, index=True)
    provider_id: Mapped[int] = mapped_column(IdType)
    category_key: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(ScaledDecimal(AMOUNT_SCALE))
    currency: Mapped[str] = mapped_column(String(3))
    bank_reference: Mapped[str] = mapped_column(String(120))
    recorded_by: Mapped[int | None] = mapped_column(IdType)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id", ondelete="RESTRICT"))
