"""GraphQL types of identity: accounts, API tokens, the audit log."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from linkstar.core.identity import accounts as identity
from linkstar.core.identity.models import Account, ApiToken, AuditEntry
from linkstar.core.kernel.vocabulary import AuditOutcome, Role, TokenScope
from linkstar.core.providers.models import Provider
from linkstar.schema import loaders
from linkstar.schema.nodes import Ctx, ctx, rows_resolver
from linkstar.schema.providers.types import ProviderType

RoleEnum = strawberry.enum(Role, description="What an account is on the platform.")


TokenScopeEnum = strawberry.enum(TokenScope, description="What an API token may do.")


AuditOutcomeEnum = strawberry.enum(AuditOutcome, description="How an audited action ended.")


@strawberry.type(name="Account", description="A person who signs in.")
class AccountType(relay.Node):
    id: relay.NodeID[int]
    email: str
    display_name: str
    role: Role
    is_provider_owner: bool
    created_at: datetime
    owner_account_id: strawberry.Private[int]
    provider_id_value: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: Account) -> AccountType:
        return cls(
            id=row.id,
            email=row.email,
            display_name=row.display_name,
            role=row.role,
            is_provider_owner=row.is_provider_owner,
            created_at=row.created_at,
            owner_account_id=row.id,
            provider_id_value=row.provider_id,
        )

    @strawberry.field(description="The provider a partner account belongs to.")
    async def provider(self, info: Ctx) -> ProviderType | None:
        if self.provider_id_value is None:
            return None
        row = await loaders.by_id(ctx(info), Provider).load(self.provider_id_value)
        return ProviderType.of(row) if row else None

    resolve_nodes = rows_resolver(Account)


@strawberry.type(
    name="ApiToken", description="A personal API token (the secret itself is never shown again)."
)
class ApiTokenType(relay.Node):
    id: relay.NodeID[int]
    name: str
    prefix: str = strawberry.field(description="First characters of the token, to recognise it.")
    scopes: list[TokenScope]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    owner_account_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: ApiToken) -> ApiTokenType:
        return cls(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            scopes=[TokenScope(s) for s in row.scopes],
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            owner_account_id=row.account_id,
        )

    resolve_nodes = rows_resolver(ApiToken)


@strawberry.type(
    name="AuditEntry", description="One audited action: who, with which token, what, when, outcome."
)
class AuditEntryType(relay.Node):
    linkstar_admin_only = True
    id: relay.NodeID[int]
    occurred_at: datetime
    actor_account_id: int | None
    actor_token_id: int | None
    actor_label: str
    action: str
    target: str | None
    outcome: AuditOutcome
    client_address: str | None
    details: JSON

    @classmethod
    def of(cls, row: AuditEntry) -> AuditEntryType:
        return cls(
            id=row.id,
            occurred_at=row.occurred_at,
            actor_account_id=row.actor_account_id,
            actor_token_id=row.actor_token_id,
            actor_label=row.actor_label,
            action=row.action,
            target=row.target,
            outcome=row.outcome,
            client_address=row.client_address,
            details=row.details,
        )

    resolve_nodes = rows_resolver(AuditEntry)


@strawberry.type(
    description="Tokens for a signed-in session. The refresh token is shown only here."
)
class AuthPayload:
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    refresh_token_expires_at: datetime
    account: AccountType

    @classmethod
    def of(cls, issued: identity.IssuedTokens) -> AuthPayload:
        return cls(
            access_token=issued.access_token,
            access_token_expires_at=issued.access_expires_at,
            refresh_token=issued.refresh_token,
            refresh_token_expires_at=issued.refresh_expires_at,
            account=AccountType.of(issued.account),
        )


@strawberry.type(
    description="A new API token. `token` is shown only in this response: store it now."
)
class CreatedApiToken:
    token: str
    api_token: ApiTokenType


@strawberry.type(
    description="An invitation to join a provider; its token is mailed to the invited address."
)
class CreatedInvitation:
    email: str
    expires_at: datetime
    token: str | None = strawberry.field(
        default=None,
        deprecation_reason="the token is mailed to the invited address only (always null)",
    )


@strawberry.input(description="Narrow the audit log.")
class AuditLogFilter:
    action: str | None = None
    actor_account_id: int | None = None
    outcome: AuditOutcome | None = None
    since: datetime | None = None
    until: datetime | None = None
