"""Provider mutations: registration."""

from __future__ import annotations

import strawberry

from linkstar.core.identity import verification
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.onboarding import sign_up
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.providers.inputs import AccountInput, ProviderInput, as_dict
from linkstar.schema.resolving import write
from linkstar.schema.sign_up import SignUpPayload, deliver_in_development, limit_sign_ups


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
        async with write(info) as session:
            email = await sign_up.register_provider(
                session,
                context.viewer,
                legal_name=provider.legal_name,
                region=provider.region,
                registration_number=provider.registration_number,
                details=as_dict(provider.details),
                marketplaces=list(provider.marketplaces),
                email=account.email,
                password=account.password,
                display_name=account.display_name,
            )
        await deliver_in_development(info)
        return SignUpPayload(email=email, message=verification.SIGN_UP_ANSWER)
