"""Evaluating a period: every metric of every category, for all providers at once.

The scorecard period is a calendar month in the metric's time zone; a metric with a quarterly
window is evaluated over the quarter that contains the month. Providers evaluated are those
holding the category in PROBATION or ACTIVE. Re-evaluating is idempotent: a scorecard whose
inputs and results are unchanged is not written again; a changed one becomes a new revision.

Only closed months are evaluated: a month closes `reporting_grace_days` (category policy) after
its end, so late reports still count (`require_closed`, `PERIOD_NOT_CLOSED`). The open month's
running value is a projection (`project()`), never a scorecard. `EvaluationRun` rows claim each
(category, month), so that the scheduler evaluates a closed month exactly once (`due_periods`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.db import among, take_turns, utcnow
from linkstar.core.kernel.errors import LinkStarError
from linkstar.core.kernel.events import DomainEvent
from linkstar.core.kernel.periods import Period, month_to_period, period_containing, period_of
from linkstar.core.kernel.vocabulary import ApplicationStatus
from linkstar.core.kpi.aggregations import CustomAggregation, aggregate
from linkstar.core.kpi.metrics import MetricResult, PeriodKind, evaluate
from linkstar.core.kpi.models import CurrentComposite, EvaluationRun, KpiObservation, Scorecard
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


class PeriodNotClosed(LinkStarError):
    """The month has not closed for evaluation yet (or lies in the future)."""

    code = "PERIOD_NOT_CLOSED"


def closes_at(contribution: CategoryContribution, label: str) -> datetime:
    """When month `label` closes for evaluation: its end in the category's time zone plus the
    category's reporting grace period (late reports for the month are accepted until then)."""
    month = period_of(label, PeriodKind.MONTH, contribution.metrics[0].window.timezone)
    return month.end + timedelta(days=contribution.scoring.reporting_grace_days)


def require_closed(
    contribution: CategoryContribution, label: str, now: datetime | None = None
) -> None:
    """Refuse to evaluate a month that is open, in its grace period, or in the future."""
    closes = closes_at(contribution, label)
    if closes > (now or utcnow()):
        category = contribution.category.key
        raise PeriodNotClosed(
            f"{category} {label} is not closed: it closes for evaluation at "
            f"{closes.isoformat()} ({contribution.scoring.reporting_grace_days} days after the "
            "month ends, so late reports still count)",
            suggestion="evaluate a closed month; the open month's running value is "
            "Provider.kpiProjection(category:)",
            details={"category": category, "period": label, "closesAt": closes.isoformat()},
        )


async def claim_run(session: AsyncSession, category: str, label: str, by: str) -> bool:
    """Record that (category, month) is evaluated in this transaction; False when another
    transaction did or is doing it (it waits for that one on the unique key, then yields)."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(EvaluationRun)
        .values(category_key=category, period=label, evaluated_by=by, evaluated_at=utcnow())
        .on_conflict_do_nothing(index_elements=[EvaluationRun.category_key, EvaluationRun.period])
        .returning(EvaluationRun.id)
    )
    return (await session.execute(stmt)).first() is not None


async def evaluated(session: AsyncSession, category: str, label: str) -> bool:
    """Whether (category, month) has been evaluated for all providers."""
    stmt = select(EvaluationRun.id).where(
        EvaluationRun.category_key == category, EvaluationRun.period == label
    )
    return (await session.execute(stmt)).first() is not None


LOOKBACK_MONTHS = 24


async def due_periods(
    session: AsyncSession, contribution: CategoryContribution, now: datetime | None = None
) -> list[str]:
    """Closed months of the category not evaluated yet, oldest first: from the month of its
    earliest observation (at most LOOKBACK_MONTHS back) to the latest closed month."""
    now = now or utcnow()
    category = contribution.category.key
    timezone = contribution.metrics[0].window.timezone
    earliest = (
        await session.execute(
            select(func.min(KpiObservation.observed_at)).where(
                KpiObservation.category_key == category
            )
        )
    ).scalar_one_or_none()
    if earliest is None:
        return []
    month = period_containing(now, PeriodKind.MONTH, timezone)
    labels: list[str] = []
    for _ in range(LOOKBACK_MONTHS):
        month = month.previous()
        if month.end <= earliest:
            break
        if closes_at(contribution, month.label) <= now:
            labels.append(month.label)
    done = set(
        (
            await session.execute(
                select(EvaluationRun.period).where(
                    EvaluationRun.category_key == category, EvaluationRun.period.in_(labels)
                )
            )
        )
        .scalars()
        .all()
    )
    return sorted(label for label in labels if label not in done)


def _judge(
    contribution: CategoryContribution,
    label: str,
    values: Mapping[str, tuple[Decimal | None, int]],
    definitions: Mapping[str, Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], Decimal | None, str]:
    """One provider's results rows, composite and standing from its metric values."""
    results: list[MetricResult] = []
    rows = []
    for metric in contribution.metrics:
        value, sample = values.get(metric.key, (None, 0))
        result = evaluate(metric, value, sample)
        results.append(result)
        rows.append(
            {
                "metric": metric.key,
                "period": month_to_period(
                    label, metric.window.period, metric.window.timezone
                ).label,
                "value": None if value is None else str(value),
                "sampleSize": sample,
                "threshold": str(metric.threshold),
                "status": result.status.value,
                "margin": None if result.margin is None else str(result.margin),
                "attainment": None
                if result.status.value == "INSUFFICIENT_DATA" or value is None
                else str(attainment(metric, value, contribution.scoring.pass_mark)),
                "weight": str(metric.weight),
                "definition": definitions[metric.key]["fingerprint"],
            }
        )
    score = composite(contribution.metrics, results, contribution.scoring)
    return rows, score, standing(contribution.scoring, score)


@dataclass(frozen=True, slots=True)
class Projection:
    """The running value of the open month: not a scorecard, decides nothing."""

    period: str
    as_of: datetime
    closes_at: datetime
    results: list[dict[str, Any]]
    composite: Decimal | None
    standing: str


async def project(
    session: AsyncSession,
    contribution: CategoryContribution,
    provider_id: int,
    now: datetime | None = None,
    aggregations: Mapping[str, CustomAggregation] | None = None,
) -> Projection:
    """Score the open month so far for one provider, exactly as its scorecard will be computed
    once it closes; nothing is written."""
    now = now or utcnow()
    category = contribution.category.key
    label = period_containing(now, PeriodKind.MONTH, contribution.metrics[0].window.timezone).label
    values: dict[str, tuple[Decimal | None, int]] = {}
    for metric in contribution.metrics:
        period: Period = month_to_period(label, metric.window.period, metric.window.timezone)
        found = await aggregate(session, category, metric, period, provider_id, aggregations)
        values[metric.key] = found.get(provider_id, (None, 0))
    definitions = {m.key: {"fingerprint": m.fingerprint()} for m in contribution.metrics}
    rows, score, band = _judge(contribution, label, values, definitions)
    return Projection(label, now, closes_at(contribution, label), rows, score, band)


async def _previous_composites(
    session: AsyncSession, category: str, providers: list[int], label: str, limit: int
) -> dict[int, list[Decimal | None]]:
    """Latest-revision composites of earlier periods, newest first, per provider (one query:
    a scan newest first, the latest revision kept per month here, not a self-join whose plan
    depends on the statistics of freshly written rows)."""
    stmt = (
        select(Scorecard.provider_id, Scorecard.period, Scorecard.composite)
        .where(
            Scorecard.category_key == category,
            Scorecard.period < label,
            among(session, Scorecard.provider_id, providers),
        )
        .order_by(Scorecard.provider_id, Scorecard.period.desc(), Scorecard.revision.desc())
    )
    history: dict[int, list[Decimal | None]] = defaultdict(list)
    seen: set[tuple[int, str]] = set()
    for pid, period, score in (await session.execute(stmt)).all():
        if (pid, period) in seen:
            continue
        seen.add((pid, period))
        if len(history[pid]) < limit:
            history[pid].append(score)
    return history


async def _latest_digests(
    session: AsyncSession, category: str, label: str, providers: list[int]
) -> dict[int, tuple[int, str]]:
    stmt = select(Scorecard.provider_id, Scorecard.revision, Scorecard.inputs_digest).where(
        Scorecard.category_key == category,
        Scorecard.period == label,
        among(session, Scorecard.provider_id, providers),
    )
    latest: dict[int, tuple[int, str]] = {}
    for pid, revision, value in (await session.execute(stmt)).all():
        if pid not in latest or revision > latest[pid][0]:
            latest[pid] = (revision, value)
    return latest


async def _keep_current(session: AsyncSession, category: str, cards: list[dict[str, Any]]) -> None:
    """Point each provider's current composite at its newest card (a re-evaluation of an
    older month leaves a later month's composite in place). `cards` are the rows just
    inserted, each with its `id`.

    One upsert for all the cards (no row loaded, no ORM object per provider): a provider's row
    is written when it has none, or when its card is not older than the one it points at."""
    if not cards:
        return
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    table = CurrentComposite.__table__
    now = utcnow()
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.provider_id, table.c.category_key],
        set_={
            "scorecard_id": stmt.excluded.scorecard_id,
            "period": stmt.excluded.period,
            "revision": stmt.excluded.revision,
            "composite": stmt.excluded.composite,
            "updated_at": stmt.excluded.updated_at,
        },
        where=(table.c.period < stmt.excluded.period)
        | ((table.c.period == stmt.excluded.period) & (table.c.revision <= stmt.excluded.revision)),
    )
    await session.execute(
        stmt,
        [
            {
                "provider_id": card["provider_id"],
                "category_key": category,
                "scorecard_id": card["id"],
                "period": card["period"],
                "revision": card["revision"],
                "composite": card["composite"],
                "updated_at": now,
            }
            for card in cards
        ],
    )


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
    # re-scoring one provider (an appeal) includes an ended membership: the appeal may
    # remove the basis of its termination
    statuses = EVALUATED if provider_id is None else (*EVALUATED, ApplicationStatus.TERMINATED)
    conditions = [Application.category_key == category, Application.status.in_(statuses)]
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
        period = month_to_period(label, metric.window.period, metric.window.timezone)
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
    published: list[dict[str, Any]] = []
    for pid in providers:
        rows, score, band = _judge(
            contribution,
            label,
            {m.key: values[m.key].get(pid, (None, 0)) for m in contribution.metrics},
            definitions,
        )
        history = history_score(score, previous.get(pid, []), contribution.scoring.history_periods)
        fingerprint = digest(
            {"results": rows, "composite": score, "history": history, "standing": band}
        )
        revision, known = existing.get(pid, (0, None))
        if known == fingerprint:
            unchanged += 1
            continue
        published.append(
            {
                "provider_id": pid,
                "category_key": category,
                "period": label,
                "revision": revision + 1,
                "period_start": month.start,
                "period_end": month.end,
                "composite": score,
                "history_score": history,
                "standing": band,
                "results": rows,
                "definitions": definitions,
                "inputs_digest": fingerprint,
            }
        )
        written += 1
    if published:
        # one bulk insert (the ORM's unit of work tracked 10,000 objects it never used again);
        # the events go through the ORM, whose flush writes their webhook deliveries
        table = Scorecard.__table__
        ids = (
            await session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), published
            )
        ).scalars()
        for scorecard, scorecard_id in zip(published, ids, strict=True):
            scorecard["id"] = scorecard_id
        await _keep_current(session, category, published)
        for scorecard in published:  # on the timeline, so subscribers and webhooks hear of it
            scorecard_id = scorecard["id"]
            session.add(
                DomainEvent(
                    event_type="scorecard.published",
                    subject_type="Scorecard",
                    subject_id=scorecard_id,
                    provider_id=scorecard["provider_id"],
                    actor="system",
                    payload={
                        "category": category,
                        "period": label,
                        "revision": scorecard["revision"],
                        "composite": None
                        if scorecard["composite"] is None
                        else str(scorecard["composite"]),
                        "standing": str(scorecard["standing"]),
                    },
                )
            )
    await session.flush()
    return EvaluationSummary(label, len(providers), written, unchanged, tuple(providers))
