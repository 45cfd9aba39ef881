"""Review decisions on one application: picking it up, assignment, each document's review, the
interview (scheduled, then recorded), approval into probation or rejection, and the rules for
passing probation against the KPI recommendation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.models import Account
from linkstar.core.identity.policy import Forbidden, Viewer
from linkstar.core.kernel.db import claim, utcnow
from linkstar.core.kernel.errors import InvalidInput, LinkStarError, NotFound
from linkstar.core.kernel.vocabulary import ApplicationStatus as S
from linkstar.core.kernel.vocabulary import DocumentStatus, Role
from linkstar.core.onboarding.applications import (
    Action,
    ChecklistIncomplete,
    ItemStatus,
    checklist,
    start_probation,
    timeline,
    transition,
)
from linkstar.core.onboarding.models import Application, Document, Interview

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import CategoryContribution

PASSED = "PASSED"


async def latest_interview(session: AsyncSession, application: Application) -> Interview | None:
    """The application's most recent interview."""
    return (
        (
            await session.execute(
                select(Interview)
                .where(Interview.application_id == application.id)
                .order_by(Interview.id.desc())
            )
        )
        .scalars()
        .first()
    )


async def approve(
    session: AsyncSession,
    viewer: Viewer,
    application: Application,
    contribution: CategoryContribution,
    reason: str | None,
) -> Application:
    """Approve into probation: every mandatory item accepted, the interview (where the category
    requires one) held and passed; probation starts with the category's terms."""
    items = await checklist(session, application, contribution, contribution.onboarding)
    blocking = [i for i in items.items if i.mandatory and i.status is not ItemStatus.OK]
    if blocking and application.status in (S.IN_REVIEW, S.INTERVIEWED):
        raise ChecklistIncomplete(blocking)
    if contribution.category.interview_required:
        if application.status is S.IN_REVIEW:
            raise InvalidInput(
                f"{application.category_key} requires an interview before approval",
                code="INTERVIEW_REQUIRED",
            )
        if application.status is S.INTERVIEWED:
            interview = await latest_interview(session, application)
            if interview is None or interview.outcome != PASSED:
                raise InvalidInput(
                    "the interview was not passed; reject instead", code="INTERVIEW_NOT_PASSED"
                )
    await transition(session, application, viewer, Action.APPROVE, reason)
    await start_probation(application, contribution.onboarding)
    return application


async def record_interview(
    session: AsyncSession, viewer: Viewer, application: Application, outcome: str, notes: str
) -> Application:
    """Record a held interview's outcome and (internal) notes; not before it was scheduled."""
    if not notes.strip():
        raise InvalidInput("record what the interview showed (notes)")
    interview = await latest_interview(session, application)
    if interview is not None and interview.scheduled_at > utcnow():
        raise InvalidInput(
            f"the interview is scheduled for {interview.scheduled_at.isoformat()}; "
            "record it once it has been held",
            code="INTERVIEW_NOT_HELD_YET",
            suggestion="reschedule it (scheduleInterview) if it was held earlier",
        )
    await transition(
        session, application, viewer, Action.RECORD_INTERVIEW, payload={"outcome": outcome}
    )
    assert interview is not None  # INTERVIEW_SCHEDULED always has one
    interview.outcome = outcome
    interview.notes = notes.strip()
    interview.recorded_at = utcnow()
    return application


class ProbationNotOver(LinkStarError):
    """Passing against the recommendation before the probation has run its course."""

    code = "PROBATION_NOT_OVER"


def check_probation_pass(
    application: Application, viewer: Viewer, recommendation: str, admin_override: bool
) -> bool:
    """Whether a PASS goes against the system's recommendation; refused while the probation
    still runs, unless an admin overrides explicitly."""
    against = recommendation != "PASS"
    if admin_override and viewer.role is not Role.ADMIN:
        raise Forbidden("only an admin overrides the probation rules")
    if against and not admin_override:
        ends = application.probation_ends_at
        if ends is None or ends > utcnow():
            raise ProbationNotOver(
                f"the system recommends {recommendation}; passing against it needs the "
                "probation to have run"
                + (f" (it ends {ends.isoformat()})" if ends else " (it has no end date)"),
                suggestion="wait for the end, extend it, or ask an admin to override",
            )
    return against


async def assign(
    session: AsyncSession,
    application: Application,
    viewer: Viewer,
    reviewer_id: int,
    email: str,
    expected_version: int | None = None,
) -> None:
    """Assign the application to a reviewer: an admin reassigns; a reviewer only takes an
    unassigned one. Of concurrent assignments exactly one wins; with `expected_version` (the
    version the caller saw) a caller who decided on a stale view loses too."""
    current = application.reviewer_account_id
    if current is not None and current != reviewer_id and viewer.role is not Role.ADMIN:
        raise Forbidden("only an admin reassigns an application")
    if current is None and viewer.role is not Role.ADMIN and reviewer_id != viewer.account_id:
        raise Forbidden("a reviewer takes an application for themself; an admin assigns others")
    await claim(
        session,
        Application,
        application.id,
        {
            "reviewer_account_id": current,
            "version": application.version if expected_version is None else expected_version,
        },
        {
            "reviewer_account_id": reviewer_id,
            "version": application.version + 1,
            "updated_at": utcnow(),
        },
        "the assignment",
    )
    timeline(
        session,
        application,
        application.provider_id,
        viewer,
        "application.assigned",
        {"reviewer": email, "previous": current},
        internal=True,
    )


def new_interview(
    application: Application, at: Any, interviewer_id: int, channel: str
) -> Interview:
    """An interview row for `application`."""
    return Interview(
        application_id=application.id,
        provider_id=application.provider_id,
        scheduled_at=at,
        interviewer_account_id=interviewer_id,
        channel=channel,
    )


async def start_review(session: AsyncSession, viewer: Viewer, application: Application) -> None:
    """Pick up a submitted application: the START_REVIEW transition; the viewer reviews it."""
    await transition(session, application, viewer, Action.START_REVIEW)
    application.reviewer_account_id = viewer.account_id


async def reject(
    session: AsyncSession, viewer: Viewer, application: Application, reason: str
) -> None:
    """Reject the application (the REJECT transition) with the reason the provider sees."""
    await transition(session, application, viewer, Action.REJECT, reason)
    application.decided_at = utcnow()


# documents are reviewed once the application is in review, and again later (renewals)
_DOCUMENTS_REVIEWED_IN = (S.IN_REVIEW, S.INTERVIEW_SCHEDULED, S.INTERVIEWED, S.PROBATION, S.ACTIVE)


async def review_document(
    session: AsyncSession, viewer: Viewer, document: Document, accept: bool, reason: str | None
) -> None:
    """Accept or reject one document of an application in review; a rejection needs a reason
    the provider can act on. Bumps the application's version, so a concurrent transition
    sees the change."""
    if document.application_id is None:
        raise NotFound("no such document")
    application = await session.get(Application, document.application_id)
    assert application is not None
    if application.status not in _DOCUMENTS_REVIEWED_IN:
        raise InvalidInput(
            "documents are reviewed once the application is in review "
            f"(it is {application.status.value})",
            code="APPLICATION_NOT_IN_REVIEW",
        )
    if not accept and not (reason and reason.strip()):
        raise InvalidInput("rejecting a document needs a reason the provider can act on")
    document.status = DocumentStatus.ACCEPTED if accept else DocumentStatus.REJECTED
    document.review_reason = reason
    document.reviewed_by = viewer.account_id
    document.reviewed_at = utcnow()
    application.updated_at = utcnow()
    timeline(
        session,
        application,
        application.provider_id,
        viewer,
        f"document.{document.status.value.lower()}",
        {"document": document.requirement_key, "sha256": document.sha256, "reason": reason},
    )


async def schedule_interview(
    session: AsyncSession,
    viewer: Viewer,
    application: Application,
    interview_required: bool,
    at: datetime,
    interviewer: Account | None,
    channel: str,
) -> None:
    """Schedule (or reschedule) the interview of a category that requires one, with a reviewer
    or an admin, at an aware time: the SCHEDULE_INTERVIEW transition and an `Interview` row."""
    if at.tzinfo is None:
        raise InvalidInput("give the interview time with its time zone offset")
    if not interview_required:
        raise InvalidInput(
            f"{application.category_key} requires no interview; approve or reject instead",
            code="NO_INTERVIEW",
        )
    if interviewer is None or interviewer.role not in (Role.REVIEWER, Role.ADMIN):
        raise InvalidInput("the interviewer must be a reviewer or an admin")
    await transition(
        session,
        application,
        viewer,
        Action.SCHEDULE_INTERVIEW,
        payload={
            "at": at.isoformat(),
            "interviewer": f"{interviewer.role.value.title()} {interviewer.display_name}",
            "channel": channel,
        },
    )
    session.add(new_interview(application, at, interviewer.id, channel))


def review_queue(
    viewer: Viewer,
    *,
    status: S | None = None,
    category: str | None = None,
    mine: bool = False,
) -> tuple[Select[tuple[Application]], Select[tuple[int]]]:
    """Applications across providers for reviewers, narrowed by status, category and those
    assigned to `viewer` (all given must hold), and the query counting them."""
    conditions: list[Any] = []
    if status is not None:
        conditions.append(Application.status == status)
    if category is not None:
        conditions.append(Application.category_key == category)
    if mine:
        conditions.append(Application.reviewer_account_id == viewer.account_id)
    return (
        select(Application).where(*conditions),
        select(func.count()).select_from(Application).where(*conditions),
    )
