"""What mutations share: the write transaction, id parsing and the actor checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from linkstar.core.identity.policy import Action, require
from linkstar.core.kernel.errors import Conflict, InvalidInput
from linkstar.core.onboarding import applications as onboarding
from linkstar.core.onboarding.models import Application
from linkstar.schema.nodes import Ctx, ctx, parse_global_id
from linkstar.schema.pagination import node_int


@asynccontextmanager
async def write(info: Ctx) -> AsyncIterator[AsyncSession]:
    """One transaction for one mutation; a lost optimistic-lock race becomes CONFLICT."""
    try:
        async with ctx(info).session() as session, session.begin():
            yield session
    except StaleDataError:
        raise Conflict(
            "the application was changed by someone else at the same time",
            suggestion="reload it and try again",
        ) from None


def parse_id(value: strawberry.ID, type_name: str) -> int:

    gid = parse_global_id(value)
    number = node_int(gid.node_id)
    if gid.type_name != type_name or number is None:
        raise InvalidInput(f"{value!r} is not a {type_name} id", code="INVALID_ID")
    return number


async def application_of(session: AsyncSession, info: Ctx, value: strawberry.ID) -> Application:
    return await onboarding.load_application(
        session, parse_id(value, "Application"), ctx(info).viewer
    )


def require_provider_member(info: Ctx) -> int:
    """The viewer's provider, if the policy lets it act for it (no API-token scope does)."""
    viewer = ctx(info).viewer
    require(viewer, Action.ACT_FOR_OWN_PROVIDER, viewer.provider_id)
    assert viewer.provider_id is not None
    return viewer.provider_id


def require_reviewer(info: Ctx) -> None:
    """Review work is for staff signed in with a session (no API-token scope includes it)."""
    require(ctx(info).viewer, Action.REVIEW)
