"""Reviewed self-corrections (issue #9, point 3): a provider's corrections of its own records and
its not-attributable claims wait for a reviewer (or the category's auto-accept limit); platform
records cannot be corrected by the provider; both versions stay visible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from linkstar.core.kernel.vocabulary import ApplicationStatus, ObservationSource, Region, Role
from linkstar.core.runtime import tables as models
from tests.harness import global_id

REPORT = "mutation($r: [ObservationInput!]!, $p: ID) { reportObservations(records: $r, provider: $p) { accepted } }"
REVIEW = """mutation($o: ID!, $d: ClaimDecision!) {
  reviewObservationClaim(observation: $o, decision: $d, reason: "Evidence checked against the ticket log.") {
    reviewStatus reviewedBy reviewNote } }"""
PROJECTION = """query($id: ID!) { provider(id: $id) { kpiProjection(category: "%s") {
  metrics { metric value sampleSize } } } }"""
OBSERVATIONS = """query($id: ID!) { provider(id: $id) { observations(reviewStatus: "PENDING") {
  edges { node { id value reviewStatus correctionReason supersedes { value source } } } } } }"""
NOW = datetime.now(UTC)


def record(category: str, metric: str, i: int, value: str, **extra) -> dict:
    return {
        "category": category,
        "metric": metric,
        "subjectRef": f"s-{i}",
        "observedAt": (NOW - timedelta(minutes=30)).isoformat(),
        "value": value,
        "idempotencyKey": f"{metric}-{i}",
        **extra,
    }


def tasks(i: int, value: str, **extra) -> dict:
    return record("sample", "on_time_rate", i, value, **extra)


@pytest.fixture
def partner(db, sign_in):
    """A provider of the fixture category `sample` (tests/fixture_category.py), signed in."""
    provider = models.Provider(
        legal_name="Hangzhou Qiming Store Operations",
        region=Region.MAINLAND_CHINA,
        registration_number="R-QM",
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id, category_key="sample", status=ApplicationStatus.ACTIVE
        )
    )
    db.commit()
    client = sign_in(Role.PARTNER, provider_id=provider.id, owner=True)
    client.provider_id = provider.id
    client.gid = {"id": global_id("Provider", provider.id)}
    return client


def running(client, category: str, metric: str) -> tuple[str | None, int]:
    data = client(PROJECTION % category, client.gid)["provider"]["kpiProjection"]["metrics"]
    found = next(m for m in data if m["metric"] == metric)
    return found["value"], found["sampleSize"]


def test_a_self_correction_counts_only_once_a_reviewer_accepts_it(partner, sign_in, db) -> None:
    # given: 20 tasks this month, 2 of them late (90%)
    partner(REPORT, {"r": [tasks(i, "0" if i < 2 else "1") for i in range(20)]})
    late = db.query(models.KpiObservation).filter_by(value=Decimal(0)).order_by("id").all()
    # when: the partner corrects both late tasks to on time
    corrections = [
        tasks(
            100 + n,
            "1",
            supersedes=global_id("KpiObservation", row.id),
            correctionReason="the seller moved the deadline",
        )
        for n, row in enumerate(late)
    ]
    partner(REPORT, {"r": corrections})
    # then: both versions are visible, the corrections are pending and do not count yet
    pending = partner(OBSERVATIONS, partner.gid)["provider"]["observations"]["edges"]
    assert [(e["node"]["value"], e["node"]["supersedes"]) for e in pending] == [
        ("1", {"value": "0", "source": "SELF_REPORTED"}),
        ("1", {"value": "0", "source": "SELF_REPORTED"}),
    ]
    assert running(partner, "sample", "on_time_rate") == ("90.0000", 20)
    # the provider cannot decide its own claim
    forbidden = partner.errors(REVIEW, {"o": pending[0]["node"]["id"], "d": "ACCEPT"})
    assert forbidden[0]["extensions"]["code"] == "FORBIDDEN"
    # when: a reviewer accepts one and rejects the other
    reviewer = sign_in(Role.REVIEWER)
    accepted = reviewer(REVIEW, {"o": pending[0]["node"]["id"], "d": "ACCEPT"})
    assert accepted["reviewObservationClaim"]["reviewStatus"] == "ACCEPTED"
    reviewer(REVIEW, {"o": pending[1]["node"]["id"], "d": "REJECT"})
    # then: only the accepted correction counts (19 of 20 on time)
    assert running(partner, "sample", "on_time_rate") == ("95.0000", 20)
    again = reviewer.errors(REVIEW, {"o": pending[1]["node"]["id"], "d": "ACCEPT"})
    assert again[0]["extensions"]["code"] == "NOT_PENDING"


def test_a_not_attributable_claim_counts_against_the_provider_until_accepted(
    partner, sign_in, db
) -> None:
    partner(REPORT, {"r": [tasks(i, "1") for i in range(19)]})
    # a late task the partner says was not its fault
    partner(REPORT, {"r": [tasks(50, "0", notAttributableReason="the seller paused the store")]})
    claim = db.query(models.KpiObservation).filter_by(value=Decimal(0)).one()
    assert (claim.attributable, claim.review_status) == (False, "PENDING")
    assert running(partner, "sample", "on_time_rate") == ("95.0000", 20)
    reviewer = sign_in(Role.REVIEWER)
    reviewer(REVIEW, {"o": global_id("KpiObservation", claim.id), "d": "ACCEPT"})
    assert running(partner, "sample", "on_time_rate") == ("100.0000", 19)


def test_a_platform_record_cannot_be_corrected_by_the_provider(partner, sign_in, db) -> None:
    staff = sign_in(Role.REVIEWER)
    staff(REPORT, {"r": [tasks(1, "0")], "p": partner.gid["id"]})
    platform = db.query(models.KpiObservation).one()
    assert platform.source is ObservationSource.PLATFORM
    errors = partner.errors(
        REPORT,
        {
            "r": [
                tasks(
                    2,
                    "1",
                    supersedes=global_id("KpiObservation", platform.id),
                    correctionReason="it was on time",
                )
            ]
        },
    )
    assert errors[0]["extensions"]["code"] == "BATCH_INVALID"
    [problem] = errors[0]["extensions"]["details"]["records"]
    assert problem["field"] == "supersedes" and "fileAppeal" in problem["message"]
    assert db.query(models.KpiObservation).count() == 1


def test_the_category_accepts_claims_at_once_up_to_its_limit(sign_in, db) -> None:
    # given: a provider of `spare`, which accepts claims on up to 10% of a month's records at once
    provider = models.Provider(
        legal_name="Ningbo Freight", region=Region.MAINLAND_CHINA, registration_number="R-NF"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id, category_key="spare", status=ApplicationStatus.ACTIVE
        )
    )
    db.commit()
    partner = sign_in(Role.PARTNER, provider_id=provider.id, owner=True)
    partner(REPORT, {"r": [record("spare", "rating", i, "5") for i in range(20)]})
    # when: three poor ratings are claimed as not attributable (10% of 20 records = 2)
    claims = [
        record("spare", "rating", 300 + i, "1", notAttributableReason="a seller's own outage")
        for i in range(3)
    ]
    partner(REPORT, {"r": claims})
    # then: two accepted at once, the third waits for a reviewer
    rows = db.query(models.KpiObservation).filter_by(value=Decimal(1)).order_by("id").all()
    assert [(r.review_status, r.reviewed_by) for r in rows] == [
        ("ACCEPTED", "auto"),
        ("ACCEPTED", "auto"),
        ("PENDING", None),
    ]


def test_accepting_a_claim_of_an_evaluated_month_re_evaluates_it(partner, sign_in, db) -> None:
    # given: October (closed, evaluated) with 20 tasks, 3 late, and a pending correction of one
    october = datetime(2026, 10, 15, 4, tzinfo=UTC)
    rows = [
        models.KpiObservation(
            provider_id=partner.provider_id,
            category_key="sample",
            metric_key="on_time_rate",
            subject_ref=f"t{i}",
            observed_at=october,
            value=Decimal(0 if i < 3 else 1),
            source=ObservationSource.SELF_REPORTED,
            idempotency_key=f"oct-{i}",
        )
        for i in range(20)
    ]
    db.add_all(rows)
    db.flush()
    correction = models.KpiObservation(
        provider_id=partner.provider_id,
        category_key="sample",
        metric_key="on_time_rate",
        subject_ref="t0",
        observed_at=october,
        value=Decimal(1),
        source=ObservationSource.SELF_REPORTED,
        idempotency_key="oct-fix",
        supersedes_id=rows[0].id,
        correction_reason="deadline moved by the seller",
        review_status="PENDING",
    )
    db.add(correction)
    db.commit()
    admin = sign_in(Role.ADMIN)
    admin('mutation { evaluatePeriod(period: "2026-10", category: "sample") { written } }')
    card = """query($id: ID!) { provider(id: $id) { scorecard(category: "sample", period: "2026-10") {
      revision metrics { metric value status } } } }"""
    before = admin(card, partner.gid)["provider"]["scorecard"]
    on_time = next(m for m in before["metrics"] if m["metric"] == "on_time_rate")
    assert (before["revision"], on_time["value"], on_time["status"]) == (1, "85.0000", "FAIL")
    # when: a reviewer accepts the correction
    sign_in(Role.REVIEWER)(REVIEW, {"o": global_id("KpiObservation", correction.id), "d": "ACCEPT"})
    # then: the month is evaluated again with it
    after = admin(card, partner.gid)["provider"]["scorecard"]
    on_time = next(m for m in after["metrics"] if m["metric"] == "on_time_rate")
    assert (after["revision"], on_time["value"], on_time["status"]) == (2, "90.0000", "WARNING")
