"""The scorecards standing reads: the latest revision of each month, with whether it failed."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.kernel.db import among
from linkstar.core.kpi.models import Scorecard
from linkstar.core.standing.basis import failing, voided_metrics


@dataclass(frozen=True, slots=True)
class CardSummary:
    id: int
    period: str
    composite: Decimal | None
    failing: bool


def consecutive(periods: list[str]) -> bool:
    """Whether month labels (newest first) follow each other without a gap."""
    for newer, older in itertools.pairwise(periods):
        year, month = map(int, newer.split("-"))
        expected = f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"
        if older != expected:
            return False
    return True


async def recent_cards(
    session: AsyncSession, category: str, providers: list[int], label: str | None, count: int
) -> dict[int, list[CardSummary]]:
    """Latest-revision scorecards up to `label` (None: all), newest first, at most `count` per
    provider."""
    bounds = [Scorecard.category_key == category, among(session, Scorecard.provider_id, providers)]
    if label is not None:
        bounds.append(Scorecard.period <= label)
    # One scan, newest first, the latest revision kept per month in Python: no self-join on
    # the latest revision, whose plan on freshly written rows (no statistics yet) could be a
    # nested loop over 10,000 × 10,000. Only the columns the ladder reads (a row also holds
    # kilobytes of definitions JSON).
    stmt = (
        select(
            Scorecard.id,
            Scorecard.provider_id,
            Scorecard.period,
            Scorecard.composite,
            Scorecard.results,
        )
        .where(*bounds)
        .order_by(Scorecard.provider_id, Scorecard.period.desc(), Scorecard.revision.desc())
    )
    voided = await voided_metrics(session, providers, category)
    cards: dict[int, list[CardSummary]] = defaultdict(list)
    seen: set[tuple[int, str]] = set()
    for card_id, provider_id, period, score, results in (await session.execute(stmt)).all():
        if (provider_id, period) in seen:
            continue  # an older revision of a month already taken
        seen.add((provider_id, period))
        if len(cards[provider_id]) < count:
            void = voided.get((provider_id, period), set())
            cards[provider_id].append(CardSummary(card_id, period, score, failing(results, void)))
    return cards


async def latest_scorecard(
    session: AsyncSession, provider_id: int, category: str, period: str
) -> Scorecard | None:
    """The latest revision of the provider's scorecard of `category` for the month `period`."""
    stmt = (
        select(Scorecard)
        .where(
            Scorecard.provider_id == provider_id,
            Scorecard.category_key == category,
            Scorecard.period == period,
        )
        .order_by(Scorecard.revision.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def latest_scorecards(
    session: AsyncSession, provider_id: int, category: str, periods: int
) -> list[Scorecard]:
    """The latest revision of each of the provider's last `periods` scorecards of `category`,
    oldest first (a metric's trend)."""
    cards = await recent_cards(session, category, [provider_id], None, periods)
    ids = [c.id for c in cards.get(provider_id, [])]
    rows = (await session.execute(select(Scorecard).where(Scorecard.id.in_(ids)))).scalars()
    return sorted(rows, key=lambda r: r.period)
