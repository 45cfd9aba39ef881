"""Small read-only queries other domains may use: the public KPI summary per provider."""

from __future__ import annotations

from sqlalchemy import BigInteger, Subquery, func, select, type_coerce

from linkstar.core.kpi.models import Scorecard


def latest_composites(category_key: str) -> Subquery:
    """(provider_id, composite_hundredths): each provider's latest composite in a category.

    The latest period's latest revision; `composite_hundredths` is the composite × 100 as an
    integer (NULL while unrated), so callers can rank in SQL without floats.
    """
    card = Scorecard
    rank = func.row_number().over(
        partition_by=card.provider_id, order_by=(card.period.desc(), card.revision.desc())
    )
    ranked = (
        select(
            card.provider_id,
            type_coerce(card.composite, BigInteger).label("composite_hundredths"),
            rank.label("rank"),
        )
        .where(card.category_key == category_key)
        .subquery()
    )
    return (
        select(ranked.c.provider_id, ranked.c.composite_hundredths)
        .where(ranked.c.rank == 1)
        .subquery("latest_composites")
    )
