"""Reported records keep every field through the fast input path, whether optional fields are
omitted, null or given; bad values are still refused by GraphQL with their codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from linkstar.core.runtime import tables as models
from tests.sample_provider import REPORT, partner, record  # noqa: F401  (partner is a fixture)

NOW = datetime.now(UTC)


def test_every_field_of_a_record_is_stored_as_sent(partner, db) -> None:
    # given one record with every optional field, one with explicit nulls, one without them
    full = record(
        1,
        "0",
        evidenceRef="s3://evidence/1",
        notAttributableReason="carrier strike",
    )
    nulls = record(2, "1", evidenceRef=None, notAttributableReason=None, supersedes=None)
    bare = record(3, "1")
    # when they are reported together
    answer = partner(REPORT, {"r": [full, nulls, bare]})
    # then all three are stored with exactly what was sent
    assert answer["reportObservations"] == {"accepted": 3, "duplicates": 0}
    rows = {r.idempotency_key: r for r in db.query(models.KpiObservation).all()}
    assert rows["ship-1"].evidence_ref == "s3://evidence/1"
    assert rows["ship-1"].non_attributable_reason == "carrier strike"
    assert rows["ship-1"].attributable is False and rows["ship-1"].value == Decimal(0)
    for key in ("ship-2", "ship-3"):
        assert rows[key].evidence_ref is None and rows[key].attributable is True
        assert rows[key].value == Decimal(1) and rows[key].subject_ref == f"shipment-{key[-1]}"
    assert rows["ship-3"].observed_at == datetime.fromisoformat(bare["observedAt"])


def test_a_correction_names_the_record_it_supersedes(partner, db) -> None:
    partner(REPORT, {"r": [record(1, "0")]})
    original = db.query(models.KpiObservation).one()
    from tests.harness import global_id

    fix = record(9, "1", supersedes=global_id("KpiObservation", original.id))
    fix["correctionReason"] = "scanner misread the delivery"
    assert partner(REPORT, {"r": [fix]})["reportObservations"]["accepted"] == 1
    stored = db.query(models.KpiObservation).filter_by(idempotency_key="ship-9").one()
    assert stored.supersedes_id == original.id
    assert stored.correction_reason == "scanner misread the delivery"


def test_values_graphql_cannot_parse_are_refused_with_a_code(partner, db) -> None:
    for bad in (
        {**record(1), "value": "a lot"},
        {**record(1), "observedAt": "yesterday"},
        {k: v for k, v in record(1).items() if k != "metric"},
    ):
        error = partner.errors(REPORT, {"r": [bad]})[0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert db.query(models.KpiObservation).count() == 0


def test_stored_times_compare_in_sql_as_the_orm_writes_them(partner, db) -> None:
    # given a record observed on a whole second (no microseconds to write)
    at = (NOW - timedelta(hours=1)).replace(microsecond=0)
    # when it is reported
    partner(REPORT, {"r": [record(1, observedAt=at.isoformat())]})
    # then SQL comparisons with that instant find it (on SQLite: the same text form)
    row = models.KpiObservation
    assert db.query(row).filter(row.observed_at >= at, row.observed_at <= at).count() == 1
    assert db.query(row).filter(row.reported_at > at).count() == 1


def test_a_long_report_is_read_like_a_short_one(partner, db) -> None:
    # given 600 records (a list that long is coerced in one pass), one with every field
    records = [record(i) for i in range(600)]
    records[7] = record(7, "0", evidenceRef="s3://evidence/7", notAttributableReason="strike")
    # when one of them holds a value GraphQL cannot parse, then the whole report is refused
    # exactly as graphql-core refuses it, naming the record
    bad = [*records[:599], {**records[599], "value": "a lot"}]
    error = partner.errors(REPORT, {"r": bad})[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "at [599].value" in error["message"] and "a lot" in error["message"], error
    unknown = [{**records[0], "colour": "red"}, *records[1:]]
    assert partner.errors(REPORT, {"r": unknown})[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert db.query(models.KpiObservation).count() == 0
    # when all are valid, then every record is stored as sent
    answer = partner(REPORT, {"r": records})
    assert answer["reportObservations"] == {"accepted": 600, "duplicates": 0}
    rows = {r.idempotency_key: r for r in db.query(models.KpiObservation).all()}
    assert rows["ship-7"].evidence_ref == "s3://evidence/7" and rows["ship-7"].attributable is False
    assert rows["ship-8"].evidence_ref is None and rows["ship-8"].value == Decimal(1)
    assert rows["ship-599"].observed_at == datetime.fromisoformat(records[599]["observedAt"])
