"""Requests that race: every one gets a normal answer, and every decision has exactly one winner.

Each test fires its requests at the real server at the same moment. Races are most likely on
PostgreSQL; on SQLite the same tests must pass (the database serializes writers there).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from linkstar.core.kernel.vocabulary import Role, SanctionKind, SanctionStatus, Tier
from linkstar.core.runtime import tables as models
from tests.harness import GraphQLClient, global_id
from tests.sample_provider import RECORD, STANDING, month_of_data, shipper  # noqa: F401 - fixture
from tests.test_warnings_appeals import APPEAL, DECIDE, deliveries

REPORT = """mutation($r: [ObservationInput!]!) {
  reportObservations(records: $r) { accepted duplicates alerts } }"""
EVALUATE = 'mutation { evaluatePeriod(period: "2026-10", category: "sample") { evaluated written unchanged } }'


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


def one_winner(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """Exactly one success; every other caller refused cleanly: CONFLICT when the requests
    overlapped, or INVALID_TRANSITION (naming the state the winner left) when the loser's
    request only arrived after the winner had committed — on a loaded machine "at once"
    cannot force an overlap. The winner's data."""
    found = codes(bodies)
    assert found.count(None) == 1, bodies
    assert set(found) - {None} <= {"CONFLICT", "INVALID_TRANSITION"}, bodies
    return next(b["data"] for b in bodies if not b.get("errors"))


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
    # given a month with two late jobs of ten (a failing metric: one warning)
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


def _card_appeal(shipper, sign_in, db) -> tuple[GraphQLClient, str]:
    """A partner and the id of its open appeal against a failing scorecard with a warning."""
    month_of_data(db, shipper.id, 2026, 10, lost=2)
    evaluate_as = sign_in(Role.ADMIN)
    evaluate_as(EVALUATE)
    card = db.query(models.Scorecard.id).scalar()
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    appeal = partner(APPEAL, {"s": global_id("Scorecard", card), "o": []})["fileAppeal"]
    return partner, appeal["id"]


def _events(db, prefix: str) -> list[str]:
    db.expire_all()
    return [
        e.event_type
        for e in db.query(models.DomainEvent).order_by(models.DomainEvent.id)
        if e.event_type.startswith(prefix)
    ]


def test_two_reviewers_deciding_one_appeal_one_wins(shipper, sign_in, db) -> None:
    # given an open appeal against a scorecard that caused a warning
    _, appeal = _card_appeal(shipper, sign_in, db)
    first, second = sign_in(Role.REVIEWER), sign_in(Role.REVIEWER)
    # when one reviewer upholds it while the other rejects it
    bodies = at_once(
        (first, DECIDE, {"a": appeal, "u": True}), (second, DECIDE, {"a": appeal, "u": False})
    )
    # then one decision stands, the other reviewer is told CONFLICT, and the effects agree
    status = one_winner(bodies)["decideAppeal"]["status"]
    db.expire_all()
    assert db.query(models.Appeal).one().status == status
    warning = db.query(models.Sanction).one()
    assert warning.status is (
        SanctionStatus.REVERSED if status == "UPHELD" else SanctionStatus.ACTIVE
    )
    assert _events(db, "appeal.") == ["appeal.filed", f"appeal.{status.lower()}"]


def test_two_reviewers_upholding_one_appeal_record_it_once(shipper, sign_in, db) -> None:
    _, appeal = _card_appeal(shipper, sign_in, db)
    reviewers = [sign_in(Role.REVIEWER) for _ in range(2)]
    bodies = at_once(*((r, DECIDE, {"a": appeal, "u": True}) for r in reviewers))
    one_winner(bodies)
    assert _events(db, "appeal.") == ["appeal.filed", "appeal.upheld"]
    assert _events(db, "sanction.reversed") == ["sanction.reversed"]


def test_filing_one_appeal_twice_at_once_opens_one(shipper, sign_in, db) -> None:
    # given a failing scorecard
    month_of_data(db, shipper.id, 2026, 10, lost=2)
    sign_in(Role.ADMIN)(EVALUATE)
    card = global_id("Scorecard", db.query(models.Scorecard.id).scalar())
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    # when the same appeal is filed twice at once
    bodies = at_once(*((partner, APPEAL, {"s": card, "o": []}) for _ in range(2)))
    # then one appeal is open; the other filing is told an appeal already exists
    assert sorted(codes(bodies), key=str) == ["APPEAL_EXISTS", None], bodies
    db.expire_all()
    assert [a.status for a in db.query(models.Appeal)] == ["OPEN"]


TERMINATION = 'mutation($s: ID!, $c: Boolean!) { decideTermination(sanction: $s, confirm: $c, reason: "Reviewed the ladder.") { status } }'


def test_two_reviewers_deciding_one_termination_one_wins(shipper, sign_in, db) -> None:
    # given a proposed termination
    proposal = models.Sanction(
        provider_id=shipper.id,
        category_key="sample",
        kind=SanctionKind.TERMINATION_PROPOSED,
        status=SanctionStatus.ACTIVE,
        dedupe_key="test:proposal",
        cause={"scorecards": [], "violations": []},
        reason="three failing periods",
    )
    db.add(proposal)
    db.commit()
    first, second = sign_in(Role.REVIEWER), sign_in(Role.REVIEWER)
    sid = global_id("Sanction", proposal.id)
    # when one confirms it while the other rejects it
    bodies = at_once(
        (first, TERMINATION, {"s": sid, "c": False}), (second, TERMINATION, {"s": sid, "c": True})
    )
    # then one decision stands: the rejection, or the request that a second person confirms
    status = one_winner(bodies)["decideTermination"]["status"]
    db.expire_all()
    assert db.get(models.Sanction, proposal.id).status.value == status
    assert len(_events(db, "termination.") + _events(db, "approval.requested")) == 1


SET_TIER = 'mutation($a: ID!, $t: Tier!, $v: Int) { setTier(application: $a, tier: $t, reason: "Quarterly review.", expectedVersion: $v) { tier } }'


def test_two_reviewers_setting_one_tier_one_wins(shipper, sign_in, db) -> None:
    application = db.query(models.Application).one()
    aid = global_id("Application", application.id)
    first, second = sign_in(Role.REVIEWER), sign_in(Role.REVIEWER)
    seen = application.version  # both decide on the same view
    bodies = at_once(
        (first, SET_TIER, {"a": aid, "t": "STRATEGIC_PARTNER", "v": seen}),
        (second, SET_TIER, {"a": aid, "t": "REGULAR", "v": seen}),
    )
    tier = one_winner(bodies)["setTier"]["tier"]
    db.expire_all()
    assert db.query(models.Application).one().tier is Tier(tier)
    # the raise above eligibility waits for a second person; the demotion takes effect
    assert db.query(models.TierChange).count() + db.query(models.ApprovalRequest).count() == 1


def test_parallel_violations_reach_the_milestones_of_their_sum(shipper, sign_in, db) -> None:
    # given two MAJOR violations (3 points each) recorded at once by two reviewers
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    gid = global_id("Provider", shipper.id)
    reviewers = [sign_in(Role.REVIEWER) for _ in range(2)]
    bodies = at_once(*((r, RECORD, {"p": gid, "s": "MAJOR", "at": at}) for r in reviewers))
    assert codes(bodies) == [None, None], bodies
    # then the sanctions are those of 6 points, as if they had come one after the other
    data = reviewers[0](STANDING, {"id": gid})["provider"]
    assert sorted(e["node"]["kind"] for e in data["sanctions"]["edges"]) == [
        "RESTRICTED_INTAKE",
        "WARNING",
    ]
