"""The data reporting API over HTTP: whole-batch validation, idempotency, corrections, scopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role
from linkstar.core.runtime import tables as models
from tests.harness import GraphQLClient, global_id

REPORT = "mutation($r: [ObservationInput!]!, $p: ID) { reportObservations(records: $r, provider: $p) { accepted duplicates } }"
NOW = datetime.now(UTC)


def record(i: int, value: str = "1", metric: str = "on_time_rate", **extra) -> dict:
    return {
        "category": "sample",
        "metric": metric,
        "subjectRef": f"shipment-{i}",
        "observedAt": (NOW - timedelta(hours=1)).isoformat(),
        "value": value,
        "idempotencyKey": f"ship-{i}",
        **extra,
    }


@pytest.fixture
def partner(db, sign_in):
    provider = models.Provider(
        legal_name="Ningbo Freight", region=Region.MAINLAND_CHINA, registration_number="R-NF"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id, category_key="sample", status=ApplicationStatus.PROBATION
        )
    )
    db.commit()
    client = sign_in(Role.PARTNER, provider_id=provider.id, owner=True)
    client.provider_id = provider.id
    return client


def test_a_batch_is_stored_once_however_often_it_is_sent(partner, db) -> None:
    batch = [record(i, "1" if i % 4 else "0") for i in range(8)]
    assert partner(REPORT, {"r": batch})["reportObservations"] == {"accepted": 8, "duplicates": 0}
    assert partner(REPORT, {"r": batch})["reportObservations"] == {"accepted": 0, "duplicates": 8}
    rows = db.query(models.KpiObservation).all()
    assert len(rows) == 8
    assert {r.source.value for r in rows} == {"SELF_REPORTED"} and rows[
        0
    ].reported_by == partner.email


def test_one_bad_record_rejects_the_whole_batch_with_every_problem(partner, db) -> None:
    batch = [
        record(1),
        record(2, value="2"),  # an outcome is 0 or 1
        record(3, metric="teleportation_rate"),
        {**record(4), "observedAt": (NOW + timedelta(days=2)).isoformat()},
        {**record(5), "observedAt": "2025-01-15T10:00:00+00:00"},  # that period closed long ago
        record(1),  # repeats record 0's key
    ]
    error = partner.errors(REPORT, {"r": batch})[0]
    assert error["extensions"]["code"] == "BATCH_INVALID"
    problems = {(p["index"], p["field"]) for p in error["extensions"]["details"]["records"]}
    assert problems == {
        (1, "value"),
        (2, "metric"),
        (3, "observedAt"),
        (4, "observedAt"),
        (5, "idempotencyKey"),
    }
    assert db.query(models.KpiObservation).count() == 0


def test_a_key_reused_for_different_content_is_refused(partner, db) -> None:
    partner(REPORT, {"r": [record(1, "1")]})
    error = partner.errors(REPORT, {"r": [record(1, "0")]})[0]
    assert (
        error["extensions"]["details"]["records"][0]["message"]
        == "already used for a different observation"
    )


def test_a_correction_supersedes_and_both_stay_visible(partner, db) -> None:
    partner(REPORT, {"r": [record(1, "0")]})
    original = db.query(models.KpiObservation).one()
    correction = record(2, "1", supersedes=global_id("KpiObservation", original.id))
    assert (
        partner.errors(REPORT, {"r": [correction]})[0]["extensions"]["code"] == "BATCH_INVALID"
    )  # no reason
    correction["correctionReason"] = "carrier scan was late, delivery was on time"
    partner(REPORT, {"r": [correction]})
    data = partner(
        "query($id: ID!) { provider(id: $id) { observations { edges { node { value correctionReason supersedes { value } } } } } }",
        {"id": global_id("Provider", partner.provider_id)},
    )["provider"]["observations"]["edges"]
    assert [e["node"] for e in data] == [
        {"value": "0", "correctionReason": None, "supersedes": None},
        {
            "value": "1",
            "correctionReason": "carrier scan was late, delivery was on time",
            "supersedes": {"value": "0"},
        },
    ]


def test_not_attributable_records_are_kept_with_their_reason(partner, db) -> None:
    partner(
        REPORT,
        {"r": [record(1, "0", notAttributableReason="seller changed the address after pickup")]},
    )
    row = db.query(models.KpiObservation).one()
    assert (
        row.attributable is False
        and row.non_attributable_reason == "seller changed the address after pickup"
    )


def test_scoped_tokens_and_other_roles(partner, server, sign_in, db) -> None:
    create = 'mutation($s: [TokenScope!]!) { createApiToken(name: "wms", scopes: $s, expiresInDays: 30) { token } }'
    reporter = GraphQLClient(
        server.url, partner(create, {"s": ["REPORT_KPI"]})["createApiToken"]["token"]
    )
    reader = GraphQLClient(server.url, partner(create, {"s": ["READ"]})["createApiToken"]["token"])
    assert reporter(REPORT, {"r": [record(1)]})["reportObservations"]["accepted"] == 1
    assert reader.errors(REPORT, {"r": [record(2)]})[0]["extensions"]["code"] == "FORBIDDEN"
    assert (
        sign_in(Role.SELLER).errors(REPORT, {"r": [record(3)]})[0]["extensions"]["code"]
        == "FORBIDDEN"
    )
    staff = sign_in(Role.REVIEWER)
    staff(REPORT, {"r": [record(4)], "p": global_id("Provider", partner.provider_id)})
    db.expire_all()
    sources = {
        r.idempotency_key: (r.source.value, r.reported_by) for r in db.query(models.KpiObservation)
    }
    assert sources["ship-4"][0] == "PLATFORM"
    assert "(token lsk_" in sources["ship-1"][1]  # which token reported it


def test_a_category_the_provider_does_not_hold_is_refused(partner, db) -> None:
    error = partner.errors(
        REPORT, {"r": [{**record(1), "category": "spare", "metric": "rating", "value": "4"}]}
    )[0]
    assert error["extensions"]["details"]["records"][0]["field"] == "category"


def test_ten_thousand_records_pass_and_one_more_does_not(partner, db) -> None:
    batch = [record(i, str(i % 2)) for i in range(10_000)]
    assert partner(REPORT, {"r": batch})["reportObservations"] == {
        "accepted": 10_000,
        "duplicates": 0,
    }
    error = partner.errors(REPORT, {"r": [*batch, record(10_000)]})[0]
    assert error["extensions"]["code"] == "BATCH_TOO_LARGE"
