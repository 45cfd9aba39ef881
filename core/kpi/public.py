"""Small read-only queries other domains may use: the public KPI summary per provider."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import BigInteger, ScalarSelect, Subquery, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.vocabulary import ObservationSource
from linkstar.core.kpi.models import CurrentComposite, KpiObservation


def latest_composites(category_key: str) -> Subquery:
    """(provider_id, composite_hundredths): each provider's latest composite in a category.

    The latest period's latest revision, as the evaluation keeps it in `current_composites`;
    `composite_hundredths` is the composite × 100 as an integer (NULL while unrated), so
    callers can rank in SQL without floats.
    """
    current = CurrentComposite
    return (
        select(
            current.provider_id,
            type_coerce(current.composite, BigInteger).label("composite_hundredths"),
        )
        .where(current.category_key == category_key)
        .subquery("latest_composites")
    )


def composites_changed_at(category_key: str) -> ScalarSelect[datetime | None]:
    """When a current composite in `category_key` last changed (NULL when none): callers that
    keep something derived from the composites compare it to know when to rebuild."""
    current = CurrentComposite
    return (
        select(func.max(current.updated_at))
        .where(current.category_key == category_key)
        .scalar_subquery()
    )


async def source_counts(
    session: AsyncSession,
    provider_id: int,
    category_key: str,
    windows: Mapping[str, tuple[datetime, datetime]],
) -> dict[str, dict[ObservationSource, int]]:
    """Per metric: how many observations that count came from the platform and how many were
    self-reported, each metric in its own window (start inclusive, end exclusive)."""
    found: dict[str, dict[ObservationSource, int]] = {
        key: dict.fromkeys(ObservationSource, 0) for key in windows
    }
    obs = KpiObservation
    superseded = select(obs.supersedes_id).where(obs.supersedes_id.is_not(None))
    for metric, (start, end) in windows.items():
        rows = await session.execute(
            select(obs.source, func.count())
            .where(
                obs.provider_id == provider_id,
                obs.category_key == category_key,
                obs.metric_key == metric,
                obs.observed_at >= start,
                obs.observed_at < end,
                obs.attributable.is_(True),
                obs.id.not_in(superseded),
            )
            .group_by(obs.source)
        )
        for source, count in rows.all():
            found[metric][ObservationSource(source)] = count
    return found
