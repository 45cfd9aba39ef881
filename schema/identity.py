"""GraphQL for identity and access: accounts, sessions, API tokens, invitations, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy import func, select
from strawberry import relay
from strawberry.scalars import JSON

from linkstar.core.identity import accounts as identity
from linkstar.core.identity import audit, ratelimit
from linkstar.core.identity.policy import Action, require
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.vocabulary import AuditOutcome, Role, TokenScope
from linkstar.core.runtime import tables as models
from linkstar.schema import loaders
from linkstar.schema.pagination import Connection, PageArgs, node_int, paginate
from linkstar.schema.types import Ctx, ProviderType, ctx, rows_resolver

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
    def of(cls, row: models.Account) -> AccountType:
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
        row = await loaders.by_id(ctx(info), models.Provider).load(self.provider_id_value)
        return ProviderType.of(row) if row else None

    resolve_nodes = rows_resolver(models.Account)


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
    def of(cls, row: models.ApiToken) -> ApiTokenType:
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

    resolve_nodes = rows_resolver(models.ApiToken)


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
    def of(cls, row: models.AuditEntry) -> AuditEntryType:
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

    resolve_nodes = rows_resolver(models.AuditEntry)


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


@strawberry.type(description="An invitation to join a provider. `token` is shown only here.")
class CreatedInvitation:
    email: str
    expires_at: datetime
    token: str


@strawberry.input(description="Narrow the audit log.")
class AuditLogFilter:
    action: str | None = None
    actor_account_id: int | None = None
    outcome: AuditOutcome | None = None
    since: datetime | None = None
    until: datetime | None = None


async def _security_event(
    info: Ctx, action: str, outcome: AuditOutcome, label: str | None = None, **details: Any
) -> None:
    context = ctx(info)
    await audit.record(
        context.sessionmaker,
        audit.entry(
            context.viewer,
            action,
            outcome,
            client_address=context.client_address,
            label=label,
            details=details,
        ),
    )


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="The signed-in account; null when anonymous.")
    async def viewer(self, info: Ctx) -> AccountType | None:
        context = ctx(info)
        if context.viewer.account_id is None:
            return None
        row = await loaders.by_id(context, models.Account).load(context.viewer.account_id)
        return AccountType.of(row) if row else None

    @strawberry.field(description="The signed-in account's API tokens (metadata only).")
    async def api_tokens(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ApiTokenType]:
        context = ctx(info)
        require(context.viewer, Action.MANAGE_OWN_API_TOKENS)
        condition = models.ApiToken.account_id == context.viewer.account_id

        async def count() -> int:
            async with context.session() as session:
                return (
                    await session.execute(
                        select(func.count()).select_from(models.ApiToken).where(condition)
                    )
                ).scalar_one()

        async with context.session() as session:
            return await paginate(
                session,
                select(models.ApiToken).where(condition),
                models.ApiToken.id,
                PageArgs.parse(first, after, last, before),
                ApiTokenType.of,
                count,
            )

    @strawberry.field(description="The audit log, oldest first (admins only).")
    async def audit_log(
        self,
        info: Ctx,
        filter: AuditLogFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AuditEntryType]:
        context = ctx(info)
        require(context.viewer, Action.READ_AUDIT_LOG)
        conditions = []
        if filter is not None:
            if filter.action:
                conditions.append(models.AuditEntry.action == filter.action)
            if filter.actor_account_id is not None:
                conditions.append(models.AuditEntry.actor_account_id == filter.actor_account_id)
            if filter.outcome is not None:
                conditions.append(models.AuditEntry.outcome == filter.outcome)
            for moment in (filter.since, filter.until):
                if moment is not None and moment.tzinfo is None:
                    raise InvalidInput("give since/until with a time zone offset")
            if filter.since is not None:
                conditions.append(models.AuditEntry.occurred_at >= filter.since)
            if filter.until is not None:
                conditions.append(models.AuditEntry.occurred_at < filter.until)

        async def count() -> int:
            async with context.session() as session:
                stmt = select(func.count()).select_from(models.AuditEntry).where(*conditions)
                return (await session.execute(stmt)).scalar_one()

        async with context.session() as session:
            return await paginate(
                session,
                select(models.AuditEntry).where(*conditions),
                models.AuditEntry.id,
                PageArgs.parse(first, after, last, before),
                AuditEntryType.of,
                count,
            )


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Sign in with email and password.")
    async def login(self, info: Ctx, email: str, password: str) -> AuthPayload:
        context = ctx(info)
        key = email.strip().lower()[:200]
        await ratelimit.hit(
            context.sessionmaker,
            f"login:account:{key}",
            ratelimit.LOGIN_PER_ACCOUNT,
            "sign-in attempts for this account",
        )
        if context.client_address:
            await ratelimit.hit(
                context.sessionmaker,
                f"login:address:{context.client_address}",
                ratelimit.LOGIN_PER_ADDRESS,
                "sign-in attempts from this address",
            )
        try:
            async with context.session() as session, session.begin():
                issued = await identity.login(session, email, password, context.settings.secret_key)
        except identity.Unauthenticated:
            await _security_event(
                info, "security.login_failed", AuditOutcome.FAILED, label=key or "?"
            )
            raise
        await _security_event(
            info, "security.login_succeeded", AuditOutcome.SUCCESS, label=issued.account.email
        )
        return AuthPayload.of(issued)

    @strawberry.mutation(
        description="Exchange a refresh token for new tokens (the old refresh token stops working)."
    )
    async def refresh_session(self, info: Ctx, refresh_token: str) -> AuthPayload:
        context = ctx(info)
        async with context.session() as session, session.begin():
            return AuthPayload.of(
                await identity.refresh(session, refresh_token, context.settings.secret_key)
            )

    @strawberry.mutation(
        description="End the current session: its refresh and access tokens stop working."
    )
    async def logout(self, info: Ctx) -> bool:
        context = ctx(info)
        viewer = context.viewer
        if viewer.account_id is None or viewer.session_id is None:
            raise identity.Unauthenticated(
                "there is no session to end (API tokens are revoked with revokeApiToken)"
            )
        async with context.session() as session, session.begin():
            await identity.revoke_sessions(
                session, viewer.account_id, "logout", only=viewer.session_id
            )
        return True

    @strawberry.mutation(
        description="Change the password; every session of the account ends and a new one starts."
    )
    async def change_password(
        self, info: Ctx, current_password: str, new_password: str
    ) -> AuthPayload:
        context = ctx(info)
        async with context.session() as session, session.begin():
            issued = await identity.change_password(
                session, context.viewer, current_password, new_password, context.settings.secret_key
            )
        await _security_event(info, "security.password_changed", AuditOutcome.SUCCESS)
        return AuthPayload.of(issued)

    @strawberry.mutation(description="Sign up as a seller.")
    async def sign_up_seller(
        self, info: Ctx, email: str, password: str, display_name: str
    ) -> AuthPayload:
        context = ctx(info)
        async with context.session() as session, session.begin():
            await identity.create_account(
                session, email=email, password=password, display_name=display_name, role=Role.SELLER
            )
            issued = await identity.login(session, email, password, context.settings.secret_key)
        return AuthPayload.of(issued)

    @strawberry.mutation(
        description="Create a personal API token with scopes; the token is shown once."
    )
    async def create_api_token(
        self, info: Ctx, name: str, scopes: list[TokenScope], expires_in_days: int = 90
    ) -> CreatedApiToken:
        context = ctx(info)
        require(context.viewer, Action.MANAGE_OWN_API_TOKENS)
        async with context.session() as session, session.begin():
            token, plain = await identity.create_api_token(
                session, context.viewer, name, scopes, expires_in_days
            )
        await _security_event(
            info,
            "security.api_token_created",
            AuditOutcome.SUCCESS,
            token=token.prefix,
            scopes=token.scopes,
        )
        return CreatedApiToken(token=plain, api_token=ApiTokenType.of(token))

    @strawberry.mutation(description="Revoke one of your API tokens.")
    async def revoke_api_token(self, info: Ctx, id: strawberry.ID) -> ApiTokenType:
        context = ctx(info)
        require(context.viewer, Action.MANAGE_OWN_API_TOKENS)
        from linkstar.schema.query import parse_global_id

        gid = parse_global_id(id)
        token_id = node_int(gid.node_id)
        if gid.type_name != "ApiToken" or token_id is None:
            raise InvalidInput(f"{id!r} is not an ApiToken id", code="INVALID_ID")
        async with context.session() as session, session.begin():
            token = await identity.revoke_api_token(session, context.viewer, token_id)
        await _security_event(
            info, "security.api_token_revoked", AuditOutcome.SUCCESS, token=token.prefix
        )
        return ApiTokenType.of(token)

    @strawberry.mutation(
        description="Invite a member to your provider (owners only); the token is shown once."
    )
    async def invite_member(self, info: Ctx, email: str) -> CreatedInvitation:
        context = ctx(info)
        require(context.viewer, Action.INVITE_MEMBER, context.viewer.provider_id)
        async with context.session() as session, session.begin():
            invitation, plain = await identity.invite_member(session, context.viewer, email)
        return CreatedInvitation(
            email=invitation.email, expires_at=invitation.expires_at, token=plain
        )

    @strawberry.mutation(
        description="Accept an invitation: create your partner account and sign in."
    )
    async def accept_invitation(
        self, info: Ctx, token: str, password: str, display_name: str
    ) -> AuthPayload:
        context = ctx(info)
        async with context.session() as session, session.begin():
            return AuthPayload.of(
                await identity.accept_invitation(
                    session, token, password, display_name, context.settings.secret_key
                )
            )

    @strawberry.mutation(
        description="Disable (or re-enable) an account; disabling ends its sessions and API tokens."
    )
    async def set_account_disabled(
        self, info: Ctx, account: strawberry.ID, disabled: bool, reason: str
    ) -> AccountType:
        from linkstar.schema.query import parse_global_id

        context = ctx(info)
        require(context.viewer, Action.MANAGE_ACCOUNTS)
        gid = parse_global_id(account)
        account_id = node_int(gid.node_id)
        if gid.type_name != "Account" or account_id is None:
            raise InvalidInput(f"{account!r} is not an Account id", code="INVALID_ID")
        if not reason.strip():
            raise InvalidInput("give the reason")
        if account_id == context.viewer.account_id:
            raise InvalidInput("you cannot disable your own account")
        async with context.session() as session, session.begin():
            row = await session.get(models.Account, account_id)
            if row is None:
                raise NotFound("no such account")
            row.disabled = disabled
            if disabled:
                await identity.revoke_sessions(session, row.id, "account disabled")
                await identity.revoke_api_tokens(session, row.id)
        await _security_event(
            info,
            "security.account_disabled" if disabled else "security.account_enabled",
            AuditOutcome.SUCCESS,
            account=row.email,
            reason=reason.strip(),
        )
        return AccountType.of(row)

    @strawberry.mutation(description="Create a reviewer or admin account (admins only).")
    async def create_staff_account(
        self, info: Ctx, email: str, password: str, display_name: str, role: Role
    ) -> AccountType:
        context = ctx(info)
        require(context.viewer, Action.CREATE_STAFF_ACCOUNT)
        if role not in (Role.ADMIN, Role.REVIEWER):
            raise InvalidInput("staff accounts are ADMIN or REVIEWER")
        async with context.session() as session, session.begin():
            account = await identity.create_account(
                session, email=email, password=password, display_name=display_name, role=role
            )
        return AccountType.of(account)
