"""The sanction ladder across several periods, tiers, the violation ledger, probation and renewal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from linkstar.core.kernel.vocabulary import ApplicationStatus, Role, Tier
from linkstar.core.runtime import tables as models
from tests.four_eyes import approve_pending
from tests.harness import global_id
from tests.sample_provider import STANDING, evaluate, month_of_data, shipper  # noqa: F401


def sanctions(data) -> list[tuple[str, str, str | None]]:
    return [
        (e["node"]["kind"], e["node"]["status"], e["node"]["period"])
        for e in data["sanctions"]["edges"]
    ]


def test_the_ladder_over_three_failing_periods_then_recovery(shipper, sign_in, db) -> None:
    admin = sign_in(Role.ADMIN)
    gid = {"id": global_id("Provider", shipper.id)}
    for month in (7, 8, 9, 10):
        month_of_data(db, shipper.id, 2026, month, lost=2 if month < 10 else 0)

    evaluate(admin, "2026-07")
    assert sanctions(admin(STANDING, gid)["provider"]) == [("WARNING", "ACTIVE", "2026-07")]

    evaluate(admin, "2026-08")
    data = admin(STANDING, gid)["provider"]
    assert sanctions(data)[1:] == [
        ("WARNING", "ACTIVE", "2026-08"),
        ("RESTRICTED_INTAKE", "ACTIVE", "2026-08"),
    ]
    assert data["applications"]["edges"][0]["node"]["tier"] == "REGULAR"  # downgraded one tier
    change = data["tierHistory"]["edges"][0]["node"]
    assert (change["fromTier"], change["toTier"], change["decidedBy"]) == (
        "PREFERRED",
        "REGULAR",
        "policy",
    )
    assert "2 consecutive failing periods (2026-07, 2026-08)" in change["reason"]

    evaluate(admin, "2026-09")
    evaluate(admin, "2026-09")  # idempotent: nothing twice
    data = admin(STANDING, gid)["provider"]
    assert sanctions(data)[3:] == [
        ("WARNING", "ACTIVE", "2026-09"),
        ("TERMINATION_PROPOSED", "ACTIVE", "2026-09"),
    ]
    proposal = data["sanctions"]["edges"][4]["node"]
    assert len(proposal["cause"]["scorecards"]) == 3  # linked to the three failing scorecards
    assert data["applications"]["edges"][0]["node"]["tier"] == "REGULAR"  # never below regular
    assert data["renewal"]["decision"] == "DO_NOT_RENEW"

    evaluate(admin, "2026-10")  # recovery lifts the restriction
    data = admin(STANDING, gid)["provider"]
    assert ("RESTRICTED_INTAKE", "LIFTED", "2026-08") in sanctions(data)

    reviewer = sign_in(Role.REVIEWER)
    decided = reviewer(
        'mutation($s: ID!) { decideTermination(sanction: $s, confirm: true, reason: "Three months of late jobs.") { status } }',
        {"s": proposal["id"]},
    )
    assert decided["decideTermination"]["status"] == "ACTIVE"  # a second person confirms
    assert approve_pending(admin, "TERMINATION")["status"] == "APPROVED"
    assert (
        admin(STANDING, gid)["provider"]["applications"]["edges"][0]["node"]["status"]
        == "TERMINATED"
    )


def test_a_reviewer_can_see_why_and_reverse_a_demotion(shipper, sign_in, db) -> None:
    admin = sign_in(Role.ADMIN)
    for month in (8, 9):
        month_of_data(db, shipper.id, 2026, month, lost=2)
        evaluate(admin, f"2026-{month:02d}")
    gid = {"id": global_id("Provider", shipper.id)}
    change = admin(STANDING, gid)["provider"]["tierHistory"]["edges"][0]["node"]
    reviewer = sign_in(Role.REVIEWER)
    reversed_ = reviewer(
        'mutation($t: ID!) { reverseTierChange(tierChange: $t, reason: "The late jobs were a carrier strike.") { reversedAt } }',
        {"t": change["id"]},
    )
    assert reversed_["reverseTierChange"]["reversedAt"] is not None
    assert (
        admin(STANDING, gid)["provider"]["applications"]["edges"][0]["node"]["tier"] == "PREFERRED"
    )


def test_three_excellent_periods_promote_one_tier(shipper, sign_in, db) -> None:
    application = db.query(models.Application).one()
    application.tier = Tier.REGULAR
    db.commit()
    admin = sign_in(Role.ADMIN)
    for month in (8, 9, 10):
        month_of_data(db, shipper.id, 2026, month, lost=0)
        evaluate(admin, f"2026-{month:02d}")
    data = admin(STANDING, {"id": global_id("Provider", shipper.id)})["provider"]
    assert [(e["node"]["fromTier"], e["node"]["toTier"]) for e in data["tierHistory"]["edges"]] == [
        ("REGULAR", "PREFERRED")
    ]
    assert data["renewal"]["decision"] == "RENEW"


RECORD = """mutation($p: ID!, $s: Severity!, $at: DateTime!) {
  recordViolation(provider: $p, category: "sample", severity: $s, description: "Job relabelled to dodge a claim", occurredAt: $at) { points expiresAt } }"""


def test_violation_points_reach_milestones_and_a_veto_terminates(shipper, sign_in, db) -> None:
    reviewer = sign_in(Role.REVIEWER)
    at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    gid = global_id("Provider", shipper.id)
    first = reviewer(RECORD, {"p": gid, "s": "MAJOR", "at": at})["recordViolation"]
    assert first["points"] == 3 and first["expiresAt"] is not None
    reviewer(RECORD, {"p": gid, "s": "MAJOR", "at": at})
    data = reviewer(STANDING, {"id": gid})["provider"]
    assert [(k, s) for k, s, _ in sanctions(data)] == [
        ("WARNING", "ACTIVE"),
        ("RESTRICTED_INTAKE", "ACTIVE"),
    ]
    old = (datetime.now(UTC) - timedelta(days=120)).isoformat()
    reviewer(RECORD, {"p": gid, "s": "SEVERE", "at": old})  # expired points do not count
    assert len(reviewer(STANDING, {"id": gid})["provider"]["sanctions"]["edges"]) == 2
    reviewer(RECORD, {"p": gid, "s": "VETO", "at": at})
    data = reviewer(STANDING, {"id": gid})["provider"]
    assert ("TERMINATED", "CONFIRMED", None) in sanctions(data)
    assert data["applications"]["edges"][0]["node"]["status"] == "TERMINATED"
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    assert (
        partner.errors(RECORD, {"p": gid, "s": "MINOR", "at": at})[0]["extensions"]["code"]
        == "FORBIDDEN"
    )


def test_probation_recommendation_from_the_probation_scorecards(shipper, sign_in, db) -> None:
    application = db.query(models.Application).one()
    application.status = ApplicationStatus.PROBATION
    application.probation_started_at = datetime(2026, 8, 1, tzinfo=UTC)
    db.commit()
    admin = sign_in(Role.ADMIN)
    query = "query($a: ID!) { node(id: $a) { ... on Application { probationRecommendation { decision reasons } } } }"
    gid = {"a": global_id("Application", application.id)}
    assert (
        admin(query, gid)["node"]["probationRecommendation"]["decision"] == "EXTEND"
    )  # no data yet
    month_of_data(db, shipper.id, 2026, 8, lost=0)
    evaluate(admin, "2026-08")
    recommendation = admin(query, gid)["node"]["probationRecommendation"]
    assert (
        recommendation["decision"] == "PASS" and "no failing metric" in recommendation["reasons"][0]
    )


def test_metric_trend_and_strategic_eligibility(shipper, sign_in, db) -> None:
    admin = sign_in(Role.ADMIN)
    for month in (5, 6, 7, 8, 9, 10):
        month_of_data(db, shipper.id, 2026, month, lost=0)
        evaluate(admin, f"2026-{month:02d}")
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    trend = partner(
        'query($id: ID!) { provider(id: $id) { metricTrend(category: "sample", metric: "on_time_rate", periods: 3) { period value threshold status sampleSize } } }',
        {"id": global_id("Provider", shipper.id)},
    )["provider"]["metricTrend"]
    assert [p["period"] for p in trend] == ["2026-08", "2026-09", "2026-10"]
    assert trend[0] == {
        "period": "2026-08",
        "value": "100.0000",
        "threshold": "90",
        "status": "PASS",
        "sampleSize": 10,
    }
    application = db.query(models.Application).one()
    eligibility = admin(
        "query($a: ID!) { node(id: $a) { ... on Application { tier strategicEligibility { decision reasons } } } }",
        {"a": global_id("Application", application.id)},
    )["node"]
    assert (
        eligibility["tier"] == "PREFERRED"
        and eligibility["strategicEligibility"]["decision"] == "ELIGIBLE"
    )
    reviewer = sign_in(Role.REVIEWER)
    promoted = reviewer(
        'mutation($a: ID!) { setTier(application: $a, tier: STRATEGIC_PARTNER, reason: "Six flawless months; eligible.") { tier } }',
        {"a": global_id("Application", application.id)},
    )
    assert promoted["setTier"]["tier"] == "STRATEGIC_PARTNER"
    skip = reviewer.errors(
        'mutation($a: ID!) { setTier(application: $a, tier: REGULAR, reason: "x") { tier } }',
        {"a": global_id("Application", application.id)},
    )[0]
    assert skip["extensions"]["code"] == "TIER_SKIP"


def test_the_probation_decision_records_the_kpi_recommendation(shipper, sign_in, db) -> None:
    application = db.query(models.Application).one()
    application.status = ApplicationStatus.PROBATION
    application.probation_started_at = datetime(2026, 8, 1, tzinfo=UTC)
    db.commit()
    admin = sign_in(Role.ADMIN)
    month_of_data(db, shipper.id, 2026, 8, lost=0)
    evaluate(admin, "2026-08")
    reviewer = sign_in(Role.REVIEWER)
    reviewer(
        'mutation($a: ID!) { decideProbation(application: $a, decision: PASS, reason: "As the scorecard recommends.") { status } }',
        {"a": global_id("Application", application.id)},
    )
    event = db.query(models.DomainEvent).filter_by(event_type="application.pass_probation").one()
    assert event.payload["recommendation"] == "PASS" and len(event.payload["scorecards"]) == 1


def test_a_category_sets_its_own_ladder() -> None:
    from linkstar.core.kernel.vocabulary import SanctionKind
    from linkstar.core.kpi.scoring import ScoringPolicy, scoring_problems
    from linkstar.core.standing.cards import CardSummary
    from linkstar.core.standing.ladder import ladder

    strict = ScoringPolicy(restrict_after=1, terminate_after=2)
    one_failure = [
        CardSummary(7, "2026-10", Decimal(40), True),
        CardSummary(6, "2026-09", Decimal(95), False),
    ]
    kinds = [kind for kind, *_ in ladder(one_failure, "2026-10", strict).sanctions]
    assert kinds == [SanctionKind.WARNING, SanctionKind.RESTRICTED_INTAKE]
    assert [kind for kind, *_ in ladder(one_failure, "2026-10").sanctions] == [
        SanctionKind.WARNING
    ]  # the default
    assert scoring_problems(ScoringPolicy(restrict_after=3, terminate_after=2)) == [
        "need 1 <= restrict_after <= terminate_after <= 12"
    ]
