"""Provider mutations: registration."""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity import accounts as identity
from linkstar.core.identity import outbox, verification
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.vocabulary import ApplicationStatus, Role
from linkstar.core.onboarding import admission
from linkstar.core.onboarding import applications as onboarding
from linkstar.core.onboarding.models import Application
from linkstar.core.providers import registration
from linkstar.core.providers.models import Provider, ProviderMarketplace
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.providers.inputs import AccountInput, ProviderInput, as_dict
from linkstar.schema.resolving import write
from linkstar.schema.sign_up import SignUpPayload, deliver_in_development, limit_sign_ups


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


@strawberry.type
class ProviderMutation:
    @strawberry.mutation(
        description="Register a provider and its owner account in one step. The answer is the "
        "same whether or not the address or an unlisted registration number is taken; a token "
        "to confirm the address is mailed to it (then call verifyEmail to sign in)."
    )
    async def register_provider(
        self, info: Ctx, account: AccountInput, provider: ProviderInput
    ) -> SignUpPayload:
        context = ctx(info)
        if context.viewer.authenticated:
            raise InvalidInput("sign out first: registration creates a new owner account")
        await limit_sign_ups(info)
        number = registration.registration_number(provider.region, provider.registration_number)
        details = registration.validate_details(provider.region, as_dict(provider.details))
        marketplaces = registration.marketplaces(list(provider.marketplaces))
        if not 2 <= len(provider.legal_name.strip()) <= 200:
            raise registration.RegistrationInvalid({"legalName": "must have 2 to 200 characters"})
        email = identity.normalise_email(account.email)
        identity.check_password_strength(account.password)
        answer = SignUpPayload(email=email, message=verification.SIGN_UP_ANSWER)
        async with write(info) as session:
            await admission.refuse_barred_registration(session, number)
            existing = (
                await session.execute(
                    select(Provider.id).where(Provider.registration_number == number)
                )
            ).scalar_one_or_none()
            if existing is not None and await _is_listed(session, existing):
                # listed providers are public: saying so tells nothing new
                raise InvalidInput(
                    f"a provider with registration number {number} is already registered",
                    code="DUPLICATE_REGISTRATION",
                    suggestion="ask its owner to invite you instead",
                )
            if existing is not None:
                identity.hash_password(account.password)  # same work as a registration
                _duplicate_notice(session, email, number)
            elif await verification.email_taken(session, email):
                identity.hash_password(account.password)
                verification.address_taken_notice(session, email, "register a provider")
            else:
                row = Provider(
                    legal_name=provider.legal_name.strip(),
                    region=provider.region,
                    registration_number=number,
                    details=details,
                )
                row.marketplaces = [ProviderMarketplace(marketplace=m) for m in marketplaces]
                session.add(row)
                try:
                    async with session.begin_nested():
                        await session.flush()
                except IntegrityError:  # registered at the same moment by someone else
                    _duplicate_notice(session, email, number)
                    row = None
                if row is not None:
                    await verification.sign_up(
                        session,
                        email=email,
                        password=account.password,
                        display_name=account.display_name,
                        role=Role.PARTNER,
                        provider_id=row.id,
                        is_provider_owner=True,
                    )
                    onboarding.timeline(
                        session,
                        None,
                        row.id,
                        context.viewer,
                        "provider.registered",
                        {
                            "legalName": row.legal_name,
                            "region": row.region.value,
                            "registrationNumber": number,
                        },
                    )
        await deliver_in_development(info)
        return answer
