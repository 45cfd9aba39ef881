"""Three read pages, LinkStar against a hand-written Starlette handler, over real HTTP.

    .venv/bin/python benchmarks/pages.py [postgresql://postgres@127.0.0.1:5432/test] [--rounds 5] [--seconds 3]

(a) the anonymous directory page: 20 providers with marketplaces and public standings;
(b) a partner's scorecards page: 20 scorecards with their metric results;
(c) a reviewer's applications list: 20 applications with category and provider.

Loads the demo data set (100+ providers, six evaluated months) into a scratch database (a
SQLite file, or a database created and dropped on the given PostgreSQL server), copies one
provider's scorecards into extra revisions so it has more than 20, refreshes planner
statistics (ANALYZE; on SQLite also `PRAGMA optimize`), then starts `linkstar serve` in
production mode and `benchmarks/raw_pages.py` under uvicorn, one worker each. Both answers are
compared for every page before timing. Rounds alternate between the two servers; each round
is `--concurrency` keep-alive clients posting for `--seconds`. The load generator (raw
asyncio streams, see `_bench.load`) runs on the same machine, so absolute figures understate both servers alike; compare the ratios.
Prints throughput, p50 and the server process's CPU time per request (from /proc: the steadier
figure when other work shares the machine) per side, and the ratio of each round (min, median).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from _bench import (
    SECRET,
    linkstar_server,
    load,
    post_json,
    ratios,
    raw_server,
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

DIRECTORY = """{ providers(first: 20) { totalCount
  edges { cursor node { id legalName region marketplaces
    publicStandings { category period composite standing tier } } }
  pageInfo { hasNextPage endCursor } } }"""

SCORECARDS = """query Scorecards($id: ID!) { provider(id: $id) { scorecards(first: 20) { totalCount
  edges { node { id categoryKey period revision composite historyScore standing computedAt
    metrics { metric value status threshold attainment } } }
  pageInfo { hasNextPage endCursor } } } }"""

APPLICATIONS = """{ applications(first: 20) { totalCount
  edges { node { id status tier createdAt submittedAt category { key }
    provider { id legalName } } }
  pageInfo { hasNextPage endCursor } } }"""

PASSWORD = "a long benchmark passphrase"


async def prepare(url: Any, registry: Any) -> dict[str, Any]:
    """Demo data, a partner with more than 20 scorecards, a reviewer; their access tokens."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await load_demo(session, registry, per_category=25)
    async with sessions() as session, session.begin():
        provider_id = (
            await session.execute(
                text(
                    "SELECT provider_id FROM scorecards GROUP BY provider_id "
                    "ORDER BY count(*) DESC, provider_id LIMIT 1"
                )
            )
        ).scalar_one()
        for extra in (100, 200, 300, 400):  # more revisions of the same months: > 20 cards
            await session.execute(
                text(
                    "INSERT INTO scorecards (provider_id, category_key, period, revision, "
                    "period_start, period_end, composite, history_score, standing, results, "
                    "definitions, inputs_digest, computed_at) SELECT provider_id, category_key, "
                    "period, revision + :extra, period_start, period_end, composite, "
                    "history_score, standing, results, definitions, inputs_digest, computed_at "
                    "FROM scorecards WHERE provider_id = :p AND revision = 1"
                ),
                {"extra": extra, "p": provider_id},
            )
        await create_account(
            session,
            email="partner@bench.example",
            password=PASSWORD,
            display_name="Partner",
            role=Role.PARTNER,
            provider_id=provider_id,
        )
        await create_account(
            session,
            email="reviewer@bench.example",
            password=PASSWORD,
            display_name="Reviewer",
            role=Role.REVIEWER,
        )
    tokens = {}
    for who in ("partner", "reviewer"):
        async with sessions() as session, session.begin():
            tokens[who] = (
                await login(session, f"{who}@bench.example", PASSWORD, SECRET)
            ).access_token
    await engine.dispose()
    return {"provider_id": provider_id, **tokens}


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux /proc). Per request, it is
    the steadier figure on a busy machine: it counts the work, not the wait for a core."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database", nargs="?")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    registry = load_registry()
    with scratch_database(args.database) as url:
        upgrade(url, registry)
        prepared = asyncio.run(prepare(url, registry))
        refresh_statistics(url)
        engine = sync_engine(url)
        with engine.connect() as connection:
            counts = {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("providers", "applications", "scorecards", "kpi_observations")
            }
        engine.dispose()
        print(f"backend {url.get_backend_name()}: {counts}")
        from base64 import b64encode

        provider_gid = b64encode(f"Provider:{prepared['provider_id']}".encode()).decode()
        pages = [
            ("directory (anonymous)", DIRECTORY, {}, None, "/directory"),
            (
                "scorecards (partner)",
                SCORECARDS,
                {"id": provider_gid},
                prepared["partner"],
                "/scorecards",
            ),
            ("applications (reviewer)", APPLICATIONS, {}, prepared["reviewer"], "/applications"),
        ]
        ours = linkstar_server(url)
        theirs = raw_server("raw_pages", url, {"BENCH_CATEGORIES": ",".join(registry.categories)})
        try:
            for label, query, variables, token, path in pages:
                payload = {"query": query, "variables": variables}
                a = post_json(ours.base, "/graphql", payload, token)
                b = post_json(theirs.base, path, payload, token)
                if a != b:
                    raise SystemExit(
                        f"{label}: answers differ\nlinkstar: {json.dumps(a)[:2000]}\n"
                        f"hand-written: {json.dumps(b)[:2000]}"
                    )
                edges = next(iter(a["data"].values()))
                edges = edges.get("scorecards", edges)
                print(
                    f"{label}: identical answers, {len(edges['edges'])} items, {len(json.dumps(a))} bytes"
                )
            print(
                f"{args.rounds} interleaved rounds of {args.seconds:g} s, "
                f"{args.concurrency} keep-alive clients on this machine"
            )
            for label, query, variables, token, path in pages:
                body = json.dumps({"query": query, "variables": variables}).encode()
                headers = {"content-type": "application/json"}
                if token:
                    headers["authorization"] = f"Bearer {token}"
                load(f"{ours.base}/graphql", body, headers, 1, args.concurrency)  # warm-up
                load(f"{theirs.base}{path}", body, headers, 1, args.concurrency)
                rps: tuple[list[float], list[float]] = ([], [])
                p50: tuple[list[float], list[float]] = ([], [])
                cpu: tuple[list[float], list[float]] = ([], [])
                for _ in range(args.rounds):
                    for side, (server, target) in enumerate(
                        ((ours, f"{ours.base}/graphql"), (theirs, f"{theirs.base}{path}"))
                    ):
                        used = cpu_seconds(server.process.pid)
                        started = time.perf_counter()
                        r, p = load(target, body, headers, args.seconds, args.concurrency)
                        served = r * (time.perf_counter() - started)
                        cpu[side].append(
                            (cpu_seconds(server.process.pid) - used) * 1000 / max(served, 1)
                        )
                        rps[side].append(r)
                        p50[side].append(p)
                print(ratios(f"{label} throughput", rps[0], rps[1], "req/s", True))
                print(ratios(f"{label} p50", p50[0], p50[1], "ms   ", False))
                print(ratios(f"{label} server CPU", cpu[0], cpu[1], "ms/rq", False))
        finally:
            ours.stop()
            theirs.stop()


if __name__ == "__main__":
    main()
