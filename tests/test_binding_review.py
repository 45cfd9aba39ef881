"""Smaller review defects (issue #9 point 7, issue #12 points 7 and 11): explicit assignment,
probation decisions against the recommendation, interviews recorded once held, renewal from
closed periods and live violations, internal data kept internal, demo probation dates."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from linkstar.core.kernel.db import create_engine, session_factory
from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role
from linkstar.core.runtime import tables as models
from linkstar.core.runtime.demo import load_demo
from tests.harness import global_id
from tests.sample_provider import shipper  # noqa: F401 - the fixture
from tests.test_concurrency import at_once, one_winner

REJECT = 'mutation($a: ID!) { rejectApplication(application: $a, reason: "Incomplete cases.") { status } }'
ASSIGN = "mutation($a: ID!, $r: ID!, $v: Int) { assignReviewer(application: $a, reviewer: $r, expectedVersion: $v) { id } }"
START = "mutation($a: ID!) { startReview(application: $a) { status } }"
PASS = """mutation($a: ID!, $o: Boolean!) { decideProbation(application: $a, decision: PASS,
  reason: "Pilot clients are satisfied.", adminOverride: $o) { status } }"""


def code(errors: list[dict]) -> str:
    return errors[0]["extensions"]["code"]


def account_id(db, client) -> int:
    return db.query(models.Account).filter_by(email=client.email).one().id


def application(db, status: ApplicationStatus, **fields) -> models.Application:
    provider = models.Provider(
        legal_name="Hangzhou Review Co., Ltd.",
        region=Region.MAINLAND_CHINA,
        registration_number=f"R-{status.value}",
    )
    db.add(provider)
    db.flush()
    row = models.Application(
        provider_id=provider.id, category_key="sample", status=status, **fields
    )
    db.add(row)
    db.commit()
    return row


def test_only_the_assignee_decides_and_only_an_admin_reassigns(sign_in, db) -> None:
    app = application(db, ApplicationStatus.SUBMITTED)
    aid = global_id("Application", app.id)
    first, second = sign_in(Role.REVIEWER), sign_in(Role.REVIEWER)
    first(START, {"a": aid})  # the first reviewer picks it up and is its assignee
    assert code(second.errors(REJECT, {"a": aid})) == "NOT_ASSIGNEE"
    mine = {"a": aid, "r": global_id("Account", account_id(db, second))}
    assert code(second.errors(ASSIGN, mine)) == "FORBIDDEN"
    admin = sign_in(Role.ADMIN)
    admin(ASSIGN, mine)
    assert code(first.errors(REJECT, {"a": aid})) == "NOT_ASSIGNEE"
    assert second(REJECT, {"a": aid})["rejectApplication"]["status"] == "REJECTED"


def test_two_admins_reassigning_at_once_one_wins(sign_in, db) -> None:
    app = application(db, ApplicationStatus.IN_REVIEW)
    aid = global_id("Application", app.id)
    one, other = sign_in(Role.REVIEWER), sign_in(Role.REVIEWER)
    admins = [sign_in(Role.ADMIN), sign_in(Role.ADMIN)]
    seen = app.version  # both admins decide on the same view of the application
    one_winner(
        at_once(
            (
                admins[0],
                ASSIGN,
                {"a": aid, "r": global_id("Account", account_id(db, one)), "v": seen},
            ),
            (
                admins[1],
                ASSIGN,
                {"a": aid, "r": global_id("Account", account_id(db, other)), "v": seen},
            ),
        )
    )
    db.expire_all()
    assert db.get(models.Application, app.id).reviewer_account_id in {
        account_id(db, one),
        account_id(db, other),
    }


def test_passing_against_the_recommendation_waits_for_the_probation_end(sign_in, db) -> None:
    now = datetime.now(UTC)
    app = application(
        db,
        ApplicationStatus.PROBATION,
        probation_started_at=now,
        probation_ends_at=now + timedelta(days=60),
    )
    aid = global_id("Application", app.id)
    reviewer, admin = sign_in(Role.REVIEWER), sign_in(Role.ADMIN)
    # day 0, no KPI data: the system recommends EXTEND
    assert code(reviewer.errors(PASS, {"a": aid, "o": False})) == "PROBATION_NOT_OVER"
    assert code(reviewer.errors(PASS, {"a": aid, "o": True})) == "FORBIDDEN"
    assert admin(PASS, {"a": aid, "o": True})["decideProbation"]["status"] == "ACTIVE"
    event = db.query(models.DomainEvent).filter_by(event_type="application.pass_probation").one()
    assert event.payload["recommendation"] == "EXTEND"
    assert event.payload["againstRecommendation"] is True and event.payload["adminOverride"]


def test_after_the_probation_end_a_reviewer_may_pass_against_the_recommendation(
    sign_in, db
) -> None:
    now = datetime.now(UTC)
    app = application(
        db,
        ApplicationStatus.PROBATION,
        probation_started_at=now - timedelta(days=61),
        probation_ends_at=now - timedelta(days=1),
    )
    reviewer = sign_in(Role.REVIEWER)
    passed = reviewer(PASS, {"a": global_id("Application", app.id), "o": False})
    assert passed["decideProbation"]["status"] == "ACTIVE"


def test_an_interview_is_recorded_only_once_held(sign_in, db) -> None:
    app = application(db, ApplicationStatus.INTERVIEW_SCHEDULED)
    reviewer = sign_in(Role.REVIEWER)
    db.add(
        models.Interview(
            application_id=app.id,
            provider_id=app.provider_id,
            scheduled_at=datetime.now(UTC) + timedelta(days=2),
            interviewer_account_id=account_id(db, reviewer),
            channel="VIDEO",
        )
    )
    db.commit()
    record = 'mutation($a: ID!) { recordInterview(application: $a, outcome: PASSED, notes: "Good.") { status } }'
    errors = reviewer.errors(record, {"a": global_id("Application", app.id)})
    assert code(errors) == "INTERVIEW_NOT_HELD_YET"
    db.expire_all()
    assert db.get(models.Application, app.id).status is ApplicationStatus.INTERVIEW_SCHEDULED


def _card(db, provider_id: int, period: str, composite: str) -> None:
    year, month = map(int, period.split("-"))
    start = datetime(year, month, 1, tzinfo=UTC)
    db.add(
        models.Scorecard(
            provider_id=provider_id,
            category_key="sample",
            period=period,
            revision=1,
            period_start=start,
            period_end=start + timedelta(days=28),
            composite=Decimal(composite),
            standing="EXCELLENT",
            results=[{"metric": "on_time_rate", "status": "PASS"}],
            definitions={},
            inputs_digest=period,
        )
    )
    db.commit()


RENEWAL = 'query($id: ID!) { provider(id: $id) { renewalRecommendation(category: "sample") { decision reasons } } }'
MAJOR = """mutation($p: ID!, $at: DateTime!) { recordViolation(provider: $p, category: "sample",
  severity: MAJOR, description: "Claims answered after 10 days", occurredAt: $at) { id } }"""


def test_renewal_needs_closed_periods_and_weighs_live_violations(shipper, sign_in, db) -> None:
    now = datetime.now(UTC)
    _card(db, shipper.id, now.strftime("%Y-%m"), "98")  # the running month: not a result
    reviewer = sign_in(Role.REVIEWER)
    gid = global_id("Provider", shipper.id)
    reviewer(MAJOR, {"p": gid, "at": (now - timedelta(days=1)).isoformat()})
    advice = reviewer(RENEWAL, {"id": gid})["provider"]["renewalRecommendation"]
    assert advice["decision"] == "INSUFFICIENT_HISTORY", advice
    assert "0 closed period(s) considered" in advice["reasons"]
    month = now.replace(day=1)
    for _ in range(3):
        month = (month - timedelta(days=1)).replace(day=1)
        _card(db, shipper.id, month.strftime("%Y-%m"), "96")
    advice = reviewer(RENEWAL, {"id": gid})["provider"]["renewalRecommendation"]
    assert advice["decision"] == "RENEW_WITH_CONDITIONS", advice  # the MAJOR violation is live
    db.query(models.Violation).update({"overturned_at": now})
    db.commit()
    assert reviewer(RENEWAL, {"id": gid})["provider"]["renewalRecommendation"]["decision"] == (
        "RENEW"
    )


INTERNAL = """query($a: ID!) { node(id: $a) { ... on Application {
  interviews { notes interviewerAccountId outcome }
  timeline(first: 50) { edges { node { eventType actor } } } } } }"""


def test_interview_notes_and_staff_emails_stay_internal(shipper, sign_in, db) -> None:
    app = db.query(models.Application).one()
    reviewer = sign_in(Role.REVIEWER)
    db.add(
        models.Interview(
            application_id=app.id,
            provider_id=app.provider_id,
            scheduled_at=datetime.now(UTC) - timedelta(days=2),
            interviewer_account_id=account_id(db, reviewer),
            channel="VIDEO",
            outcome="PASSED",
            notes="Owner seemed evasive about subcontractors.",
        )
    )
    db.commit()
    aid = global_id("Application", app.id)
    reviewer(
        'mutation($a: ID!) { setTier(application: $a, tier: REGULAR, reason: "Pilot complaints.") { tier } }',
        {"a": aid},
    )
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    seen = partner(INTERNAL, {"a": aid})["node"]
    assert seen["interviews"] == [
        {"notes": None, "interviewerAccountId": None, "outcome": "PASSED"}
    ]
    name = reviewer.email.split("@")[0]
    actors = {e["node"]["actor"] for e in seen["timeline"]["edges"]}
    assert actors == {f"Reviewer {name}"}, actors
    history = partner(
        "query($id: ID!) { provider(id: $id) { tierHistory { edges { node { decidedBy } } } } }",
        {"id": global_id("Provider", shipper.id)},
    )["provider"]["tierHistory"]["edges"]
    assert [e["node"]["decidedBy"] for e in history] == [f"Reviewer {name}"]
    staff_view = reviewer(INTERNAL, {"a": aid})["node"]
    assert staff_view["interviews"][0]["notes"].startswith("Owner seemed")
    assert {e["node"]["actor"] for e in staff_view["timeline"]["edges"]} == {reviewer.email}


def test_demo_probation_applications_have_dates_and_can_be_extended(
    migrated, registry, sign_in, db
) -> None:
    async def load() -> None:
        engine = create_engine(migrated)
        async with session_factory(engine)() as session, session.begin():
            await load_demo(session, registry)
        await engine.dispose()

    asyncio.run(load())
    rows = db.query(models.Application).filter_by(status=ApplicationStatus.PROBATION).all()
    assert rows and all(r.probation_ends_at and r.probation_started_at for r in rows)
    reviewer = sign_in(Role.REVIEWER)
    aid = global_id("Application", rows[0].id)
    probe = "query($a: ID!) { node(id: $a) { ... on Application { probationEndsAt probationRecommendation { decision } } } }"
    node = reviewer(probe, {"a": aid})["node"]
    assert node["probationRecommendation"]["decision"] in {"PASS", "FAIL", "EXTEND"}
    extended = reviewer(
        'mutation($a: ID!) { decideProbation(application: $a, decision: EXTEND, reason: "More pilots.") { probationEndsAt probationExtended } }',
        {"a": aid},
    )["decideProbation"]
    assert extended["probationExtended"] and extended["probationEndsAt"] > node["probationEndsAt"]
