"""Who may (re)apply: starting an application, and the bar a veto puts on a provider.

A veto (一票否决) binds the provider, not one application: the provider is barred, so it
cannot start a new application in any category, and its registration number cannot come
back under a new account. Only a reviewer lifts a bar, with a reason, on the timeline; an
upheld appeal against the veto lifts it too.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Forbidden, Viewer
from linkstar.core.kernel.db import claim, utcnow
from linkstar.core.kernel.errors import Conflict, InvalidInput, LinkStarError, NotFound
from linkstar.core.kernel.vocabulary import ApplicationStatus
from linkstar.core.onboarding.applications import OPEN_STATES, timeline
from linkstar.core.onboarding.models import Application, ProviderBar
from linkstar.core.providers.models import Provider

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


class ProviderBarred(LinkStarError):
    """The provider (or its registration number) is barred after a veto."""

    code = "PROVIDER_BARRED"


def registration_key(number: str) -> str:
    """The registration number as letters and digits only, upper case: how bars compare it."""
    return _NOT_ALNUM.sub("", number.upper())


async def active_bar(session: AsyncSession, provider_id: int) -> ProviderBar | None:
    """The provider's bar in force, if any."""
    return (
        await session.execute(
            select(ProviderBar)
            .where(ProviderBar.provider_id == provider_id, ProviderBar.lifted_at.is_(None))
            .order_by(ProviderBar.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def latest_bar(session: AsyncSession, provider_id: int) -> ProviderBar | None:
    """The provider's most recent bar, lifted or not."""
    return (
        await session.execute(
            select(ProviderBar)
            .where(ProviderBar.provider_id == provider_id)
            .order_by(ProviderBar.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def refuse_barred_registration(session: AsyncSession, number: str) -> None:
    """Refuse a registration whose number belongs to a barred provider (any spelling, region)."""
    found = (
        await session.execute(
            select(ProviderBar.id)
            .where(
                ProviderBar.registration_key == registration_key(number),
                ProviderBar.lifted_at.is_(None),
            )
            .limit(1)
        )
    ).scalar_one_or_none()
    if found is not None:
        raise ProviderBarred(
            "this registration number is barred from the platform after a veto",
            suggestion="contact the platform; only a reviewer can lift the bar",
        )


async def bar_provider(
    session: AsyncSession, provider_id: int, viewer: Viewer, reason: str, violation_id: int
) -> ProviderBar:
    """Bar the provider for one veto (each veto its own bar) and record it on the timeline."""
    provider = await session.get(Provider, provider_id)
    if provider is None:
        raise NotFound("no such provider")
    bar = ProviderBar(
        provider_id=provider_id,
        registration_key=registration_key(provider.registration_number),
        reason=reason,
        violation_id=violation_id,
        created_by=viewer.label,
    )
    session.add(bar)
    await session.flush()
    timeline(
        session,
        None,
        provider_id,
        viewer,
        "provider.barred",
        {"bar": bar.id, "reason": reason, "violation": violation_id},
    )
    return bar


async def lift_bar(
    session: AsyncSession, bar: ProviderBar, viewer: Viewer, reason: str
) -> ProviderBar:
    """Lift a bar (reviewers only, with a reason); of concurrent lifts exactly one wins."""
    if not viewer.is_staff or viewer.scopes is not None:
        raise Forbidden("only a reviewer lifts a bar")
    if not reason.strip():
        raise InvalidInput("give the reason for lifting the bar")
    if bar.lifted_at is not None:
        raise Conflict(
            f"the bar was already lifted by {bar.lifted_by}", suggestion="reload the provider"
        )
    await claim(
        session,
        ProviderBar,
        bar.id,
        {"lifted_at": None},
        {"lifted_at": utcnow(), "lifted_by": viewer.label, "lift_reason": reason.strip()},
        "the bar",
    )
    timeline(
        session,
        None,
        bar.provider_id,
        viewer,
        "provider.bar_lifted",
        {"bar": bar.id, "reason": reason.strip()},
    )
    return bar


async def lift_bars_of_violation(
    session: AsyncSession, violation_id: int, viewer: Viewer, reason: str
) -> list[int]:
    """Lift the bars a violation's veto put in force (an upheld appeal overturned it)."""
    bars = (
        (
            await session.execute(
                select(ProviderBar).where(
                    ProviderBar.violation_id == violation_id, ProviderBar.lifted_at.is_(None)
                )
            )
        )
        .scalars()
        .all()
    )
    for bar in bars:
        await lift_bar(session, bar, viewer, reason)
    return [bar.id for bar in bars]


async def start_application(
    session: AsyncSession, viewer: Viewer, category: str, reapply_cooldown_days: int
) -> Application:
    """A new DRAFT for the viewer's provider: not barred, none open, past a rejection's cooldown."""
    provider_id = viewer.provider_id
    assert provider_id is not None
    if await active_bar(session, provider_id) is not None:
        raise ProviderBarred(
            "the provider is barred after a veto and cannot apply",
            suggestion="only a reviewer can lift the bar",
        )
    previous = (
        (
            await session.execute(
                select(Application)
                .where(
                    Application.provider_id == provider_id,
                    Application.category_key == category,
                )
                .order_by(Application.id.desc())
            )
        )
        .scalars()
        .all()
    )
    for app in previous:
        if app.status in OPEN_STATES:
            raise InvalidInput(
                f"there is already an application for {category} ({app.status.value})",
                code="APPLICATION_EXISTS",
            )
    rejected = [a for a in previous if a.status is ApplicationStatus.REJECTED and a.decided_at]
    if rejected:
        available = rejected[0].decided_at + timedelta(days=reapply_cooldown_days)
        if available > utcnow():
            raise InvalidInput(
                f"after a rejection, {category} accepts a new application from "
                f"{available.date().isoformat()}",
                code="REAPPLY_COOLDOWN",
                details={"availableFrom": available.isoformat()},
            )
    application = Application(
        provider_id=provider_id, category_key=category, status=ApplicationStatus.DRAFT
    )
    session.add(application)
    await session.flush()
    timeline(
        session, application, provider_id, viewer, "application.started", {"category": category}
    )
    return application
