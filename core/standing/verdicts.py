"""Evaluating a period with its consequences: scorecards first (kpi), then the ladder.

Every caller that evaluates (the CLI, the mutation, the demo, the scheduler, an upheld appeal)
comes here, so a scorecard is never written without the sanctions and tier changes that follow
from it. Only closed months are evaluated (`PERIOD_NOT_CLOSED` otherwise).

Silence is not a verdict: a provider whose month has no verdict on any metric, or no verdict on
a metric that failed in its previous scorecard (and no failure now), is left out of the ladder
for that month — no warning, but no lifted restriction and no promotion either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from linkstar.core.kernel.db import among, utcnow
from linkstar.core.kernel.periods import PeriodKind, period_of
from linkstar.core.kernel.telemetry import EVALUATION_SECONDS
from linkstar.core.kpi import evaluation
from linkstar.core.kpi.aggregations import CustomAggregation
from linkstar.core.kpi.evaluation import EvaluationSummary, claim_run, due_periods, require_closed
from linkstar.core.kpi.models import Scorecard
from linkstar.core.standing.ladder import apply_ladder

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import CategoryContribution, Registry

log = logging.getLogger("linkstar.verdicts")


async def _judged(
    session: AsyncSession, category: str, label: str, providers: list[int]
) -> list[int]:
    """The providers whose card for `label` carries evidence enough for the ladder."""
    previous = period_of(label, PeriodKind.MONTH, "UTC").previous().label
    rows = (
        await session.execute(
            select(Scorecard.provider_id, Scorecard.period, Scorecard.revision, Scorecard.results)
            .where(
                Scorecard.category_key == category,
                among(session, Scorecard.provider_id, providers),
                Scorecard.period.in_((previous, label)),
            )
            .order_by(Scorecard.revision)
        )
    ).all()
    latest: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for pid, period, _revision, results in rows:  # the highest revision wins
        latest[(pid, period)] = results
    judged = []
    for pid in providers:
        card = {r["metric"]: r["status"] for r in latest.get((pid, label), [])}
        before = {r["metric"]: r["status"] for r in latest.get((pid, previous), [])}
        silent = all(status == "INSUFFICIENT_DATA" for status in card.values())
        unproven = "FAIL" not in card.values() and any(
            status == "FAIL" and card.get(metric) == "INSUFFICIENT_DATA"
            for metric, status in before.items()
        )
        if not (silent or unproven):
            judged.append(pid)
    return judged


async def evaluate_category(
    session: AsyncSession,
    contribution: CategoryContribution,
    label: str,
    provider_id: int | None = None,
    aggregations: Mapping[str, CustomAggregation] | None = None,
    now: datetime | None = None,
) -> EvaluationSummary:
    """Score one closed month of one category, then apply its sanction ladder to the providers
    with evidence; the caller commits."""
    require_closed(contribution, label, now)
    with EVALUATION_SECONDS.labels(contribution.category.key).time():
        summary = await evaluation.evaluate_category(
            session, contribution, label, provider_id, aggregations
        )
        if summary.providers:
            key = contribution.category.key
            judged = await _judged(session, key, label, list(summary.providers))
            if judged:
                await apply_ladder(
                    session, key, label, judged, contribution.scoring, contribution.penalty_rules
                )
    return summary


async def evaluate_period(
    session: AsyncSession,
    registry: Registry,
    label: str,
    category: str | None = None,
    provider_id: int | None = None,
    by: str = "manual",
    now: datetime | None = None,
    on_category: Callable[[str, EvaluationSummary, int], None] | None = None,
) -> dict[str, EvaluationSummary]:
    """Evaluate every category (or one) for the closed month `label`; the caller commits.

    Refused whole (`PERIOD_NOT_CLOSED`) if the month has not closed for any target category.
    A whole-category run records its claim, so the scheduler will not evaluate it again.
    `on_category(key, summary, total)` is called after each category (for progress bars)."""
    period_of(label, PeriodKind.MONTH, "UTC")  # validates the label early
    targets = [registry.category(category)] if category else list(registry.categories.values())
    for contribution in targets:
        require_closed(contribution, label, now)
    summaries = {}
    for c in targets:
        summaries[c.category.key] = await evaluate_category(
            session, c, label, provider_id, registry.aggregations, now
        )
        if provider_id is None:
            await claim_run(session, c.category.key, label, by)
        if on_category is not None:
            on_category(c.category.key, summaries[c.category.key], len(targets))
    return summaries


async def evaluate_due(
    sessions: async_sessionmaker[AsyncSession],
    registry: Registry,
    by: str = "scheduler",
    now: datetime | None = None,
) -> list[tuple[str, EvaluationSummary]]:
    """Evaluate every closed, not yet evaluated month of every category, oldest first, one
    transaction per (category, month). Safe with several processes: each month is claimed in
    its evaluating transaction, and a process that loses the claim skips it."""
    now = now or utcnow()
    done: list[tuple[str, EvaluationSummary]] = []
    for key, contribution in registry.categories.items():
        async with sessions() as session:
            labels = await due_periods(session, contribution, now)
        for label in labels:
            async with sessions() as session, session.begin():
                if not await claim_run(session, key, label, by):
                    continue  # another process evaluated it (or is doing so and committed first)
                summary = await evaluate_category(
                    session, contribution, label, None, registry.aggregations, now
                )
            log.info("evaluated %s %s: %s written", key, label, summary.written)
            done.append((key, summary))
    return done
