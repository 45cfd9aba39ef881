"""Marketplace tables: stores, service requests, capacities, offers, orders, milestones,
sellers' tickets and stores' monthly sales snapshots."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
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
from linkstar.core.kernel.vocabulary import Marketplace
from linkstar.core.marketplace.vocabulary import (
    Blame,
    OfferStatus,
    OrderStatus,
    RequestStatus,
    SnapshotSource,
    TicketKind,
    TicketStatus,
)

MONEY_SCALE = 4


class Store(Base):
    """A seller's store on one marketplace site."""

    __tablename__ = "stores"
    __table_args__ = (UniqueConstraint("seller_account_id", "marketplace", "site", "name"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    seller_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    marketplace: Mapped[Marketplace] = mapped_column(enum_column(Marketplace, "marketplace"))
    site: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2 country of the site
    name: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ServiceRequest(Base):
    """A seller's request for a service in one category, dispatched to one provider at a time."""

    __tablename__ = "service_requests"
    __table_args__ = (Index("ix_service_requests_status", "status"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    seller_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    category_key: Mapped[str] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text)
    marketplaces: Mapped[list[str]] = mapped_column(JSON)
    regions: Mapped[list[str]] = mapped_column(JSON)  # provider regions accepted; [] = any
    requirements: Mapped[dict[str, Any]] = mapped_column(JSON)
    budget_amount: Mapped[Decimal] = mapped_column(ScaledDecimal(MONEY_SCALE))
    budget_currency: Mapped[str] = mapped_column(String(3))
    desired_start: Mapped[date] = mapped_column(Date)
    excluded_provider_ids: Mapped[list[int]] = mapped_column(JSON)
    direct_provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("providers.id", ondelete="SET NULL")
    )
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus, "request_status"))
    seed: Mapped[int] = mapped_column(Integer)  # makes the exploration draw reproducible
    rounds: Mapped[int] = mapped_column(Integer, default=0)  # offers made so far
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RequestStore(Base):
    """Which of the seller's stores a request concerns."""

    __tablename__ = "service_request_stores"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), primary_key=True
    )
    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )


class ProviderCapacity(Base):
    """How many open orders a provider takes at once in a category (its own declaration)."""

    __tablename__ = "provider_capacities"

    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    category_key: Mapped[str] = mapped_column(String(63), primary_key=True)
    max_open_orders: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DispatchRank(Base):
    """A provider's stored ordering key in a category's dispatch pool: its KPI and tier parts of
    the score (hundredths) under the category's policy, and whether it is a newcomer (unrated or
    on probation). Dispatch walks the pool best-first along this index and checks eligibility
    and load live for the rows it walks, so a stale row can misorder, never admit. Rebuilt in one
    statement when the applications, the current composites or the policy change (`ranks.py`)."""

    __tablename__ = "dispatch_ranks"
    __table_args__ = (
        Index("ix_dispatch_ranks_walk", "category_key", "base", "provider_id"),
        Index(
            "ix_dispatch_ranks_newcomers",
            "category_key",
            "base",
            "provider_id",
            postgresql_where=text("newcomer"),
            sqlite_where=text("newcomer"),
        ),
        Index("ix_dispatch_ranks_position", "category_key", "position"),
    )

    category_key: Mapped[str] = mapped_column(String(63), primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    base: Mapped[int] = mapped_column(BigInteger)
    newcomer: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer)  # 0 = the best base; where rotation starts


class DispatchRankStamp(Base):
    """What a category's `dispatch_ranks` were built from: the newest application and current
    composite change seen, and the policy's ranking weights; a different stamp means rebuild."""

    __tablename__ = "dispatch_rank_stamps"

    category_key: Mapped[str] = mapped_column(String(63), primary_key=True)
    inputs: Mapped[str] = mapped_column(String(255))
    built_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Offer(Base):
    """One request offered to one provider; at most one PENDING offer per request, and a
    provider is never offered the same request twice."""

    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("request_id", "provider_id"),
        Index(
            "ix_offers_one_pending",
            "request_id",
            unique=True,
            postgresql_where=text("status = 'PENDING'"),
            sqlite_where=text("status = 'PENDING'"),
        ),
        Index("ix_offers_status_deadline", "status", "respond_by"),
        Index("ix_offers_provider_id", "provider_id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    category_key: Mapped[str] = mapped_column(String(63))
    round: Mapped[int] = mapped_column(Integer)
    status: Mapped[OfferStatus] = mapped_column(enum_column(OfferStatus, "offer_status"))
    pilot: Mapped[bool] = mapped_column(Boolean, default=False)  # to a provider on probation
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str | None] = mapped_column(Text)
    # Why this provider: its score parts, and the ranked candidates it was chosen from.
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)


class Order(Base):
    """An accepted offer: the engagement between a seller and a provider."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_provider_status", "provider_id", "category_key", "status"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"), unique=True
    )
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), unique=True)
    seller_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    category_key: Mapped[str] = mapped_column(String(63))
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus, "order_status"))
    price_amount: Mapped[Decimal] = mapped_column(ScaledDecimal(MONEY_SCALE))
    price_currency: Mapped[str] = mapped_column(String(3))
    pilot: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_reassignment: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer)  # 1-5, the seller's at completion
    blame: Mapped[Blame | None] = mapped_column(enum_column(Blame, "blame"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


class OrderMilestone(Base):
    """A task of an order with its due date, delivery and the seller's acceptance."""

    __tablename__ = "order_milestones"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivery_note: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SellerTicket(Base):
    """A seller's ticket to a provider about an order or a store; the provider answers.

    The first answer's time and, for a negative review, the answer that resolves it are the
    provider's response-time signals. The conversation is the ticket's timeline.
    """

    __tablename__ = "seller_tickets"
    __table_args__ = (Index("ix_seller_tickets_provider_status", "provider_id", "status"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    seller_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    category_key: Mapped[str] = mapped_column(String(63))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    kind: Mapped[TicketKind] = mapped_column(enum_column(TicketKind, "ticket_kind"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[TicketStatus] = mapped_column(enum_column(TicketStatus, "ticket_status"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_provider: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)


class StoreSalesSnapshot(Base):
    """A store's sales for one calendar month, as the seller or its integration reported it.

    One per store and month, never edited (a different figure for a reported month is refused),
    so the KPI observations made from it are idempotent per snapshot.
    """

    __tablename__ = "store_sales_snapshots"
    __table_args__ = (UniqueConstraint("store_id", "month"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))  # "2026-10"
    amount: Mapped[Decimal] = mapped_column(ScaledDecimal(MONEY_SCALE))
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[SnapshotSource] = mapped_column(enum_column(SnapshotSource, "snapshot_source"))
    reported_by: Mapped[str] = mapped_column(String(120))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
