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
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from linkstar.core.billing.models import Commission, Payout, Statement, StatementLine
from linkstar.core.kernel.db import claim, take_turns, utcnow
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
# Payouts whose amount is still promised to the provider.
RESERVED = (PayoutStatus.PENDING, PayoutStatus.APPROVED, PayoutStatus.HELD)


class CycleNotClosed(InvalidInput):
    code = "CYCLE_NOT_CLOSED"


@dataclass
class _Draft:
    orders: Decimal = Decimal(0)
    penalties: Decimal = Decimal(0)
    adjustments: Decimal = Decimal(0)
    held_back: Decimal = Decimal(0)
    order_ids: set[int] = field(default_factory=set)
    line_ids: list[int] = field(default_factory=list)


def _signed(side: str, amount: Decimal) -> Decimal:
    """A payable line as the provider sees it: a credit is owed to it, a debit taken away."""
    return amount if side == "CREDIT" else -amount


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
    done = {
        (row.provider_id, row.currency): row
        for row in (
            await session.execute(select(Statement).where(Statement.cycle == cycle.label))
        ).scalars()
    }
    held = set(held_orders)
    drafts: dict[tuple[int, str], _Draft] = defaultdict(_Draft)
    unsettled = await session.execute(
        select(
            JournalLine.id,
            JournalLine.side,
            JournalLine.amount,
            JournalLine.currency,
            LedgerAccount.provider_id,
            JournalEntry.kind,
            JournalEntry.source_type,
            JournalEntry.source_id,
        )
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            LedgerAccount.code == "PROVIDER_PAYABLE",
            JournalEntry.posted_at < cycle.end,
            JournalEntry.category_key.in_(sorted(categories)),
            ~exists().where(StatementLine.journal_line_id == JournalLine.id),
        )
        .order_by(JournalLine.id)
    )
    for line_id, side, amount, currency, provider_id, kind, source_type, source_id in unsettled:
        draft = drafts[(provider_id, currency)]
        signed = _signed(side, amount)
        if source_type == "order" and source_id in held:
            draft.held_back += signed
            continue
        draft.line_ids.append(line_id)
        if kind == "ORDER_COMPLETED":
            draft.orders += signed
            draft.order_ids.add(source_id)
        elif kind in ("PENALTY", "PENALTY_REVERSAL"):
            draft.penalties -= signed
        else:
            draft.adjustments += signed
    settled = await _settled_balances(session)
    reserved = await _reserved(session)
    for key, balance in settled.items():
        if balance - reserved.get(key, Decimal(0)) > 0:
            drafts.setdefault(key, _Draft())  # a declined payout is offered again
    statements = list(done.values())
    for (provider_id, currency), draft in sorted(drafts.items()):
        if (provider_id, currency) in done:
            continue  # settled already: later lines wait for the next cycle
        if not draft.line_ids and draft.held_back == 0 and (provider_id, currency) not in settled:
            continue
        movements = draft.orders - draft.penalties + draft.adjustments
        opening = settled.get((provider_id, currency), Decimal(0)) - reserved.get(
            (provider_id, currency), Decimal(0)
        )
        closing = opening + movements
        commission = await _commission(session, draft.order_ids, currency)
        statement = Statement(
            provider_id=provider_id,
            cycle=cycle.label,
            currency=currency,
            opening=opening,
            orders=draft.orders,
            commission=commission,
            penalties=draft.penalties,
            adjustments=draft.adjustments,
            held_back=draft.held_back,
            closing=closing,
            payout=max(closing, Decimal(0)),
            order_count=len(draft.order_ids),
        )
        session.add(statement)
        await session.flush()
        session.add_all(
            StatementLine(statement_id=statement.id, journal_line_id=line_id)
            for line_id in draft.line_ids
        )
        if statement.payout > 0:
            session.add(
                Payout(
                    statement_id=statement.id,
                    provider_id=provider_id,
                    currency=currency,
                    amount=statement.payout,
                    status=PayoutStatus.PENDING.value,
                )
            )
        statements.append(statement)
    await session.flush()
    return sorted(statements, key=lambda s: (s.provider_id, s.currency))


async def _settled_balances(session: AsyncSession) -> dict[tuple[int, str], Decimal]:
    """Per provider and currency, the payable lines settled so far (payouts paid included)."""
    rows = await session.execute(
        select(
            LedgerAccount.provider_id, JournalLine.currency, JournalLine.side, JournalLine.amount
        )
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .join(StatementLine, StatementLine.journal_line_id == JournalLine.id)
        .where(LedgerAccount.code == "PROVIDER_PAYABLE")
    )
    totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for provider_id, currency, side, amount in rows:
        totals[(provider_id, currency)] += _signed(side, amount)
    return totals


async def _reserved(session: AsyncSession) -> dict[tuple[int, str], Decimal]:
    rows = await session.execute(
        select(Payout.provider_id, Payout.currency, Payout.amount).where(
            Payout.status.in_([s.value for s in RESERVED])
        )
    )
    totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for provider_id, currency, amount in rows:
        totals[(provider_id, currency)] += amount
    return totals


async def _commission(session: AsyncSession, order_ids: set[int], currency: str) -> Decimal:
    if not order_ids:
        return Decimal(0)
    refs = [f"order:{i}" for i in sorted(order_ids)]
    total = Decimal(0)
    for start in range(0, len(refs), 1000):
        rows = await session.execute(
            select(Commission.commission).where(
                and_(
                    Commission.order_ref.in_(refs[start : start + 1000]),
                    Commission.currency == currency,
                )
            )
        )
        total += sum((r for (r,) in rows), Decimal(0))
    return total


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
