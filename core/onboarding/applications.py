"""Onboarding (入驻): from a draft application to the provider pool.

The state machine is one table of (state, action) → (next state, who may act). Every
transition is checked against it, runs in the caller's transaction, bumps the application's
version (so two reviewers cannot both win) and appends a timeline entry.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Forbidden, Viewer
from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput, LinkStarError, NotFound
from linkstar.core.kernel.signals import Signal
from linkstar.core.kernel.timeline import record as timeline_record
from linkstar.core.kernel.vocabulary import ApplicationStatus as S
from linkstar.core.kernel.vocabulary import DocumentStatus, Role
from linkstar.core.onboarding.documents import DocumentRequirement
from linkstar.core.onboarding.models import AgreementSignature, Application, Document
from linkstar.core.onboarding.policy import OnboardingPolicy
from linkstar.core.providers.categories import ProfileInvalid
from linkstar.core.providers.models import CategoryProfileRow, Provider

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import CategoryContribution

# --- the state machine ---------------------------------------------------------------------


class Action(enum.StrEnum):
    SUBMIT = "SUBMIT"
    WITHDRAW = "WITHDRAW"
    START_REVIEW = "START_REVIEW"
    REQUEST_INFORMATION = "REQUEST_INFORMATION"
    SCHEDULE_INTERVIEW = "SCHEDULE_INTERVIEW"
    RECORD_INTERVIEW = "RECORD_INTERVIEW"
    APPROVE = "APPROVE"  # → probation
    REJECT = "REJECT"
    PASS_PROBATION = "PASS_PROBATION"  # → active, in the pool
    FAIL_PROBATION = "FAIL_PROBATION"
    EXTEND_PROBATION = "EXTEND_PROBATION"
    TERMINATE = "TERMINATE"  # cooperation ends: a confirmed proposal or a veto
    REINSTATE = "REINSTATE"  # an upheld appeal removed the termination's basis


class Actor(enum.StrEnum):
    PROVIDER = "PROVIDER"  # a member of the applying provider
    REVIEWER = "REVIEWER"  # reviewer or admin


_OPEN_BY_PROVIDER = (
    S.DRAFT,
    S.SUBMITTED,
    S.MORE_INFORMATION_REQUESTED,
    S.IN_REVIEW,
    S.INTERVIEW_SCHEDULED,
    S.INTERVIEWED,
)

TRANSITIONS: dict[tuple[S, Action], tuple[S, Actor]] = {
    (S.DRAFT, Action.SUBMIT): (S.SUBMITTED, Actor.PROVIDER),
    (S.MORE_INFORMATION_REQUESTED, Action.SUBMIT): (S.SUBMITTED, Actor.PROVIDER),
    (S.SUBMITTED, Action.START_REVIEW): (S.IN_REVIEW, Actor.REVIEWER),
    (S.IN_REVIEW, Action.REQUEST_INFORMATION): (S.MORE_INFORMATION_REQUESTED, Actor.REVIEWER),
    (S.IN_REVIEW, Action.SCHEDULE_INTERVIEW): (S.INTERVIEW_SCHEDULED, Actor.REVIEWER),
    (S.INTERVIEW_SCHEDULED, Action.SCHEDULE_INTERVIEW): (S.INTERVIEW_SCHEDULED, Actor.REVIEWER),
    (S.INTERVIEW_SCHEDULED, Action.RECORD_INTERVIEW): (S.INTERVIEWED, Actor.REVIEWER),
    (S.IN_REVIEW, Action.APPROVE): (S.PROBATION, Actor.REVIEWER),
    (S.INTERVIEWED, Action.APPROVE): (S.PROBATION, Actor.REVIEWER),
    (S.IN_REVIEW, Action.REJECT): (S.REJECTED, Actor.REVIEWER),
    (S.INTERVIEW_SCHEDULED, Action.REJECT): (S.REJECTED, Actor.REVIEWER),
    (S.INTERVIEWED, Action.REJECT): (S.REJECTED, Actor.REVIEWER),
    (S.PROBATION, Action.PASS_PROBATION): (S.ACTIVE, Actor.REVIEWER),
    (S.PROBATION, Action.FAIL_PROBATION): (S.REJECTED, Actor.REVIEWER),
    (S.PROBATION, Action.EXTEND_PROBATION): (S.PROBATION, Actor.REVIEWER),
    **{(state, Action.WITHDRAW): (S.WITHDRAWN, Actor.PROVIDER) for state in _OPEN_BY_PROVIDER},
    # a veto ends every open application, pending ones included; a confirmed proposal ends
    # a membership; reinstatement restores the membership the termination ended
    **{(state, Action.TERMINATE): (S.TERMINATED, Actor.REVIEWER) for state in _OPEN_BY_PROVIDER},
    (S.PROBATION, Action.TERMINATE): (S.TERMINATED, Actor.REVIEWER),
    (S.ACTIVE, Action.TERMINATE): (S.TERMINATED, Actor.REVIEWER),
    (S.TERMINATED, Action.REINSTATE): (S.ACTIVE, Actor.REVIEWER),
}
OPEN_STATES = frozenset(_OPEN_BY_PROVIDER) | {S.PROBATION, S.ACTIVE}
REASON_REQUIRED = frozenset(
    {
        Action.REQUEST_INFORMATION,
        Action.REJECT,
        Action.PASS_PROBATION,
        Action.FAIL_PROBATION,
        Action.EXTEND_PROBATION,
        Action.WITHDRAW,
        Action.TERMINATE,
        Action.REINSTATE,
    }
)
# review work only the assigned reviewer does (an admin reassigns); standing decisions
# (TERMINATE, REINSTATE) are not review work
ASSIGNEE_ONLY = frozenset(
    {
        Action.REQUEST_INFORMATION,
        Action.SCHEDULE_INTERVIEW,
        Action.RECORD_INTERVIEW,
        Action.APPROVE,
        Action.REJECT,
        Action.PASS_PROBATION,
        Action.FAIL_PROBATION,
        Action.EXTEND_PROBATION,
    }
)
DECIDING = frozenset(
    {
        Action.APPROVE,
        Action.REJECT,
        Action.PASS_PROBATION,
        Action.FAIL_PROBATION,
        Action.TERMINATE,
        Action.REINSTATE,
    }
)


class NotAssignee(LinkStarError):
    """Another reviewer is assigned to the application."""

    code = "NOT_ASSIGNEE"


class InvalidTransition(LinkStarError):
    """The action is not possible from the application's current state."""

    code = "INVALID_TRANSITION"

    def __init__(self, state: S, action: Action, allowed: Sequence[Action]) -> None:
        super().__init__(
            f"cannot {action.value} an application that is {state.value}",
            details={"currentState": state.value, "allowedActions": [a.value for a in allowed]},
            suggestion="allowed now: "
            + (", ".join(a.value for a in allowed) or "nothing (final state)"),
        )


STANDING_ACTIONS = frozenset({Action.TERMINATE, Action.REINSTATE})  # not review steps


def allowed_actions(state: S) -> list[Action]:
    """Review and provider actions possible from `state`, in table order (termination and
    reinstatement are standing decisions, taken elsewhere)."""
    return [
        action
        for (from_state, action) in TRANSITIONS
        if from_state is state and action not in STANDING_ACTIONS
    ]


def actor_of(viewer: Viewer, application: Application) -> Actor | None:
    """In which capacity `viewer` may act on `application` (None: not at all)."""
    if viewer.role in (Role.REVIEWER, Role.ADMIN) and viewer.scopes is None:
        return Actor.REVIEWER
    if (
        viewer.role is Role.PARTNER
        and viewer.provider_id == application.provider_id
        and viewer.scopes is None
    ):
        return Actor.PROVIDER
    return None


def timeline(
    session: AsyncSession,
    application: Application | None,
    provider_id: int,
    viewer: Viewer,
    event_type: str,
    payload: dict[str, Any],
    *,
    internal: bool = False,
) -> None:
    """Append a timeline entry (append-only; it is the evidence a dispute needs)."""
    timeline_record(
        session,
        viewer,
        event_type,
        payload,
        provider_id=provider_id,
        application_id=application.id if application else None,
        internal=internal,
    )


async def transition(
    session: AsyncSession,
    application: Application,
    viewer: Viewer,
    action: Action,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> S:
    """Apply `action` if the table allows it for this viewer; record it on the timeline."""
    state = application.status
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise InvalidTransition(state, action, allowed_actions(state))
    next_state, who = target
    if actor_of(viewer, application) is not who:
        raise Forbidden(f"only the {who.value.lower()} may {action.value} this application")
    if action in REASON_REQUIRED and not (reason and reason.strip()):
        raise InvalidInput(f"{action.value} needs a written reason")
    if (
        action in ASSIGNEE_ONLY
        and application.reviewer_account_id is not None
        and application.reviewer_account_id != viewer.account_id
    ):
        raise NotAssignee(
            "another reviewer is assigned to this application",
            suggestion="an admin can reassign it (assignReviewer)",
        )
    application.status = next_state
    application.updated_at = utcnow()
    if action in DECIDING:
        application.decided_at = application.updated_at
    timeline(
        session,
        application,
        application.provider_id,
        viewer,
        f"application.{action.value.lower()}",
        {"from": state.value, "to": next_state.value, "reason": reason, **(payload or {})},
    )
    return next_state


# --- the checklist -------------------------------------------------------------------------


class ItemStatus(enum.StrEnum):
    OK = "OK"
    MISSING = "MISSING"
    PENDING_REVIEW = "PENDING_REVIEW"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    INVALID = "INVALID"
    OUTDATED = "OUTDATED"  # signed, but a newer mandatory version exists


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    kind: str  # DOCUMENT / AGREEMENT / PROFILE / REGISTRATION
    key: str
    name: str
    mandatory: bool
    status: ItemStatus
    message: str


@dataclass(frozen=True, slots=True)
class Checklist:
    items: tuple[ChecklistItem, ...] = field(default_factory=tuple)

    @property
    def problems(self) -> list[ChecklistItem]:
        """Mandatory items that block submission (pending review does not block)."""
        return [
            i
            for i in self.items
            if i.mandatory and i.status not in (ItemStatus.OK, ItemStatus.PENDING_REVIEW)
        ]

    @property
    def ready(self) -> bool:
        return not self.problems


def _document_item(
    requirement: DocumentRequirement, latest: Document | None, today: date
) -> ChecklistItem:
    def item(status: ItemStatus, message: str) -> ChecklistItem:
        return ChecklistItem(
            "DOCUMENT", requirement.key, requirement.name, requirement.mandatory, status, message
        )

    if latest is None:
        return item(ItemStatus.MISSING, "not uploaded yet")
    if requirement.expires and latest.expires_on is not None and latest.expires_on <= today:
        return item(
            ItemStatus.EXPIRED, f"expired on {latest.expires_on.isoformat()}; upload a current one"
        )
    if latest.status is DocumentStatus.REJECTED:
        return item(
            ItemStatus.REJECTED, f"rejected: {latest.review_reason}; upload a corrected one"
        )
    if latest.status is DocumentStatus.PENDING:
        return item(ItemStatus.PENDING_REVIEW, "uploaded; waiting for review")
    return item(ItemStatus.OK, "accepted")


async def checklist(
    session: AsyncSession,
    application: Application,
    contribution: CategoryContribution,
    policy: OnboardingPolicy,
) -> Checklist:
    """The same list the provider self-checks with and the reviewer reviews with."""
    provider = await session.get(Provider, application.provider_id)
    assert provider is not None
    items: list[ChecklistItem] = []
    items.append(
        ChecklistItem(
            "REGISTRATION",
            "registration_details",
            "Registration details",
            True,
            ItemStatus.OK if provider.details else ItemStatus.MISSING,
            "complete"
            if provider.details
            else "legal representative, contact, team, cases and services are missing",
        )
    )
    documents = (
        (
            await session.execute(
                select(Document)
                .where(Document.application_id == application.id)
                .order_by(Document.id)
            )
        )
        .scalars()
        .all()
    )
    latest: dict[str, Document] = {}
    for document in documents:
        latest[document.requirement_key] = document
    today = utcnow().date()
    for requirement in contribution.documents:
        if requirement.applies_to(provider.region):
            items.append(_document_item(requirement, latest.get(requirement.key), today))
    signatures = (
        (
            await session.execute(
                select(AgreementSignature).where(
                    AgreementSignature.application_id == application.id
                )
            )
        )
        .scalars()
        .all()
    )
    for template in policy.agreements:
        signed = [s for s in signatures if s.agreement_key == template.key]
        current = any(
            s.version == template.version and s.text_sha256 == template.sha256 for s in signed
        )
        if current:
            status, message = ItemStatus.OK, f"version {template.version} signed"
        elif signed:
            status, message = (
                ItemStatus.OUTDATED,
                f"a new version {template.version} must be signed",
            )
        else:
            status, message = ItemStatus.MISSING, f"version {template.version} not signed"
        items.append(
            ChecklistItem(
                "AGREEMENT", template.key, template.title, template.mandatory, status, message
            )
        )
    if contribution.profile is not None:
        profile = (
            await session.execute(
                select(CategoryProfileRow).where(
                    CategoryProfileRow.provider_id == application.provider_id,
                    CategoryProfileRow.category_key == application.category_key,
                )
            )
        ).scalar_one_or_none()
        if profile is None:
            status, message = ItemStatus.MISSING, "the category profile is not filled in"
        else:
            try:
                contribution.profile.validate(profile.data)
                status, message = ItemStatus.OK, "complete"
            except ProfileInvalid as exc:
                status, message = ItemStatus.INVALID, exc.message
        items.append(
            ChecklistItem(
                "PROFILE", application.category_key, "Category profile", True, status, message
            )
        )
    return Checklist(tuple(items))


class ChecklistIncomplete(LinkStarError):
    """Submission refused: the full list of what is missing or invalid."""

    code = "CHECKLIST_INCOMPLETE"

    def __init__(self, problems: Sequence[ChecklistItem]) -> None:
        super().__init__(
            f"{len(problems)} item(s) missing or invalid: "
            + "; ".join(f"{p.kind.lower()} {p.key}: {p.message}" for p in problems),
            details={
                "items": [
                    {"kind": p.kind, "key": p.key, "status": p.status.value, "message": p.message}
                    for p in problems
                ]
            },
        )


async def load_application(
    session: AsyncSession, application_id: int, viewer: Viewer
) -> Application:
    """The application if the viewer may act on it; otherwise NotFound (no existence leak)."""
    application = await session.get(Application, application_id)
    if application is None or actor_of(viewer, application) is None:
        raise NotFound("no such application")
    return application


async def start_probation(application: Application, policy: OnboardingPolicy) -> None:
    """Probation starts with the category's length and pilot-order quota."""
    now = utcnow()
    application.probation_started_at = now
    application.probation_ends_at = now + timedelta(days=policy.probation_days)
    application.pilot_order_quota = policy.pilot_order_quota


def extend_probation(application: Application, policy: OnboardingPolicy) -> None:
    """Probation may be extended once (from its end, or from now if it never had dates)."""
    if application.probation_extended:
        raise InvalidInput(
            "probation was already extended once; pass or fail it", code="ALREADY_EXTENDED"
        )
    if application.probation_started_at is None:
        application.probation_started_at = utcnow()
    ends = application.probation_ends_at or utcnow()
    application.probation_ends_at = ends + timedelta(days=policy.probation_extension_days)
    application.probation_extended = True


membership_terminated = Signal(
    "membership.terminated",
    """Sent when `end_memberships()` terminates a provider's memberships (a confirmed
    termination or a veto), in the same transaction, with `provider_id` and `categories`
    (the keys whose membership just ended). Higher domains react here, e.g. the marketplace
    flags the provider's open orders for reassignment.""",
)


async def end_memberships(
    session: AsyncSession,
    provider_id: int,
    viewer: Viewer,
    reason: str,
    category: str | None = None,
    payload: dict[str, Any] | None = None,
) -> list[Application]:
    """TERMINATE the provider's open applications (of one category, or all): one state table."""
    stmt = select(Application).where(
        Application.provider_id == provider_id, Application.status.in_(OPEN_STATES)
    )
    if category is not None:
        stmt = stmt.where(Application.category_key == category)
    ended = list((await session.execute(stmt.order_by(Application.id))).scalars().all())
    for application in ended:
        application.terminated_from = application.status
        await transition(session, application, viewer, Action.TERMINATE, reason, payload)
    if ended:
        await membership_terminated.send(
            session,
            provider_id=provider_id,
            categories=sorted({a.category_key for a in ended}),
        )
    return ended


async def reinstate_memberships(
    session: AsyncSession,
    provider_id: int,
    category: str,
    viewer: Viewer,
    reason: str,
    payload: dict[str, Any] | None = None,
) -> list[Application]:
    """REINSTATE the category's terminated memberships: their termination lost its basis."""
    rows = (
        (
            await session.execute(
                select(Application)
                .where(
                    Application.provider_id == provider_id,
                    Application.category_key == category,
                    Application.status == S.TERMINATED,
                    Application.terminated_from.in_((S.PROBATION, S.ACTIVE)),
                )
                .order_by(Application.id)
            )
        )
        .scalars()
        .all()
    )
    for application in rows:
        await transition(session, application, viewer, Action.REINSTATE, reason, payload)
    return list(rows)
