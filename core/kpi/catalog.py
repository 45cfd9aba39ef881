"""Keeps the table of metric definition versions in step with what the plugins declare."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kpi.models import MetricDefinitionVersion

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import Registry


async def record_metric_versions(session: AsyncSession, registry: Registry) -> int:
    """Store every metric definition not seen before; safe when many processes start at once.

    Returns the number of new versions. Old versions are never deleted: results computed under
    them keep pointing at the exact definition they used.
    """
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    rows = [
        {
            "category_key": key,
            "metric_key": metric.key,
            "fingerprint": metric.fingerprint(),
            "definition": metric.as_dict(),
        }
        for key, contribution in registry.categories.items()
        for metric in contribution.metrics
    ]
    if not rows:
        return 0
    known = set(
        (await session.execute(select(MetricDefinitionVersion.fingerprint))).scalars().all()
    )
    new = [row for row in rows if row["fingerprint"] not in known]
    if new:
        stmt = insert(MetricDefinitionVersion).values(new).on_conflict_do_nothing()
        await session.execute(stmt)
    return len(new)
