"""Accounts, passwords, sessions, access tokens, API tokens and invitations.

Passwords: argon2id (argon2-cffi). Access tokens: short-lived HS256 JWTs that name their
session; every request checks the session is still live, so logout and password change revoke
them at once. Refresh tokens, API tokens and invitation tokens are random, shown once, and
stored only as SHA-256.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity import outbox
from linkstar.core.identity.models import (
    Account,
    ApiToken,
    AuthSession,
    Invitation,
    SpentRefreshToken,
)
from linkstar.core.identity.policy import ANONYMOUS, Unauthenticated, Viewer
from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.vocabulary import Role, TokenScope
from linkstar.core.providers.models import Provider

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
INVITATION_TTL = timedelta(days=7)
MAX_API_TOKEN_DAYS = 365
API_TOKEN_PREFIX = "lsk_"
MIN_PASSWORD = 12
MAX_PASSWORD = 256
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_hasher = PasswordHasher()
# Verifying against a real hash when the account does not exist keeps timing uniform. It is a
# constant made with the hasher's parameters (hashing at import cost every start-up ~0.1-1 s);
# tests/test_fast_paths.py checks the parameters still match, so the timing stays equal.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$dd8gLALFJEpEFAx1WyIN8A"
    "$ti5614IC5+4rrAeAvN0mz9Bg++D/sQr9Te1epRbl/5o"
)


def digest(token: str) -> str:
    """SHA-256 of a secret token, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """Lower-cased, trimmed; InvalidInput if it cannot be an address."""
    email = email.strip().lower()
    if len(email) > 254 or not EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an email address")
    return email


def check_password_strength(password: str) -> None:
    """InvalidInput unless the password is long enough (length beats composition rules)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(
            f"a password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters",
            suggestion="use a passphrase of several words",
        )


def hash_password(password: str) -> str:
    """argon2id hash of `password`."""
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class EmailNotVerified(Unauthenticated):
    """The password is right but the address is not proven yet (only its owner learns this)."""

    code = "EMAIL_NOT_VERIFIED"

    def __init__(self) -> None:
        super().__init__(
            "confirm your email address first",
            suggestion="use the token we mailed you (verifyEmail), or ask for a new one with "
            "requestEmailVerification",
        )


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """What a successful login or refresh hands back (the refresh token only this once)."""

    account: Account
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


async def create_account(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role,
    provider_id: int | None = None,
    is_provider_owner: bool = False,
) -> Account:
    """A new account; InvalidInput when the email is taken or the password too weak."""
    email = normalise_email(email)
    check_password_strength(password)
    if not display_name.strip() or len(display_name) > 120:
        raise InvalidInput("displayName must have 1 to 120 characters")
    if (role is Role.PARTNER) != (provider_id is not None):
        raise InvalidInput("a partner account belongs to exactly one provider; other roles to none")
    account = Account(
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        role=role,
        provider_id=provider_id,
        is_provider_owner=is_provider_owner,
    )
    session.add(account)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise InvalidInput(
            "an account with this email address already exists",
            code="EMAIL_TAKEN",
            suggestion="sign in with it",
        ) from None
    return account


def _access_token(account: Account, auth_session: AuthSession, secret: str) -> tuple[str, datetime]:
    expires = utcnow() + ACCESS_TTL
    claims = {
        "sub": str(account.id),
        "sid": auth_session.id,
        "role": account.role.value,
        "iat": int(utcnow().timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256"), expires


async def open_session(session: AsyncSession, account: Account, secret: str) -> IssuedTokens:
    """A new signed-in session for `account` (credentials already checked by the caller)."""
    refresh = secrets.token_urlsafe(32)
    auth_session = AuthSession(
        account_id=account.id, refresh_hash=digest(refresh), expires_at=utcnow() + REFRESH_TTL
    )
    session.add(auth_session)
    await session.flush()
    access, access_expires = _access_token(account, auth_session, secret)
    return IssuedTokens(account, access, access_expires, refresh, auth_session.expires_at)


async def login(session: AsyncSession, email: str, password: str, secret: str) -> IssuedTokens:
    """Check the credentials and open a session; one message for every failure (no enumeration)."""
    try:
        email = normalise_email(email)
    except InvalidInput:
        email = ""
    account = (
        await session.execute(select(Account).where(Account.email == email))
    ).scalar_one_or_none()
    valid = _verify(account.password_hash if account else _DUMMY_HASH, password)
    if account is None or not valid or account.disabled:
        raise Unauthenticated("invalid email or password")
    if account.email_verified_at is None:
        raise EmailNotVerified()
    return await open_session(session, account, secret)


class RefreshTokenReused(Unauthenticated):
    """A refresh token that was already rotated away came back: it was copied."""

    code = "REFRESH_TOKEN_REUSED"

    def __init__(self, session_id: int) -> None:
        super().__init__(
            "this refresh token was already used; the session has been ended for safety",
            suggestion="sign in again; if you did not reuse the token, change your password",
        )
        self.session_id = session_id


async def refresh(session: AsyncSession, refresh_token: str, secret: str) -> IssuedTokens:
    """Rotate a refresh token: the old one stops working, a new pair is issued.

    A rotated token presented again raises RefreshTokenReused naming its session; the caller
    ends that session (`end_reused_session`) in a transaction of its own, since this one is
    rolled back by the error.
    """
    token_hash = digest(refresh_token)
    auth_session = (
        await session.execute(
            select(AuthSession).where(AuthSession.refresh_hash == token_hash).with_for_update()
        )
    ).scalar_one_or_none()
    if auth_session is None:
        spent = await session.get(SpentRefreshToken, token_hash)
        if spent is not None:
            raise RefreshTokenReused(spent.session_id)
    if (
        auth_session is None
        or auth_session.revoked_at is not None
        or auth_session.expires_at <= utcnow()
    ):
        raise Unauthenticated(
            "the refresh token is invalid, expired or revoked", suggestion="sign in again"
        )
    account = await session.get(Account, auth_session.account_id)
    if account is None or account.disabled:
        raise Unauthenticated("the account is disabled")
    new_refresh = secrets.token_urlsafe(32)
    session.add(SpentRefreshToken(token_hash=token_hash, session_id=auth_session.id))
    auth_session.refresh_hash = digest(new_refresh)
    auth_session.expires_at = utcnow() + REFRESH_TTL
    await session.flush()
    access, access_expires = _access_token(account, auth_session, secret)
    return IssuedTokens(account, access, access_expires, new_refresh, auth_session.expires_at)


async def end_reused_session(session: AsyncSession, session_id: int) -> int | None:
    """Revoke the session whose rotated refresh token was reused; returns its account id."""
    auth_session = await session.get(AuthSession, session_id)
    if auth_session is None:
        return None
    if auth_session.revoked_at is None:
        auth_session.revoked_at = utcnow()
        auth_session.revoked_reason = "refresh token reused"
    return auth_session.account_id


async def revoke_sessions(
    session: AsyncSession, account_id: int, reason: str, only: int | None = None
) -> None:
    """Revoke one session (`only`) or every live session of an account."""
    stmt = (
        update(AuthSession)
        .where(AuthSession.account_id == account_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    if only is not None:
        stmt = stmt.where(AuthSession.id == only)
    await session.execute(stmt)


async def change_password(
    session: AsyncSession, viewer: Viewer, current: str, new: str, secret: str
) -> IssuedTokens:
    """Change the password, revoke every session (and so every access token), open a new one."""
    if viewer.account_id is None or viewer.session_id is None:
        raise Unauthenticated("sign in with a session (not an API token) to change the password")
    account = await session.get(Account, viewer.account_id)
    if account is None or not _verify(account.password_hash, current):
        raise Unauthenticated("the current password is wrong")
    check_password_strength(new)
    if current == new:
        raise InvalidInput("the new password must differ from the current one")
    account.password_hash = hash_password(new)
    account.password_changed_at = utcnow()
    await revoke_sessions(session, account.id, "password changed")
    # a leaked password must not live on as a long-lived API token
    await revoke_api_tokens(session, account.id)
    return await open_session(session, account, secret)


async def revoke_api_tokens(session: AsyncSession, account_id: int) -> None:
    """Revoke every live API token of an account."""
    await session.execute(
        update(ApiToken)
        .where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def create_api_token(
    session: AsyncSession, viewer: Viewer, name: str, scopes: list[TokenScope], days: int
) -> tuple[ApiToken, str]:
    """A new API token for the viewer's account; the plain token is returned only here."""
    if viewer.account_id is None:
        raise Unauthenticated("sign in first")
    if viewer.token_id is not None:
        raise InvalidInput("an API token cannot create API tokens; sign in with a session")
    if not name.strip() or len(name) > 80:
        raise InvalidInput("name must have 1 to 80 characters")
    if not scopes or len(set(scopes)) != len(scopes):
        raise InvalidInput(
            "give at least one scope, each once",
            suggestion=f"scopes: {[s.value for s in TokenScope]}",
        )
    if not 1 <= days <= MAX_API_TOKEN_DAYS:
        raise InvalidInput(f"expiresInDays must be between 1 and {MAX_API_TOKEN_DAYS}")
    plain = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account_id=viewer.account_id,
        name=name.strip(),
        prefix=plain[:12],
        token_hash=digest(plain),
        scopes=sorted(s.value for s in scopes),
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(token)
    await session.flush()
    return token, plain


def api_tokens_of(account_id: int | None) -> tuple[Select[tuple[ApiToken]], Select[tuple[int]]]:
    """An account's API tokens (metadata only: the secrets are never stored), and the query
    counting them."""
    condition = ApiToken.account_id == account_id
    return (
        select(ApiToken).where(condition),
        select(func.count()).select_from(ApiToken).where(condition),
    )


async def revoke_api_token(session: AsyncSession, viewer: Viewer, token_id: int) -> ApiToken:
    """Revoke one of the viewer's own tokens; another account's token is NotFound."""
    token = await session.get(ApiToken, token_id)
    if token is None or token.account_id != viewer.account_id:
        raise NotFound("no such API token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


async def invite_member(session: AsyncSession, viewer: Viewer, email: str) -> Invitation:
    """An invitation to join the viewer's provider; its token is mailed to the invited address
    only (through the outbox), so accepting it proves the address."""
    assert viewer.provider_id is not None and viewer.account_id is not None
    plain = secrets.token_urlsafe(32)
    invitation = Invitation(
        provider_id=viewer.provider_id,
        email=normalise_email(email),
        token_hash=digest(plain),
        invited_by=viewer.account_id,
        expires_at=utcnow() + INVITATION_TTL,
    )
    session.add(invitation)
    await session.flush()
    provider = await session.get(Provider, viewer.provider_id)
    outbox.queue(
        session,
        invitation.email,
        "LinkStar: you are invited to join a provider",
        f"You are invited to join {provider.legal_name if provider else 'a provider'} on "
        f"LinkStar. Accept within {INVITATION_TTL.days} days with this token:\n\n{plain}\n\n"
        'GraphQL: mutation { acceptInvitation(token: "' + plain + '", password: "…", '
        'displayName: "…") { accessToken refreshToken } }\n',
    )
    return invitation


async def accept_invitation(
    session: AsyncSession, token: str, password: str, display_name: str, secret: str
) -> IssuedTokens:
    """Create the invited member's account and sign it in."""
    invitation = (
        await session.execute(
            select(Invitation).where(Invitation.token_hash == digest(token)).with_for_update()
        )
    ).scalar_one_or_none()
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.expires_at <= utcnow()
    ):
        raise InvalidInput("the invitation is invalid, used or expired", code="INVITATION_INVALID")
    if await session.get(Provider, invitation.provider_id) is None:
        raise InvalidInput("the inviting provider no longer exists", code="INVITATION_INVALID")
    account = await create_account(
        session,
        email=invitation.email,
        password=password,
        display_name=display_name,
        role=Role.PARTNER,
        provider_id=invitation.provider_id,
    )
    invitation.accepted_at = utcnow()
    return await open_session(session, account, secret)


def _claimed_id(value: object) -> int:
    """A database id from a signed claim; anything else makes the token invalid."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    raise Unauthenticated("the access token is invalid")


# Every signed-in request runs this: built once, and only the columns a Viewer needs (no ORM
# objects to build and track for a row that is never changed here).
_SESSION_VIEWER = (
    select(
        AuthSession.revoked_at,
        Account.id,
        Account.role,
        Account.provider_id,
        Account.is_provider_owner,
        Account.email,
        Account.disabled,
    )
    .join(Account, Account.id == AuthSession.account_id)
    .where(AuthSession.id == bindparam("session_id"), Account.id == bindparam("account_id"))
)


async def authenticate(session: AsyncSession, authorization: str | None, secret: str) -> Viewer:
    """The viewer behind an `Authorization` header; Unauthenticated for a bad credential."""
    if not authorization:
        return ANONYMOUS
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthenticated("use Authorization: Bearer <token>")
    credential = credential.strip()
    if credential.startswith(API_TOKEN_PREFIX):
        row = (
            await session.execute(
                select(ApiToken, Account)
                .join(Account, Account.id == ApiToken.account_id)
                .where(ApiToken.token_hash == digest(credential))
            )
        ).first()
        if row is None:
            raise Unauthenticated("unknown API token")
        token, account = row
        if token.revoked_at is not None or token.expires_at <= utcnow() or account.disabled:
            raise Unauthenticated("the API token is revoked or expired")
        return Viewer(
            account_id=account.id,
            role=account.role,
            provider_id=account.provider_id,
            is_provider_owner=account.is_provider_owner,
            token_id=token.id,
            scopes=frozenset(TokenScope(s) for s in token.scopes),
            label=f"{account.email} (token {token.prefix}…)",
        )
    try:
        claims = jwt.decode(
            credential, secret, algorithms=["HS256"], options={"require": ["exp", "sub", "sid"]}
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated(
            "the access token has expired", suggestion="call refreshSession"
        ) from None
    except jwt.InvalidTokenError:
        raise Unauthenticated("the access token is invalid") from None
    session_id, account_id = _claimed_id(claims["sid"]), _claimed_id(claims["sub"])
    row = (
        await session.execute(_SESSION_VIEWER, {"session_id": session_id, "account_id": account_id})
    ).first()
    if row is None or row.revoked_at is not None or row.disabled:
        raise Unauthenticated("the session has ended", suggestion="sign in again")
    return Viewer(
        account_id=row.id,
        role=row.role,
        provider_id=row.provider_id,
        is_provider_owner=row.is_provider_owner,
        session_id=session_id,
        label=row.email,
    )
