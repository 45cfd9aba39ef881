"""The logistics plugin's own table: the lanes a provider ships on.

It lives on the core's `Base.metadata` so the foreign key to `providers` resolves; the table is
created by this plugin's Alembic branch (`migrations/`), never by the core's revisions.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linkstar.schema.plugin_api import (
    Base,
    IdType,
    UTCDateTime,
    utcnow,
)


class LogisticsMode(enum.StrEnum):
    """How goods travel on a lane."""

    AIR_EXPRESS = "AIR_EXPRESS"  # door-to-door courier (DHL/FedEx/UPS-style)
    AIR_FREIGHT = "AIR_FREIGHT"  # consolidated air cargo, usually to a fulfilment centre
    SEA_FREIGHT = "SEA_FREIGHT"  # FCL/LCL ocean freight
    RAIL = "RAIL"  # China-Europe rail freight
    TRUCK = "TRUCK"  # cross-border road freight (e.g. China-ASEAN)


class LogisticsLane(Base):
    """An origin → destination lane a provider ships on, by one mode, with its transit days."""

    __tablename__ = "logistics_lanes"
    __table_args__ = (
        UniqueConstraint("provider_id", "origin_country", "destination_country", "mode"),
        CheckConstraint("typical_transit_days > 0", name="typical_transit_days_positive"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    origin_country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    destination_country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    mode: Mapped[LogisticsMode] = mapped_column(
        Enum(
            LogisticsMode,
            name="logistics_mode",
            native_enum=False,
            create_constraint=True,
            length=40,
        )
    )
    typical_transit_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
