"""The hand-written equivalent of three read pages: Starlette + sqlite3/psycopg + json.

Served by `benchmarks/pages.py` with uvicorn (one worker), on the same database as LinkStar.
Each route does the same work as the GraphQL request it stands for — read the JSON body,
check the bearer token and its session where the page needs a viewer, run the SQL, build the
identical JSON — and nothing else: no GraphQL, no ORM, no policy layer, no DataLoader.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PAGE = 20


def gid(type_name: str, node_id: int) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


def cursor(node_id: int) -> str:
    return base64.urlsafe_b64encode(f"c1:{node_id}".encode()).decode()


def scaled(value: int | None, scale: int) -> str | None:
    if value is None:
        return None
    number = Decimal(int(value)).scaleb(-scale)
    return str(
        number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()
    )


def stamp(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat()


class Database:
    """sqlite3 (one connection) or a small pool of psycopg async connections (autocommit)."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        self.url = url
        self.pool: asyncio.Queue[Any] | None = None
        if self.sqlite:
            self.connection = sqlite3.connect(url.split(":///", 1)[1], check_same_thread=False)

    async def start(self) -> None:
        if not self.sqlite:
            import psycopg

            self.pool = asyncio.Queue()
            for _ in range(4):
                self.pool.put_nowait(
                    await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                )

    def ids(self, values: list[int]) -> tuple[str, list[Any]]:
        """An IN condition's right side: `= ANY(%s)` on PostgreSQL, `IN (?, …)` on SQLite."""
        if self.sqlite:
            return f"IN ({', '.join('?' * len(values))})", list(values)
        return "= ANY(%s)", [list(values)]

    async def many(self, statements: list[tuple[str, list[Any]]]) -> list[list[tuple[Any, ...]]]:
        if self.sqlite:
            return [
                self.connection.execute(sql.replace("%s", "?"), params).fetchall()
                for sql, params in statements
            ]
        assert self.pool is not None
        connection = await self.pool.get()
        try:
            results = []
            async with connection.cursor() as cur:
                for sql, params in statements:
                    await cur.execute(sql, params)
                    results.append(await cur.fetchall())
            return results
        finally:
            self.pool.put_nowait(connection)

    async def one(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        return (await self.many([(sql, params)]))[0]


def create_app() -> Starlette:
    db = Database(os.environ["LINKSTAR_DATABASE_URL"])
    secret = os.environ["LINKSTAR_SECRET_KEY"]
    categories = os.environ.get("BENCH_CATEGORIES", "").split(",")

    async def viewer(request: Request) -> tuple[int, str, int | None] | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return None
        claims = jwt.decode(header[7:], secret, algorithms=["HS256"])
        rows = await db.one(
            "SELECT a.id, a.role, a.provider_id, s.revoked_at, a.disabled FROM auth_sessions s "
            "JOIN accounts a ON a.id = s.account_id WHERE s.id = %s AND a.id = %s",
            [int(claims["sid"]), int(claims["sub"])],
        )
        if not rows or rows[0][3] is not None or rows[0][4]:
            return None
        return rows[0][0], rows[0][1], rows[0][2]

    async def directory(request: Request) -> Response:
        json.loads(await request.body())
        listed = (
            "EXISTS (SELECT 1 FROM applications a WHERE a.provider_id = providers.id "
            "AND a.status = 'ACTIVE')"
        )
        total, page = await db.many(
            [
                (f"SELECT count(*) FROM providers WHERE {listed}", []),
                (
                    f"SELECT id, legal_name, region FROM providers WHERE {listed} "
                    f"ORDER BY id LIMIT {PAGE + 1}",
                    [],
                ),
            ]
        )
        rows = page[:PAGE]
        ids = [r[0] for r in rows]
        condition, params = db.ids(ids)
        markets, standings = await db.many(
            [
                (
                    f"SELECT provider_id, marketplace FROM provider_marketplaces "
                    f"WHERE provider_id {condition}",
                    params,
                ),
                (
                    # the standing shown is capped by sanctions in force (default bands):
                    # a termination proposed → AT_RISK, restricted intake → at most WATCH
                    "SELECT s.provider_id, s.category_key, s.period, s.composite, "
                    "CASE WHEN s.standing = 'UNRATED' THEN s.standing "
                    "WHEN EXISTS (SELECT 1 FROM sanctions x WHERE x.provider_id = s.provider_id "
                    "AND x.category_key = s.category_key AND x.kind = 'TERMINATION_PROPOSED' "
                    "AND x.status IN ('ACTIVE', 'CONFIRMED')) THEN 'AT_RISK' "
                    "WHEN s.standing IN ('EXCELLENT', 'GOOD') AND EXISTS (SELECT 1 FROM sanctions x "
                    "WHERE x.provider_id = s.provider_id AND x.category_key = s.category_key "
                    "AND x.kind = 'RESTRICTED_INTAKE' AND x.status = 'ACTIVE') THEN 'WATCH' "
                    "ELSE s.standing END, a.tier "
                    "FROM (SELECT provider_id, category_key, period, composite, standing, "
                    "row_number() OVER (PARTITION BY provider_id, category_key "
                    "ORDER BY period DESC, revision DESC) AS rank FROM scorecards "
                    f"WHERE provider_id {condition}) s JOIN applications a "
                    "ON a.provider_id = s.provider_id AND a.category_key = s.category_key "
                    "AND a.status = 'ACTIVE' WHERE s.rank = 1",
                    params,
                ),
            ]
        )
        by_market: dict[int, list[str]] = {i: [] for i in ids}
        for provider_id, market in markets:
            by_market[provider_id].append(market)
        by_standing: dict[int, list[tuple[Any, ...]]] = {i: [] for i in ids}
        for row in standings:
            by_standing[row[0]].append(row)
        order = {key: n for n, key in enumerate(categories)}
        edges = [
            {
                "cursor": cursor(pid),
                "node": {
                    "id": gid("Provider", pid),
                    "legalName": name,
                    "region": region,
                    "marketplaces": sorted(by_market[pid]),
                    "publicStandings": [
                        {
                            "category": s[1],
                            "period": s[2],
                            "composite": scaled(s[3], 2),
                            "standing": s[4],
                            "tier": s[5],
                        }
                        for s in sorted(by_standing[pid], key=lambda s: order.get(s[1], 99))
                    ],
                },
            }
            for pid, name, region in rows
        ]
        return JSONResponse(
            {
                "data": {
                    "providers": {
                        "totalCount": total[0][0],
                        "edges": edges,
                        "pageInfo": {
                            "hasNextPage": len(page) > PAGE,
                            "endCursor": edges[-1]["cursor"] if edges else None,
                        },
                    }
                }
            }
        )

    async def scorecards(request: Request) -> Response:
        body = json.loads(await request.body())
        who = await viewer(request)
        raw = base64.b64decode(body["variables"]["id"]).decode()
        provider_id = int(raw.split(":", 1)[1])
        if who is None or who[2] != provider_id:
            return JSONResponse({"data": {"provider": None}})
        exists, total, page = await db.many(
            [
                ("SELECT id FROM providers WHERE id = %s", [provider_id]),
                ("SELECT count(*) FROM scorecards WHERE provider_id = %s", [provider_id]),
                (
                    "SELECT id, category_key, period, revision, composite, history_score, "
                    "standing, computed_at, results FROM scorecards WHERE provider_id = %s "
                    f"ORDER BY id LIMIT {PAGE + 1}",
                    [provider_id],
                ),
            ]
        )
        if not exists:
            return JSONResponse({"data": {"provider": None}})
        rows = page[:PAGE]
        edges = []
        for r in rows:
            results = json.loads(r[8]) if isinstance(r[8], str) else r[8]
            edges.append(
                {
                    "node": {
                        "id": gid("Scorecard", r[0]),
                        "categoryKey": r[1],
                        "period": r[2],
                        "revision": r[3],
                        "composite": scaled(r[4], 2),
                        "historyScore": scaled(r[5], 2),
                        "standing": r[6],
                        "computedAt": stamp(r[7]),
                        "metrics": [
                            {
                                "metric": m["metric"],
                                "value": None if m["value"] is None else str(Decimal(m["value"])),
                                "status": m["status"],
                                "threshold": str(Decimal(m["threshold"])),
                                "attainment": None
                                if m["attainment"] is None
                                else str(Decimal(m["attainment"])),
                            }
                            for m in results
                        ],
                    }
                }
            )
        return JSONResponse(
            {
                "data": {
                    "provider": {
                        "scorecards": {
                            "totalCount": total[0][0],
                            "edges": edges,
                            "pageInfo": {
                                "hasNextPage": len(page) > PAGE,
                                "endCursor": cursor(rows[-1][0]) if rows else None,
                            },
                        }
                    }
                }
            }
        )

    async def applications(request: Request) -> Response:
        json.loads(await request.body())
        who = await viewer(request)
        if who is None or who[1] not in ("ADMIN", "REVIEWER"):
            return JSONResponse({"data": None, "errors": [{"message": "forbidden"}]}, 403)
        total, page = await db.many(
            [
                ("SELECT count(*) FROM applications", []),
                (
                    "SELECT id, status, tier, created_at, submitted_at, category_key, provider_id "
                    f"FROM applications ORDER BY id LIMIT {PAGE + 1}",
                    [],
                ),
            ]
        )
        rows = page[:PAGE]
        condition, params = db.ids(sorted({r[6] for r in rows}))
        names = dict(
            await db.one(f"SELECT id, legal_name FROM providers WHERE id {condition}", params)
        )
        edges = [
            {
                "node": {
                    "id": gid("Application", r[0]),
                    "status": r[1],
                    "tier": r[2],
                    "createdAt": stamp(r[3]),
                    "submittedAt": stamp(r[4]),
                    "category": {"key": r[5]},
                    "provider": {"id": gid("Provider", r[6]), "legalName": names[r[6]]},
                }
            }
            for r in rows
        ]
        return JSONResponse(
            {
                "data": {
                    "applications": {
                        "totalCount": total[0][0],
                        "edges": edges,
                        "pageInfo": {
                            "hasNextPage": len(page) > PAGE,
                            "endCursor": cursor(rows[-1][0]) if rows else None,
                        },
                    }
                }
            }
        )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def lifespan(_: Starlette) -> Any:
        await db.start()
        yield

    return Starlette(
        routes=[
            Route("/directory", directory, methods=["POST"]),
            Route("/scorecards", scorecards, methods=["POST"]),
            Route("/applications", applications, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=asynccontext(lifespan),
    )


def asynccontext(fn: Any) -> Any:
    from contextlib import asynccontextmanager

    return asynccontextmanager(fn)
