"""Identity queries and mutations: sign-in, sessions, tokens, invitations, staff."""

from __future__ import annotations

from typing import Any

import strawberry

from linkstar.core.identity import accounts as identity
from linkstar.core.identity import audit, throttle, verification
from linkstar.core.identity.models import Account, ApiToken, AuditEntry
from linkstar.core.identity.policy import Action, require
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.vocabulary import AuditOutcome, Role, TokenScope
from linkstar.schema import loaders
from linkstar.schema.identity.types import (
    AccountType,
    ApiTokenType,
    AuditEntryType,
    AuditLogFilter,
    AuthPayload,
    CreatedApiToken,
    CreatedInvitation,
)
from linkstar.schema.nodes import Ctx, ctx, parse_global_id
from linkstar.schema.pagination import Connection, PageArgs, node_int, paginate
from linkstar.schema.sign_up import SignUpPayload, deliver_in_development, limit_sign_ups


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
        row = await loaders.by_id(context, Account).load(context.viewer.account_id)
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
        page, counting = identity.api_tokens_of(context.viewer.account_id)

        async def count() -> int:
            async with context.session() as session:
                return (await session.execute(counting)).scalar_one()

        async with context.session() as session:
            return await paginate(
                session,
                page,
                ApiToken.id,
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
        flt = filter or AuditLogFilter()
        page, counting = audit.audit_log(
            action=flt.action,
            actor_account_id=flt.actor_account_id,
            outcome=flt.outcome,
            since=flt.since,
            until=flt.until,
        )

        async def count() -> int:
            async with context.session() as session:
                return (await session.execute(counting)).scalar_one()

        async with context.session() as session:
            return await paginate(
                session,
                page,
                AuditEntry.id,
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
        address = context.client_address
        await throttle.check(context.sessionmaker, key, address)
        try:
            async with context.session() as session, session.begin():
                issued = await identity.login(session, email, password, context.settings.secret_key)
        except identity.EmailNotVerified:
            raise  # the right password: not a failure to throttle
        except identity.Unauthenticated:
            await throttle.failed(context.sessionmaker, key, address)
            await _security_event(
                info, "security.login_failed", AuditOutcome.FAILED, label=key or "?"
            )
            raise
        await throttle.succeeded(context.sessionmaker, key, address)
        await _security_event(
            info, "security.login_succeeded", AuditOutcome.SUCCESS, label=issued.account.email
        )
        return AuthPayload.of(issued)

    @strawberry.mutation(
        description="Exchange a refresh token for new tokens (the old refresh token stops working)."
    )
    async def refresh_session(self, info: Ctx, refresh_token: str) -> AuthPayload:
        context = ctx(info)
        try:
            async with context.session() as session, session.begin():
                return AuthPayload.of(
                    await identity.refresh(session, refresh_token, context.settings.secret_key)
                )
        except identity.RefreshTokenReused as exc:
            async with context.session() as session, session.begin():
                account_id = await identity.end_reused_session(session, exc.session_id)
            await _security_event(
                info,
                "security.refresh_token_reused",
                AuditOutcome.DENIED,
                session=exc.session_id,
                account=account_id,
            )
            raise

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

    @strawberry.mutation(
        description="Sign up as a seller. The answer is the same whether or not the address is "
        "free; a token to confirm it is mailed to the address (then call verifyEmail)."
    )
    async def sign_up_seller(
        self, info: Ctx, email: str, password: str, display_name: str
    ) -> SignUpPayload:
        context = ctx(info)
        await limit_sign_ups(info)
        async with context.session() as session, session.begin():
            account = await verification.sign_up(
                session, email=email, password=password, display_name=display_name, role=Role.SELLER
            )
        await deliver_in_development(info)
        if account is not None:
            await _security_event(info, "security.signed_up", AuditOutcome.SUCCESS, role="SELLER")
        return SignUpPayload(
            email=identity.normalise_email(email), message=verification.SIGN_UP_ANSWER
        )

    @strawberry.mutation(
        description="Confirm your email address with the token mailed to it; signs you in."
    )
    async def verify_email(self, info: Ctx, token: str) -> AuthPayload:
        context = ctx(info)
        await limit_sign_ups(info)
        async with context.session() as session, session.begin():
            issued = await verification.verify_email(session, token, context.settings.secret_key)
        await _security_event(
            info, "security.email_verified", AuditOutcome.SUCCESS, label=issued.account.email
        )
        return AuthPayload.of(issued)

    @strawberry.mutation(
        description="Mail a new confirmation token to an unconfirmed address. The answer is "
        "the same for every address."
    )
    async def request_email_verification(self, info: Ctx, email: str) -> SignUpPayload:
        context = ctx(info)
        await limit_sign_ups(info)
        async with context.session() as session, session.begin():
            await verification.request_verification(session, email)
        await deliver_in_development(info)
        return SignUpPayload(
            email=email.strip().lower(),
            message="if this address has an unconfirmed account, a new token was mailed to it",
        )

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
        description="Invite a member to your provider (owners only); the token is mailed to "
        "the invited address, so accepting proves the address."
    )
    async def invite_member(self, info: Ctx, email: str) -> CreatedInvitation:
        context = ctx(info)
        require(context.viewer, Action.INVITE_MEMBER, context.viewer.provider_id)
        async with context.session() as session, session.begin():
            invitation = await identity.invite_member(session, context.viewer, email)
        await deliver_in_development(info)
        return CreatedInvitation(email=invitation.email, expires_at=invitation.expires_at)

    @strawberry.mutation(
        description="Accept an invitation: create your partner account and sign in."
    )
    async def accept_invitation(
        self, info: Ctx, token: str, password: str, display_name: str
    ) -> AuthPayload:
        context = ctx(info)
        await limit_sign_ups(info)
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
            row = await session.get(Account, account_id)
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
