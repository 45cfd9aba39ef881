"""Evaluating a period: every metric of every category, for all providers at once.

The scorecard period is a calendar month in the metric's time zone; a metric with a quarterly
window is evaluated over the quarter that contains the month. Providers evaluated are those
holding the category in PROBATION or ACTIVE. Re-evaluating is idempotent: a scorecard whose
inputs and results are unchanged is not written again; a changed one becomes a new revision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.db import take_turns
from linkstar.core.kernel.events import DomainEvent
from linkstar.core.kernel.periods import Period, month_to_period, period_of
from linkstar.core.kernel.vocabulary import ApplicationStatus
from linkstar.core.kpi.aggregations import aggregate
from linkstar.core.kpi.metrics import CustomAggregation, MetricResult, PeriodKind, evaluate
from linkstar.core.kpi.models import Scorecard
from linkstar.core.kpi.scoring import attainment, composite, digest, history_score, standing
from linkstar.core.onboarding.models import Application

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import CategoryContribution

EVALUATED = (ApplicationStatus.PROBATION, ApplicationStatus.ACTIVE)


@dataclass(frozen=True, slots=True)
class EvaluationSummary:
    """What one run did, per category: providers evaluated, scorecards written, unchanged."""

    period: str
    evaluated: int
    written: int
    unchanged: int
    providers: tuple[int, ...] = ()  # evaluated, for the consequences that follow


def _metric_period(label: str, window_kind: PeriodKind, timezone: str) -> Period:
    return month_to_period(label, window_kind, timezone)


async def _previous_composites(
    session: AsyncSession, category: str, providers: list[int], label: str, limit: int
) -> dict[int, list[Decimal | None]]:
    """Latest-revision composites of earlier periods, newest first, per provider (one query)."""
    latest = (
        select(
            Scorecard.provider_id, Scorecard.period, func.max(Scorecard.revision).label("revision")
        )
        .where(
            Scorecard.category_key == category,
            Scorecard.period < label,
            Scorecard.provider_id.in_(providers),
        )
        .group_by(Scorecard.provider_id, Scorecard.period)
        .subquery()
    )
    stmt = (
        select(Scorecard.provider_id, Scorecard.period, Scorecard.composite)
        .join(
            latest,
            (latest.c.provider_id == Scorecard.provider_id)
            & (latest.c.period == Scorecard.period)
            & (latest.c.revision == Scorecard.revision),
        )
        .where(Scorecard.category_key == category)
        .order_by(Scorecard.provider_id, Scorecard.period.desc())
    )
    history: dict[int, list[Decimal | None]] = defaultdict(list)
    for pid, _period, score in (await session.execute(stmt)).all():
        if len(history[pid]) < limit:
            history[pid].append(score)
    return history


async def _latest_digests(
    session: AsyncSession, category: str, label: str, providers: list[int]
) -> dict[int, tuple[int, str]]:
    stmt = select(Scorecard.provider_id, Scorecard.revision, Scorecard.inputs_digest).where(
        Scorecard.category_key == category,
        Scorecard.period == label,
        Scorecard.provider_id.in_(providers),
    )
    latest: dict[int, tuple[int, str]] = {}
    for pid, revision, value in (await session.execute(stmt)).all():
        if pid not in latest or revision > latest[pid][0]:
            latest[pid] = (revision, value)
    return latest


async def evaluate_category(
    session: AsyncSession,
    contribution: CategoryContribution,
    label: str,
    provider_id: int | None = None,
    aggregations: Mapping[str, CustomAggregation] | None = None,
) -> EvaluationSummary:
    """Evaluate one category for the month `label` ("2026-10"); the caller commits."""
    category = contribution.category.key
    # a concurrent evaluation of the category finishes first; this one then finds its results
    await take_turns(session, Scorecard, f"evaluate:{category}")
    timezone = contribution.metrics[0].window.timezone
    month = period_of(label, PeriodKind.MONTH, timezone)
    conditions = [Application.category_key == category, Application.status.in_(EVALUATED)]
    if provider_id is not None:
        conditions.append(Application.provider_id == provider_id)
    providers = sorted(
        set(
            (await session.execute(select(Application.provider_id).where(*conditions)))
            .scalars()
            .all()
        )
    )
    if not providers:
        return EvaluationSummary(label, 0, 0, 0)
    values: dict[str, dict[int, tuple[Decimal | None, int]]] = {}
    for metric in contribution.metrics:
        period = _metric_period(label, metric.window.period, metric.window.timezone)
        values[metric.key] = await aggregate(
            session, category, metric, period, provider_id, aggregations
        )
    previous = await _previous_composites(
        session, category, providers, label, contribution.scoring.history_periods - 1
    )
    existing = await _latest_digests(session, category, label, providers)
    definitions = {
        m.key: {"fingerprint": m.fingerprint(), **m.as_dict()} for m in contribution.metrics
    }
    written = unchanged = 0
    published: list[Scorecard] = []
    for pid in providers:
        results: list[MetricResult] = []
        rows = []
        for metric in contribution.metrics:
            value, sample = values[metric.key].get(pid, (None, 0))
            result = evaluate(metric, value, sample)
            results.append(result)
            rows.append(
                {
                    "metric": metric.key,
                    "period": _metric_period(
                        label, metric.window.period, metric.window.timezone
                    ).label,
                    "value": None if value is None else str(value),
                    "sampleSize": sample,
                    "threshold": str(metric.threshold),
                    "status": result.status.value,
                    "margin": None if result.margin is None else str(result.margin),
                    "attainment": None
                    if result.status.value == "INSUFFICIENT_DATA" or value is None
                    else str(attainment(metric, value)),
                    "weight": str(metric.weight),
                    "definition": definitions[metric.key]["fingerprint"],
                }
            )
        score = composite(contribution.metrics, results)
        history = history_score(score, previous.get(pid, []), contribution.scoring.history_periods)
        band = standing(contribution.scoring, score)
        fingerprint = digest(
            {"results": rows, "composite": score, "history": history, "standing": band}
        )
        revision, known = existing.get(pid, (0, None))
        if known == fingerprint:
            unchanged += 1
            continue
        scorecard = Scorecard(
            provider_id=pid,
            category_key=category,
            period=label,
            revision=revision + 1,
            period_start=month.start,
            period_end=month.end,
            composite=score,
            history_score=history,
            standing=band,
            results=rows,
            definitions=definitions,
            inputs_digest=fingerprint,
        )
        session.add(scorecard)
        published.append(scorecard)
        written += 1
    await session.flush()
    for scorecard in published:  # on the timeline, so subscribers and webhooks hear of it
        session.add(
            DomainEvent(
                event_type="scorecard.published",
                subject_type="Scorecard",
                subject_id=scorecard.id,
                provider_id=scorecard.provider_id,
                actor="system",
                payload={
                    "category": category,
                    "period": label,
                    "revision": scorecard.revision,
                    "composite": None if scorecard.composite is None else str(scorecard.composite),
                    "standing": str(scorecard.standing),
                },
            )
        )
    await session.flush()
    return EvaluationSummary(label, len(providers), written, unchanged, tuple(providers))
