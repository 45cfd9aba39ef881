"""Per-request DataLoaders for the core's tables. Each batch opens its own session."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select
from strawberry.dataloader import DataLoader

from linkstar.core.kernel.vocabulary import ApplicationStatus, SanctionKind, Tier
from linkstar.core.kpi.models import Scorecard
from linkstar.core.onboarding.models import Application, Document
from linkstar.core.providers.models import CategoryProfileRow, ProviderMarketplace
from linkstar.core.standing.public import shown_standing, standing_sanctions
from linkstar.schema.context import Context
from linkstar.schema.pagination import (
    MAX_ID,
    PageArgs,
    count_by_parent,
    count_by_parent_statement,
    nested_pages,
    nested_pages_statement,
)


@functools.lru_cache(maxsize=128)
def _by_id_statement(model: type[Any]) -> Any:
    return select(model).where(model.id.in_(bindparam("ids", expanding=True)))


def by_id(context: Context, model: type[Any]) -> DataLoader[int, Any]:
    """Rows of `model` by primary key (None where absent)."""

    async def batch(ids: Sequence[int]) -> list[Any]:
        valid = [i for i in ids if isinstance(i, int) and 1 <= i <= MAX_ID]
        async with context.session() as session:
            rows = (await session.scalars(_by_id_statement(model), {"ids": valid})).all()
        found = {row.id: row for row in rows}
        return [found.get(i) for i in ids]

    return context.loader(("by_id", model.__tablename__), batch)


# Loader statements are built once, their ids bound at each batch: a request pays for neither
# building them nor computing their cache keys; they select columns, not ORM objects.
_MARKETPLACES = select(ProviderMarketplace.provider_id, ProviderMarketplace.marketplace).where(
    ProviderMarketplace.provider_id.in_(bindparam("ids", expanding=True))
)


def marketplaces(context: Context) -> DataLoader[int, list[Any]]:
    """A provider's marketplaces, sorted."""

    async def batch(ids: Sequence[int]) -> list[list[Any]]:
        grouped: dict[int, list[Any]] = defaultdict(list)
        async with context.session() as session:
            for provider_id, marketplace in (
                await session.execute(_MARKETPLACES, {"ids": list(ids)})
            ).all():
                grouped[provider_id].append(marketplace)
        return [sorted(grouped[i]) for i in ids]

    return context.loader("marketplaces", batch)


def profiles(context: Context) -> DataLoader[int, list[CategoryProfileRow]]:
    """A provider's category profile rows."""

    async def batch(ids: Sequence[int]) -> list[list[CategoryProfileRow]]:
        stmt = select(CategoryProfileRow).where(CategoryProfileRow.provider_id.in_(ids))
        grouped: dict[int, list[CategoryProfileRow]] = defaultdict(list)
        async with context.session() as session:
            for row in (await session.scalars(stmt)).all():
                grouped[row.provider_id].append(row)
        return [grouped[i] for i in ids]

    return context.loader("profiles", batch)


@functools.lru_cache(maxsize=256)
def _page_statement(
    model: type[Any],
    parent_attr: str,
    filters: tuple[tuple[str, Any], ...],
    unread: tuple[str, ...],
    forward: bool,
    after: bool,
    before: bool,
) -> Any:
    """The nested-page statement of one shape, built once per process (values are bound)."""
    where = [getattr(model, name) == value for name, value in filters]
    return nested_pages_statement(
        model, getattr(model, parent_attr), forward, after, before, where, unread
    )


@functools.lru_cache(maxsize=256)
def _count_statement(
    model: type[Any], parent_attr: str, filters: tuple[tuple[str, Any], ...]
) -> Any:
    where = [getattr(model, name) == value for name, value in filters]
    return count_by_parent_statement(getattr(model, parent_attr), where)


def child_pages(
    context: Context,
    model: type[Any],
    parent_attr: str,
    filters: tuple[tuple[str, Any], ...] = (),
    unread: tuple[str, ...] = (),
) -> DataLoader[tuple[int, PageArgs], list[Any]]:
    """Pages of `model` rows per parent id, one query per distinct page arguments.

    Keys are (parent_id, PageArgs); `filters` are equality conditions on `model` columns;
    `unread` columns are not fetched.
    """
    parent_col = getattr(model, parent_attr)

    async def batch(keys: Sequence[tuple[int, PageArgs]]) -> list[list[Any]]:
        by_args: dict[PageArgs, list[int]] = defaultdict(list)
        for parent_id, args in keys:
            by_args[args].append(parent_id)
        results: dict[tuple[int, PageArgs], list[Any]] = {}
        async with context.session() as session:
            for args, parent_ids in by_args.items():
                statement = _page_statement(
                    model,
                    parent_attr,
                    filters,
                    unread,
                    args.forward,
                    args.after is not None,
                    args.before is not None,
                )
                pages = await nested_pages(
                    session, model, parent_col, parent_ids, args, statement=statement
                )
                for parent_id, rows in pages.items():
                    results[(parent_id, args)] = rows
        return [results[key] for key in keys]

    return context.loader(("pages", model.__tablename__, parent_attr, filters, unread), batch)


def child_counts(
    context: Context,
    model: type[Any],
    parent_attr: str,
    filters: tuple[tuple[str, Any], ...] = (),
) -> DataLoader[int, int]:
    """Number of `model` rows per parent id, in one grouped query."""
    parent_col = getattr(model, parent_attr)

    async def batch(parent_ids: Sequence[int]) -> list[int]:
        statement = _count_statement(model, parent_attr, filters)
        async with context.session() as session:
            counts = await count_by_parent(session, parent_col, parent_ids, statement=statement)
        return [counts[i] for i in parent_ids]

    return context.loader(("counts", model.__tablename__, parent_attr, filters), batch)


def children(context: Context, model: type[Any], parent_attr: str) -> DataLoader[int, list[Any]]:
    """All `model` rows per parent id (for small bounded lists), oldest first, in one query."""
    parent_col = getattr(model, parent_attr)

    async def batch(parent_ids: Sequence[int]) -> list[list[Any]]:
        grouped: dict[int, list[Any]] = defaultdict(list)
        stmt = select(model).where(parent_col.in_(parent_ids)).order_by(model.id)
        async with context.session() as session:
            for row in (await session.scalars(stmt)).all():
                grouped[getattr(row, parent_attr)].append(row)
        return [grouped[i] for i in parent_ids]

    return context.loader(("children", model.__tablename__, parent_attr), batch)


def expired_document_owners(context: Context) -> DataLoader[int, set[int]]:
    """Providers holding an expired document that no later upload of the same kind replaced.

    One query per request, whatever the number of providers asked about (key is ignored).
    """

    async def batch(keys: Sequence[int]) -> list[set[int]]:
        today = datetime.now(UTC).date()
        latest = (
            select(func.max(Document.id))
            .group_by(Document.provider_id, Document.requirement_key)
            .scalar_subquery()
        )
        stmt = select(Document.provider_id).where(
            Document.id.in_(latest), Document.expires_on <= today
        )
        async with context.session() as session:
            owners = set((await session.execute(stmt)).scalars().all())
        return [owners for _ in keys]

    return context.loader("expired_document_owners", batch)


@dataclass(frozen=True, slots=True)
class StandingRow:
    """What the public summary shows of a provider's latest scorecard in one category."""

    category_key: str
    period: str
    composite: Decimal | None
    standing: str
    tier: Tier


def _public_standings_statement() -> Any:
    card = Scorecard
    rank = func.row_number().over(
        partition_by=(card.provider_id, card.category_key),
        order_by=(card.composite.is_(None), card.period.desc(), card.revision.desc()),
    )
    ranked = select(
        card.provider_id,
        card.category_key,
        card.period,
        card.composite,
        card.standing,
        rank.label("rank"),
    ).where(card.provider_id.in_(bindparam("ids", expanding=True)))
    latest = ranked.subquery()
    return (
        select(
            latest.c.provider_id,
            latest.c.category_key,
            latest.c.period,
            latest.c.composite,
            latest.c.standing,
            Application.tier,
        )
        .join(
            Application,
            (Application.provider_id == latest.c.provider_id)
            & (Application.category_key == latest.c.category_key)
            & (Application.status == ApplicationStatus.ACTIVE),
        )
        .where(latest.c.rank == 1)
    )


_PUBLIC_STANDINGS = _public_standings_statement()


def public_standings(context: Context) -> DataLoader[int, list[StandingRow]]:
    """Per provider: its latest scorecard's summary and tier in every category it is ACTIVE in.

    One query selecting only the five columns shown (a scorecard row also carries its
    results and metric definitions as JSON, kilobytes each). The latest *rated* scorecard
    wins: a month without evidence (no composite) never replaces an earlier real standing with
    UNRATED; UNRATED shows only while nothing was ever rated. A sanction in force caps the
    standing shown (`standing.public.shown_standing`): a provider facing termination is never
    shown EXCELLENT.
    """

    async def batch(ids: Sequence[int]) -> list[list[StandingRow]]:
        grouped: dict[int, list[StandingRow]] = defaultdict(list)
        async with context.session() as session:
            rows = (await session.execute(_PUBLIC_STANDINGS, {"ids": list(ids)})).all()
            in_force: dict[tuple[int, str], set[SanctionKind]] = defaultdict(set)
            if rows:
                capping = standing_sanctions(sorted({row[0] for row in rows}))
                for provider_id, category, kind in (await session.execute(capping)).all():
                    in_force[(provider_id, category)].add(SanctionKind(kind))
        for provider_id, category, period, composite, standing, tier in rows:
            kinds = in_force.get((provider_id, category))
            if kinds:
                bands = context.registry.category(category).scoring.bands
                names = [b.name for b in sorted(bands, key=lambda b: b.low)]
                standing = shown_standing(names, standing, kinds)
            grouped[provider_id].append(StandingRow(category, period, composite, standing, tier))
        return [grouped[i] for i in ids]

    return context.loader("public_standings", batch)
