"""Appeals (申诉): a provider contests a metric result, a violation or a sanction.

Filed within APPEAL_DAYS of the contested decision, with a reason that says what evidence it
needs; one further round is allowed after a rejection. An upheld appeal excludes the disputed
observations (by appending corrections that mark them not attributable: nothing is edited),
or overturns the violation, re-evaluates the period, and undoes every downstream effect —
sanctions, tier changes, terminations — each recorded on the timeline.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.db import claim, take_turns, utcnow
from linkstar.core.kernel.errors import Conflict, InvalidInput, NotFound
from linkstar.core.kernel.timeline import record
from linkstar.core.kernel.vocabulary import SanctionKind, SanctionStatus
from linkstar.core.kpi.models import KpiObservation, Scorecard
from linkstar.core.onboarding.admission import lift_bars_of_violation
from linkstar.core.onboarding.applications import reinstate_memberships
from linkstar.core.onboarding.models import Application, Document
from linkstar.core.standing.approvals import ApprovalKind, request_approval
from linkstar.core.standing.basis import without_basis
from linkstar.core.standing.models import Appeal, Sanction, TierChange, Violation
from linkstar.core.standing.states import (
    AppealAction,
    AppealStatus,
    SanctionAction,
    move_appeal,
    move_sanction,
)
from linkstar.core.standing.verdicts import evaluate_category

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import Registry

APPEAL_DAYS = 30
MAX_ROUNDS = 2
TERMINATING = (SanctionKind.TERMINATED, SanctionKind.TERMINATION_PROPOSED)


class AppealReason(enum.StrEnum):
    """Why the provider appeals; each says what evidence it must bring."""

    DATA_ERROR = "DATA_ERROR"  # wrong values: the correct records and their source
    NOT_ATTRIBUTABLE = (
        "NOT_ATTRIBUTABLE"  # seller/carrier/platform caused it: communication proving it
    )
    FORCE_MAJEURE = "FORCE_MAJEURE"  # strike, disaster, platform outage: an official notice
    WRONG_FINDING = "WRONG_FINDING"  # the violation did not happen: deliverables and records


EVIDENCE_NEEDED = {
    AppealReason.DATA_ERROR: "the correct records and where they come from",
    AppealReason.NOT_ATTRIBUTABLE: "communication showing who caused the outcome",
    AppealReason.FORCE_MAJEURE: "an official notice of the event and its dates",
    AppealReason.WRONG_FINDING: "deliverables and records that contradict the finding",
}


class SubjectType(enum.StrEnum):
    METRIC_RESULT = "METRIC_RESULT"  # subject: a scorecard, plus the metric
    VIOLATION = "VIOLATION"
    SANCTION = "SANCTION"


async def file_appeal(
    session: AsyncSession,
    viewer: Viewer,
    subject_type: SubjectType,
    subject_id: int,
    reason: AppealReason,
    statement: str,
    evidence: list[str],
    metric_key: str | None,
    observation_ids: list[int],
    document_ids: list[int] | None = None,
) -> Appeal:
    """File an appeal on the viewer's own provider's subject, within the deadline.

    Evidence is free text (`evidence`) and/or uploaded documents (`document_ids`), which must
    be the provider's own."""
    document_ids = sorted(set(document_ids or []))
    provider_id = viewer.provider_id
    model = {
        SubjectType.METRIC_RESULT: Scorecard,
        SubjectType.VIOLATION: Violation,
        SubjectType.SANCTION: Sanction,
    }[subject_type]
    subject = await session.get(model, subject_id)
    if subject is None or subject.provider_id != provider_id:
        raise NotFound("nothing to appeal with that id")
    # one filing at a time per subject: a second one filed at once then sees the first
    await take_turns(session, Appeal, f"appeal:{subject_type.value}:{subject_id}")
    if document_ids:
        owned = set(
            (
                await session.execute(
                    select(Document.id).where(
                        Document.id.in_(document_ids), Document.provider_id == provider_id
                    )
                )
            )
            .scalars()
            .all()
        )
        if owned != set(document_ids):
            raise InvalidInput(
                "evidence documents must be documents your provider uploaded",
                code="UNKNOWN_DOCUMENT",
            )
    if not statement.strip() or not (evidence or document_ids):
        raise InvalidInput(
            "an appeal needs a statement and evidence",
            suggestion=f"{reason.value} needs {EVIDENCE_NEEDED[reason]}",
        )
    decided_at = getattr(subject, "computed_at", None) or subject.created_at
    if utcnow() - decided_at > timedelta(days=APPEAL_DAYS):
        raise InvalidInput(
            f"the {APPEAL_DAYS}-day appeal window has closed", code="APPEAL_DEADLINE_PASSED"
        )
    earlier = list(
        (
            await session.execute(
                select(Appeal)
                .where(Appeal.subject_type == subject_type.value, Appeal.subject_id == subject_id)
                .order_by(Appeal.id)
            )
        )
        .scalars()
        .all()
    )
    if any(a.status in ("OPEN", "UPHELD") for a in earlier):
        raise InvalidInput(
            "this decision already has an open or upheld appeal", code="APPEAL_EXISTS"
        )
    if len(earlier) >= MAX_ROUNDS:
        raise InvalidInput(f"at most {MAX_ROUNDS} rounds of appeal", code="APPEAL_ROUNDS_EXHAUSTED")
    if subject_type is SubjectType.METRIC_RESULT:
        metrics = {r["metric"] for r in subject.results}
        if metric_key not in metrics:
            raise InvalidInput(f"name the contested metric: one of {sorted(metrics)}")
        if observation_ids:
            rows = (
                (
                    await session.execute(
                        select(KpiObservation).where(KpiObservation.id.in_(observation_ids))
                    )
                )
                .scalars()
                .all()
            )
            if len(rows) != len(set(observation_ids)) or any(
                r.provider_id != provider_id or r.metric_key != metric_key for r in rows
            ):
                raise InvalidInput(
                    "the disputed observations must be this provider's, of the contested metric"
                )
    appeal = Appeal(
        provider_id=provider_id,
        category_key=subject.category_key,
        subject_type=subject_type.value,
        subject_id=subject_id,
        metric_key=metric_key,
        reason_code=reason.value,
        statement=statement.strip(),
        evidence=evidence,
        document_ids=document_ids,
        observation_ids=sorted(set(observation_ids)),
        round=len(earlier) + 1,
        status="OPEN",
        filed_by=viewer.label,
        effects={},
    )
    session.add(appeal)
    await session.flush()
    record(
        session,
        viewer,
        "appeal.filed",
        {"appeal": appeal.id, "subject": subject_type.value, "round": appeal.round},
        provider_id=provider_id,
    )
    return appeal


async def _undo_sanctions(
    session: AsyncSession, sanctions: list[Sanction], viewer: Viewer, why: str
) -> list[int]:
    """Reverse `sanctions`; a reversed termination reinstates the membership it ended, unless
    another termination of that category still stands."""
    undone = []
    for sanction in sanctions:
        if sanction.status is SanctionStatus.REVERSED:
            continue
        await move_sanction(session, sanction, SanctionAction.REVERSE, viewer.label, why)
        undone.append(sanction.id)
        record(
            session,
            viewer,
            "sanction.reversed",
            {"category": sanction.category_key, "sanction": sanction.id, "reason": why},
            provider_id=sanction.provider_id,
        )
        if sanction.kind in TERMINATING and not await _terminations_stand(session, sanction):
            await reinstate_memberships(
                session,
                sanction.provider_id,
                sanction.category_key,
                viewer,
                why,
                {"sanction": sanction.id},
            )
    return undone


async def _terminations_stand(session: AsyncSession, reversed_one: Sanction) -> bool:
    """Whether another confirmed termination of the same provider and category still stands."""
    found = (
        await session.execute(
            select(Sanction.id)
            .where(
                Sanction.provider_id == reversed_one.provider_id,
                Sanction.category_key == reversed_one.category_key,
                Sanction.kind.in_(TERMINATING),
                Sanction.status == SanctionStatus.CONFIRMED,
                Sanction.id != reversed_one.id,
            )
            .limit(1)
        )
    ).scalar_one_or_none()
    return found is not None


async def _undo_tier_changes(
    session: AsyncSession, changes: list[TierChange], viewer: Viewer, why: str
) -> list[int]:
    """Reverse tier changes, newest first; the tier goes back where it still is the result."""
    undone = []
    for change in sorted(changes, key=lambda c: c.id, reverse=True):
        if change.reversed_at is not None:
            continue
        await claim(
            session,
            TierChange,
            change.id,
            {"reversed_at": None},
            {"reversed_at": utcnow(), "reversed_by": viewer.label, "reversal_reason": why},
            f"tier change {change.id}",
        )
        application = await session.get(Application, change.application_id)
        if application is not None and application.tier is change.to_tier:
            application.tier = change.from_tier
        undone.append(change.id)
        record(
            session,
            viewer,
            "tier.reversed",
            {"tierChange": change.id, "restored": change.from_tier.value, "reason": why},
            provider_id=change.provider_id,
            application_id=change.application_id,
        )
    return undone


async def _tier_changes_caused_by(
    session: AsyncSession, provider_id: int, category: str, scorecards: set[int]
) -> list[TierChange]:
    changes = (
        (
            await session.execute(
                select(TierChange).where(
                    TierChange.provider_id == provider_id,
                    TierChange.category_key == category,
                    TierChange.reversed_at.is_(None),
                )
            )
        )
        .scalars()
        .all()
    )
    return [c for c in changes if scorecards & set(c.cause.get("scorecards", []))]


async def decide_appeal(
    session: AsyncSession,
    registry: Registry,
    viewer: Viewer,
    appeal: Appeal,
    uphold: bool,
    reason: str,
    approved: bool = False,
) -> Appeal:
    """Uphold (and undo every consequence whose basis it removed, transitively) or reject.

    The second round is decided by two staff members: the first one's decision becomes a
    request that another approves (`approved` is set when that approval executes it).
    """
    if not reason.strip():
        raise InvalidInput("give the reason for the decision")
    if appeal.round >= MAX_ROUNDS and not approved:
        if appeal.status != AppealStatus.OPEN.value:
            raise Conflict(f"the appeal was already {appeal.status.lower()}")
        await request_approval(
            session,
            viewer,
            ApprovalKind.APPEAL_SECOND_ROUND,
            appeal.provider_id,
            appeal.id,
            {"uphold": uphold, "reason": reason.strip()},
        )
        return appeal
    if uphold:  # upholding re-evaluates: wait for a running evaluation first, as it would us
        await take_turns(session, Scorecard, f"evaluate:{appeal.category_key}")
    await move_appeal(
        session,
        appeal,
        AppealAction.UPHOLD if uphold else AppealAction.REJECT,
        {"decided_by": viewer.label, "decision_reason": reason.strip(), "decided_at": utcnow()},
    )
    effects: dict[str, Any] = {}
    why = f"appeal {appeal.id} upheld: {reason.strip()}"
    if uphold:
        if appeal.subject_type == SubjectType.METRIC_RESULT.value:
            effects = await _uphold_metric_result(session, registry, viewer, appeal, why)
        elif appeal.subject_type == SubjectType.VIOLATION.value:
            effects = await _uphold_violation(session, viewer, appeal, why)
        else:
            effects = await _uphold_sanction(session, viewer, appeal, why)
    appeal.effects = effects
    record(
        session,
        viewer,
        f"appeal.{appeal.status.lower()}",
        {"appeal": appeal.id, "reason": reason.strip(), **effects},
        provider_id=appeal.provider_id,
    )
    await session.flush()
    return appeal


async def _uphold_metric_result(
    session: AsyncSession, registry: Registry, viewer: Viewer, appeal: Appeal, why: str
) -> dict[str, Any]:
    """Exclude the disputed observations, re-score the period, then reverse every ladder
    consequence (and what those caused) whose failing periods no longer all fail."""
    card = await session.get(Scorecard, appeal.subject_id)
    assert card is not None
    excluded = []
    for observation in (
        (
            await session.execute(
                select(KpiObservation).where(KpiObservation.id.in_(appeal.observation_ids))
            )
        )
        .scalars()
        .all()
    ):
        session.add(
            KpiObservation(
                provider_id=observation.provider_id,
                category_key=observation.category_key,
                metric_key=observation.metric_key,
                subject_ref=observation.subject_ref,
                observed_at=observation.observed_at,
                value=observation.value,
                source=observation.source,
                attributable=False,
                non_attributable_reason=why,
                idempotency_key=f"appeal-{appeal.id}-{observation.id}",
                supersedes_id=observation.id,
                correction_reason=why,
                reported_by=viewer.label,
                reported_at=utcnow(),
            )
        )
        excluded.append(observation.id)
    await session.flush()
    summary = await evaluate_category(
        session,
        registry.category(appeal.category_key),
        card.period,
        appeal.provider_id,
        registry.aggregations,
    )
    sanctions, demotions = await without_basis(session, appeal.provider_id, appeal.category_key)
    reversed_sanctions = await _undo_sanctions(session, sanctions, viewer, why)
    # a demotion also falls with a restriction it came with (same failing periods)
    return {
        "excludedObservations": excluded,
        "reevaluated": {"period": card.period, "written": summary.written},
        "reversedSanctions": reversed_sanctions,
        "reversedTierChanges": await _undo_tier_changes(session, demotions, viewer, why),
    }


async def _uphold_violation(
    session: AsyncSession, viewer: Viewer, appeal: Appeal, why: str
) -> dict[str, Any]:
    """Overturn the violation: reverse the sanctions it caused, lift the bar of its veto."""
    violation = await session.get(Violation, appeal.subject_id)
    assert violation is not None
    violation.overturned_at = utcnow()
    caused = [
        s
        for s in (
            await session.execute(
                select(Sanction).where(Sanction.provider_id == appeal.provider_id)
            )
        )
        .scalars()
        .all()
        if violation.id in s.cause.get("violations", [])
    ]
    effects: dict[str, Any] = {
        "overturnedViolation": violation.id,
        "reversedSanctions": await _undo_sanctions(session, caused, viewer, why),
    }
    lifted = await lift_bars_of_violation(session, violation.id, viewer, why)
    if lifted:
        effects["liftedBars"] = lifted
    return effects


async def _uphold_sanction(
    session: AsyncSession, viewer: Viewer, appeal: Appeal, why: str
) -> dict[str, Any]:
    """Reverse the sanction and the tier changes that came from the same scorecards."""
    sanction = await session.get(Sanction, appeal.subject_id)
    assert sanction is not None
    effects: dict[str, Any] = {
        "reversedSanctions": await _undo_sanctions(session, [sanction], viewer, why)
    }
    if sanction.kind in (SanctionKind.RESTRICTED_INTAKE, SanctionKind.DOWNGRADE):
        changes = await _tier_changes_caused_by(
            session,
            appeal.provider_id,
            appeal.category_key,
            set(sanction.cause.get("scorecards", [])),
        )
        effects["reversedTierChanges"] = await _undo_tier_changes(session, changes, viewer, why)
    return effects
