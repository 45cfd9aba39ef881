"""Charges issued for a member: when its application is approved (in the approval's own
transaction), and when staff count units a per-unit fee prices (exam candidates)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing import charges as billing
from linkstar.core.billing.models import Charge
from linkstar.core.contract.registry import Registry
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.vocabulary import ApplicationStatus
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


# A reference fits the charge's occasion ("UNITS:" + reference, 40 characters).
MAX_UNITS_REFERENCE = 34


async def charge_counted_units(
    session: AsyncSession,
    registry: Registry,
    provider_id: int,
    category: str,
    reference: str,
    quantities: Mapping[str, int],
    issued_by: int | None,
) -> list[Charge]:
    """Charge the category's per-unit fees for units staff counted for a member (e.g. the
    candidates of a certification exam it held), at its region and tier, once per reference:
    recording the same reference again returns the charges issued the first time."""
    reference = reference.strip()
    if not reference or len(reference) > MAX_UNITS_REFERENCE:
        raise InvalidInput(
            f"the reference must be 1 to {MAX_UNITS_REFERENCE} characters",
            suggestion='name what was counted, e.g. "exam 2026-11-15"',
        )
    if not quantities:
        raise InvalidInput("count at least one unit", suggestion="e.g. candidate: 12")
    member = (
        await session.execute(
            select(Application).where(
                Application.provider_id == provider_id,
                Application.category_key == category,
                Application.status.in_((ApplicationStatus.ACTIVE, ApplicationStatus.PROBATION)),
            )
        )
    ).scalar_one_or_none()
    if member is None:
        raise NotFound(f"provider {provider_id} is not a member of category {category!r}")
    provider = await session.get(Provider, provider_id)
    assert provider is not None  # the application's foreign key
    occasion = billing.ChargeOccasion(
        name=f"UNITS:{reference}",
        provider_id=provider_id,
        application_id=member.id,
        category=category,
        region=provider.region,
        tier=member.tier,
    )
    return await billing.issue_charges(
        session,
        occasion,
        registry.category(category).fee_rules,
        quantities=quantities,
        issued_by=issued_by,
    )
