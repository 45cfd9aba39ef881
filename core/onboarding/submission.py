"""The provider's own steps on an application: submit it for review, or withdraw it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.vocabulary import ApplicationStatus as S
from linkstar.core.onboarding.applications import (
    Action,
    ChecklistIncomplete,
    checklist,
    transition,
)
from linkstar.core.onboarding.models import Application

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import CategoryContribution


async def submit(
    session: AsyncSession,
    viewer: Viewer,
    application: Application,
    contribution: CategoryContribution,
) -> None:
    """Submit (or resubmit) for review: refused with the full checklist if anything is
    missing (`CHECKLIST_INCOMPLETE`), then the SUBMIT transition."""
    if application.status in (S.DRAFT, S.MORE_INFORMATION_REQUESTED):
        found = await checklist(session, application, contribution, contribution.onboarding)
        if not found.ready:
            raise ChecklistIncomplete(found.problems)
    await transition(session, application, viewer, Action.SUBMIT)
    application.submitted_at = utcnow()


async def withdraw(
    session: AsyncSession, viewer: Viewer, application: Application, reason: str
) -> None:
    """Withdraw the application (the WITHDRAW transition), with the provider's reason."""
    await transition(session, application, viewer, Action.WITHDRAW, reason)
    application.decided_at = utcnow()
