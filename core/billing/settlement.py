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

import enum
import re
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.models import Payout, Statement, StatementHold
from linkstar.core.kernel.db import UTCDateTime, claim, take_turns, utcnow
from linkstar.core.kernel.errors import InvalidInput, NotFound
from linkstar.core.kernel.money import Money
from linkstar.core.kernel.periods import Period, PeriodKind, period_of
from linkstar.core.ledger import journal
from linkstar.core.ledger.journal import PLATFORM, credit, debit, provider_owner
from linkstar.core.ledger.models import JournalLine
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


# The statements of one cycle, computed in the database in a few set-based statements (one
# pass over the payable lines whatever the number of providers and orders). Amounts are the
# stored scaled integers. A line as the provider sees it: credit +, debit −.
#
# What a statement covers is a rectangle: the provider's payable lines with id <= its
# watermark (the last line id when it was cut) posted before its cycle's end. A line is
# unsettled when it lies outside the provider's last rectangle (a later line, or one dated
# after that cycle), or when a statement held it back and none has released it yet. Cycles of
# one kind are settled in order, so the last rectangle contains every earlier one: one row per
# provider and currency says what was settled, however many lines it covered.
_LAST = """(
    SELECT provider_id, currency, MAX(watermark) AS watermark, MAX(period_end) AS period_end
    FROM statements WHERE (cycle LIKE '%Q%') = :quarterly
    GROUP BY provider_id, currency
) last"""

# Lines of held orders (under dispute, or named by the caller; looked up first) are held back.
_HELD = "e.source_type = 'order' AND e.source_id IN :held_orders"
_NOTHING_HELD = "1 = 0"

# Each ORDER_COMPLETED entry has exactly one payable line: its commission joins to it. The
# held test comes first in every CASE (a NULL source_id must not count as "not held").
_SIGNED = "CASE WHEN l.side = 'CREDIT' THEN l.amount ELSE -l.amount END"
_NOT_ADJUSTMENT = "('ORDER_COMPLETED', 'PENALTY', 'PENALTY_REVERSAL')"
_SUMS = f"""SELECT a.provider_id, l.currency,
    SUM(CASE WHEN {{held}} THEN 0 WHEN e.kind = 'ORDER_COMPLETED' THEN {_SIGNED} ELSE 0 END)
        AS orders,
    -SUM(CASE WHEN {{held}} THEN 0 WHEN e.kind IN ('PENALTY', 'PENALTY_REVERSAL') THEN {_SIGNED}
         ELSE 0 END) AS penalties,
    SUM(CASE WHEN {{held}} THEN 0 WHEN e.kind IN {_NOT_ADJUSTMENT} THEN 0 ELSE {_SIGNED} END)
        AS adjustments,
    SUM(CASE WHEN {{held}} THEN {_SIGNED} ELSE 0 END) AS held_back,
    SUM(CASE WHEN {{held}} THEN 0 WHEN e.kind = 'ORDER_COMPLETED' THEN 1 ELSE 0 END)
        AS order_count,
    SUM(CASE WHEN {{held}} THEN 0 WHEN e.kind = 'ORDER_COMPLETED' THEN c.commission ELSE 0 END)
        AS commission"""

# The one pass over the ledger: this cycle's movements per provider and currency, into a
# temporary table (on PostgreSQL a CREATE TABLE AS may run in parallel workers, an INSERT
# cannot). The lines held back by earlier statements and released now are added next.
_MOVED = "settle_moved"
# PostgreSQL hashes the three tables together. SQLite joins by nested loops: reading the
# entries in storage order and their lines next to them is several times faster than its own
# choice (each provider's lines by account, then every entry by a random lookup).
_LEDGER = {
    "postgresql": """journal_lines l
JOIN ledger_accounts a ON a.id = l.account_id
JOIN journal_entries e ON e.id = l.entry_id""",
    "sqlite": """journal_entries e NOT INDEXED
CROSS JOIN journal_lines l ON l.entry_id = e.id
CROSS JOIN ledger_accounts a ON a.id = l.account_id""",
}
_CREATE_MOVED = (
    f"CREATE TEMPORARY TABLE {_MOVED} AS\n"
    + _SUMS
    + f"""
FROM {{ledger}}
LEFT JOIN commissions c ON c.entry_id = e.id
LEFT JOIN {_LAST} ON last.provider_id = a.provider_id AND last.currency = l.currency
WHERE a.code = 'PROVIDER_PAYABLE' AND l.id <= :watermark AND e.posted_at < :cycle_end
  AND e.category_key IN :categories AND e.kind <> 'PAYOUT'
  AND (last.watermark IS NULL OR l.id > last.watermark OR e.posted_at >= last.period_end)
  AND (last.period_end IS NULL OR last.period_end < :cycle_end)
GROUP BY a.provider_id, l.currency"""
)

_ADD_RELEASED = (
    f"INSERT INTO {_MOVED}\n"
    + _SUMS
    + f"""
FROM statement_holds h
JOIN journal_lines l ON l.id = h.journal_line_id
JOIN ledger_accounts a ON a.id = l.account_id
JOIN journal_entries e ON e.id = l.entry_id
LEFT JOIN commissions c ON c.entry_id = e.id
LEFT JOIN {_LAST} ON last.provider_id = a.provider_id AND last.currency = l.currency
WHERE h.released_in IS NULL AND e.category_key IN :categories
  AND (last.period_end IS NULL OR last.period_end < :cycle_end)
GROUP BY a.provider_id, l.currency"""
)

_INSERT_STATEMENTS = f"""
WITH prior AS (
    SELECT provider_id, currency, SUM(orders - penalties + adjustments) AS moved
    FROM statements GROUP BY provider_id, currency
),
paid_out AS (
    SELECT provider_id, currency, SUM(amount) AS amount FROM payouts
    WHERE status <> 'DECLINED' GROUP BY provider_id, currency
),
moved AS (
    SELECT provider_id, currency, SUM(orders) AS orders, SUM(penalties) AS penalties,
           SUM(adjustments) AS adjustments, SUM(held_back) AS held_back,
           SUM(order_count) AS order_count, SUM(commission) AS commission
    FROM {_MOVED} GROUP BY provider_id, currency
),
carried AS (
    SELECT p.provider_id, p.currency FROM prior p
    LEFT JOIN paid_out o ON o.provider_id = p.provider_id AND o.currency = p.currency
    LEFT JOIN {_LAST} ON last.provider_id = p.provider_id AND last.currency = p.currency
    WHERE p.moved - COALESCE(o.amount, 0) > 0
      AND (last.period_end IS NULL OR last.period_end < :cycle_end)
      AND NOT EXISTS (SELECT 1 FROM statements st WHERE st.cycle = :cycle
                      AND st.provider_id = p.provider_id AND st.currency = p.currency)
),
groups AS (
    SELECT provider_id, currency FROM moved UNION SELECT provider_id, currency FROM carried
),
totals AS (
    SELECT g.provider_id, g.currency,
           COALESCE(p.moved, 0) - COALESCE(o.amount, 0) AS opening,
           COALESCE(m.orders, 0) AS orders, COALESCE(m.commission, 0) AS commission,
           COALESCE(m.penalties, 0) AS penalties, COALESCE(m.adjustments, 0) AS adjustments,
           COALESCE(m.held_back, 0) AS held_back, COALESCE(m.order_count, 0) AS order_count
    FROM groups g
    LEFT JOIN prior p ON p.provider_id = g.provider_id AND p.currency = g.currency
    LEFT JOIN paid_out o ON o.provider_id = g.provider_id AND o.currency = g.currency
    LEFT JOIN moved m ON m.provider_id = g.provider_id AND m.currency = g.currency
)
INSERT INTO statements (provider_id, cycle, currency, opening, orders, commission, penalties,
                        adjustments, held_back, closing, payout, order_count, watermark,
                        period_end, created_at)
SELECT provider_id, :cycle, currency, opening, orders, commission, penalties, adjustments,
       held_back, opening + orders - penalties + adjustments,
       CASE WHEN opening + orders - penalties + adjustments > 0
            THEN opening + orders - penalties + adjustments ELSE 0 END,
       order_count, :watermark, :cycle_end, :now
FROM totals"""

# The lines of held orders inside this run's statements: a hold is recorded once, at the
# statement that first held the line back; the statement that settles it once the order is
# released records the release. (Few rows: only lines of disputed orders.)
_HELD_LINES = (
    """
SELECT l.id, st.id AS statement_id
FROM journal_entries e
JOIN journal_lines l ON l.entry_id = e.id
JOIN ledger_accounts a ON a.id = l.account_id
JOIN statements st ON st.cycle = :cycle AND st.id > :before AND st.provider_id = a.provider_id
                  AND st.currency = l.currency
LEFT JOIN (
    SELECT provider_id, currency, MAX(watermark) AS watermark, MAX(period_end) AS period_end
    FROM statements WHERE id <= :before AND (cycle LIKE '%Q%') = :quarterly
    GROUP BY provider_id, currency
) last ON last.provider_id = a.provider_id AND last.currency = l.currency
WHERE """
    + _HELD
    + """
  AND a.code = 'PROVIDER_PAYABLE' AND l.id <= :watermark AND e.posted_at < :cycle_end
  AND e.category_key IN :categories
  AND (last.watermark IS NULL OR l.id > last.watermark OR e.posted_at >= last.period_end)
  AND NOT EXISTS (SELECT 1 FROM statement_holds h WHERE h.journal_line_id = l.id)"""
)

_RELEASE_HOLDS = (
    """
UPDATE statement_holds SET released_in = (
    SELECT st.id FROM journal_lines l
    JOIN ledger_accounts a ON a.id = l.account_id
    JOIN statements st ON st.cycle = :cycle AND st.id > :before
                      AND st.provider_id = a.provider_id AND st.currency = l.currency
    WHERE l.id = statement_holds.journal_line_id)
WHERE released_in IS NULL
  AND journal_line_id NOT IN (
    SELECT l.id FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
    WHERE """
    + _HELD
    + """)
  AND EXISTS (
    SELECT 1 FROM journal_lines l
    JOIN ledger_accounts a ON a.id = l.account_id
    JOIN journal_entries e ON e.id = l.entry_id
    JOIN statements st ON st.cycle = :cycle AND st.id > :before
                      AND st.provider_id = a.provider_id AND st.currency = l.currency
    WHERE l.id = statement_holds.journal_line_id AND e.category_key IN :categories)"""
)

# A provider with an open appeal: its payout waits (HELD) until the appeal is decided, because
# the decision may change what it is owed (a penalty reversed, a termination confirmed).
_INSERT_PAYOUTS = """
INSERT INTO payouts (statement_id, provider_id, currency, amount, status, reason, held_for,
                     version, created_at)
SELECT st.id, st.provider_id, st.currency, st.payout,
       CASE WHEN ap.appeal_id IS NULL THEN 'PENDING' ELSE 'HELD' END,
       CASE WHEN ap.appeal_id IS NULL THEN NULL
            ELSE 'held while appeal ' || CAST(ap.appeal_id AS VARCHAR(20)) || ' is open' END,
       CASE WHEN ap.appeal_id IS NULL THEN NULL
            ELSE 'appeal:' || CAST(ap.appeal_id AS VARCHAR(20)) END,
       1, :now
FROM statements st
LEFT JOIN (SELECT provider_id, MIN(id) AS appeal_id FROM appeals WHERE status = 'OPEN'
           GROUP BY provider_id) ap ON ap.provider_id = st.provider_id
WHERE st.cycle = :cycle AND st.id > :before AND st.payout > 0"""


_PARAMETERS = {
    "cycle_end": bindparam("cycle_end", type_=UTCDateTime()),
    "now": bindparam("now", type_=UTCDateTime()),
    "categories": bindparam("categories", expanding=True),
    "held_orders": bindparam("held_orders", expanding=True),
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
) -> list[Row[Any]]:
    """Produce the cycle's statements and payouts for the providers' lines in `categories`.

    Idempotent and safe when run twice at once: the runs take turns, and a provider that has
    its statement for the cycle keeps it unchanged (its later lines go to the next cycle).
    Returns the cycle's statements as rows of the statements table (attributes as on
    `Statement`), by provider and currency.
    """
    now = now or utcnow()
    if cycle.end > now:
        raise CycleNotClosed(
            f"cycle {cycle.label} ends at {cycle.end.isoformat()}; it cannot be settled yet",
            suggestion="settle a cycle after it has ended",
        )
    await take_turns(session, Statement, f"settle:{cycle.label}")
    if session.bind.dialect.name == "postgresql":
        # The watermark must have no gaps: wait for transactions posting lines now (an id
        # below the watermark committed later would be skipped), and keep new ones waiting
        # until this run commits. SQLite admits one writer at a time already.
        await session.execute(text("LOCK TABLE journal_lines IN SHARE MODE"))
    if categories:
        # statements with ids above `before` are this run's (runs of one cycle take turns)
        before = (
            await session.execute(select(func.coalesce(func.max(Statement.id), 0)))
        ).scalar_one()
        watermark = (
            await session.execute(select(func.coalesce(func.max(JournalLine.id), 0)))
        ).scalar_one()
        parameters = {
            "before": before,
            "watermark": watermark,
            "quarterly": cycle.kind is PeriodKind.QUARTER,
            "cycle": cycle.label,
            "cycle_end": cycle.end,
            "now": now,
            "categories": sorted(categories),
            "held_orders": sorted(set(held_orders) | await _disputed_orders(session)) or [-1],
        }

        held = _HELD if parameters["held_orders"] != [-1] else _NOTHING_HELD
        postgres = session.bind.dialect.name == "postgresql"
        if postgres:
            # One-shot statements over the whole ledger: compiling them (JIT) costs seconds
            # and gains nothing.
            await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text(f"DROP TABLE IF EXISTS {_MOVED}"))
        create = _CREATE_MOVED.replace("{held}", held).replace(
            "{ledger}", _LEDGER[session.bind.dialect.name]
        )
        if postgres:
            # PostgreSQL cannot bind parameters in CREATE TABLE AS: the values (numbers, a
            # time and the categories' keys, all ours) are written into the statement.
            await session.execute(text(_inline(create, parameters)))
        else:
            await session.execute(_bound(create), _used(create, parameters))
        for statement in (_ADD_RELEASED.replace("{held}", held), _INSERT_STATEMENTS):
            await session.execute(_bound(statement), _used(statement, parameters))
        await session.execute(text(f"DROP TABLE {_MOVED}"))
        lines = (
            (await session.execute(_bound(_HELD_LINES), _used(_HELD_LINES, parameters))).all()
            if held == _HELD
            else []
        )
        if lines:
            session.add_all(
                StatementHold(journal_line_id=line_id, held_in=statement_id)
                for line_id, statement_id in lines
            )
            await session.flush()
        await session.execute(_bound(_RELEASE_HOLDS), _used(_RELEASE_HOLDS, parameters))
        await session.execute(_bound(_INSERT_PAYOUTS), _used(_INSERT_PAYOUTS, parameters))
    # read without the ORM: a cycle has a statement per provider and currency (tens of
    # thousands), and nothing here changes them
    rows = await session.execute(
        select(Statement.__table__)
        .where(Statement.cycle == cycle.label)
        .order_by(Statement.provider_id, Statement.currency)
    )
    return list(rows.all())


def _used(statement: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in parameters.items() if f":{k}" in statement}


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP WITH TIME ZONE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list):
        return "(" + ", ".join(_literal(v) for v in value) + ")"
    raise TypeError(f"no SQL literal for {value!r}")


def _inline(statement: str, parameters: dict[str, Any]) -> str:
    """`statement` with its parameters written as SQL literals (PostgreSQL)."""
    return re.sub(
        r"(?<!:):(\w+)",
        lambda m: _literal(parameters[m[1]]) if m[1] in parameters else m[0],
        statement,
    )


async def _disputed_orders(session: AsyncSession) -> set[int]:
    """Orders under dispute now (the marketplace's table, read by name: billing does not
    import the marketplace, which calls billing)."""
    rows = await session.execute(text("SELECT id FROM orders WHERE status = 'DISPUTED'"))
    return {int(r[0]) for r in rows}


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
    return payout


async def hold_for_appeal(session: AsyncSession, provider_id: int, appeal_id: int) -> list[Payout]:
    """An appeal was filed: the provider's payouts not paid yet wait for its decision (HELD,
    naming the appeal), because the decision may change what the provider is owed. A payout
    already held for another reason stays as it is."""
    held = []
    rows = await session.execute(
        select(Payout).where(
            Payout.provider_id == provider_id,
            Payout.status.in_((PayoutStatus.PENDING.value, PayoutStatus.APPROVED.value)),
        )
    )
    for payout in rows.scalars():
        await decide_payout(
            session,
            payout,
            PayoutAction.HOLD,
            by=None,
            reason=f"held while appeal {appeal_id} is open",
        )
        await claim(
            session,
            Payout,
            payout.id,
            {"version": payout.version},
            {"held_for": f"appeal:{appeal_id}"},
            "the payout",
        )
        held.append(payout)
    return held


async def release_for_appeal(session: AsyncSession, appeal_id: int) -> list[Payout]:
    """An appeal was decided: the payouts held for it are PENDING again (to be approved and
    paid as usual). What the decision changed (a reversed penalty) lands in the next statement."""
    released = []
    rows = await session.execute(
        select(Payout).where(
            Payout.held_for == f"appeal:{appeal_id}", Payout.status == PayoutStatus.HELD.value
        )
    )
    for payout in rows.scalars():
        await decide_payout(session, payout, PayoutAction.RELEASE, by=None)
        await claim(
            session,
            Payout,
            payout.id,
            {"version": payout.version},
            {"held_for": None},
            "the payout",
        )
        released.append(payout)
    return released


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
) -> list[Row[Any]]:
    """Settle cycle `label` for the categories settled at that cycle's length."""
    cycle = cycle_of(label)
    keys = [c.key for c in categories if c.settlement_cycle is cycle.kind]
    return await settle(session, cycle, keys, held_orders=held_orders, now=now)
