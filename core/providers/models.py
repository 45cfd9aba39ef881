"""Providers: the companies in the pool, their marketplaces and their category profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from linkstar.core.kernel.db import Base, IdType, UTCDateTime, enum_column, utcnow
from linkstar.core.kernel.vocabulary import (
    Marketplace,
    Region,
)


class Provider(Base):
    """A service-provider organisation (服务商)."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    region: Mapped[Region] = mapped_column(enum_column(Region, "region"), index=True)
    registration_number: Mapped[str] = mapped_column(String(64), unique=True)
    # Registration details (legal representative, contact, team, cases, services, …): validated
    # by linkstar.core.providers.registration; private to the provider and staff.
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
        enum_column(Marketplace, "marketplace"), primary_key=True, index=True
    )

    provider: Mapped[Provider] = relationship(back_populates="marketplaces", lazy="raise")


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
