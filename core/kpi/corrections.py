"""Reviewed self-corrections: a provider's corrections of its own observations and its
not-attributable claims wait for a reviewer before they count.

- A claim is a record reported by the provider itself (`SELF_REPORTED`) that `supersedes` an
  earlier record or carries `notAttributableReason`. It is stored PENDING: the original record
  keeps counting, and a new record flagged not attributable counts as attributable, until a
  reviewer ACCEPTs it (`review_claim`). A REJECTED claim changes nothing; both versions stay
  visible either way.
- The category may accept claims at once within a limit (`ScoringPolicy.auto_accept_claims_percent`
  of the provider's records of that month); beyond it they wait like the others.
- Platform-sourced records cannot be corrected by the provider at all: it disputes them with an
  appeal (`reporting.report` refuses such a correction).
- Staff corrections and an upheld appeal's exclusions need no review (review_status NULL).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.db import claim, utcnow
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.events import DomainEvent
from linkstar.core.kernel.periods import PeriodKind, period_containing
from linkstar.core.kernel.vocabulary import ObservationSource
from linkstar.core.kpi.models import KpiObservation

if TYPE_CHECKING:  # the registry holds domains' declarations; domains never call it
    from linkstar.core.contract.registry import Registry

PENDING, ACCEPTED, REJECTED = "PENDING", "ACCEPTED", "REJECTED"
AUTO = "auto"


def is_claim(row: dict[str, Any]) -> bool:
    """Whether a new row is a provider's claim on its own data that needs review."""
    return row["source"] is ObservationSource.SELF_REPORTED and (
        row["supersedes_id"] is not None or not row["attributable"]
    )


async def settle_new_claims(
    session: AsyncSession, registry: Registry, provider_id: int, rows: list[dict[str, Any]]
) -> None:
    """Set `review_status` on the claims among new rows: ACCEPTED while within the category's
    auto-accept budget for the month, PENDING beyond it (rows are edited in place)."""
    claims = [row for row in rows if is_claim(row)]
    if not claims:
        return
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    bounds: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for row in claims:
        contribution = registry.category(row["category_key"])
        month = period_containing(
            row["observed_at"], PeriodKind.MONTH, contribution.metrics[0].window.timezone
        )
        groups[(row["category_key"], month.label)].append(row)
        bounds[(row["category_key"], month.label)] = (month.start, month.end)
    for (category, label), group in groups.items():
        percent = registry.category(category).scoring.auto_accept_claims_percent
        budget = 0
        if percent > 0:
            start, end = bounds[(category, label)]
            in_month = (
                KpiObservation.provider_id == provider_id,
                KpiObservation.category_key == category,
                KpiObservation.observed_at >= start,
                KpiObservation.observed_at < end,
            )
            records = (
                await session.execute(
                    select(func.count()).where(*in_month, KpiObservation.supersedes_id.is_(None))
                )
            ).scalar_one()
            used = (
                await session.execute(
                    select(func.count()).where(
                        *in_month,
                        KpiObservation.review_status == ACCEPTED,
                        KpiObservation.reviewed_by == AUTO,
                    )
                )
            ).scalar_one()
            budget = max(0, math.floor(Decimal(records) * percent / 100) - used)
        now = utcnow()
        for row in group:
            if budget > 0:
                budget -= 1
                row.update(
                    review_status=ACCEPTED,
                    reviewed_by=AUTO,
                    reviewed_at=now,
                    review_note=f"accepted at once: within {percent}% of the month's records",
                )
            else:
                row["review_status"] = PENDING


async def review_claim(
    session: AsyncSession, viewer: Viewer, observation_id: int, accept: bool, note: str
) -> KpiObservation:
    """A reviewer accepts or rejects a pending claim (one decision wins: the other CONFLICT)."""
    if not note.strip():
        raise InvalidInput("give the reason for the decision", code="REASON_REQUIRED")
    row = await session.get(KpiObservation, observation_id)
    if row is None:
        raise NotFound("no such observation")
    if row.review_status != PENDING:
        raise InvalidInput(
            "only a pending claim can be reviewed; this one is "
            f"{row.review_status or 'not a claim'}",
            code="NOT_PENDING",
        )
    status = ACCEPTED if accept else REJECTED
    await claim(
        session,
        KpiObservation,
        observation_id,
        {"review_status": PENDING},
        {
            "review_status": status,
            "reviewed_by": viewer.label[:120],
            "reviewed_at": utcnow(),
            "review_note": note.strip(),
        },
        "claim",
    )
    session.add(
        DomainEvent(
            event_type=f"observation.claim_{status.lower()}",
            subject_type="Provider",
            subject_id=row.provider_id,
            provider_id=row.provider_id,
            actor=viewer.label,
            payload={
                "observation": observation_id,
                "category": row.category_key,
                "metric": row.metric_key,
                "supersedes": row.supersedes_id,
                "reason": note.strip(),
            },
        )
    )
    await session.flush()
    await session.refresh(row)
    return row
