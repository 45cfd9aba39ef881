"""Evaluation at scale: 10,000 providers × 5 metrics, 1,000,000 observations in one month.

    .venv/bin/python benchmarks/evaluate.py [postgresql://postgres@127.0.0.1:5432/test]
        [--rounds 3] [--providers 10000] [--observations 1000000] [--stale]

Loads the data (not timed; then ANALYZE, as autovacuum would — `--stale` skips it, to show the
plans do not depend on fresh statistics) into a scratch database (SQLite file, or a database
created and dropped on the given server). Then, on the same database:

* LinkStar: `evaluate_category` for logistics (five metrics, four aggregation kinds: ratio of
  counts ×2, share at or above, nearest-rank p90), scorecards and the sanction ladder, in one
  transaction; first run, then idempotent re-runs;
* the hand-written equivalent of the FULL job (`hand_written`): sync SQLAlchemy Core on
  psycopg / sqlite3, no ORM objects: the members in one query, ONE scan of the month's
  observations for all five metrics aggregated in Python, the project's own scoring
  (`_judge`, `history_score`, `digest`) and ladder rule (`ladder`), the previous composites and
  known digests in one query each, ONE bulk insert of the scorecards (RETURNING ids), one of
  their `scorecard.published` events, one of the WARNING sanctions and one of their timeline
  events. It writes under its own category key (`logistics-hand-written`) so that both sides'
  rows sit side by side and are compared (every scorecard field and every sanction must match).
  It knows what the benchmark's data holds and skips what cannot occur in it: appeals that void
  a metric, tier changes, restrictions to lift, penalties (logistics charges them only for
  RESTRICTED_INTAKE, which needs two failing months); it asserts they do not occur.

First runs are one round each (LinkStar first); re-runs alternate for `--rounds` rounds.
Prints the seconds of both sides, the ratios (min, median), and the peak memory of a further
`linkstar evaluate` run. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, create_engine, insert, select, text, type_coerce

from linkstar.core.contract.registry import load_registry
from linkstar.core.kernel.config import async_database_url
from linkstar.core.kernel.db import create_engine as create_async_engine
from linkstar.core.kernel.db import session_factory
from linkstar.core.kernel.events import DomainEvent
from linkstar.core.kernel.periods import PeriodKind, month_to_period, period_of
from linkstar.core.kpi.aggregations import QUANTUM, SCALE
from linkstar.core.kpi.evaluation import _judge
from linkstar.core.kpi.models import KpiObservation, Scorecard
from linkstar.core.kpi.scoring import digest, history_score
from linkstar.core.onboarding.models import Application
from linkstar.core.runtime.migrate import upgrade
from linkstar.core.standing.cards import CardSummary
from linkstar.core.standing.ladder import ladder
from linkstar.core.standing.models import Sanction
from linkstar.core.standing.verdicts import evaluate_category

CATEGORY = "logistics"
HAND_WRITTEN = "logistics-hand-written"  # the hand-written side's category key
PERIOD = "2026-10"


def sync_url(url):
    return url.set(
        drivername="sqlite" if url.get_backend_name() == "sqlite" else "postgresql+psycopg"
    )


def load(url, metrics, providers: int, observations: int, analyze: bool) -> None:
    engine = create_engine(sync_url(url))
    rng = random.Random(7)
    start = datetime(2026, 10, 1, tzinfo=UTC).timestamp()
    per_metric = observations // len(metrics)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO providers (id, legal_name, region, registration_number, created_at, updated_at) VALUES (:i, :n, 'OVERSEAS', :r, :t, :t)"
            ),
            [
                {"i": i, "n": f"Provider {i}", "r": f"R-{i}", "t": datetime.now(UTC)}
                for i in range(1, providers + 1)
            ],
        )
        connection.execute(
            text(
                "INSERT INTO applications (provider_id, category_key, status, tier, version, created_at, updated_at, probation_extended) VALUES (:p, :c, 'ACTIVE', 'REGULAR', 1, :t, :t, false)"
            ),
            [{"p": i, "c": CATEGORY, "t": datetime.now(UTC)} for i in range(1, providers + 1)],
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
                    "p": rng.randrange(1, providers + 1),
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
    if analyze:
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


def _q(value: Decimal) -> Decimal:
    return value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def _aggregate(metric, raws: list[int]) -> Decimal:
    """One metric's value from the provider's raw (×10⁶) values, as core/kpi/aggregations."""
    kind, params, n = metric.aggregation.kind.value, metric.aggregation.params, len(raws)
    if kind == "RATIO_OF_COUNTS":
        return _q(Decimal(100 * sum(1 for r in raws if r == SCALE)) / n)
    if kind == "SHARE_AT_OR_ABOVE":
        cutoff = int(params["cutoff"] * SCALE)
        return _q(Decimal(100 * sum(1 for r in raws if r >= cutoff)) / n)
    if kind == "PERCENTILE":
        p = int(params["percentile"] * 100)
        return Decimal(sorted(raws)[(n * p + 9999) // 10000 - 1]) / SCALE
    raise SystemExit(f"the hand-written job has no {kind}")


def hand_written(url, contribution) -> tuple[float, int]:
    """The whole job by hand (see the module docstring); returns (seconds, cards written)."""
    engine = create_engine(sync_url(url))
    metrics, scoring = contribution.metrics, contribution.scoring
    periods = {m.key: month_to_period(PERIOD, m.window.period, m.window.timezone) for m in metrics}
    month = period_of(PERIOD, PeriodKind.MONTH, metrics[0].window.timezone)
    obs, cards = KpiObservation.__table__.c, Scorecard.__table__.c
    started = time.perf_counter()
    with engine.begin() as connection:
        providers = sorted(
            connection.execute(
                select(Application.provider_id).where(
                    Application.category_key == CATEGORY,
                    Application.status.in_(("PROBATION", "ACTIVE")),
                )
            ).scalars()
        )
        # ONE scan for all metrics (the same counting rule as core/kpi/aggregations._counted)
        effective = (obs.review_status.is_(None)) | (obs.review_status == "ACCEPTED")
        corrected = select(obs.supersedes_id).where(obs.supersedes_id.is_not(None), effective)
        scan = select(
            obs.provider_id, obs.metric_key, obs.observed_at, type_coerce(obs.value, BigInteger)
        ).where(
            obs.category_key == CATEGORY,
            obs.observed_at >= min(p.start for p in periods.values()),
            obs.observed_at < max(p.end for p in periods.values()),
            (obs.attributable.is_(True) & effective)
            | (obs.review_status.in_(("PENDING", "REJECTED")) & obs.supersedes_id.is_(None)),
            obs.id.not_in(corrected.scalar_subquery()),
        )
        raws: dict[str, dict[int, list[int]]] = {m.key: defaultdict(list) for m in metrics}
        for pid, key, at, raw in connection.execute(scan):
            period = periods.get(key)
            if period is not None and period.start <= at < period.end:
                raws[key][pid].append(raw)
        # the latest revision's digest of this month, and earlier composites, one query each
        latest = {}
        for pid, revision, known in connection.execute(
            select(cards.provider_id, cards.revision, cards.inputs_digest).where(
                cards.category_key == HAND_WRITTEN, cards.period == PERIOD
            )
        ):
            if pid not in latest or revision > latest[pid][0]:
                latest[pid] = (revision, known)
        previous: dict[int, list[Any]] = defaultdict(list)
        for pid, _period, _revision, score in connection.execute(
            select(cards.provider_id, cards.period, cards.revision, cards.composite)
            .where(cards.category_key == HAND_WRITTEN, cards.period < PERIOD)
            .order_by(cards.provider_id, cards.period.desc(), cards.revision.desc())
        ):
            previous[pid].append(score)  # (one month of data: no earlier card exists)
        if previous:
            raise SystemExit("the hand-written job handles one month of data")
        definitions = {m.key: {"fingerprint": m.fingerprint(), **m.as_dict()} for m in metrics}
        new_cards, judged = [], []
        for pid in providers:
            values = {}
            for m in metrics:
                found = raws[m.key].get(pid)
                values[m.key] = (_aggregate(m, found), len(found)) if found else (None, 0)
            rows, score, band = _judge(contribution, PERIOD, values, definitions)
            history = history_score(score, [], scoring.history_periods)
            fingerprint = digest(
                {"results": rows, "composite": score, "history": history, "standing": band}
            )
            revision, known = latest.get(pid, (0, None))
            if known == fingerprint:
                continue
            new_cards.append(
                {
                    "provider_id": pid,
                    "category_key": HAND_WRITTEN,
                    "period": PERIOD,
                    "revision": revision + 1,
                    "period_start": month.start,
                    "period_end": month.end,
                    "composite": score,
                    "history_score": history,
                    "standing": band,
                    "results": rows,
                    "definitions": definitions,
                    "inputs_digest": fingerprint,
                }
            )
            if any(r["status"] != "INSUFFICIENT_DATA" for r in rows):
                judged.append((pid, score, any(r["status"] == "FAIL" for r in rows)))
        ids = {}
        if new_cards:  # ONE bulk insert of the cards, then one of their events
            ids = dict(
                connection.execute(
                    insert(Scorecard.__table__).returning(cards.provider_id, cards.id), new_cards
                ).all()
            )
            connection.execute(
                insert(DomainEvent.__table__),
                [
                    {
                        "event_type": "scorecard.published",
                        "subject_type": "Scorecard",
                        "subject_id": ids[c["provider_id"]],
                        "provider_id": c["provider_id"],
                        "actor": "system",
                        "payload": {
                            "category": HAND_WRITTEN,
                            "period": PERIOD,
                            "revision": c["revision"],
                            "composite": None if c["composite"] is None else str(c["composite"]),
                            "standing": c["standing"],
                        },
                    }
                    for c in new_cards
                ],
            )
        # the ladder: the project's rule on each judged provider's card (this month only)
        sanctions = []
        known_keys = set(
            connection.execute(
                select(Sanction.dedupe_key).where(
                    Sanction.category_key == HAND_WRITTEN, Sanction.period == PERIOD
                )
            ).scalars()
        )
        for pid, score, fails in judged:
            plan = ladder([CardSummary(ids[pid], PERIOD, score, fails)], PERIOD, scoring)
            if plan.tier_step:
                raise SystemExit("the hand-written job makes no tier changes")
            for kind, key, reason, cause in plan.sanctions:
                key = f"{pid}:{HAND_WRITTEN}:{key}"
                if key not in known_keys:
                    sanctions.append((pid, kind, key, reason, cause))
        if sanctions:
            connection.execute(
                insert(Sanction.__table__),
                [
                    {
                        "provider_id": pid,
                        "category_key": HAND_WRITTEN,
                        "kind": kind,
                        "status": "ACTIVE",
                        "dedupe_key": key,
                        "period": PERIOD,
                        "cause": {"scorecards": cause, "violations": []},
                        "reason": reason,
                    }
                    for pid, kind, key, reason, cause in sanctions
                ],
            )
            connection.execute(
                insert(DomainEvent.__table__),
                [
                    {
                        "event_type": f"sanction.{kind.value.lower()}",
                        "subject_type": "Provider",
                        "subject_id": pid,
                        "provider_id": pid,
                        "actor": "policy",
                        "payload": {
                            "category": HAND_WRITTEN,
                            "period": PERIOD,
                            "reason": reason,
                            "scorecards": cause,
                        },
                        "internal": False,
                    }
                    for pid, kind, key, reason, cause in sanctions
                ],
            )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, len(new_cards)


def compare(url) -> str:
    """Both sides' latest cards and sanctions, field by field (the category key aside)."""
    engine = create_engine(sync_url(url))
    cards = Scorecard.__table__.c
    sides = []
    with engine.connect() as connection:
        for key in (CATEGORY, HAND_WRITTEN):
            rows = connection.execute(
                select(
                    cards.provider_id,
                    cards.revision,
                    cards.composite,
                    cards.history_score,
                    cards.standing,
                    cards.results,
                    cards.definitions,
                    cards.inputs_digest,
                )
                .where(cards.category_key == key, cards.period == PERIOD)
                .order_by(cards.provider_id, cards.revision)
            ).all()
            sanctions = connection.execute(
                select(Sanction.provider_id, Sanction.kind, Sanction.dedupe_key, Sanction.reason)
                .where(Sanction.category_key == key)
                .order_by(Sanction.provider_id, Sanction.dedupe_key)
            ).all()
            sanctions = [(p, k, d.replace(key, "*"), r) for p, k, d, r in sanctions]
            sides.append(([tuple(r) for r in rows], sanctions))
    engine.dispose()
    if sides[0] != sides[1]:
        a, b = sides
        raise SystemExit(
            f"the two sides differ: {len(a[0])} / {len(b[0])} cards, "
            f"{len(a[1])} / {len(b[1])} sanctions; first cards {a[0][:1]} / {b[0][:1]}"
        )
    return (
        f"identical results: {len(sides[0][0])} scorecards, {len(sides[0][1])} sanctions per side"
    )


# Started by a small launcher, whose own peak is reported: a child started straight from this
# process (vfork, then exec) inherits this process's high-water mark of resident memory, about
# 0.5 GB after the hand-written job's scan, and `ru_maxrss` would report that, not the command's.
LAUNCHER = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_memory(url) -> float:
    """Peak resident memory (MB) of `linkstar evaluate` for the benchmark's month and category."""
    driver = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
    env = {
        **os.environ,
        "LINKSTAR_DATABASE_URL": url.set(drivername=driver).render_as_string(False),
    }
    command = [str(Path(sys.executable).parent / "linkstar"), "evaluate", "--period", PERIOD]
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command, "--category", CATEGORY],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(launched.stdout.strip()) / 1024  # kilobytes on Linux


def _ratios(label: str, ours: list[float], theirs: list[float]) -> str:
    each = [a / b for a, b in zip(ours, theirs, strict=True)]
    return (
        f"{label:34s} linkstar {statistics.median(ours):7.2f} s  hand-written "
        f"{statistics.median(theirs):7.2f} s  ratio min {min(each):5.2f} median "
        f"{statistics.median(each):5.2f}  (lower is better)"
    )


def run(raw_url: str, args: argparse.Namespace) -> None:
    url = async_database_url(raw_url)
    registry = load_registry()
    contribution = registry.category(CATEGORY)
    upgrade(url, registry)
    started = time.perf_counter()
    load(url, contribution.metrics, args.providers, args.observations, not args.stale)
    print(
        f"backend {url.get_backend_name()}: loaded {args.providers} providers, "
        f"{args.observations} observations in {time.perf_counter() - started:.1f} s"
        + (" (statistics left stale: no ANALYZE)" if args.stale else "")
    )
    ours, written = asyncio.run(evaluate(url, contribution))
    theirs, hand_written_cards = hand_written(url, contribution)
    print(compare(url))
    print(f"first run: {written} / {hand_written_cards} scorecards written")
    print(_ratios("evaluation, first run", [ours], [theirs]))
    again: tuple[list[float], list[float]] = ([], [])
    for _ in range(args.rounds):
        seconds, rewritten = asyncio.run(evaluate(url, contribution))
        again[0].append(seconds)
        other, rewritten_by_hand = hand_written(url, contribution)
        again[1].append(other)
        if rewritten or rewritten_by_hand:
            raise SystemExit(f"a re-run wrote cards: {rewritten} / {rewritten_by_hand}")
    print(compare(url))
    print(_ratios(f"re-run (idempotent), {args.rounds} rounds", *again))
    print(f"`linkstar evaluate` (a further, idempotent run) peak memory: {peak_memory(url):.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--stale", action="store_true", help="skip ANALYZE after the load")
    args = parser.parse_args()
    if args.database and args.database.startswith("postgresql"):
        server = args.database
        name = f"linkstar_bench_{secrets.token_hex(3)}"
        admin = create_engine(
            server.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run(server.rsplit("/", 1)[0] + "/" + name, args)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", args)


if __name__ == "__main__":
    main()
