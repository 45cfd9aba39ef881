"""Evidence links uploaded documents by id (issue #9, point 6): on observations, on corrections
and not-attributable claims, and on appeals. A linked document must exist, be visible to the
caller, be the provider's own and not purged; the link shows in the graph and the reviewer
follows it to the download."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role
from linkstar.core.runtime import tables as models
from tests.harness import GraphQLClient, global_id
from tests.test_onboarding import upload

REPORT = """mutation($r: [ObservationInput!]!, $p: ID) { reportObservations(records: $r, provider: $p)
  { accepted duplicates } }"""

OBSERVATIONS = """query($p: ID!) { provider(id: $p) { observations(first: 20) { edges { node {
  id subjectRef reviewStatus nonAttributableReason
  evidenceDocument { id filename sha256 downloadPath }
  supersedes { id } } } } } }"""

APPEAL = """mutation($s: ID!, $d: [ID!]) { fileAppeal(subjectType: SANCTION, subject: $s,
  reason: NOT_ATTRIBUTABLE, statement: "The seller cancelled.", evidence: [], documents: $d)
  { id evidenceDocuments documents { id filename downloadPath } } }"""


def member(db, name: str, number: str) -> tuple[int, str]:
    """A provider in the pool of the fixture category `sample` (it may report and upload)."""
    provider = models.Provider(
        legal_name=name, region=Region.MAINLAND_CHINA, registration_number=number
    )
    db.add(provider)
    db.flush()
    application = models.Application(
        provider_id=provider.id, category_key="sample", status=ApplicationStatus.ACTIVE
    )
    db.add(application)
    db.commit()
    return provider.id, global_id("Application", application.id)


def proof(client: GraphQLClient, application: str, tag: str) -> dict:
    """Upload a small CSV (bytes unique to `tag`: storage is shared by the test session)."""
    content = f"shipment,cause\n{tag},seller cancelled the order\n".encode()
    body = upload(client, application, "evidence", content, f"{tag}.csv", None).json()
    assert "errors" not in body, body
    return body["data"]["uploadDocument"]


def record(key: str, **extra) -> dict:
    return {
        "category": "sample",
        "metric": "on_time_rate",
        "subjectRef": f"shipment-{key}",
        "observedAt": datetime.now(UTC).isoformat(),
        "value": "1",
        "idempotencyKey": key,
        **extra,
    }


def refusals(client: GraphQLClient, records: list[dict], provider: str | None = None) -> list:
    errors = client.errors(REPORT, {"r": records, "p": provider})
    assert errors[0]["extensions"]["code"] == "BATCH_INVALID", errors
    return errors[0]["extensions"]["details"]["records"]


def test_an_observation_and_a_claim_link_the_providers_document_and_the_reviewer_opens_it(
    server, sign_in, db
) -> None:
    # given: a provider in the pool that uploaded a proof
    provider_id, app = member(db, "Ningbo Proof Freight", "R-EV-1")
    partner = sign_in(Role.PARTNER, provider_id=provider_id)
    document = proof(partner, app, "ev-1")
    # when: it reports a delivery with the proof, then corrects it and claims another delivery
    # was not its doing, each with the proof
    partner(REPORT, {"r": [record("ev1-a", evidenceDocument=document["id"])]})
    first = db.query(models.KpiObservation).filter_by(idempotency_key="ev1-a").one()
    claim = record(
        "ev1-b",
        value="0",
        evidenceDocument=document["id"],
        supersedes=global_id("KpiObservation", first.id),
        correctionReason="the parcel was late because the seller changed the address",
    )
    excuse = record(
        "ev1-c",
        value="0",
        evidenceDocument=document["id"],
        notAttributableReason="the seller cancelled before pick-up",
    )
    partner(REPORT, {"r": [claim, excuse]})
    # then: the record and the pending claim show the document; the reviewer downloads it
    reviewer = sign_in(Role.REVIEWER)
    edges = reviewer(OBSERVATIONS, {"p": global_id("Provider", provider_id)})["provider"]
    rows = [e["node"] for e in edges["observations"]["edges"]]
    assert [r["reviewStatus"] for r in rows] == [None, "PENDING", "PENDING"]
    assert rows[1]["supersedes"]["id"] == rows[0]["id"] and rows[2]["nonAttributableReason"]
    assert all(r["evidenceDocument"]["id"] == document["id"] for r in rows)
    assert rows[0]["evidenceDocument"]["sha256"] == document["sha256"]
    download = reviewer.http.get(rows[1]["evidenceDocument"]["downloadPath"])
    assert download.status_code == 200
    assert download.content == b"shipment,cause\nev-1,seller cancelled the order\n"
    # and the partner sees its own link too
    mine = partner(OBSERVATIONS, {"p": global_id("Provider", provider_id)})["provider"]
    assert mine["observations"]["edges"][0]["node"]["evidenceDocument"]["id"] == document["id"]


def test_a_report_naming_a_document_it_may_not_link_is_refused_whole_with_a_code_per_record(
    server, sign_in, db
) -> None:
    provider_id, app = member(db, "Ningbo Proof Freight", "R-EV-2")
    other_id, other_app = member(db, "Xiamen Other Freight", "R-EV-3")
    partner = sign_in(Role.PARTNER, provider_id=provider_id)
    mine = proof(partner, app, "ev-2")
    theirs = proof(sign_in(Role.PARTNER, provider_id=other_id), other_app, "ev-3")
    purged = proof(partner, app, "ev-4")
    row = db.get(models.Document, int(_number(purged["id"])))
    row.purged_at = datetime.now(UTC)
    db.commit()
    missing = global_id("Document", 987654)
    # when: one batch names its own document, another provider's, a missing and a purged one
    problems = refusals(
        partner,
        [
            record("ev2-ok", evidenceDocument=mine["id"]),
            record("ev2-theirs", evidenceDocument=theirs["id"]),
            record("ev2-missing", evidenceDocument=missing),
            record("ev2-purged", evidenceDocument=purged["id"]),
        ],
    )
    # then: nothing is stored; another provider's document answers exactly like a missing one
    by_index = {p["index"]: p for p in problems}
    assert sorted(by_index) == [1, 2, 3]
    assert by_index[1]["code"] == by_index[2]["code"] == "UNKNOWN_DOCUMENT"
    assert by_index[1]["message"] == by_index[2]["message"]
    assert by_index[1]["field"] == "evidenceDocument"
    assert by_index[3]["code"] == "DOCUMENT_PURGED"
    assert db.query(models.KpiObservation).filter_by(provider_id=provider_id).count() == 0
    # and staff, who see every document, are told when it is another provider's
    admin = sign_in(Role.ADMIN)
    platform = refusals(
        admin,
        [record("ev2-platform", evidenceDocument=theirs["id"])],
        provider=global_id("Provider", provider_id),
    )
    assert platform[0]["code"] == "DOCUMENT_OF_ANOTHER_PROVIDER"
    admin(
        REPORT,
        {
            "r": [record("ev2-platform", evidenceDocument=mine["id"])],
            "p": global_id("Provider", provider_id),
        },
    )
    stored = db.query(models.KpiObservation).filter_by(idempotency_key="ev2-platform").one()
    assert stored.evidence_document_id == int(_number(mine["id"]))


def _number(document_id: str) -> str:
    import base64

    return base64.b64decode(document_id).decode().partition(":")[2]


def test_an_appeal_links_documents_by_id_with_clear_codes_and_shows_them(
    server, sign_in, db
) -> None:
    provider_id, app = member(db, "Ningbo Proof Freight", "R-EV-5")
    other_id, other_app = member(db, "Xiamen Other Freight", "R-EV-6")
    partner = sign_in(Role.PARTNER, provider_id=provider_id)
    mine = proof(partner, app, "ev-5")
    theirs = proof(sign_in(Role.PARTNER, provider_id=other_id), other_app, "ev-6")
    gone = proof(partner, app, "ev-7")
    db.get(models.Document, int(_number(gone["id"]))).purged_at = datetime.now(UTC)
    sanction = models.Sanction(
        provider_id=provider_id,
        category_key="sample",
        kind="WARNING",
        status="ACTIVE",
        dedupe_key="test:ev-warning",
        cause={"scorecards": [], "violations": []},
        reason="a metric failed",
    )
    db.add(sanction)
    db.commit()
    subject = global_id("Sanction", sanction.id)

    def code(documents: list[str]) -> tuple[str, dict]:
        error = partner.errors(APPEAL, {"s": subject, "d": documents})[0]
        return error["extensions"]["code"], error["extensions"].get("details", {})

    assert code([mine["id"], global_id("Document", 987655)]) == ("UNKNOWN_DOCUMENT", {"index": 1})
    assert code([theirs["id"]]) == ("UNKNOWN_DOCUMENT", {"index": 0})
    assert code([gone["id"]]) == ("DOCUMENT_PURGED", {"index": 0})
    assert db.query(models.Appeal).filter_by(provider_id=provider_id).count() == 0
    # when: it appeals with its own document
    appeal = partner(APPEAL, {"s": subject, "d": [mine["id"]]})["fileAppeal"]
    assert appeal["evidenceDocuments"] == [mine["id"]]
    assert [d["filename"] for d in appeal["documents"]] == ["ev-5.csv"]
    # then: the reviewer finds the appeal's document and follows it to the bytes
    reviewer = sign_in(Role.REVIEWER)
    seen = reviewer(
        "query($a: ID!) { node(id: $a) { ... on Appeal { documents { id downloadPath } } } }",
        {"a": appeal["id"]},
    )["node"]["documents"]
    assert [d["id"] for d in seen] == [mine["id"]]
    response = reviewer.http.get(seen[0]["downloadPath"])
    assert response.status_code == 200 and b"ev-5" in response.content


def test_evidence_can_still_be_uploaded_for_an_appeal_after_a_termination(
    server, sign_in, db
) -> None:
    # given: a provider terminated 10 days ago, and one terminated 40 days ago
    provider_id, app = member(db, "Ningbo Proof Freight", "R-EV-8")
    late_id, late_app = member(db, "Xiamen Late Freight", "R-EV-9")
    for number, days in ((app, 10), (late_app, 40)):
        db.query(models.Application).filter_by(id=int(_number(number))).update(
            {
                "status": ApplicationStatus.TERMINATED,
                "updated_at": datetime.now(UTC) - timedelta(days=days),
            }
        )
    db.commit()
    partner = sign_in(Role.PARTNER, provider_id=provider_id)
    # then: within the appeal window it uploads evidence, but no onboarding material
    assert proof(partner, app, "ev-8")["mediaType"] == "text/csv"
    other = upload(partner, app, "service_cases", b"a,b\n1,2\n", "c.csv", None).json()
    assert other["errors"][0]["extensions"]["code"] == "APPLICATION_LOCKED"
    # and after the window nothing more comes in
    late = sign_in(Role.PARTNER, provider_id=late_id)
    body = upload(late, late_app, "evidence", b"a,b\n9,9\n", "c.csv", None).json()
    assert body["errors"][0]["extensions"]["code"] == "APPLICATION_LOCKED"
