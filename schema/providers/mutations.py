"""Provider mutations: registration."""

from __future__ import annotations

import strawberry
from sqlalchemy.exc import IntegrityError

from linkstar.core.identity import accounts as identity
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.vocabulary import (
    Role,
)
from linkstar.core.onboarding import admission
from linkstar.core.onboarding import applications as onboarding
from linkstar.core.providers import registration
from linkstar.core.providers.models import Provider, ProviderMarketplace
from linkstar.schema.identity.types import AuthPayload
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.providers.inputs import AccountInput, ProviderInput, as_dict
from linkstar.schema.resolving import write


@strawberry.type
class ProviderMutation:
    @strawberry.mutation(
        description="Register a provider and its owner account in one step; signs the owner in."
    )
    async def register_provider(
        self, info: Ctx, account: AccountInput, provider: ProviderInput
    ) -> AuthPayload:
        context = ctx(info)
        if context.viewer.authenticated:
            raise InvalidInput("sign out first: registration creates a new owner account")
        number = registration.registration_number(provider.region, provider.registration_number)
        details = registration.validate_details(provider.region, as_dict(provider.details))
        marketplaces = registration.marketplaces(list(provider.marketplaces))
        if not 2 <= len(provider.legal_name.strip()) <= 200:
            raise registration.RegistrationInvalid({"legalName": "must have 2 to 200 characters"})
        async with write(info) as session:
            await admission.refuse_barred_registration(session, number)
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
            except IntegrityError:
                raise InvalidInput(
                    f"a provider with registration number {number} is already registered",
                    code="DUPLICATE_REGISTRATION",
                    suggestion="ask its owner to invite you instead",
                ) from None
            await identity.create_account(
                session,
                email=account.email,
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
            issued = await identity.login(
                session, account.email, account.password, context.settings.secret_key
            )
        return AuthPayload.of(issued)
