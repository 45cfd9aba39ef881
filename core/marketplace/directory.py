"""The seller directory: providers of a category ranked by their public KPI summary."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.vocabulary import ApplicationStatus, Marketplace, Region, Tier
from linkstar.core.kpi.public import latest_composites
from linkstar.core.marketplace.policy import DispatchPolicy
from linkstar.core.onboarding.models import Application
from linkstar.core.providers.models import Provider, ProviderMarketplace
from linkstar.core.standing.public import intake_blocked


@dataclass(frozen=True)
class Ranked:
    """A provider's place in the directory and why."""

    provider: Provider
    rank: int
    composite: Decimal | None
    tier: Tier
    accepting_orders: bool
    why: str


async def rank_providers(
    session: AsyncSession,
    category_key: str,
    policy: DispatchPolicy,
    *,
    marketplace: Marketplace | None = None,
    region: Region | None = None,
    tier: Tier | None = None,
) -> list[Ranked]:
    """Providers in the pool of `category_key`, best latest KPI composite first, then tier.

    The composite is the public one (latest period, latest revision); unrated providers follow
    the rated ones. A provider under restricted intake is listed but marked as not accepting
    orders.
    """
    composites = latest_composites(category_key)
    stmt: Any = (
        select(Provider, Application.tier, composites.c.composite_hundredths)
        .join(Application, Application.provider_id == Provider.id)
        .outerjoin(composites, composites.c.provider_id == Provider.id)
        .where(
            Application.category_key == category_key,
            Application.status == ApplicationStatus.ACTIVE,
        )
    )
    if marketplace is not None:
        stmt = stmt.where(
            exists().where(
                ProviderMarketplace.provider_id == Provider.id,
                ProviderMarketplace.marketplace == marketplace,
            )
        )
    if region is not None:
        stmt = stmt.where(Provider.region == region)
    if tier is not None:
        stmt = stmt.where(Application.tier == tier)
    rows = (await session.execute(stmt)).all()
    blocked = set((await session.scalars(intake_blocked(category_key))).all())

    def key(row: Any) -> tuple[int, int, Decimal, int]:
        provider, row_tier, hundredths = row
        return (
            0 if hundredths is not None else 1,
            -int(hundredths or 0),
            -policy.tier_weights[Tier(row_tier)],
            provider.id,
        )

    ranked = []
    rows.sort(key=key)
    for index, (provider, row_tier, hundredths) in enumerate(rows, start=1):
        composite = None if hundredths is None else Decimal(int(hundredths)) / 100
        reasons = [
            f"KPI composite {composite} in the latest scorecard"
            if composite is not None
            else "not rated yet (listed after rated providers)",
            f"tier {Tier(row_tier).value}",
        ]
        if provider.id in blocked:
            reasons.append("intake restricted: not taking new orders")
        ranked.append(
            Ranked(
                provider=provider,
                rank=index,
                composite=composite,
                tier=Tier(row_tier),
                accepting_orders=provider.id not in blocked,
                why=f"#{index} of {len(rows)}: " + "; ".join(reasons),
            )
        )
    return ranked
