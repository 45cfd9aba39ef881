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
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.vocabulary import ApplicationStatus, SanctionKind, SanctionStatus
from linkstar.core.kpi.models import KpiObservation, Scorecard
from linkstar.core.onboarding.models import Application
from linkstar.core.standing.consequences import _event
from linkstar.core.standing.models import Appeal, Sanction, TierChange, Violation
from linkstar.core.standing.verdicts import evaluate_category

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import Registry

APPEAL_DAYS = 30
MAX_ROUNDS = 2


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
) -> Appeal:
    """File an appeal on the viewer's own provider's subject, within the deadline."""
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
    if not statement.strip() or not evidence:
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
        observation_ids=sorted(set(observation_ids)),
        round=len(earlier) + 1,
        status="OPEN",
        filed_by=viewer.label,
        effects={},
    )
    session.add(appeal)
    await session.flush()
    _event(
        session,
        provider_id,
        "appeal.filed",
        {"appeal": appeal.id, "subject": subject_type.value, "round": appeal.round},
        viewer.label,
    )
    return appeal


async def _undo_sanctions(
    session: AsyncSession, sanctions: list[Sanction], actor: str, why: str
) -> list[int]:
    undone = []
    for sanction in sanctions:
        if sanction.status is SanctionStatus.REVERSED:
            continue
        await claim(
            session,
            Sanction,
            sanction.id,
            {"status": sanction.status},
            {
                "status": SanctionStatus.REVERSED,
                "resolved_at": utcnow(),
                "resolved_by": actor,
                "resolution": why,
            },
            f"sanction {sanction.id}",
        )
        undone.append(sanction.id)
        if sanction.kind in (SanctionKind.TERMINATED, SanctionKind.TERMINATION_PROPOSED):
            for application in (
                (
                    await session.execute(
                        select(Application).where(
                            Application.provider_id == sanction.provider_id,
                            Application.category_key == sanction.category_key,
                            Application.status == ApplicationStatus.TERMINATED,
                        )
                    )
                )
                .scalars()
                .all()
            ):
                application.status = ApplicationStatus.ACTIVE
                application.decided_at = None
        _event(
            session,
            sanction.provider_id,
            "sanction.reversed",
            {"sanction": sanction.id, "reason": why},
            actor,
        )
    return undone


async def _undo_tier_changes(
    session: AsyncSession,
    provider_id: int,
    category: str,
    scorecards: set[int],
    actor: str,
    why: str,
) -> list[int]:
    undone = []
    changes = (
        (
            await session.execute(
                select(TierChange)
                .where(
                    TierChange.provider_id == provider_id,
                    TierChange.category_key == category,
                    TierChange.reversed_at.is_(None),
                )
                .order_by(TierChange.id.desc())
            )
        )
        .scalars()
        .all()
    )
    for change in changes:
        if not scorecards & set(change.cause.get("scorecards", [])):
            continue
        await claim(
            session,
            TierChange,
            change.id,
            {"reversed_at": None},
            {"reversed_at": utcnow(), "reversed_by": actor, "reversal_reason": why},
            f"tier change {change.id}",
        )
        application = await session.get(Application, change.application_id)
        if application is not None and application.tier is change.to_tier:
            application.tier = change.from_tier
        undone.append(change.id)
        _event(
            session,
            provider_id,
            "tier.reversed",
            {"tierChange": change.id, "restored": change.from_tier.value, "reason": why},
            actor,
        )
    return undone


async def decide_appeal(
    session: AsyncSession,
    registry: Registry,
    viewer: Viewer,
    appeal: Appeal,
    uphold: bool,
    reason: str,
) -> Appeal:
    """Uphold (and undo every downstream effect) or reject, with the reason."""
    if appeal.status != "OPEN":
        raise InvalidInput(
            f"the appeal is already {appeal.status.lower()}", code="INVALID_TRANSITION"
        )
    if not reason.strip():
        raise InvalidInput("give the reason for the decision")
    if uphold:  # upholding re-evaluates: wait for a running evaluation first, as it would us
        await take_turns(session, Scorecard, f"evaluate:{appeal.category_key}")
    await claim(
        session,
        Appeal,
        appeal.id,
        {"status": "OPEN"},
        {
            "status": "UPHELD" if uphold else "REJECTED",
            "decided_by": viewer.label,
            "decision_reason": reason.strip(),
            "decided_at": utcnow(),
        },
        "the appeal",
    )
    effects: dict[str, Any] = {}
    why = f"appeal {appeal.id} upheld: {reason.strip()}"
    if uphold:
        caused: list[Sanction] = []
        if appeal.subject_type == SubjectType.METRIC_RESULT.value:
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
            effects["excludedObservations"] = excluded
            contribution = registry.category(appeal.category_key)
            # undo what the contested scorecard caused, then re-evaluate the period
            caused = [
                s
                for s in (
                    await session.execute(
                        select(Sanction).where(
                            Sanction.provider_id == appeal.provider_id,
                            Sanction.category_key == appeal.category_key,
                        )
                    )
                )
                .scalars()
                .all()
                if card.id in s.cause.get("scorecards", [])
            ]
            effects["reversedSanctions"] = await _undo_sanctions(session, caused, viewer.label, why)
            effects["reversedTierChanges"] = await _undo_tier_changes(
                session, appeal.provider_id, appeal.category_key, {card.id}, viewer.label, why
            )
            summary = await evaluate_category(
                session, contribution, card.period, appeal.provider_id, registry.aggregations
            )
            effects["reevaluated"] = {"period": card.period, "written": summary.written}
        elif appeal.subject_type == SubjectType.VIOLATION.value:
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
            effects["overturnedViolation"] = violation.id
            effects["reversedSanctions"] = await _undo_sanctions(session, caused, viewer.label, why)
        else:
            sanction = await session.get(Sanction, appeal.subject_id)
            assert sanction is not None
            effects["reversedSanctions"] = await _undo_sanctions(
                session, [sanction], viewer.label, why
            )
            if sanction.kind in (SanctionKind.RESTRICTED_INTAKE, SanctionKind.DOWNGRADE):
                effects["reversedTierChanges"] = await _undo_tier_changes(
                    session,
                    appeal.provider_id,
                    appeal.category_key,
                    set(sanction.cause.get("scorecards", [])),
                    viewer.label,
                    why,
                )
    appeal.effects = effects
    _event(
        session,
        appeal.provider_id,
        f"appeal.{appeal.status.lower()}",
        {"appeal": appeal.id, "reason": reason.strip(), **effects},
        viewer.label,
    )
    await session.flush()
    return appeal
