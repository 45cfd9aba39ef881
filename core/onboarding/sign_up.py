"""A provider signs up: the provider and its owner account in one step.

The answer never says whether the address or an unlisted registration number is already known
(that would let anyone probe who is registered): the owner of the address learns it by mail. A
listed provider is public, so its number is refused outright; a barred number (after a veto)
cannot come back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity import accounts as identity
from linkstar.core.identity import outbox, verification
from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role
from linkstar.core.onboarding import admission
from linkstar.core.onboarding.applications import timeline
from linkstar.core.onboarding.models import Application
from linkstar.core.providers import registration
from linkstar.core.providers.models import Provider, ProviderMarketplace


async def _is_listed(session: AsyncSession, provider_id: int) -> bool:
    """Whether the provider is in the public directory (an ACTIVE application)."""
    return (
        await session.execute(
            select(Application.id).where(
                Application.provider_id == provider_id,
                Application.status == ApplicationStatus.ACTIVE,
            )
        )
    ).first() is not None


def _duplicate_notice(session: AsyncSession, email: str, number: str) -> None:
    """Tell whoever registers a known (unlisted) number, at their address only."""
    outbox.queue(
        session,
        email,
        "LinkStar: this provider is already registered",
        f"You asked to register a provider with registration number {number}, which is "
        "already registered on LinkStar. Ask its owner to invite you (inviteMember) instead.\n",
    )


async def register_provider(
    session: AsyncSession,
    viewer: Viewer,
    *,
    legal_name: str,
    region: Region,
    registration_number: str,
    details: Mapping[str, Any],
    marketplaces: Sequence[Any],
    email: str,
    password: str,
    display_name: str,
) -> str:
    """Check the registration, then create the provider and its unverified owner account (or
    mail a notice to a known address or number); returns the normalised email address.

    Every check runs before anything is stored: registration number and details by region,
    marketplaces, name length, password strength. Raises `RegistrationInvalid`,
    `InvalidInput` (`DUPLICATE_REGISTRATION` for a listed provider's number) or
    `ProviderBarred`.
    """
    number = registration.registration_number(region, registration_number)
    checked = registration.validate_details(region, dict(details))
    chosen = registration.marketplaces(list(marketplaces))
    if not 2 <= len(legal_name.strip()) <= 200:
        raise registration.RegistrationInvalid({"legalName": "must have 2 to 200 characters"})
    email = identity.normalise_email(email)
    identity.check_password_strength(password)
    await admission.refuse_barred_registration(session, number)
    existing = (
        await session.execute(select(Provider.id).where(Provider.registration_number == number))
    ).scalar_one_or_none()
    if existing is not None and await _is_listed(session, existing):
        # listed providers are public: saying so tells nothing new
        raise InvalidInput(
            f"a provider with registration number {number} is already registered",
            code="DUPLICATE_REGISTRATION",
            suggestion="ask its owner to invite you instead",
        )
    if existing is not None:
        identity.hash_password(password)  # the same work as a registration
        _duplicate_notice(session, email, number)
        return email
    if await verification.email_taken(session, email):
        identity.hash_password(password)
        verification.address_taken_notice(session, email, "register a provider")
        return email
    row = Provider(
        legal_name=legal_name.strip(), region=region, registration_number=number, details=checked
    )
    row.marketplaces = [ProviderMarketplace(marketplace=m) for m in chosen]
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # registered at the same moment by someone else
        _duplicate_notice(session, email, number)
        return email
    await verification.sign_up(
        session,
        email=email,
        password=password,
        display_name=display_name,
        role=Role.PARTNER,
        provider_id=row.id,
        is_provider_owner=True,
    )
    timeline(
        session,
        None,
        row.id,
        viewer,
        "provider.registered",
        {"legalName": row.legal_name, "region": row.region.value, "registrationNumber": number},
    )
    return email
