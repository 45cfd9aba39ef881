"""Early warnings while a period is open, and appeals that undo what a wrong result caused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from linkstar.core.kernel.vocabulary import ApplicationStatus, Role
from linkstar.core.runtime import tables as models
from tests.four_eyes import approve_pending
from tests.harness import global_id
from tests.sample_provider import evaluate, month_of_data, shipper  # noqa: F401 - the fixture

REPORT = (
    "mutation($r: [ObservationInput!]!) { reportObservations(records: $r) { accepted alerts } }"
)
ALERTS = "query($id: ID!) { provider(id: $id) { alerts { edges { node { id line value threshold sampleSize readAt } } } } }"


def deliveries(start: int, count: int, late: int) -> list[dict]:
    now = datetime.now(UTC) - timedelta(minutes=1)
    return [
        {
            "category": "sample",
            "metric": "on_time_rate",
            "subjectRef": f"p{i}",
            "observedAt": now.isoformat(),
            "value": "0" if i - start < late else "1",
            "idempotencyKey": f"d{i}",
        }
        for i in range(start, start + count)
    ]


def test_internal_lines_must_be_stricter(shipper, sign_in, db) -> None:
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    # on_time_rate passes at 90 % or more; response_hours at 24 hours or less
    looser = 'mutation { setAlertThreshold(category: "sample", metric: "on_time_rate", threshold: "90") }'
    error = partner.errors(looser)[0]
    assert (
        error["extensions"]["code"] == "THRESHOLD_NOT_STRICTER" and "above it" in error["message"]
    )
    lower = 'mutation { setAlertThreshold(category: "sample", metric: "response_hours", threshold: "30") }'
    assert "below it" in partner.errors(lower)[0]["message"]
    assert partner(
        'mutation { setAlertThreshold(category: "sample", metric: "response_hours", threshold: "12") }'
    )


def test_running_values_raise_each_line_once(shipper, sign_in, db) -> None:
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    partner(
        'mutation { setAlertThreshold(category: "sample", metric: "on_time_rate", threshold: "98") }'
    )
    first = partner(REPORT, {"r": deliveries(0, 50, late=2)})["reportObservations"]  # 48/50 = 96%
    assert first == {"accepted": 50, "alerts": 1}
    alerts = partner(ALERTS, {"id": global_id("Provider", shipper.id)})["provider"]["alerts"][
        "edges"
    ]
    assert [(a["node"]["line"], a["node"]["value"], a["node"]["threshold"]) for a in alerts] == [
        ("INTERNAL", "96", "98")
    ]
    second = partner(REPORT, {"r": deliveries(50, 10, late=10)})[
        "reportObservations"
    ]  # 48/60 = 80%
    assert second["alerts"] == 2
    lines = [
        a["node"]["line"]
        for a in partner(ALERTS, {"id": global_id("Provider", shipper.id)})["provider"]["alerts"][
            "edges"
        ]
    ]
    assert lines == ["INTERNAL", "PLATFORM_WARNING", "PLATFORM_THRESHOLD"]
    assert (
        partner(REPORT, {"r": deliveries(60, 5, late=5)})["reportObservations"]["alerts"] == 0
    )  # once per line
    read = partner(
        "mutation($a: ID!) { markAlertRead(alert: $a) { readAt } }", {"a": alerts[0]["node"]["id"]}
    )
    assert read["markAlertRead"]["readAt"] is not None
    other = sign_in(Role.SELLER)
    assert (
        other(ALERTS, {"id": global_id("Provider", shipper.id)})["provider"]["alerts"]["edges"]
        == []
    )


APPEAL = """mutation($s: ID!, $o: [ID!]) { fileAppeal(subjectType: METRIC_RESULT, subject: $s, reason: NOT_ATTRIBUTABLE,
  statement: "Both jobs were late because the seller's warehouse burnt down.", evidence: ["fire-report.pdf"],
  metric: "on_time_rate", observations: $o) { id round status } }"""
DECIDE = 'mutation($a: ID!, $u: Boolean!) { decideAppeal(appeal: $a, uphold: $u, reason: "Checked the depot report.") { status effects } }'
CARD = """query($id: ID!) { provider(id: $id) { scorecards { edges { node { id revision metrics { metric value status } } } }
  sanctions { edges { node { kind status } } } } }"""


def test_an_upheld_appeal_excludes_the_observations_re_evaluates_and_undoes_the_warning(
    shipper, sign_in, db
) -> None:
    admin = sign_in(Role.ADMIN)
    month_of_data(db, shipper.id, 2026, 10, lost=2)
    evaluate(admin, "2026-10")
    gid = {"id": global_id("Provider", shipper.id)}
    data = admin(CARD, gid)["provider"]
    card = data["scorecards"]["edges"][0]["node"]
    assert [e["node"] for e in data["sanctions"]["edges"]] == [
        {"kind": "WARNING", "status": "ACTIVE"}
    ]
    lost = [
        r.id
        for r in db.query(models.KpiObservation).filter_by(metric_key="on_time_rate").all()
        if r.value == 0
    ]
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    disputed = [global_id("KpiObservation", i) for i in lost]
    reviewer = sign_in(Role.REVIEWER)

    first = partner(APPEAL, {"s": card["id"], "o": disputed})["fileAppeal"]
    assert first["round"] == 1
    assert reviewer(DECIDE, {"a": first["id"], "u": False})["decideAppeal"]["status"] == "REJECTED"
    second = partner(APPEAL, {"s": card["id"], "o": disputed})["fileAppeal"]
    assert second["round"] == 2
    # the second round is decided by two staff members
    assert reviewer(DECIDE, {"a": second["id"], "u": True})["decideAppeal"]["status"] == "OPEN"
    approve_pending(admin, "APPEAL_SECOND_ROUND")
    upheld = reviewer(
        "query($a: ID!) { node(id: $a) { ... on Appeal { status effects } } }", {"a": second["id"]}
    )["node"]
    assert upheld["status"] == "UPHELD" and sorted(
        upheld["effects"]["excludedObservations"]
    ) == sorted(lost)

    data = admin(CARD, gid)["provider"]
    latest = data["scorecards"]["edges"][-1]["node"]
    on_time = next(m for m in latest["metrics"] if m["metric"] == "on_time_rate")
    # the two excluded late jobs no longer count: 8 on time of 8, 100 %
    assert latest["revision"] == 2 and (on_time["value"], on_time["status"]) == (
        "100.0000",
        "PASS",
    )
    assert [e["node"] for e in data["sanctions"]["edges"]] == [
        {"kind": "WARNING", "status": "REVERSED"}
    ]
    # nothing edited: the 10 jobs stay, each excluded one superseded by a non-attributable copy
    assert db.query(models.KpiObservation).filter_by(metric_key="on_time_rate").count() == 12
    third = partner.errors(APPEAL, {"s": card["id"], "o": disputed})[0]
    assert third["extensions"]["code"] == "APPEAL_EXISTS"


def test_appeal_rounds_and_deadline(shipper, sign_in, db) -> None:
    admin = sign_in(Role.ADMIN)
    month_of_data(db, shipper.id, 2026, 10, lost=2)
    evaluate(admin, "2026-10")
    card_id = db.query(models.Scorecard.id).scalar()
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    reviewer = sign_in(Role.REVIEWER)
    for _ in range(2):
        appeal = partner(APPEAL, {"s": global_id("Scorecard", card_id), "o": []})["fileAppeal"]
        reviewer(DECIDE, {"a": appeal["id"], "u": False})
    approve_pending(admin, "APPEAL_SECOND_ROUND")  # the second round needs a second person
    assert (
        partner.errors(APPEAL, {"s": global_id("Scorecard", card_id), "o": []})[0]["extensions"][
            "code"
        ]
        == "APPEAL_ROUNDS_EXHAUSTED"
    )
    card = db.query(models.Scorecard).one()
    card.computed_at = datetime.now(UTC) - timedelta(days=31)
    db.query(models.Appeal).delete()
    db.commit()
    assert (
        partner.errors(APPEAL, {"s": global_id("Scorecard", card_id), "o": []})[0]["extensions"][
            "code"
        ]
        == "APPEAL_DEADLINE_PASSED"
    )


def test_an_upheld_appeal_against_a_veto_restores_the_membership(shipper, sign_in, db) -> None:
    reviewer = sign_in(Role.REVIEWER)
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    violation = reviewer(
        'mutation($p: ID!, $at: DateTime!) { recordViolation(provider: $p, category: "sample", severity: VETO, description: "Forged job records", occurredAt: $at) { id } }',
        {"p": global_id("Provider", shipper.id), "at": at},
    )["recordViolation"]
    assert db.query(models.Application).one().status is ApplicationStatus.TERMINATED
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    appeal = partner(
        'mutation($v: ID!) { fileAppeal(subjectType: VIOLATION, subject: $v, reason: WRONG_FINDING, statement: "The numbers were real; carrier API logs attached.", evidence: ["api-log.csv"]) { id } }',
        {"v": violation["id"]},
    )["fileAppeal"]
    effects = reviewer(DECIDE, {"a": appeal["id"], "u": True})["decideAppeal"]["effects"]
    assert effects["overturnedViolation"] and len(effects["reversedSanctions"]) == 1
    db.expire_all()
    assert db.query(models.Application).one().status is ApplicationStatus.ACTIVE
    assert db.query(models.Violation).one().overturned_at is not None
