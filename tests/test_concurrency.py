"""Requests that race: every one gets a normal answer, and every decision has exactly one winner.

Each test fires its requests at the real server at the same moment. Races are most likely on
PostgreSQL; on SQLite the same tests must pass (the database serializes writers there).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from linkstar.core import models
from linkstar.core.vocabulary import Role
from tests.harness import GraphQLClient
from tests.test_standing import month_of_data, shipper  # noqa: F401 - fixture
from tests.test_warnings_appeals import deliveries

REPORT = """mutation($r: [ObservationInput!]!) {
  reportObservations(records: $r) { accepted duplicates alerts } }"""
EVALUATE = 'mutation { evaluatePeriod(period: "2026-10", category: "logistics") { evaluated written unchanged } }'


def at_once(*calls: tuple[GraphQLClient, str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Send every (client, query, variables) at the same moment; the JSON bodies, in order."""

    async def send() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=120) as http:
            return await asyncio.gather(
                *(
                    http.post(
                        str(client.http.base_url.join("/graphql")),
                        json={"query": query, "variables": variables},
                        headers=dict(client.http.headers),
                    )
                    for client, query, variables in calls
                )
            )

    responses = asyncio.run(send())
    for response in responses:
        assert response.status_code == 200, response.text
    return [response.json() for response in responses]


def codes(bodies: list[dict[str, Any]]) -> list[str | None]:
    """None for a success, else the error's code; never INTERNAL_SERVER_ERROR."""
    found = [b["errors"][0]["extensions"]["code"] if b.get("errors") else None for b in bodies]
    assert "INTERNAL_SERVER_ERROR" not in found, bodies
    return found


def failing(prefix: str, count: int) -> list[dict[str, Any]]:
    """`count` late deliveries just now, keys `prefix`0…"""
    records = deliveries(0, count, late=count)
    for record in records:
        record["idempotencyKey"] = prefix + record["idempotencyKey"]
    return records


def test_parallel_batches_from_one_provider_are_all_stored(shipper, sign_in, db) -> None:
    # given six batches of 60 late deliveries, each crossing the same alert lines
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    # when they arrive at once
    bodies = at_once(*((partner, REPORT, {"r": failing(f"b{n}-", 60)}) for n in range(6)))
    # then every batch is stored, and each line is alerted once
    assert codes(bodies) == [None] * 6, bodies
    assert [b["data"]["reportObservations"]["accepted"] for b in bodies] == [60] * 6
    assert db.query(models.KpiObservation).count() == 360
    alerts = db.query(models.Alert).count()
    assert alerts == sum(b["data"]["reportObservations"]["alerts"] for b in bodies)
    assert alerts == 2  # PLATFORM_WARNING and PLATFORM_THRESHOLD


def test_parallel_duplicate_batches_are_answered_as_duplicates(shipper, sign_in, db) -> None:
    # given one batch of ten records, sent twenty times at once
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    batch = deliveries(0, 10, late=0)
    bodies = at_once(*((partner, REPORT, {"r": batch}) for _ in range(20)))
    # then one caller stored it, every other was told the records were duplicates
    assert codes(bodies) == [None] * 20, bodies
    answers = [b["data"]["reportObservations"] for b in bodies]
    assert all(a["accepted"] + a["duplicates"] == 10 for a in answers), answers
    assert sum(a["accepted"] for a in answers) == 10
    assert db.query(models.KpiObservation).count() == 10


def test_parallel_duplicates_with_different_content_are_refused_whole(shipper, sign_in, db) -> None:
    # given two batches reusing the same keys for different values, sent at once
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    on_time, late = deliveries(0, 10, late=0), deliveries(0, 10, late=10)
    bodies = at_once((partner, REPORT, {"r": on_time}), (partner, REPORT, {"r": late}))
    # then one is stored and the other refused whole with the usual code
    assert sorted(codes(bodies), key=str) == ["BATCH_INVALID", None], bodies
    assert db.query(models.KpiObservation).count() == 10


def test_parallel_evaluations_of_one_period_answer_cleanly(shipper, sign_in, db) -> None:
    # given a month with two lost parcels (a failing metric: one warning)
    month_of_data(db, shipper.id, 2026, 10, lost=2)
    admins = [sign_in(Role.ADMIN) for _ in range(3)]
    # when three admins evaluate it at once
    bodies = at_once(*((admin, EVALUATE, {}) for admin in admins))
    # then all are answered; one wrote the scorecard, the others found it unchanged
    assert codes(bodies) == [None] * 3, bodies
    runs = [b["data"]["evaluatePeriod"][0] for b in bodies]
    assert sorted((r["written"], r["unchanged"]) for r in runs) == [(0, 1), (0, 1), (1, 0)]
    assert db.query(models.Scorecard).count() == 1
    assert db.query(models.Sanction).count() == 1
