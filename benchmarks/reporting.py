"""Bulk reporting: a 10,000-record `reportObservations` over HTTP against `executemany`.

    .venv/bin/python benchmarks/reporting.py [postgresql://postgres@127.0.0.1:5432/test] [--rounds 5]

One provider ACTIVE in the logistics category with a partner account, in a scratch database
(SQLite file, or a database created and dropped on the given PostgreSQL server) holding the
demo data set; planner statistics refreshed after the load. Each round, alternating:
LinkStar (`linkstar serve`, production mode) receives 10,000 new records of the current month
as a partner's `reportObservations`; the hand-written side inserts the same 10,000 rows with
one `executemany` (sqlite3 / psycopg) in one transaction. After the rounds, the rows both sides
stored are compared (metric, subject, time, value, source, reporter). Prints both sides'
seconds and the ratio of each round (min, median).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from _bench import (
    SECRET,
    linkstar_server,
    plain_url,
    ratios,
    refresh_statistics,
    scratch_database,
    sync_engine,
)
from sqlalchemy import text

from linkstar.core.contract.registry import load_registry
from linkstar.core.identity.accounts import create_account, login
from linkstar.core.kernel.db import create_engine, session_factory
from linkstar.core.kernel.vocabulary import Role
from linkstar.core.runtime.demo import load_demo
from linkstar.core.runtime.migrate import upgrade

RECORDS = 10_000
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite
CATEGORY = "logistics"
PASSWORD = "a long benchmark passphrase"
MUTATION = """mutation Report($records: [ObservationInput!]!) {
  reportObservations(records: $records) { accepted duplicates alerts } }"""


async def prepare(url: Any, registry: Any) -> tuple[int, str, str]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await load_demo(session, registry, per_category=25)
    async with sessions() as session, session.begin():
        provider_id = (
            await session.execute(
                text(
                    "SELECT provider_id FROM applications WHERE category_key = :c "
                    "AND status = 'ACTIVE' ORDER BY provider_id LIMIT 1"
                ),
                {"c": CATEGORY},
            )
        ).scalar_one()
        account = await create_account(
            session,
            email="partner@bench.example",
            password=PASSWORD,
            display_name="Partner",
            role=Role.PARTNER,
            provider_id=provider_id,
        )
        label = account.email
    async with sessions() as session, session.begin():
        token = (await login(session, label, PASSWORD, SECRET)).access_token
    await engine.dispose()
    return provider_id, token, label


def batch(metrics: list[Any], prefix: str, rng: random.Random) -> list[dict[str, Any]]:
    """10,000 records of this month so far, in each metric's observed unit."""
    now = datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    span = max(int((now - start).total_seconds()) - 3600, 60)
    records = []
    for n in range(RECORDS):
        metric = metrics[n % len(metrics)]
        unit = metric.observed_unit.value
        if unit == "OUTCOME":
            value = "1" if rng.random() < 0.95 else "0"
        elif unit == "RATING":
            value = str(rng.choice((3, 4, 4, 5, 5)))
        else:
            value = f"{rng.uniform(1, 120):.2f}"
        observed = start + timedelta(seconds=rng.randrange(0, span))
        records.append(
            {
                "category": CATEGORY,
                "metric": metric.key,
                "subjectRef": f"shipment-{n % 997}",
                "observedAt": observed.isoformat(),
                "value": value,
                "idempotencyKey": f"{prefix}-{n}",
            }
        )
    return records


def hand_written(url: Any, provider_id: int, label: str, records: list[dict[str, Any]]) -> float:
    """The same rows with one executemany in one transaction (times parsing and the insert)."""
    started = time.perf_counter()
    rows = [
        (
            provider_id,
            r["category"],
            r["metric"],
            r["subjectRef"],
            datetime.fromisoformat(r["observedAt"]).astimezone(UTC),
            round(float(r["value"]) * 100) * 10_000,
            "SELF_REPORTED",
            True,
            r["idempotencyKey"],
            label,
            datetime.now(UTC),
        )
        for r in json.loads(json.dumps(records))  # the body a client sends, parsed
    ]
    sql = (
        "INSERT INTO kpi_observations (provider_id, category_key, metric_key, subject_ref, "
        "observed_at, value, source, attributable, idempotency_key, reported_by, reported_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    if url.get_backend_name() == "sqlite":
        rows = [
            (*r[:4], r[4].strftime(SQLITE_TIME), *r[5:10], r[10].strftime(SQLITE_TIME))
            for r in rows
        ]
        connection = sqlite3.connect(plain_url(url).split(":///", 1)[1])
        with connection:
            connection.executemany(sql.replace("%s", "?"), rows)
        connection.close()
    else:
        import psycopg

        with psycopg.connect(plain_url(url)) as connection, connection.cursor() as cur:
            cur.executemany(sql, rows)
    return time.perf_counter() - started


def stored(url: Any, prefix: str) -> list[tuple[Any, ...]]:
    engine = sync_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT metric_key, subject_ref, observed_at, value, source, attributable, "
                "reported_by, idempotency_key FROM kpi_observations "
                "WHERE idempotency_key LIKE :p ORDER BY idempotency_key"
            ),
            {"p": f"{prefix}-%"},
        ).all()
    engine.dispose()
    return [(*r[:7], r[7].split("-", 1)[1]) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    registry = load_registry()
    metrics = list(registry.category(CATEGORY).metrics)
    with scratch_database(args.database) as url:
        upgrade(url, registry)
        provider_id, token, label = asyncio.run(prepare(url, registry))
        refresh_statistics(url)
        ours = linkstar_server(url)
        rng = random.Random(11)
        seconds: tuple[list[float], list[float]] = ([], [])
        try:
            headers = {"authorization": f"Bearer {token}"}
            with httpx.Client(timeout=300) as client:
                for n in range(args.rounds + 1):  # round 0 warms up both sides
                    records = batch(metrics, f"r{n}", rng)
                    mine = [{**r, "idempotencyKey": f"ls{r['idempotencyKey']}"} for r in records]
                    started = time.perf_counter()
                    answer = client.post(
                        f"{ours.base}/graphql",
                        json={"query": MUTATION, "variables": {"records": mine}},
                        headers=headers,
                    ).json()
                    elapsed = time.perf_counter() - started
                    if answer.get("errors") or answer["data"]["reportObservations"][
                        "accepted"
                    ] != len(records):
                        raise SystemExit(f"report failed: {json.dumps(answer)[:2000]}")
                    raw = [{**r, "idempotencyKey": f"hw{r['idempotencyKey']}"} for r in records]
                    theirs = hand_written(url, provider_id, label, raw)
                    if n:
                        seconds[0].append(elapsed)
                        seconds[1].append(theirs)
        finally:
            ours.stop()
        a, b = stored(url, "lsr1"), stored(url, "hwr1")
        if a != b or len(a) != RECORDS:
            raise SystemExit(f"stored rows differ: {a[:2]} vs {b[:2]} ({len(a)} / {len(b)})")
        print(f"backend {url.get_backend_name()}: stored rows identical ({len(a)} per side)")
        print(
            ratios(
                f"reportObservations {RECORDS:,} records",
                seconds[0],
                seconds[1],
                "s",
                False,
            )
        )


if __name__ == "__main__":
    main()
