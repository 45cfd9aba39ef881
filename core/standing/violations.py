"""The violation ledger: points by severity that expire, milestones, and the one-vote veto.

Points by severity (MINOR 1, MAJOR 3, SEVERE 6) expire after 90 days; reaching 3 points →
WARNING, 6 → RESTRICTED_INTAKE, 10 → TERMINATION_PROPOSED. A VETO (fake orders, review
manipulation) terminates at once, whatever the KPIs. (The numbers are the default
`ScoringPolicy`; a category may set its own.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.db import take_turns, utcnow
from linkstar.core.kernel.timeline import record
from linkstar.core.kernel.vocabulary import SanctionKind, SanctionStatus, Severity
from linkstar.core.kpi.scoring import ScoringPolicy
from linkstar.core.onboarding.admission import bar_provider
from linkstar.core.onboarding.applications import end_memberships
from linkstar.core.standing.models import Sanction, Violation


def active_points(violations: list[Violation], at: datetime) -> int:
    """Points of violations not overturned and not yet expired at `at`."""
    return sum(
        v.points
        for v in violations
        if v.overturned_at is None and (v.expires_at is None or v.expires_at > at)
    )


async def record_violation(
    session: AsyncSession,
    provider_id: int,
    category: str,
    severity: Severity,
    description: str,
    evidence_ref: str | None,
    occurred_at: datetime,
    actor: Viewer,
    policy: ScoringPolicy | None = None,
) -> tuple[Violation, list[Sanction]]:
    """Record a violation and apply the milestones it crosses.

    A VETO binds the provider, not one application: every open application of every
    category is terminated (through the onboarding state table), each category gets a
    TERMINATED sanction naming the violation, and the provider is barred from applying again.
    """
    policy = policy or ScoringPolicy()
    # the points before this violation decide its milestones: count them one recording at a time
    await take_turns(session, Violation, f"violations:{provider_id}:{category}")
    earlier = list(
        (
            await session.execute(
                select(Violation).where(
                    Violation.provider_id == provider_id, Violation.category_key == category
                )
            )
        )
        .scalars()
        .all()
    )
    now = utcnow()
    before = active_points(earlier, now)
    violation = Violation(
        provider_id=provider_id,
        category_key=category,
        severity=severity,
        points=policy.points(severity),
        description=description,
        evidence_ref=evidence_ref,
        occurred_at=occurred_at,
        expires_at=None
        if severity is Severity.VETO
        else occurred_at + timedelta(days=policy.point_expiry_days),
        recorded_by=actor.account_id,
    )
    session.add(violation)
    await session.flush()
    after = before + (
        violation.points if violation.expires_at is None or violation.expires_at > now else 0
    )
    sanctions: list[Sanction] = []
    cause = {"scorecards": [], "violations": [violation.id]}
    if severity is Severity.VETO:
        why = f"one-vote veto: {description}"
        ended = await end_memberships(
            session, provider_id, actor, why, payload={"violation": violation.id}
        )
        for key in sorted({category} | {a.category_key for a in ended}):
            sanctions.append(
                Sanction(
                    provider_id=provider_id,
                    category_key=key,
                    kind=SanctionKind.TERMINATED,
                    status=SanctionStatus.CONFIRMED,
                    dedupe_key=f"veto:{violation.id}"
                    if key == category
                    else f"veto:{violation.id}:{key}",
                    cause=cause,
                    reason=why,
                )
            )
        await bar_provider(session, provider_id, actor, why, violation.id)
    for threshold, kind in policy.point_milestones:
        if before < threshold <= after:
            sanctions.append(
                Sanction(
                    provider_id=provider_id,
                    category_key=category,
                    kind=kind,
                    status=SanctionStatus.ACTIVE,
                    dedupe_key=f"points:{threshold}:{violation.id}",
                    cause=cause,
                    reason=f"violation points reached {after} (milestone {threshold})",
                )
            )
    session.add_all(sanctions)
    record(
        session,
        actor,
        "violation.recorded",
        {
            "category": category,
            "severity": severity.value,
            "points": violation.points,
            "activePoints": after,
            "description": description,
        },
        provider_id=provider_id,
    )
    for sanction in sanctions:
        record(
            session,
            actor,
            f"sanction.{sanction.kind.value.lower()}",
            {
                "category": sanction.category_key,
                "reason": sanction.reason,
                "violation": violation.id,
            },
            provider_id=provider_id,
        )
    await session.flush()
    return violation, sanctions
