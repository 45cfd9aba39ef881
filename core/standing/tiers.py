"""Tiers: regular → preferred → strategic partner, one level at a time, with a history."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.timeline import record
from linkstar.core.kernel.vocabulary import Tier
from linkstar.core.onboarding.models import Application
from linkstar.core.standing.models import TierChange

TIERS = [Tier.REGULAR, Tier.PREFERRED, Tier.STRATEGIC_PARTNER]


async def change_tier(
    session: AsyncSession,
    application: Application,
    tier: Tier,
    reason: str,
    cause: dict,
    actor: Viewer,
    dedupe_key: str | None = None,
) -> TierChange:
    """Move an application's tier (never skipping a level) and record it in the tier history."""
    step = TIERS.index(tier) - TIERS.index(application.tier)
    if abs(step) != 1:
        raise InvalidInput(
            f"a tier changes one level at a time ({application.tier.value} → {tier.value})",
            code="TIER_SKIP",
        )
    change = TierChange(
        application_id=application.id,
        provider_id=application.provider_id,
        category_key=application.category_key,
        from_tier=application.tier,
        to_tier=tier,
        reason=reason,
        cause=cause,
        decided_by=actor.label,
        decided_by_account_id=actor.account_id,
        dedupe_key=dedupe_key,
    )
    session.add(change)
    application.tier = tier
    application.updated_at = utcnow()
    record(
        session,
        actor,
        "tier.changed",
        {
            "category": application.category_key,
            "from": change.from_tier.value,
            "to": tier.value,
            "reason": reason,
            **cause,
        },
        provider_id=application.provider_id,
        application_id=application.id,
    )
    await session.flush()
    return change
