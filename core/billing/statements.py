"""A settled statement read back: the journal lines it settled, and its CSV export."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.models import Payout, Statement, StatementHold
from linkstar.core.ledger.models import JournalEntry, JournalLine, LedgerAccount

# Cycles are cut at midnight in the platform's home time zone, like the KPI periods.


async def statement_csv(session: AsyncSession, statement: Statement) -> str:
    """The statement as CSV: its totals, then every line it settled."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "cycle",
            "currency",
            "opening",
            "orders",
            "commission",
            "penalties",
            "adjustments",
            "held_back",
            "closing",
            "payout",
        ]
    )
    writer.writerow(
        [
            statement.cycle,
            statement.currency,
            statement.opening,
            statement.orders,
            statement.commission,
            statement.penalties,
            statement.adjustments,
            statement.held_back,
            statement.closing,
            statement.payout,
        ]
    )
    writer.writerow([])
    writer.writerow(["posted_at", "kind", "source", "memo", "side", "amount"])
    rows = await session.execute(
        select(
            JournalEntry.posted_at,
            JournalEntry.kind,
            JournalEntry.source_type,
            JournalEntry.source_id,
            JournalEntry.memo,
            JournalLine.side,
            JournalLine.amount,
        )
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .where(JournalLine.id.in_(await settled_line_ids(session, statement)))
        .order_by(JournalLine.id)
    )
    for posted_at, kind, source_type, source_id, memo, side, amount in rows:
        writer.writerow(
            [posted_at.isoformat(), kind, f"{source_type}:{source_id}", _safe(memo), side, amount]
        )
    return out.getvalue()


async def settled_line_ids(session: AsyncSession, statement: Statement) -> Any:
    """The payable lines `statement` settled, as a subquery: the lines of its rectangle outside
    the previous statement's, less those it held back, plus held lines it released, plus its
    own payout's payment."""
    quarterly = "-Q" in statement.cycle
    previous = (
        await session.execute(
            select(func.max(Statement.watermark), func.max(Statement.period_end)).where(
                Statement.provider_id == statement.provider_id,
                Statement.currency == statement.currency,
                Statement.id < statement.id,
                Statement.cycle.like("%-Q%") if quarterly else Statement.cycle.not_like("%-Q%"),
            )
        )
    ).one()
    in_rectangle = (
        select(JournalLine.id)
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            LedgerAccount.code == "PROVIDER_PAYABLE",
            LedgerAccount.provider_id == statement.provider_id,
            JournalLine.currency == statement.currency,
            JournalLine.id <= (statement.watermark or 0),
            JournalEntry.posted_at < statement.period_end,
            JournalEntry.kind != "PAYOUT",
            JournalLine.id.not_in(
                select(StatementHold.journal_line_id).where(StatementHold.held_in == statement.id)
            ),
        )
    )
    if previous[0] is not None:
        in_rectangle = in_rectangle.where(
            or_(JournalLine.id > previous[0], JournalEntry.posted_at >= previous[1])
        )
    released = select(StatementHold.journal_line_id).where(
        StatementHold.released_in == statement.id
    )
    paid = (
        select(JournalLine.id)
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .join(Payout, Payout.entry_id == JournalLine.entry_id)
        .where(Payout.statement_id == statement.id, LedgerAccount.code == "PROVIDER_PAYABLE")
    )
    return union_all(in_rectangle, released, paid)


def _safe(cell: str) -> str:
    """No spreadsheet formula injection through a memo."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
