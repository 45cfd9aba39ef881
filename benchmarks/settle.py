"""Settlement at scale: one cycle for 10,000 providers with 1,000,000 completed orders.

    .venv/bin/python benchmarks/settle.py                        # SQLite, scratch file
    .venv/bin/python benchmarks/settle.py postgresql://postgres@127.0.0.1:5432/test
        (creates and drops a scratch database on that server)
    options: --providers N --orders N --rounds N

Loads the ledger as the product writes it (not timed): for every order a seller's payment
entry and an ORDER_COMPLETED entry (seller's held money → the platform's commission and the
provider's payable, 3 % commission) and its commission row; then refreshes the planner's
statistics (ANALYZE) as autovacuum would. Then, interleaved for `--rounds` rounds:

- LinkStar: `settle()` for October 2026 (statements with their watermark, payouts), in a
  transaction that is rolled back so the next round settles the same data again;
- hand-written: one SQL query computing the same per-provider totals (orders, commission,
  closing) without writing anything; on SQLite also the same query written entries-first
  (the join order settle() uses there), so the ratio is not flattered by SQLite's own plan.

Checks that both give the same totals, and prints min and median of each side and their
ratio. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from linkstar.core.billing import settlement
from linkstar.core.contract.registry import load_registry
from linkstar.core.kernel.config import async_database_url
from linkstar.core.kernel.db import create_engine as create_async_engine
from linkstar.core.kernel.db import session_factory
from linkstar.core.runtime.migrate import upgrade

CATEGORY = "logistics"
CYCLE = "2026-10"
SCALE = 10_000  # amounts are stored as integers scaled by 10^4


def sync_url(url: URL) -> URL:
    return url.set(
        drivername="sqlite" if url.get_backend_name() == "sqlite" else "postgresql+psycopg"
    )


def load(url: URL, providers: int, orders: int) -> None:
    engine = create_engine(sync_url(url))
    now = datetime.now(UTC)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    postgres = engine.dialect.name == "postgresql"

    def stamp(value: datetime) -> object:
        return value if postgres else value.replace(tzinfo=None).isoformat(sep=" ")

    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO providers (id, legal_name, region, registration_number, created_at, updated_at) VALUES (:i, :n, 'OVERSEAS', :r, :t, :t)"
            ),
            [
                {"i": i, "n": f"Provider {i}", "r": f"R-{i}", "t": stamp(now)}
                for i in range(1, providers + 1)
            ],
        )
        accounts = [("PLATFORM_BANK", "platform", None), ("COMMISSION_REVENUE", "platform", None)]
        accounts.append(("SELLER_PAYMENTS_HELD", "seller:1", None))
        accounts += [("PROVIDER_PAYABLE", f"provider:{i}", i) for i in range(1, providers + 1)]
        connection.execute(
            text(
                "INSERT INTO ledger_accounts (id, code, owner, provider_id, currency, created_at) VALUES (:i, :c, :o, :p, 'USD', :t)"
            ),
            [
                {"i": n, "c": c, "o": o, "p": p, "t": stamp(now)}
                for n, (c, o, p) in enumerate(accounts, start=1)
            ],
        )
    bank, revenue, held = 1, 2, 3
    payable = {i: 3 + i for i in range(1, providers + 1)}
    entries, lines, commissions = [], [], []
    entry_id = line_id = 0
    for order in range(1, orders + 1):
        provider = 1 + (order * 7919) % providers
        cents = 5_000 + (order * 104_729) % 500_000
        amount = cents * 100  # scaled by 10^4
        commission = (amount * 3 + 50) // 100 // 100 * 100  # 3 %, to the cent
        when = start + timedelta(seconds=(order * 2_654_435) % (29 * 86_400))
        entry_id += 1
        entries.append(
            (
                entry_id,
                "SELLER_PAYMENT",
                "p",
                "order",
                order,
                provider,
                CATEGORY,
                f"sp:{order}",
                stamp(when),
            )
        )
        lines += [
            (line_id + 1, entry_id, bank, "DEBIT", amount),
            (line_id + 2, entry_id, held, "CREDIT", amount),
        ]
        line_id += 2
        entry_id += 1
        entries.append(
            (
                entry_id,
                "ORDER_COMPLETED",
                "c",
                "order",
                order,
                provider,
                CATEGORY,
                f"oc:{order}",
                stamp(when),
            )
        )
        lines += [
            (line_id + 1, entry_id, held, "DEBIT", amount),
            (line_id + 2, entry_id, revenue, "CREDIT", commission),
            (line_id + 3, entry_id, payable[provider], "CREDIT", amount - commission),
        ]
        line_id += 3
        commissions.append(
            (
                order,
                f"order:{order}",
                provider,
                1,
                CATEGORY,
                "REGULAR",
                "logistics.order_commission",
                3 * SCALE,
                "USD",
                amount,
                commission,
                stamp(when),
                entry_id,
            )
        )
    insert_entries = "INSERT INTO journal_entries (id, kind, memo, source_type, source_id, provider_id, category_key, idempotency_key, posted_at) VALUES "
    insert_lines = (
        "INSERT INTO journal_lines (id, entry_id, account_id, side, amount, currency) VALUES "
    )
    insert_commissions = "INSERT INTO commissions (id, order_ref, provider_id, seller_account_id, category_key, tier, rule_keys, rate_percent, currency, order_amount, commission, completed_at, entry_id) VALUES "
    if postgres:
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                with cursor.copy(
                    "COPY journal_entries (id, kind, memo, source_type, source_id, provider_id, category_key, idempotency_key, posted_at) FROM STDIN"
                ) as copy:
                    for row in entries:
                        copy.write_row(row)
                with cursor.copy(
                    "COPY journal_lines (id, entry_id, account_id, side, amount, currency) FROM STDIN"
                ) as copy:
                    for row in lines:
                        copy.write_row((*row, "USD"))
                with cursor.copy(
                    "COPY commissions (id, order_ref, provider_id, seller_account_id, category_key, tier, rule_keys, rate_percent, currency, order_amount, commission, completed_at, entry_id) FROM STDIN"
                ) as copy:
                    for row in commissions:
                        copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
    else:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.executemany(insert_entries + "(?, ?, ?, ?, ?, ?, ?, ?, ?)", entries)
            cursor.executemany(insert_lines + "(?, ?, ?, ?, ?, 'USD')", lines)
            cursor.executemany(
                insert_commissions + "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", commissions
            )
            raw.commit()
        finally:
            raw.close()
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


HAND_WRITTEN = text(
    "SELECT a.provider_id, SUM(CASE WHEN l.side = 'CREDIT' THEN l.amount ELSE -l.amount END), "
    "COUNT(*), SUM(c.commission) "
    "FROM journal_lines l JOIN ledger_accounts a ON a.id = l.account_id "
    "JOIN journal_entries e ON e.id = l.entry_id "
    "LEFT JOIN commissions c ON c.entry_id = e.id "
    "WHERE a.code = 'PROVIDER_PAYABLE' AND e.posted_at < :end AND e.category_key = :c "
    "GROUP BY a.provider_id"
)


# SQLite's planner takes the hand-written query provider by provider (each provider's lines by
# account, then each entry by a random lookup); settle() reads the entries in storage order
# instead. The same query written that way shows what an expert's query would cost.
HAND_WRITTEN_ENTRIES_FIRST = text(
    "SELECT a.provider_id, SUM(CASE WHEN l.side = 'CREDIT' THEN l.amount ELSE -l.amount END), "
    "COUNT(*), SUM(c.commission) "
    "FROM journal_entries e NOT INDEXED "
    "CROSS JOIN journal_lines l ON l.entry_id = e.id "
    "CROSS JOIN ledger_accounts a ON a.id = l.account_id "
    "LEFT JOIN commissions c ON c.entry_id = e.id "
    "WHERE a.code = 'PROVIDER_PAYABLE' AND e.posted_at < :end AND e.category_key = :c "
    "GROUP BY a.provider_id"
)


def hand_written(
    url: URL, end: object, query: Any = HAND_WRITTEN
) -> tuple[float, dict[int, tuple[Decimal, int, Decimal]]]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            started = time.perf_counter()
            rows = connection.execute(query, {"end": end, "c": CATEGORY}).all()
            elapsed = time.perf_counter() - started
    finally:
        engine.dispose()
    return elapsed, {
        p: (Decimal(int(total)).scaleb(-4), count, Decimal(int(c)).scaleb(-4))
        for p, total, count, c in rows
    }


async def linkstar(url: URL) -> tuple[float, dict[int, tuple[Decimal, int, Decimal]]]:
    engine = create_async_engine(url)
    cycle = settlement.cycle_of(CYCLE)
    try:
        async with session_factory(engine)() as session:
            transaction = await session.begin()
            started = time.perf_counter()
            statements = await settlement.settle(session, cycle, [CATEGORY])
            elapsed = time.perf_counter() - started
            result = {s.provider_id: (s.closing, s.order_count, s.commission) for s in statements}
            await transaction.rollback()  # the next round settles the same data again
    finally:
        await engine.dispose()
    return elapsed, result


def run(raw_url: str, providers: int, orders: int, rounds: int) -> None:
    url = async_database_url(raw_url)
    upgrade(url, load_registry())
    started = time.perf_counter()
    load(url, providers, orders)
    print(
        f"backend {url.get_backend_name()}: loaded {providers:,} providers, {orders:,} completed "
        f"orders ({2 * orders:,} entries, {5 * orders:,} lines) in {time.perf_counter() - started:.1f} s"
    )
    end = settlement.cycle_of(CYCLE).end
    end_bind = (
        end
        if url.get_backend_name() == "postgresql"
        else end.replace(tzinfo=None).isoformat(sep=" ")
    )
    sqlite = url.get_backend_name() == "sqlite"
    ours, theirs, experts = [], [], []
    for _ in range(rounds):
        seconds, expected = hand_written(url, end_bind)
        theirs.append(seconds)
        seconds, got = asyncio.run(linkstar(url))
        ours.append(seconds)
        assert got == expected, "settlement and the hand-written query disagree"
        if sqlite:
            seconds, again = hand_written(url, end_bind, HAND_WRITTEN_ENTRIES_FIRST)
            experts.append(seconds)
            assert again == expected, "the two hand-written queries disagree"
    print(
        f"settle({CYCLE}): {len(got):,} statements and payouts; totals equal the hand-written query's"
    )
    print(
        f"  LinkStar settle (writes statements and payouts)   : min {min(ours):.2f} s, median {statistics.median(ours):.2f} s"
    )
    print(
        f"  hand-written query (reads the totals only):          min {min(theirs):.2f} s, median {statistics.median(theirs):.2f} s"
    )
    print(
        f"  ratio LinkStar / hand-written: min {min(ours) / min(theirs):.2f}x, median {statistics.median(ours) / statistics.median(theirs):.2f}x"
    )
    if experts:
        print(
            f"  hand-written, entries first (SQLite's best order): min {min(experts):.2f} s, median {statistics.median(experts):.2f} s"
        )
        print(
            f"  ratio LinkStar / entries first: min {min(ours) / min(experts):.2f}x, median {statistics.median(ours) / statistics.median(experts):.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?", default="")
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.url.startswith("postgresql"):
        name = f"linkstar_bench_{secrets.token_hex(3)}"
        admin = create_engine(
            args.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run(args.url.rsplit("/", 1)[0] + "/" + name, args.providers, args.orders, args.rounds)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.providers, args.orders, args.rounds)


if __name__ == "__main__":
    sys.exit(main())
