"""Self-service sign-up that proves the address and tells nobody which addresses exist.

Every sign-up answers the same whatever the address: when it is free, the account is created
unverified and a verification token is mailed to it; when it is taken, its owner is mailed a
notice instead. The account signs in only after `verify_email`.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity import outbox
from linkstar.core.identity.accounts import (
    IssuedTokens,
    check_password_strength,
    create_account,
    digest,
    hash_password,
    normalise_email,
    open_session,
)
from linkstar.core.identity.models import Account, EmailVerification
from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.vocabulary import Role

VERIFICATION_TTL = timedelta(hours=48)
SIGN_UP_ANSWER = (
    "check your mailbox: we sent a message to this address. If it can be registered, the "
    "message holds the token to confirm it (verifyEmail); if not, it says why."
)


def address_taken_notice(session: AsyncSession, email: str, what: str) -> None:
    """Tell the owner of an existing account that someone tried to use their address."""
    outbox.queue(
        session,
        email,
        "LinkStar: someone tried to sign up with your address",
        f"Someone asked to {what} with {email}, which already has a LinkStar account.\n"
        "If it was you, sign in (login) instead. If not, you can ignore this message.\n",
    )


async def email_taken(session: AsyncSession, email: str) -> bool:
    """Whether an account uses this (normalised) address."""
    return (
        await session.execute(select(Account.id).where(Account.email == email))
    ).first() is not None


async def send_verification(session: AsyncSession, account: Account) -> None:
    """Mail a new single-use token that proves `account`'s address."""
    plain = secrets.token_urlsafe(32)
    session.add(
        EmailVerification(
            account_id=account.id,
            token_hash=digest(plain),
            expires_at=utcnow() + VERIFICATION_TTL,
        )
    )
    outbox.queue(
        session,
        account.email,
        "LinkStar: confirm your email address",
        f"Confirm {account.email} for your LinkStar account with this token (valid "
        f"{int(VERIFICATION_TTL.total_seconds() // 3600)} hours):\n\n{plain}\n\n"
        f'GraphQL: mutation {{ verifyEmail(token: "{plain}") {{ accessToken refreshToken }} }}\n',
    )


async def sign_up(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role,
    provider_id: int | None = None,
    is_provider_owner: bool = False,
) -> Account | None:
    """An unverified account with a verification mail; None (and a notice) if the address is
    taken. Validation errors (weak password, bad address) are the same for everyone."""
    email = normalise_email(email)
    check_password_strength(password)
    if await email_taken(session, email):
        hash_password(password)  # the same work as the free path: timing tells nothing
        address_taken_notice(session, email, "create an account")
        return None
    account = await create_account(
        session,
        email=email,
        password=password,
        display_name=display_name,
        role=role,
        provider_id=provider_id,
        is_provider_owner=is_provider_owner,
    )
    account.email_verified_at = None
    await session.flush()
    await send_verification(session, account)
    return account


async def verify_email(session: AsyncSession, token: str, secret: str) -> IssuedTokens:
    """Use a verification token: the address is proven and the account signed in."""
    row = (
        await session.execute(
            select(EmailVerification)
            .where(EmailVerification.token_hash == digest(token))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise InvalidInput(
            "the verification token is invalid, used or expired",
            code="VERIFICATION_INVALID",
            suggestion="ask for a new one with requestEmailVerification",
        )
    account = await session.get(Account, row.account_id)
    if account is None or account.disabled:
        raise InvalidInput(
            "the verification token is invalid, used or expired", code="VERIFICATION_INVALID"
        )
    row.used_at = utcnow()
    if account.email_verified_at is None:
        account.email_verified_at = utcnow()
    return await open_session(session, account, secret)


async def request_verification(session: AsyncSession, email: str) -> None:
    """Mail a new token if an unverified account has this address; otherwise do nothing
    (the caller answers the same either way)."""
    try:
        email = normalise_email(email)
    except InvalidInput:
        return
    account = (
        await session.execute(select(Account).where(Account.email == email))
    ).scalar_one_or_none()
    if account is not None and account.email_verified_at is None and not account.disabled:
        await send_verification(session, account)
