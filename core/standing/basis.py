"""Which consequences of the performance ladder have lost their basis.

A ladder sanction (warning, restriction, termination proposal) and a policy demotion name the
scorecards that caused them. After a re-evaluation (an upheld appeal excludes observations),
each period those scorecards scored is read again at its latest revision: a consequence whose
periods no longer all fail has lost its basis and must be reversed. A consequence is judged by
its periods, not by scorecard ids, so it does not matter which revision an appeal contested.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.db import among
from linkstar.core.kernel.vocabulary import SanctionStatus
from linkstar.core.kpi.models import Scorecard
from linkstar.core.standing.models import Appeal, Sanction, TierChange

LIVE = (SanctionStatus.ACTIVE, SanctionStatus.CONFIRMED, SanctionStatus.LIFTED)


async def voided_metrics(
    session: AsyncSession, providers: list[int], category: str
) -> dict[tuple[int, str], set[str]]:
    """Metrics an upheld appeal voided, per (provider, period): they no longer count as failing,
    whatever revision of the period's scorecard is read."""
    rows = (
        await session.execute(
            select(Appeal.provider_id, Scorecard.period, Appeal.metric_key)
            .join(Scorecard, Scorecard.id == Appeal.subject_id)
            .where(
                Appeal.subject_type == "METRIC_RESULT",
                Appeal.status == "UPHELD",
                Appeal.category_key == category,
                among(session, Appeal.provider_id, providers),
            )
        )
    ).all()
    voided: dict[tuple[int, str], set[str]] = {}
    for provider_id, period, metric in rows:
        voided.setdefault((provider_id, period), set()).add(metric)
    return voided


def failing(results: list[dict], voided: set[str] = frozenset()) -> bool:
    """A period fails when a metric FAILs that no upheld appeal voided."""
    return any(r["status"] == "FAIL" and r["metric"] not in voided for r in results)


async def _periods_still_failing(
    session: AsyncSession, provider_id: int, category: str, card_ids: set[int]
) -> dict[int, bool]:
    """For each scorecard id: does its period, at its latest revision, still fail?"""
    if not card_ids:
        return {}
    period_of = dict(
        (
            await session.execute(
                select(Scorecard.id, Scorecard.period).where(Scorecard.id.in_(card_ids))
            )
        ).all()
    )
    latest = (
        select(Scorecard.period, func.max(Scorecard.revision).label("revision"))
        .where(
            Scorecard.provider_id == provider_id,
            Scorecard.category_key == category,
            Scorecard.period.in_(set(period_of.values())),
        )
        .group_by(Scorecard.period)
        .subquery()
    )
    cards = (
        (
            await session.execute(
                select(Scorecard)
                .join(
                    latest,
                    (latest.c.period == Scorecard.period)
                    & (latest.c.revision == Scorecard.revision),
                )
                .where(Scorecard.provider_id == provider_id, Scorecard.category_key == category)
            )
        )
        .scalars()
        .all()
    )
    voided = await voided_metrics(session, [provider_id], category)
    fails = {
        card.period: failing(card.results, voided.get((provider_id, card.period), set()))
        for card in cards
    }
    return {card_id: fails.get(period, False) for card_id, period in period_of.items()}


async def without_basis(
    session: AsyncSession, provider_id: int, category: str
) -> tuple[list[Sanction], list[TierChange]]:
    """Live ladder sanctions and unreversed policy demotions whose failing periods no longer
    all fail at their latest revision."""
    sanctions = [
        s
        for s in (
            await session.execute(
                select(Sanction).where(
                    Sanction.provider_id == provider_id,
                    Sanction.category_key == category,
                    Sanction.status.in_(LIVE),
                )
            )
        )
        .scalars()
        .all()
        if s.cause.get("scorecards")
    ]
    demotions = [
        c
        for c in (
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
        if c.cause.get("scorecards") and ":demote:" in (c.dedupe_key or "")
    ]
    ids = {i for s in sanctions for i in s.cause["scorecards"]} | {
        i for c in demotions for i in c.cause["scorecards"]
    }
    still = await _periods_still_failing(session, provider_id, category, ids)
    return (
        [s for s in sanctions if not all(still.get(i, False) for i in s.cause["scorecards"])],
        [c for c in demotions if not all(still.get(i, False) for i in c.cause["scorecards"])],
    )
