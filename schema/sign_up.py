"""What every sign-up shares (accounts in `identity`, provider registration in `providers`):
the per-address limit, the answer that tells nothing about taken addresses, and mail printed in
development. Both domains import it; neither imports the other for it.
"""

from __future__ import annotations

import sys

import strawberry

from linkstar.core.identity import outbox, ratelimit
from linkstar.core.identity.models import OutboxMessage
from linkstar.schema.nodes import Ctx, ctx


@strawberry.type(
    description="The answer to a sign-up: the same whether or not the address was free. "
    "What happens next is in the message mailed to the address."
)
class SignUpPayload:
    email: str
    message: str


async def limit_sign_ups(info: Ctx) -> None:
    """Sign-ups, registrations, invitation and address confirmations: per address, per hour."""
    context = ctx(info)
    await ratelimit.hit(
        context.sessionmaker,
        f"signup:address:{context.client_address or 'unknown'}",
        ratelimit.SIGN_UPS_PER_ADDRESS,
        "sign-ups from this address",
    )


def _print_message(message: OutboxMessage) -> None:
    print(
        f"--- mail to {message.recipient}: {message.subject}\n{message.body}---",
        file=sys.stderr,
        flush=True,
    )


async def deliver_in_development(info: Ctx) -> None:
    """In development there is no mail server: print what the outbox holds to stderr."""
    context = ctx(info)
    if context.settings.development:
        await outbox.drain(context.sessionmaker, _print_message)
