"""Settlement cycles: one immutable statement per provider, currency and cycle, and its payout.

A statement settles every line of the provider's PROVIDER_PAYABLE account posted before the
cycle's end that no earlier statement settled (each ledger line is settled at most once), so a
correction posted after a cycle was settled lands in the next statement, never in an edit.
Lines of orders under dispute are held back and settle once released.

    closing = what earlier statements left unpaid (opening) + this cycle's movements
    payout  = closing, when positive (a negative closing is carried into the next cycle)

Payouts: PENDING → APPROVED → PAID (posting Dr PROVIDER_PAYABLE, Cr PLATFORM_BANK); PENDING or
APPROVED → HELD (reason) → PENDING; PENDING, APPROVED or HELD → DECLINED (reason; the money
stays owed and is offered again by the next statement). The person who pays is not the one who
approved.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.models import Payout, Statement, StatementLine
from linkstar.core.kernel.db import UTCDateTime, claim, take_turns, utcnow
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.periods import Period, PeriodKind, period_of
from linkstar.core.ledger import journal
from linkstar.core.ledger.journal import PLATFORM, credit, debit, provider_owner
from linkstar.core.ledger.models import JournalEntry, JournalLine, LedgerAccount
from linkstar.core.providers.categories import ServiceCategory

# Cycles are cut at midnight in the platform's home time zone, like the KPI periods.
SETTLEMENT_TIMEZONE = "Asia/Shanghai"


class PayoutStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    PAID = "PAID"
    HELD = "HELD"
    DECLINED = "DECLINED"


class PayoutAction(enum.StrEnum):
    APPROVE = "APPROVE"
    PAY = "PAY"
    HOLD = "HOLD"
    RELEASE = "RELEASE"
    DECLINE = "DECLINE"


PAYOUT_TRANSITIONS: dict[tuple[PayoutStatus, PayoutAction], PayoutStatus] = {
    (PayoutStatus.PENDING, PayoutAction.APPROVE): PayoutStatus.APPROVED,
    (PayoutStatus.PENDING, PayoutAction.HOLD): PayoutStatus.HELD,
    (PayoutStatus.PENDING, PayoutAction.DECLINE): PayoutStatus.DECLINED,
    (PayoutStatus.APPROVED, PayoutAction.PAY): PayoutStatus.PAID,
    (PayoutStatus.APPROVED, PayoutAction.HOLD): PayoutStatus.HELD,
    (PayoutStatus.APPROVED, PayoutAction.DECLINE): PayoutStatus.DECLINED,
    (PayoutStatus.HELD, PayoutAction.RELEASE): PayoutStatus.PENDING,
    (PayoutStatus.HELD, PayoutAction.DECLINE): PayoutStatus.DECLINED,
}


class CycleNotClosed(InvalidInput):
    code = "CYCLE_NOT_CLOSED"


# The statements of one cycle, computed in the database in three statements (set-based: one
# pass over the unsettled payable lines whatever the number of providers and orders). Amounts
# are the stored scaled integers. A line as the provider sees it: credit +, debit −.
_UNSETTLED = """
WITH u AS MATERIALIZED (
    SELECT l.id AS line_id, l.entry_id, l.currency, a.provider_id, e.kind,
           CASE WHEN l.side = 'CREDIT' THEN l.amount ELSE -l.amount END AS signed,
           CASE WHEN e.source_type = 'order' AND e.source_id IN :held THEN 1 ELSE 0 END AS held
    FROM journal_lines l
    JOIN ledger_accounts a ON a.id = l.account_id
    JOIN journal_entries e ON e.id = l.entry_id
    WHERE a.code = 'PROVIDER_PAYABLE' AND e.posted_at < :cycle_end
      AND e.category_key IN :categories
      AND NOT EXISTS (SELECT 1 FROM statement_lines sl WHERE sl.journal_line_id = l.id)
      AND NOT EXISTS (SELECT 1 FROM statements st WHERE st.cycle = :cycle
                      AND st.provider_id = a.provider_id AND st.currency = l.currency)
)"""

_INSERT_STATEMENTS = (
    _UNSETTLED
    + """,
settled AS (
    SELECT a.provider_id, l.currency,
           SUM(CASE WHEN l.side = 'CREDIT' THEN l.amount ELSE -l.amount END) AS balance
    FROM journal_lines l
    JOIN ledger_accounts a ON a.id = l.account_id
    JOIN statement_lines sl ON sl.journal_line_id = l.id
    WHERE a.code = 'PROVIDER_PAYABLE'
    GROUP BY a.provider_id, l.currency
),
reserved AS (
    SELECT provider_id, currency, SUM(amount) AS amount FROM payouts
    WHERE status IN ('PENDING', 'APPROVED', 'HELD') GROUP BY provider_id, currency
),
moved AS (
    SELECT provider_id, currency,
        SUM(CASE WHEN held = 0 AND kind = 'ORDER_COMPLETED' THEN signed ELSE 0 END) AS orders,
        -SUM(CASE WHEN held = 0 AND kind IN ('PENALTY', 'PENALTY_REVERSAL')
             THEN signed ELSE 0 END) AS penalties,
        SUM(CASE WHEN held = 0 AND kind NOT IN ('ORDER_COMPLETED', 'PENALTY', 'PENALTY_REVERSAL')
            THEN signed ELSE 0 END) AS adjustments,
        SUM(CASE WHEN held = 1 THEN signed ELSE 0 END) AS held_back,
        COUNT(DISTINCT CASE WHEN held = 0 AND kind = 'ORDER_COMPLETED' THEN entry_id END)
            AS order_count
    FROM u GROUP BY provider_id, currency
),
commission AS (
    SELECT u.provider_id, u.currency, SUM(c.commission) AS amount
    FROM u JOIN commissions c ON c.entry_id = u.entry_id
    WHERE u.held = 0 AND u.kind = 'ORDER_COMPLETED'
    GROUP BY u.provider_id, u.currency
),
carried AS (
    SELECT s.provider_id, s.currency FROM settled s
    LEFT JOIN reserved r ON r.provider_id = s.provider_id AND r.currency = s.currency
    WHERE s.balance - COALESCE(r.amount, 0) > 0
      AND NOT EXISTS (SELECT 1 FROM statements st WHERE st.cycle = :cycle
                      AND st.provider_id = s.provider_id AND st.currency = s.currency)
),
groups AS (
    SELECT provider_id, currency FROM moved UNION SELECT provider_id, currency FROM carried
),
totals AS (
    SELECT g.provider_id, g.currency,
           COALESCE(s.balance, 0) - COALESCE(r.amount, 0) AS opening,
           COALESCE(m.orders, 0) AS orders, COALESCE(c.amount, 0) AS commission,
           COALESCE(m.penalties, 0) AS penalties, COALESCE(m.adjustments, 0) AS adjustments,
           COALESCE(m.held_back, 0) AS held_back, COALESCE(m.order_count, 0) AS order_count
    FROM groups g
    LEFT JOIN settled s ON s.provider_id = g.provider_id AND s.currency = g.currency
    LEFT JOIN reserved r ON r.provider_id = g.provider_id AND r.currency = g.currency
    LEFT JOIN moved m ON m.provider_id = g.provider_id AND m.currency = g.currency
    LEFT JOIN commission c ON c.provider_id = g.provider_id AND c.currency = g.currency
)
INSERT INTO statements (provider_id, cycle, currency, opening, orders, commission, penalties,
                        adjustments, held_back, closing, payout, order_count, created_at)
SELECT provider_id, :cycle, currency, opening, orders, commission, penalties, adjustments,
       held_back, opening + orders - penalties + adjustments,
       CASE WHEN opening + orders - penalties + adjustments > 0
            THEN opening + orders - penalties + adjustments ELSE 0 END,
       order_count, :now
FROM totals"""
)

_INSERT_LINES = """
INSERT INTO statement_lines (statement_id, journal_line_id)
SELECT st.id, l.id
FROM journal_lines l
JOIN ledger_accounts a ON a.id = l.account_id
JOIN journal_entries e ON e.id = l.entry_id
JOIN statements st ON st.cycle = :cycle AND st.provider_id = a.provider_id
                  AND st.currency = l.currency AND st.id > :before
WHERE a.code = 'PROVIDER_PAYABLE' AND e.posted_at < :cycle_end
  AND e.category_key IN :categories
  AND NOT (e.source_type = 'order' AND e.source_id IN :held)
  AND NOT EXISTS (SELECT 1 FROM statement_lines sl WHERE sl.journal_line_id = l.id)
ORDER BY l.id"""
# (ORDER BY makes the database find every line before inserting the first: a scan of
# statement_lines that the same statement is filling would otherwise grow with each row.)

_INSERT_PAYOUTS = """
INSERT INTO payouts (statement_id, provider_id, currency, amount, status, version, created_at)
SELECT st.id, st.provider_id, st.currency, st.payout, 'PENDING', 1, :now
FROM statements st
WHERE st.cycle = :cycle AND st.id > :before AND st.payout > 0"""


_PARAMETERS = {
    "cycle_end": bindparam("cycle_end", type_=UTCDateTime()),
    "now": bindparam("now", type_=UTCDateTime()),
    "categories": bindparam("categories", expanding=True),
    "held": bindparam("held", expanding=True),
}


def _bound(sql: str) -> Any:
    return text(sql).bindparams(*(p for name, p in _PARAMETERS.items() if f":{name}" in sql))


async def settle(
    session: AsyncSession,
    cycle: Period,
    categories: Collection[str],
    *,
    held_orders: Collection[int] = (),
    now: datetime | None = None,
) -> list[Statement]:
    """Produce the cycle's statements and payouts for the providers' lines in `categories`.

    Idempotent and safe when run twice at once: the runs take turns, and a provider that has
    its statement for the cycle keeps it unchanged (its later lines go to the next cycle).
    """
    now = now or utcnow()
    if cycle.end > now:
        raise CycleNotClosed(
            f"cycle {cycle.label} ends at {cycle.end.isoformat()}; it cannot be settled yet",
            suggestion="settle a cycle after it has ended",
        )
    await take_turns(session, Statement, f"settle:{cycle.label}")
    if categories:
        # statements with ids above `before` are this run's (runs of one cycle take turns)
        before = (
            await session.execute(select(func.coalesce(func.max(Statement.id), 0)))
        ).scalar_one()
        parameters = {
            "before": before,
            "cycle": cycle.label,
            "cycle_end": cycle.end,
            "now": now,
            "categories": sorted(categories),
            "held": sorted(held_orders) or [-1],
        }
        for statement in (_INSERT_STATEMENTS, _INSERT_LINES, _INSERT_PAYOUTS):
            used = {k: v for k, v in parameters.items() if f":{k}" in statement}
            await session.execute(_bound(statement), used)
    return list(
        (
            await session.execute(
                select(Statement)
                .where(Statement.cycle == cycle.label)
                .order_by(Statement.provider_id, Statement.currency)
                .execution_options(populate_existing=True)
            )
        ).scalars()
    )


async def load_payout(session: AsyncSession, payout_id: int) -> Payout:
    payout = await session.get(Payout, payout_id)
    if payout is None:
        raise NotFound(f"payout {payout_id} does not exist")
    return payout


async def decide_payout(
    session: AsyncSession,
    payout: Payout,
    action: PayoutAction,
    *,
    by: int | None,
    reason: str | None = None,
    bank_reference: str | None = None,
) -> Payout:
    """Move a payout along its state table; paying posts the payment to the ledger."""
    current = PayoutStatus(payout.status)
    target = PAYOUT_TRANSITIONS.get((current, action))
    if target is None:
        allowed = sorted(a.value for (s, a) in PAYOUT_TRANSITIONS if s is current)
        raise InvalidInput(
            f"a {current.value} payout cannot be {action.value.lower()}d",
            code="INVALID_TRANSITION",
            suggestion=f"allowed now: {allowed or 'nothing (final)'}",
        )
    if action in (PayoutAction.HOLD, PayoutAction.DECLINE) and not (reason or "").strip():
        raise InvalidInput("holding or declining a payout needs a reason", code="REASON_REQUIRED")
    if action is PayoutAction.PAY:
        if not (bank_reference or "").strip():
            raise InvalidInput(
                "paying a payout needs the bank's reference", code="INVALID_BANK_REFERENCE"
            )
        if by is not None and by == payout.approved_by:
            raise InvalidInput(
                "the person who approved a payout cannot also pay it",
                code="SAME_PERSON",
                suggestion="ask another staff member to pay it",
            )
    changes: dict[str, object] = {
        "status": target.value,
        "version": payout.version + 1,
        "decided_at": utcnow(),
    }
    if action is PayoutAction.APPROVE:
        changes["approved_by"] = by
    if reason:
        changes["reason"] = reason.strip()
    if action is PayoutAction.PAY:
        changes["paid_by"] = by
        changes["bank_reference"] = (bank_reference or "").strip()
    await claim(session, Payout, payout.id, {"version": payout.version}, changes, "the payout")
    if action is PayoutAction.PAY:
        money = Money(payout.amount, payout.currency)
        owner = provider_owner(payout.provider_id)
        entry = await journal.post(
            session,
            [debit("PROVIDER_PAYABLE", owner, money), credit("PLATFORM_BANK", PLATFORM, money)],
            kind="PAYOUT",
            memo=f"payout {payout.id} ({(bank_reference or '').strip()})",
            source_type="payout",
            source_id=payout.id,
            provider_id=payout.provider_id,
            idempotency_key=f"payout:{payout.id}",
            posted_by=by,
        )
        await claim(
            session,
            Payout,
            payout.id,
            {"version": payout.version},
            {"entry_id": entry.id},
            "the payout",
        )
        # the payment settles within the payout's own statement, never a later one
        line_id = (
            await session.execute(
                select(JournalLine.id)
                .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
                .where(JournalLine.entry_id == entry.id, LedgerAccount.code == "PROVIDER_PAYABLE")
            )
        ).scalar_one()
        session.add(StatementLine(statement_id=payout.statement_id, journal_line_id=line_id))
        await session.flush()
    return payout


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
        .join(StatementLine, StatementLine.journal_line_id == JournalLine.id)
        .where(StatementLine.statement_id == statement.id)
        .order_by(JournalLine.id)
    )
    for posted_at, kind, source_type, source_id, memo, side, amount in rows:
        writer.writerow(
            [posted_at.isoformat(), kind, f"{source_type}:{source_id}", _safe(memo), side, amount]
        )
    return out.getvalue()


def _safe(cell: str) -> str:
    """No spreadsheet formula injection through a memo."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


async def payout_of(session: AsyncSession, statement_id: int) -> Payout | None:
    """The payout of a statement, if it pays anything."""
    return (
        await session.execute(select(Payout).where(Payout.statement_id == statement_id))
    ).scalar_one_or_none()


async def load_statement(session: AsyncSession, statement_id: int) -> Statement:
    statement = await session.get(Statement, statement_id)
    if statement is None:
        raise NotFound(f"statement {statement_id} does not exist")
    return statement


def cycle_of(label: str) -> Period:
    """Parse a cycle label: "2026-10" (a month) or "2026-Q4" (a quarter)."""
    kind = PeriodKind.QUARTER if "-Q" in label else PeriodKind.MONTH
    try:
        return period_of(label, kind, SETTLEMENT_TIMEZONE)
    except (ValueError, KeyError):
        raise InvalidInput(
            f"{label!r} is not a settlement cycle",
            code="INVALID_CYCLE",
            suggestion='write a month as "2026-10" or a quarter as "2026-Q4"',
        ) from None


async def settle_cycle(
    session: AsyncSession,
    label: str,
    categories: Iterable[ServiceCategory],
    *,
    held_orders: Collection[int] = (),
    now: datetime | None = None,
) -> list[Statement]:
    """Settle cycle `label` for the categories settled at that cycle's length."""
    cycle = cycle_of(label)
    keys = [c.key for c in categories if c.settlement_cycle is cycle.kind]
    return await settle(session, cycle, keys, held_orders=held_orders, now=now)
