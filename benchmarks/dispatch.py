"""Dispatch at scale: one decision over 10,000 providers, and the fairness of 100,000.

    .venv/bin/python benchmarks/dispatch.py postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/dispatch.py            # SQLite, scratch file
    .venv/bin/python benchmarks/dispatch.py --simulate-only   # the fairness table alone
    .venv/bin/python benchmarks/dispatch.py --decisions-only URL   # the decision time alone
        (PostgreSQL: creates and drops a scratch database on that server)

The pool (agency, AMAZON): 10,000 providers — 70 % regular, 20 % preferred, 10 % strategic;
10 % on probation with a pilot quota of 3; 3 % under RESTRICTED_INTAKE; 80 % with a scorecard
(composite 40-100). Prints:
1. the eligibility + ranking (`candidates()`: an index walk along the stored order), p50/p99
   over 300 requests, interleaved with the reference that scores the whole pool in one query
   and sorts it for the top k (the implementation before the walk), answers checked equal;
2. 2,000 real dispatches through the core (offer, accept, order) against the database, then
   counted from the tables: offers to restricted providers, pilot orders beyond quota;
3. the fairness of 100,000 simulated requests with the same scoring and choice functions
   (`score_parts`, `choose`) and orders that close after a while: share of offers by tier and
   by KPI quintile. Asserts nothing about time.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import (
    Float,
    Select,
    case,
    cast,
    create_engine,
    func,
    literal,
    select,
    text,
    union_all,
)

from linkstar.core.contract.registry import load_registry
from linkstar.core.identity.policy import Viewer
from linkstar.core.kernel.config import async_database_url
from linkstar.core.kernel.db import create_engine as create_async_engine
from linkstar.core.kernel.db import session_factory
from linkstar.core.kernel.vocabulary import Role, Tier
from linkstar.core.marketplace.dispatch import dispatch_next
from linkstar.core.marketplace.models import Offer, Order, ServiceRequest
from linkstar.core.marketplace.offers import accept_offer
from linkstar.core.marketplace.policy import DispatchPolicy
from linkstar.core.marketplace.ranking import (
    Candidate,
    candidate,
    candidates,
    choose,
    eligibility_query,
    rotation_place,
    score_parts,
)
from linkstar.core.marketplace.vocabulary import RequestStatus
from linkstar.core.runtime.migrate import upgrade
from linkstar.core.standing.public import intake_blocked

PROVIDERS = 10_000
CATEGORY = "agency"
SIMULATED = 100_000
REAL = 2_000
QUOTA = 3
DECISIONS_ONLY = (
    False  # --decisions-only: the decision time alone (no real dispatches, no simulation)
)


def sync_url(url):
    return url.set(
        drivername="sqlite" if url.get_backend_name() == "sqlite" else "postgresql+psycopg"
    )


def make_pool(rng: random.Random) -> list[dict]:
    pool = []
    for i in range(1, PROVIDERS + 1):
        roll = rng.random()
        tier = "REGULAR" if roll < 0.7 else "PREFERRED" if roll < 0.9 else "STRATEGIC_PARTNER"
        pool.append(
            {
                "id": i,
                "tier": tier,
                "probation": rng.random() < 0.10,
                "restricted": rng.random() < 0.03,
                "composite": Decimal(rng.randrange(4000, 10001)) / 100
                if rng.random() < 0.8
                else None,
            }
        )
    return pool


def load(url, pool: list[dict]) -> None:
    engine = create_engine(sync_url(url))
    now = datetime.now(UTC)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO providers (id, legal_name, region, registration_number, created_at, updated_at) VALUES (:i, :n, 'MAINLAND_CHINA', :r, :t, :t)"
            ),
            [{"i": p["id"], "n": f"P{p['id']}", "r": f"R-{p['id']}", "t": now} for p in pool],
        )
        c.execute(
            text(
                "INSERT INTO provider_marketplaces (provider_id, marketplace) VALUES (:i, 'AMAZON')"
            ),
            [{"i": p["id"]} for p in pool],
        )
        c.execute(
            text(
                "INSERT INTO applications (provider_id, category_key, status, tier, pilot_order_quota, version, created_at, updated_at, probation_extended) VALUES (:p, :c, :s, :tier, :q, 1, :t, :t, false)"
            ),
            [
                {
                    "p": p["id"],
                    "c": CATEGORY,
                    "s": "PROBATION" if p["probation"] else "ACTIVE",
                    "tier": p["tier"],
                    "q": QUOTA if p["probation"] else None,
                    "t": now,
                }
                for p in pool
            ],
        )
        c.execute(
            text(
                "INSERT INTO scorecards (provider_id, category_key, period, revision, period_start, period_end, composite, standing, results, definitions, inputs_digest, computed_at) VALUES (:p, :c, '2026-10', 1, :a, :b, :v, 'GOOD', '[]', '{}', :d, :t)"
            ),
            [
                {
                    "p": p["id"],
                    "c": CATEGORY,
                    "a": datetime(2026, 10, 1, tzinfo=UTC),
                    "b": datetime(2026, 11, 1, tzinfo=UTC),
                    "v": int(p["composite"] * 100),
                    "d": f"d{p['id']}",
                    "t": now,
                }
                for p in pool
                if p["composite"] is not None
            ],
        )
        # what the evaluation keeps when it writes a scorecard: the current composite
        c.execute(
            text(
                "INSERT INTO current_composites (provider_id, category_key, scorecard_id, period, revision, composite, updated_at) SELECT provider_id, category_key, id, period, revision, composite, computed_at FROM scorecards"
            )
        )
        c.execute(
            text(
                "INSERT INTO sanctions (provider_id, category_key, kind, status, dedupe_key, period, cause, reason, created_at) VALUES (:p, :c, 'RESTRICTED_INTAKE', 'ACTIVE', :k, '2026-10', '{}', 'bench', :t)"
            ),
            [
                {"p": p["id"], "c": CATEGORY, "k": f"bench-{p['id']}", "t": now}
                for p in pool
                if p["restricted"]
            ],
        )
        c.execute(
            text(
                "INSERT INTO accounts (id, email, display_name, password_hash, role, is_provider_owner, disabled, created_at, password_changed_at) VALUES (1, 'seller@bench', 'S', 'x', 'SELLER', false, false, :t, :t)"
            ),
            {"t": now},
        )
        c.execute(text("ANALYZE"))
    engine.dispose()


def new_request(seed: int) -> ServiceRequest:
    return ServiceRequest(
        seller_account_id=1,
        category_key=CATEGORY,
        title="bench",
        scope="bench",
        marketplaces=["AMAZON"],
        regions=[],
        requirements={"service_models": ["ADVERTISING"]},
        budget_amount=Decimal(1000),
        budget_currency="USD",
        desired_start=date(2026, 12, 1),
        excluded_provider_ids=[],
        status=RequestStatus.OPEN,
        seed=seed,
        rounds=0,
    )


def reference_query(request: ServiceRequest, policy: DispatchPolicy) -> Select:
    """The reference: score every eligible provider in SQL (floats), sort, keep the top k and
    the newcomers' top k — what dispatch did before it walked the stored order."""
    eligible = eligibility_query(request, policy).subquery("eligible")
    composite = func.coalesce(eligible.c.hundredths, int(policy.unrated_composite * 100))
    tier = case(
        *((eligible.c.tier == t, literal(float(w))) for t, w in policy.tier_weights.items()),
        else_=literal(0.0),
    )
    load = eligible.c.open_orders + eligible.c.pending
    score = (
        literal(float(policy.kpi_weight)) * cast(composite, Float) / 10000.0
        + tier
        + literal(float(policy.load_weight))
        * cast(eligible.c.capacity - load, Float)
        / cast(eligible.c.capacity, Float)
    )
    newcomer = (eligible.c.hundredths.is_(None)) | (eligible.c.status == "PROBATION")
    scored = select(eligible, score.label("score"), newcomer.label("newcomer")).cte("scored")
    order = (scored.c.score.desc(), scored.c.provider_id)
    best = select(scored).order_by(*order).limit(policy.top_k)
    fresh = select(scored).where(scored.c.newcomer).order_by(*order).limit(policy.top_k)
    return select(
        union_all(select(best.subquery("b")), select(fresh.subquery("f"))).subquery("ranked")
    )


async def reference(session, request: ServiceRequest, policy: DispatchPolicy) -> list[Candidate]:
    found: dict[int, Candidate] = {}
    rows = (await session.execute(reference_query(request, policy))).all()
    for row in rows:  # overall best first, then the newcomers (marked as such)
        found[row.provider_id] = candidate(policy, row, bool(row.newcomer))
    return sorted(found.values(), key=lambda c: (-Decimal(c.score), c.provider_id))


async def decision_times(url, registry) -> tuple[list[float], list[float]]:
    """(walk, reference) times in ms, interleaved, each answer checked equal to the other."""
    policy = registry.category(CATEGORY).dispatch
    engine = create_async_engine(url)
    walk, scan = [], []
    checked_rotation = False
    try:
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            request = new_request(1)
            session.add(request)
            await session.flush()
            await candidates(session, request, policy)  # builds the stored order once
            for _ in range(300):
                started = time.perf_counter()
                mine = await candidates(session, request, policy)
                walk.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                theirs = await reference(session, request, policy)
                scan.append((time.perf_counter() - started) * 1000)
                ranked = [
                    replace(c, rotation=False)
                    for c in mine
                    if not c.rotation or c.provider_id in {t.provider_id for t in theirs}
                ]
                assert ranked == theirs, (ranked[:3], theirs[:3])
                if not checked_rotation:  # the rotation's few are eligible (checked once)
                    everyone = await session.execute(eligibility_query(request, policy))
                    eligible = {row.provider_id for row in everyone}
                    assert {c.provider_id for c in mine if c.rotation} <= eligible
                    checked_rotation = True
            await session.rollback()
    finally:
        await engine.dispose()
    return walk, scan


async def real_dispatches(url, registry) -> dict[str, int]:
    contribution = registry.category(CATEGORY)
    engine = create_async_engine(url)
    sessions = session_factory(engine)
    try:
        for n in range(REAL):
            async with sessions() as session, session.begin():
                request = new_request(n)
                session.add(request)
                await session.flush()
                offer = await dispatch_next(session, request, contribution, "bench")
                if offer is not None:
                    provider = Viewer(
                        account_id=1, role=Role.PARTNER, provider_id=offer.provider_id, label="b"
                    )
                    await accept_offer(session, provider, registry, offer.id)
        async with sessions() as session:
            blocked = intake_blocked(CATEGORY).subquery()
            to_restricted = await session.scalar(
                select(func.count())
                .select_from(Offer)
                .where(Offer.provider_id.in_(select(blocked.c.provider_id)))
            )
            pilots = (
                await session.execute(
                    select(Order.provider_id, func.count())
                    .where(Order.pilot.is_(True))
                    .group_by(Order.provider_id)
                )
            ).all()
            orders = await session.scalar(select(func.count()).select_from(Order))
    finally:
        await engine.dispose()
    return {
        "orders": orders,
        "offers to restricted": to_restricted,
        "pilot orders beyond quota": sum(max(0, n - QUOTA) for _, n in pilots),
    }


def simulate(pool: list[dict], registry) -> tuple[Counter, Counter, Counter, dict]:
    """100,000 requests through the real scoring and choice; orders close after 3,000 more."""
    policy = registry.category(CATEGORY).dispatch
    capacity = policy.max_open_orders
    load = Counter()
    pilots = Counter()
    open_orders: list[tuple[int, int]] = []  # (closes at request n, provider)
    by_id = {p["id"]: p for p in pool}

    def entry(p: dict) -> Candidate:
        kpi, tier, load_part = score_parts(
            policy, Tier(p["tier"]), p["composite"], load[p["id"]], capacity
        )
        total = kpi + tier + load_part
        return Candidate(
            p["id"],
            p["tier"],
            p["probation"],
            None,
            load[p["id"]],
            capacity,
            str(kpi),
            str(tier),
            str(load_part),
            str(total),
            newcomer=p["composite"] is None or p["probation"],
        )

    def eligible(p: dict) -> bool:
        return (
            not p["restricted"]
            and load[p["id"]] < capacity
            and not (p["probation"] and pilots[p["id"]] >= QUOTA)
        )

    heap = [(-Decimal(entry(p).score), p["id"], 0) for p in pool if eligible(p)]
    heapq.heapify(heap)
    fresh = [h for h in heap if entry(by_id[h[1]]).newcomer]  # the newcomers' own ranking
    heapq.heapify(fresh)
    version = Counter()

    def push(pid: int) -> None:
        version[pid] += 1
        if eligible(by_id[pid]):
            item = (-Decimal(entry(by_id[pid]).score), pid, version[pid])
            heapq.heappush(heap, item)
            if entry(by_id[pid]).newcomer:
                heapq.heappush(fresh, item)

    # the stored order (dispatch_ranks): KPI + tier part, best first, over the whole pool
    def stored(p: dict) -> Decimal:
        kpi, tier, _ = score_parts(policy, Tier(p["tier"]), p["composite"], 0, capacity)
        return kpi + tier

    ranking = sorted(pool, key=lambda p: (-stored(p), -p["id"]))

    def rotation(n: int) -> list[Candidate]:
        start = math.ceil((len(ranking) - 1) * rotation_place(policy, n, 0))
        for first in (start, 0):
            taken = []
            for i in range(first, len(ranking)):
                p = ranking[i]
                if eligible(p):
                    taken.append(replace(entry(p), newcomer=False, rotation=True))
                    if len(taken) == policy.top_k:
                        break
            if taken:
                return taken
        return []

    def best(queue: list, exclude: set[int]) -> list[Candidate]:
        taken, kept = [], []
        while queue and len(taken) < policy.top_k:
            item = heapq.heappop(queue)
            _, pid, seen = item
            if seen == version[pid] and eligible(by_id[pid]):
                kept.append(item)
                if pid not in exclude:
                    taken.append(entry(by_id[pid]))
        for item in kept:
            heapq.heappush(queue, item)
        return taken

    offers_by_tier, offers_by_quintile, offers_by_status = Counter(), Counter(), Counter()
    offers_by_how = Counter()
    violations = {"offers to restricted": 0, "pilot orders beyond quota": 0}
    for n in range(SIMULATED):
        while open_orders and open_orders[0][0] <= n:
            _, pid = heapq.heappop(open_orders)
            load[pid] -= 1
            push(pid)
        top = {c.provider_id: replace(c, newcomer=False) for c in best(heap, set())}
        if policy.rotation_share > 0:
            for c in rotation(n):
                top[c.provider_id] = replace(top.get(c.provider_id, c), rotation=True)
        if policy.exploration_share > 0:
            for c in best(fresh, set()):
                known = top.get(c.provider_id)
                top[c.provider_id] = replace(c, rotation=known is not None and known.rotation)
        if not top:
            continue
        ranked = sorted(top.values(), key=lambda c: (-Decimal(c.score), c.provider_id))
        chosen, how = choose(ranked, policy, n, 0)
        offers_by_how[how] += 1
        p = by_id[chosen.provider_id]
        violations["offers to restricted"] += p["restricted"]
        offers_by_tier[p["tier"]] += 1
        offers_by_status["probation" if p["probation"] else "active"] += 1
        composite = p["composite"]
        offers_by_quintile[
            "unrated" if composite is None else f"Q{min(5, 1 + int((composite - 40) / 12))}"
        ] += 1
        load[p["id"]] += 1
        if p["probation"]:
            pilots[p["id"]] += 1
            violations["pilot orders beyond quota"] += pilots[p["id"]] > QUOTA
        heapq.heappush(open_orders, (n + 3_000, p["id"]))
        push(p["id"])
    violations["chosen by"] = dict(offers_by_how)
    return offers_by_tier, offers_by_quintile, offers_by_status, violations


def table(title: str, counts: Counter, population: Counter) -> None:
    total = sum(counts.values())
    print(f"\n{title:<14} {'providers':>10} {'offers':>8} {'share':>7} {'per provider':>13}")
    for key in sorted(population):
        n = counts.get(key, 0)
        print(
            f"{key:<14} {population[key]:>10} {n:>8} {100 * n / total:>6.1f}% {n / population[key]:>13.2f}"
        )


def print_simulation(pool: list[dict], registry) -> None:
    tiers, quintiles, statuses, violations = simulate(pool, registry)
    print(f"\nsimulated {SIMULATED} requests (orders close after 3,000 further requests):")
    table("tier", tiers, Counter(p["tier"] for p in pool if not p["restricted"]))
    table(
        "KPI quintile",
        quintiles,
        Counter(
            "unrated"
            if p["composite"] is None
            else f"Q{min(5, 1 + int((p['composite'] - 40) / 12))}"
            for p in pool
            if not p["restricted"]
        ),
    )
    table(
        "membership",
        statuses,
        Counter("probation" if p["probation"] else "active" for p in pool if not p["restricted"]),
    )
    print(f"\n{violations}")


def run(raw_url: str) -> None:
    url = async_database_url(raw_url)
    registry = load_registry()
    upgrade(url, registry)
    pool = make_pool(random.Random(7))
    started = time.perf_counter()
    load(url, pool)
    print(
        f"backend {url.get_backend_name()}: loaded {PROVIDERS} providers in {time.perf_counter() - started:.1f} s"
    )
    walk, scan = asyncio.run(decision_times(url, registry))
    top_k = registry.category(CATEGORY).dispatch.top_k
    for name, times in (("walk (stored order)", walk), ("reference (score all)", scan)):
        times = sorted(times)
        p99 = times[int(len(times) * 0.99) - 1]
        print(
            f"dispatch decision, {name}, best top-{top_k}, rotation's {top_k} and newcomers' top-{top_k}: "
            f"p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms, min {times[0]:.1f} ms "
            f"over {len(times)} runs"
        )
    print(f"(answers equal; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    if DECISIONS_ONLY:
        return
    started = time.perf_counter()
    real = asyncio.run(real_dispatches(url, registry))
    print(f"{REAL} real dispatches + accepts in {time.perf_counter() - started:.1f} s: {real}")
    print_simulation(pool, registry)


def main() -> None:
    global DECISIONS_ONLY
    if "--decisions-only" in sys.argv:
        DECISIONS_ONLY = True
        sys.argv.remove("--decisions-only")
    if sys.argv[1:] == ["--simulate-only"]:
        print_simulation(make_pool(random.Random(7)), load_registry())
        return
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
