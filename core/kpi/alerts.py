"""Early warning: the running value of each metric is checked when data arrives.

Three lines per metric, from the strictest: the provider's own INTERNAL threshold (it must be
stricter than the platform's), the PLATFORM_WARNING line (the threshold moved by the metric's
warning band), and the PLATFORM_THRESHOLD itself. Crossing a line raises one alert per metric,
period and line. Below the minimum sample there is no verdict, so no alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.events import DomainEvent
from linkstar.core.kernel.periods import period_containing
from linkstar.core.kpi.aggregations import aggregate
from linkstar.core.kpi.metrics import Direction, MetricDefinition
from linkstar.core.kpi.models import Alert, AlertThreshold
from linkstar.core.kpi.units import in_unit_range

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import Registry


def check_internal_threshold(metric: MetricDefinition, threshold: Decimal) -> None:
    """InvalidInput unless `threshold` is a possible value and stricter than the platform's."""
    if not in_unit_range(metric.unit, threshold):
        raise InvalidInput(f"{threshold} is not a possible {metric.unit.value} value")
    stricter = (
        threshold > metric.threshold
        if metric.direction is Direction.HIGHER_IS_BETTER
        else threshold < metric.threshold
    )
    if not stricter:
        word = "above" if metric.direction is Direction.HIGHER_IS_BETTER else "below"
        raise InvalidInput(
            f"an internal line must be stricter than the platform's {metric.threshold}: "
            f"set it {word} it",
            code="THRESHOLD_NOT_STRICTER",
        )


async def set_internal_threshold(
    session: AsyncSession,
    provider_id: int,
    category_key: str,
    metric: MetricDefinition,
    threshold: Decimal,
) -> AlertThreshold:
    """Set (or move) the provider's own early-warning line for `metric`, after checking it."""
    check_internal_threshold(metric, threshold)
    row = (
        await session.execute(
            select(AlertThreshold).where(
                AlertThreshold.provider_id == provider_id,
                AlertThreshold.category_key == category_key,
                AlertThreshold.metric_key == metric.key,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = AlertThreshold(
            provider_id=provider_id,
            category_key=category_key,
            metric_key=metric.key,
            threshold=threshold,
        )
        session.add(row)
    else:
        row.threshold = threshold
        row.updated_at = utcnow()
    return row


async def mark_read(session: AsyncSession, provider_id: int, alert_id: int) -> Alert:
    """Mark one of the provider's alerts read (once: the first reading time stays)."""
    row = await session.get(Alert, alert_id)
    if row is None or row.provider_id != provider_id:
        raise NotFound("no such alert")
    row.read_at = row.read_at or utcnow()
    return row


def _crossed(metric: MetricDefinition, value: Decimal, line: Decimal) -> bool:
    return value < line if metric.direction is Direction.HIGHER_IS_BETTER else value > line


def _lines(metric: MetricDefinition, internal: Decimal | None) -> list[tuple[str, Decimal]]:
    band = (
        metric.warning_band
        if metric.direction is Direction.HIGHER_IS_BETTER
        else -metric.warning_band
    )
    lines = [("INTERNAL", internal)] if internal is not None else []
    if metric.warning_band:
        lines.append(("PLATFORM_WARNING", metric.threshold + band))
    lines.append(("PLATFORM_THRESHOLD", metric.threshold))
    return lines  # strictest first


async def check_running_values(
    session: AsyncSession,
    registry: Registry,
    provider_id: int,
    touched: Iterable[tuple[str, str, object]],
) -> list[Alert]:
    """Check each (category, metric, observed_at) a report touched; alert on crossed lines."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    seen: set[tuple[str, str, str]] = set()
    alerts: list[Alert] = []
    internal = {
        (t.category_key, t.metric_key): t.threshold
        for t in (
            await session.execute(
                select(AlertThreshold).where(AlertThreshold.provider_id == provider_id)
            )
        )
        .scalars()
        .all()
    }
    for category, metric_key, observed_at in touched:
        metric = registry.category(category).metric(metric_key)
        period = period_containing(observed_at, metric.window.period, metric.window.timezone)  # type: ignore[arg-type]
        if not period.contains(now) or (category, metric_key, period.label) in seen:
            continue  # only the open period is watched
        seen.add((category, metric_key, period.label))
        values = await aggregate(
            session, category, metric, period, provider_id, registry.aggregations
        )
        value, sample = values.get(provider_id, (None, 0))
        if value is None or sample < metric.min_sample_size:
            continue
        for line, threshold in _lines(metric, internal.get((category, metric_key))):
            if not _crossed(metric, value, threshold):
                continue
            key = f"{provider_id}:{category}:{metric_key}:{period.label}:{line}"
            if (await session.execute(select(Alert.id).where(Alert.dedupe_key == key))).first():
                continue
            # a concurrent report may raise the same alert first: that must not cost this report
            stmt = (
                insert(Alert)
                .values(
                    provider_id=provider_id,
                    category_key=category,
                    metric_key=metric_key,
                    period=period.label,
                    line=line,
                    value=value,
                    threshold=threshold,
                    sample_size=sample,
                    dedupe_key=key,
                )
                .on_conflict_do_nothing(index_elements=[Alert.dedupe_key])
                .returning(Alert)
            )
            alerts.extend((await session.execute(stmt)).scalars().all())
    for alert in alerts:  # on the timeline, so subscribers and webhooks hear of it
        session.add(
            DomainEvent(
                event_type="alert.raised",
                subject_type="Alert",
                subject_id=alert.id,
                provider_id=alert.provider_id,
                actor="system",
                payload={
                    "category": alert.category_key,
                    "metric": alert.metric_key,
                    "period": alert.period,
                    "line": str(alert.line),
                    "value": str(alert.value),
                    "threshold": str(alert.threshold),
                },
            )
        )
    return alerts
