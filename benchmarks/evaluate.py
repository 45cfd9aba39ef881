"""Evaluation at scale: 10,000 providers × 5 metrics, 1,000,000 observations in one month.

    .venv/bin/python benchmarks/evaluate.py                       # SQLite, scratch file
    .venv/bin/python benchmarks/evaluate.py postgresql://postgres@127.0.0.1:5432/test
        (creates and drops a scratch database on that server)

Loads the data (not timed), then times `evaluate_category` for the logistics category (its five
metrics use four aggregation kinds: ratio of counts ×2, share at or above, nearest-rank p90) and,
for comparison, one hand-written SQL query computing the same ratio-of-counts metric for all
providers. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from linkstar.core.contract.registry import load_registry
from linkstar.core.kernel.config import async_database_url
from linkstar.core.kernel.db import create_engine as create_async_engine
from linkstar.core.kernel.db import session_factory
from linkstar.core.runtime.migrate import upgrade
from linkstar.core.standing.verdicts import evaluate_category

PROVIDERS = 10_000
OBSERVATIONS = 1_000_000
CATEGORY = "logistics"
PERIOD = "2026-10"


def sync_url(url):
    return url.set(
        drivername="sqlite" if url.get_backend_name() == "sqlite" else "postgresql+psycopg"
    )


def load(url, metrics) -> None:
    engine = create_engine(sync_url(url))
    rng = random.Random(7)
    start = datetime(2026, 10, 1, tzinfo=UTC).timestamp()
    per_metric = OBSERVATIONS // len(metrics)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO providers (id, legal_name, region, registration_number, created_at, updated_at) VALUES (:i, :n, 'OVERSEAS', :r, :t, :t)"
            ),
            [
                {"i": i, "n": f"Provider {i}", "r": f"R-{i}", "t": datetime.now(UTC)}
                for i in range(1, PROVIDERS + 1)
            ],
        )
        connection.execute(
            text(
                "INSERT INTO applications (provider_id, category_key, status, tier, version, created_at, updated_at, probation_extended) VALUES (:p, :c, 'ACTIVE', 'REGULAR', 1, :t, :t, false)"
            ),
            [{"p": i, "c": CATEGORY, "t": datetime.now(UTC)} for i in range(1, PROVIDERS + 1)],
        )
    rows_sql = text(
        "INSERT INTO kpi_observations (provider_id, category_key, metric_key, subject_ref, observed_at, value, source, attributable, idempotency_key, reported_at) "
        "VALUES (:p, :c, :m, :s, :o, :v, 'PLATFORM', true, :k, :o)"
    )
    serial = 0
    for metric in metrics:
        batch = []
        for _ in range(per_metric):
            serial += 1
            if metric.observed_unit.value == "OUTCOME":
                value = 1 if rng.random() < 0.95 else 0
            elif metric.observed_unit.value == "RATING":
                value = rng.choice((3, 4, 4, 5, 5))
            else:
                value = round(rng.uniform(1, 120), 2)
            batch.append(
                {
                    "p": rng.randrange(1, PROVIDERS + 1),
                    "c": CATEGORY,
                    "m": metric.key,
                    "s": f"s{serial % 97}",
                    "o": datetime.fromtimestamp(start + rng.randrange(0, 29 * 86400), UTC),
                    "v": round(value * 1_000_000),
                    "k": f"b{serial}",
                }
            )
            if len(batch) == 50_000:
                with engine.begin() as connection:
                    connection.execute(rows_sql, batch)
                batch = []
        if batch:
            with engine.begin() as connection:
                connection.execute(rows_sql, batch)
    with engine.begin() as connection:  # what autovacuum / a periodic PRAGMA optimize does
        connection.execute(text("ANALYZE"))
        if engine.dialect.name == "sqlite":
            connection.execute(text("PRAGMA optimize"))
    engine.dispose()


async def evaluate(url, contribution) -> tuple[float, int]:
    engine = create_async_engine(url)
    try:
        started = time.perf_counter()
        async with session_factory(engine)() as session, session.begin():
            summary = await evaluate_category(session, contribution, PERIOD)
        return time.perf_counter() - started, summary.written
    finally:
        await engine.dispose()


def hand_written(url, metric_key: str) -> float:
    engine = create_engine(sync_url(url))
    query = text(
        "SELECT provider_id, 100.0 * SUM(CASE WHEN value = 1000000 THEN 1 ELSE 0 END) / COUNT(*), COUNT(*) "
        "FROM kpi_observations WHERE category_key = :c AND metric_key = :m AND attributable "
        "AND observed_at >= :a AND observed_at < :b GROUP BY provider_id"
    )
    started = time.perf_counter()
    with engine.connect() as connection:
        rows = connection.execute(
            query,
            {
                "c": CATEGORY,
                "m": metric_key,
                "a": datetime(2026, 9, 30, 16, tzinfo=UTC),
                "b": datetime(2026, 10, 31, 16, tzinfo=UTC),
            },
        ).all()
    elapsed = time.perf_counter() - started
    engine.dispose()
    assert len(rows) > 0
    return elapsed


def peak_memory(url) -> float:
    """Peak resident memory (MB) of `linkstar evaluate` for the benchmark's month and category."""
    driver = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
    env = {
        **os.environ,
        "LINKSTAR_DATABASE_URL": url.set(drivername=driver).render_as_string(False),
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(
        [
            str(Path(sys.executable).parent / "linkstar"),
            "evaluate",
            "--period",
            PERIOD,
            "--category",
            CATEGORY,
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(before, after) / 1024  # kilobytes on Linux


def run(raw_url: str) -> None:
    url = async_database_url(raw_url)
    registry = load_registry()
    contribution = registry.category(CATEGORY)
    upgrade(url, registry)
    started = time.perf_counter()
    load(url, contribution.metrics)
    print(
        f"backend {url.get_backend_name()}: loaded {PROVIDERS} providers, {OBSERVATIONS} observations in {time.perf_counter() - started:.1f} s"
    )
    seconds, written = asyncio.run(evaluate(url, contribution))
    print(f"evaluate_category({CATEGORY}, {PERIOD}): {seconds:.2f} s, {written} scorecards written")
    again, rewritten = asyncio.run(evaluate(url, contribution))
    print(f"re-evaluation (idempotent): {again:.2f} s, {rewritten} scorecards written")
    print(f"`linkstar evaluate` (a third, idempotent run) peak memory: {peak_memory(url):.0f} MB")
    ratio = next(m for m in contribution.metrics if m.aggregation.kind.value == "RATIO_OF_COUNTS")
    print(
        f"hand-written single SQL query for {ratio.key} (1 of 5 metrics): {hand_written(url, ratio.key):.2f} s"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1].startswith("postgresql"):
        server = sys.argv[1]
        name = f"linkstar_bench_{secrets.token_hex(3)}"
        admin = create_engine(
            server.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run(server.rsplit("/", 1)[0] + "/" + name)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.db'}")


if __name__ == "__main__":
    main()
