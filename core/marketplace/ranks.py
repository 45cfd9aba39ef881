"""The stored ordering of a category's dispatch pool, so a dispatch walks an index best-first
instead of scoring every provider.

`dispatch_ranks` holds, per provider and category, the part of the dispatch score that does not
change from one request to the next — the KPI part and the tier part, in hundredths — the
newcomer flag, and the position in that order (where a rotation draw starts). It is rebuilt
in one INSERT … SELECT whenever its inputs changed: the newest `applications.updated_at` of the
category (tier, status, new applications), the newest `current_composites.updated_at` (an
evaluation), or the policy's ranking weights; and at least every `MAX_AGE` in any case.
Eligibility (status, sanctions, deposits, capacity, pilot quota, marketplaces, regions, the
match rule, the seller's exclusions) and the load are never taken from here: the walk checks
them live on the rows it visits, so a stale row can at worst change the order of two
candidates, never admit one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Numeric,
    Select,
    case,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.db import take_turns, utcnow
from linkstar.core.kernel.vocabulary import ApplicationStatus
from linkstar.core.kpi.public import composites_changed_at, latest_composites
from linkstar.core.marketplace.models import DispatchRank, DispatchRankStamp, Offer
from linkstar.core.marketplace.policy import DispatchPolicy
from linkstar.core.onboarding.models import Application

# a change committed out of timestamp order can hide from the stamp; this bounds how long
MAX_AGE = timedelta(minutes=10)


def _weights(policy: DispatchPolicy) -> str:
    tiers = ",".join(f"{t.value}={w}" for t, w in sorted(policy.tier_weights.items()))
    return f"kpi={policy.kpi_weight};unrated={policy.unrated_composite};{tiers}"


def _stamp(apps_at: datetime | None, composites_at: datetime | None, policy: DispatchPolicy) -> str:
    def at(value: datetime | None) -> str:
        return "-" if value is None else value.isoformat()

    return f"{at(apps_at)}|{at(composites_at)}|{_weights(policy)}"[:255]


def base_hundredths(policy: DispatchPolicy, tier: Any, composite_hundredths: Any) -> Any:
    """SQL: the KPI part plus the tier part of the score, in hundredths (an integer)."""
    rated = func.coalesce(composite_hundredths, int(policy.unrated_composite * 100))
    kpi = literal(policy.kpi_weight, Numeric(12, 4)) * rated / 100
    tier_part = case(
        *((tier == t, literal(int(w * 100))) for t, w in policy.tier_weights.items()),
        else_=literal(0),
    )
    return cast(func.round(kpi), BigInteger) + tier_part


async def rebuild(session: AsyncSession, category: str, policy: DispatchPolicy, stamp: str) -> int:
    """Replace the category's ranks with freshly computed ones (one statement) and stamp them."""
    app = Application
    composites = latest_composites(category)
    await session.execute(delete(DispatchRank).where(DispatchRank.category_key == category))
    base = base_hundredths(policy, app.tier, composites.c.composite_hundredths)
    position = func.row_number().over(order_by=(base.desc(), app.provider_id.desc())) - 1
    rows = (
        select(
            literal(category).label("category_key"),
            app.provider_id,
            base.label("base"),
            position.label("position"),
            or_(
                composites.c.composite_hundredths.is_(None),
                app.status == ApplicationStatus.PROBATION,
            ).label("newcomer"),
        )
        .select_from(
            app.__table__.outerjoin(composites, composites.c.provider_id == app.provider_id)
        )
        .where(app.category_key == category)
    )
    result = await session.execute(
        DispatchRank.__table__.insert().from_select(
            ["category_key", "provider_id", "base", "position", "newcomer"], rows
        )
    )
    await session.execute(
        delete(DispatchRankStamp).where(DispatchRankStamp.category_key == category)
    )
    session.add(DispatchRankStamp(category_key=category, inputs=stamp, built_at=utcnow()))
    await session.flush()
    return result.rowcount


def _look(category: str) -> Select[Any]:
    """One row: the newest application change, the newest composite change, and the stamp."""
    stamp = DispatchRankStamp
    return select(
        select(func.max(Application.updated_at))
        .where(Application.category_key == category)
        .scalar_subquery(),
        composites_changed_at(category),
        select(stamp.inputs).where(stamp.category_key == category).scalar_subquery(),
        select(stamp.built_at).where(stamp.category_key == category).scalar_subquery(),
    )


_LOOKS: dict[str, Select[Any]] = {}


async def ensure_current(session: AsyncSession, category: str, policy: DispatchPolicy) -> bool:
    """Rebuild the category's ranks if their inputs changed; True when it rebuilt.

    One round trip when nothing changed. Concurrent dispatchers that all find the ranks stale
    take turns (`take_turns`), and each re-checks after its turn, so one rebuilds.
    """

    statement = _LOOKS.get(category)
    if statement is None:
        statement = _LOOKS[category] = _look(category)

    async def look() -> tuple[str, str | None, datetime | None]:
        row = (await session.execute(statement)).one()
        return _stamp(row[0], row[1], policy), row[2], row[3]

    def fresh(wanted: str, stored: str | None, built_at: datetime | None) -> bool:
        return stored == wanted and built_at is not None and utcnow() - built_at < MAX_AGE

    if fresh(*await look()):
        return False
    # SQLite: an empty UPDATE of any table with an id makes this transaction the writer
    await take_turns(session, Offer, f"dispatch-ranks:{category}")
    wanted, stored, built_at = await look()
    if fresh(wanted, stored, built_at):
        return False
    await rebuild(session, category, policy, wanted)
    return True
