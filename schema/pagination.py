"""Relay cursor connections: keyset pagination on primary keys, bounded page sizes.

Top-level lists page with one query; nested lists (a provider's applications, …) page for all
parents of a batch in one query using ROW_NUMBER() OVER (PARTITION BY parent), so the number
of statements never grows with the number of items returned.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased, defer

from linkstar.core.kernel.errors import InvalidInput

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_CURSOR_PREFIX = "c1:"
MAX_ID = 2**63 - 1


def node_int(value: str) -> int | None:
    """A database id from text: ASCII digits only, 1 ≤ id ≤ 2⁶³−1; anything else is None."""
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


T = TypeVar("T")


class InvalidPagination(InvalidInput):
    """Pagination arguments that cannot be honoured."""

    code = "INVALID_PAGINATION"


def encode_cursor(position: int) -> str:
    """An opaque cursor for a row id (or a list index)."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The id behind a cursor; a cursor we did not issue is an InvalidPagination."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError
        position = int(raw[len(_CURSOR_PREFIX) :])
        if not 0 <= position <= MAX_ID:
            raise ValueError
        return position
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidPagination(
            f"{cursor!r} is not a valid cursor",
            suggestion="pass a cursor exactly as returned in pageInfo or an edge",
        ) from None


@dataclass(frozen=True, slots=True)
class PageArgs:
    """Validated Relay arguments: forward (`first`/`after`) or backward (`last`/`before`)."""

    limit: int
    forward: bool
    after: int | None
    before: int | None

    @classmethod
    def parse(
        cls,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> PageArgs:
        if first is not None and last is not None:
            raise InvalidPagination("pass either first or last, not both")
        size = first if first is not None else last
        if size is None:
            size = DEFAULT_PAGE_SIZE
        if not 0 <= size <= MAX_PAGE_SIZE:
            raise InvalidPagination(
                f"page size {size} is out of bounds",
                suggestion=f"ask for between 0 and {MAX_PAGE_SIZE} items and follow the cursors",
            )
        return cls(
            limit=size,
            forward=last is None,
            after=decode_cursor(after) if after is not None else None,
            before=decode_cursor(before) if before is not None else None,
        )


@strawberry.type(description="Where a page sits in the whole list (Relay).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="An item of a connection with its cursor.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list (Relay cursor connection; at most 100 per page).")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count_items: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Number of items in the whole list, across all pages.")
    async def total_count(self) -> int:
        return await self.count_items()


def build_connection(
    rows: Sequence[Any],
    args: PageArgs,
    position: Callable[[Any], int],
    to_node: Callable[[Any], Any],
    count_items: Callable[[], Awaitable[int]],
) -> Connection[Any]:
    """Turn rows fetched with one extra (limit + 1, in query order) into a page."""
    has_more = len(rows) > args.limit
    rows = list(rows[: args.limit])
    if not args.forward:
        rows.reverse()
    edges = [Edge(cursor=encode_cursor(position(row)), node=to_node(row)) for row in rows]
    if args.forward:
        has_next, has_previous = has_more, args.after is not None
    else:
        has_next, has_previous = args.before is not None, has_more
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_items=count_items,
    )


def _keyset(stmt: Select[Any], id_col: InstrumentedAttribute[int], args: PageArgs) -> Select[Any]:
    if args.after is not None:
        stmt = stmt.where(id_col > args.after)
    if args.before is not None:
        stmt = stmt.where(id_col < args.before)
    return stmt


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    id_col: InstrumentedAttribute[int],
    args: PageArgs,
    to_node: Callable[[Any], Any],
    count_items: Callable[[], Awaitable[int]],
) -> Connection[Any]:
    """One page of `stmt` (a select of one entity), keyset-paginated on `id_col`."""
    order = id_col.asc() if args.forward else id_col.desc()
    page = _keyset(stmt, id_col, args).order_by(order).limit(args.limit + 1)
    rows = (await session.scalars(page)).all()
    return build_connection(rows, args, lambda r: getattr(r, id_col.key), to_node, count_items)


def nested_pages_statement(
    model: type[Any],
    parent_col: InstrumentedAttribute[int],
    forward: bool,
    after: bool,
    before: bool,
    where: Sequence[Any] = (),
    unread: Sequence[str] = (),
) -> Select[Any]:
    """The statement `nested_pages` runs, its values bound (parent_ids, page_limit,
    page_after, page_before): built once per shape and reused, so a request pays for neither
    building the window query nor computing its cache key."""
    id_col = model.id
    order = id_col.asc() if forward else id_col.desc()
    rank = func.row_number().over(partition_by=parent_col, order_by=order).label("rank")
    inner = select(model, rank).where(
        parent_col.in_(bindparam("parent_ids", expanding=True)), *where
    )
    if after:
        inner = inner.where(id_col > bindparam("page_after"))
    if before:
        inner = inner.where(id_col < bindparam("page_before"))
    subquery = inner.subquery()
    entity = aliased(model, subquery)
    stmt = (
        select(entity)
        .where(subquery.c.rank <= bindparam("page_limit"))
        .order_by(getattr(subquery.c, parent_col.key), subquery.c.rank)
    )
    if unread:
        stmt = stmt.options(defer(*(getattr(entity, name) for name in unread), raiseload=True))
    return stmt


async def nested_pages(
    session: AsyncSession,
    model: type[Any],
    parent_col: InstrumentedAttribute[int],
    parent_ids: Sequence[int],
    args: PageArgs,
    where: Sequence[Any] = (),
    unread: Sequence[str] = (),
    statement: Select[Any] | None = None,
) -> dict[int, list[Any]]:
    """For every parent, its page of children (limit + 1 rows, in query order), in ONE query.

    `unread` names columns the caller never reads (large JSON, say): they are not fetched.
    `statement`: the `nested_pages_statement` of these arguments, when the caller keeps it.
    """
    if statement is None:
        statement = nested_pages_statement(
            model,
            parent_col,
            args.forward,
            args.after is not None,
            args.before is not None,
            where,
            unread,
        )
    params: dict[str, Any] = {"parent_ids": list(parent_ids), "page_limit": args.limit + 1}
    if args.after is not None:
        params["page_after"] = args.after
    if args.before is not None:
        params["page_before"] = args.before
    pages: dict[int, list[Any]] = {pid: [] for pid in parent_ids}
    for row in (await session.scalars(statement, params)).all():
        pages[getattr(row, parent_col.key)].append(row)
    return pages


def count_by_parent_statement(
    parent_col: InstrumentedAttribute[int], where: Sequence[Any] = ()
) -> Select[Any]:
    """The grouped count `count_by_parent` runs, parent ids bound as `parent_ids`."""
    return (
        select(parent_col, func.count())
        .where(parent_col.in_(bindparam("parent_ids", expanding=True)), *where)
        .group_by(parent_col)
    )


async def count_by_parent(
    session: AsyncSession,
    parent_col: InstrumentedAttribute[int],
    parent_ids: Sequence[int],
    where: Sequence[Any] = (),
    statement: Select[Any] | None = None,
) -> dict[int, int]:
    """Number of children per parent, in ONE grouped query."""
    if statement is None:
        statement = count_by_parent_statement(parent_col, where)
    counts = {pid: 0 for pid in parent_ids}
    for parent_id, count in (
        await session.execute(statement, {"parent_ids": list(parent_ids)})
    ).all():
        counts[parent_id] = count
    return counts


def list_connection(
    items: Sequence[Any], args: PageArgs, to_node: Callable[[Any], Any]
) -> Connection[Any]:
    """A page of an in-memory list (e.g. service categories); cursors are list positions."""
    indexed = list(enumerate(items))
    if args.after is not None:
        indexed = [(i, x) for i, x in indexed if i > args.after]
    if args.before is not None:
        indexed = [(i, x) for i, x in indexed if i < args.before]
    ordered = indexed if args.forward else list(reversed(indexed))
    total = len(items)

    async def count() -> int:
        return total

    return build_connection(
        ordered[: args.limit + 1], args, lambda p: p[0], lambda p: to_node(p[1]), count
    )
