"""Charges issued when an application is approved, in the approval's own transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing import charges as billing
from linkstar.core.contract.registry import Registry
from linkstar.core.onboarding.models import Application
from linkstar.core.providers.models import Provider


async def charge_on_approval(
    session: AsyncSession, registry: Registry, app: Application, issued_by: int | None
) -> None:
    """Issue the category's up-front charges (deposit, annual fee, one-off fees) for `app`."""
    provider = await session.get(Provider, app.provider_id)
    assert provider is not None  # the application's foreign key
    occasion = billing.ChargeOccasion(
        name="APPROVAL",
        provider_id=app.provider_id,
        application_id=app.id,
        category=app.category_key,
        region=provider.region,
        tier=app.tier,
    )
    await billing.issue_charges(
        session, occasion, registry.category(app.category_key).fee_rules, issued_by=issued_by
    )
