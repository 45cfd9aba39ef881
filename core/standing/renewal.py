"""Renewal (续约) advice for one provider in one category, from closed periods and live
violations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.vocabulary import SanctionStatus
from linkstar.core.standing.cards import recent_cards
from linkstar.core.standing.models import Sanction, Violation
from linkstar.core.standing.recommendations import Recommendation, renewal_recommendation
from linkstar.core.standing.violations import active_points


async def renewal_for(
    session: AsyncSession, provider_id: int, category: str, periods: int
) -> Recommendation:
    """The renewal recommendation over the last `periods` closed months."""
    now = utcnow()
    current = now.strftime("%Y-%m")
    cards = (await recent_cards(session, category, [provider_id], None, periods + 1)).get(
        provider_id, []
    )
    cards = [c for c in cards if c.period < current][:periods]
    sanctions = list(
        (
            await session.execute(
                select(Sanction).where(
                    Sanction.provider_id == provider_id,
                    Sanction.category_key == category,
                    Sanction.status.in_((SanctionStatus.ACTIVE, SanctionStatus.CONFIRMED)),
                )
            )
        )
        .scalars()
        .all()
    )
    violations = [
        v
        for v in (
            await session.execute(
                select(Violation).where(
                    Violation.provider_id == provider_id, Violation.category_key == category
                )
            )
        )
        .scalars()
        .all()
        if active_points([v], now) > 0
    ]
    return renewal_recommendation(cards, sanctions, violations, current)
