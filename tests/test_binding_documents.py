"""Documents reviewers can open, and uploads that are what they say (issue #9 point 6, issue
#12 point 6)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role
from linkstar.core.runtime import tables as models
from tests.harness import GraphQLClient, global_id
from tests.test_onboarding import PDF, upload


def draft(db, name: str, number: str) -> tuple[int, str]:
    provider = models.Provider(
        legal_name=name, region=Region.MAINLAND_CHINA, registration_number=number
    )
    db.add(provider)
    db.flush()
    application = models.Application(
        provider_id=provider.id, category_key="sample", status=ApplicationStatus.DRAFT
    )
    db.add(application)
    db.commit()
    return provider.id, global_id("Application", application.id)


def uploaded(client: GraphQLClient, app: str, content: bytes, name: str) -> dict:
    body = upload(client, app, "service_price_list", content, name, None).json()
    assert "errors" not in body, body
    return body["data"]["uploadDocument"]


def refused(client: GraphQLClient, app: str, content: bytes, name: str) -> str:
    body = upload(client, app, "service_price_list", content, name, None).json()
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]


def get(client: GraphQLClient, document: str):
    return client.http.get(f"/documents/{document}")


def test_members_and_staff_download_the_verified_bytes_with_safe_headers(
    server, sign_in, db
) -> None:
    provider_id, app = draft(db, "Shenzhen Evidence Co., Ltd.", "R-DOC-1")
    partner = sign_in(Role.PARTNER, provider_id=provider_id)
    document = uploaded(partner, app, PDF, "案例 cases 2026.pdf")
    for client in (partner, sign_in(Role.REVIEWER)):
        response = get(client, document["id"])
        assert response.status_code == 200
        assert response.content == PDF
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["x-content-type-options"] == "nosniff"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="')
        assert "filename*=UTF-8''%E6%A1%88%E4%BE%8B%20cases%202026.pdf" in disposition
        assert "\n" not in disposition and "案" not in disposition
    audited = db.query(models.AuditEntry).filter_by(action="document.download").all()
    assert [e.outcome.value for e in audited] == ["SUCCESS", "SUCCESS"]


def test_a_forbidden_document_answers_exactly_like_a_missing_one(server, sign_in, db) -> None:
    provider_id, app = draft(db, "Shenzhen Evidence Co., Ltd.", "R-DOC-2")
    other_id, _ = draft(db, "Dongguan Other Co., Ltd.", "R-DOC-3")
    document = uploaded(sign_in(Role.PARTNER, provider_id=provider_id), app, PDF, "a.pdf")
    outsider = sign_in(Role.PARTNER, provider_id=other_id)
    forbidden = get(outsider, document["id"])
    missing = get(outsider, global_id("Document", 999999))
    anonymous = get(GraphQLClient(str(outsider.http.base_url)), document["id"])
    seller = get(sign_in(Role.SELLER), document["id"])
    assert {r.status_code for r in (forbidden, missing, anonymous, seller)} == {404}
    assert forbidden.json() == missing.json() == anonymous.json() == seller.json()
    assert forbidden.content != PDF
    denied = db.query(models.AuditEntry).filter_by(action="document.download").all()
    assert {e.outcome.value for e in denied} == {"DENIED"} and len(denied) == 4


def test_bytes_changed_in_storage_are_never_served(server, sign_in, db) -> None:
    provider_id, app = draft(db, "Shenzhen Evidence Co., Ltd.", "R-DOC-4")
    partner = sign_in(Role.PARTNER, provider_id=provider_id)
    document = uploaded(partner, app, PDF, "a.pdf")
    root = Path(server.app.state.settings.storage_dir)
    stored = root / document["sha256"][:2] / document["sha256"][2:]
    stored.write_bytes(PDF.replace(b"/MediaBox", b"/MediaBax"))
    response = get(partner, document["id"])
    assert response.status_code == 409
    assert response.json()["errors"][0]["extensions"]["code"] == "EVIDENCE_TAMPERED"
    stored.write_bytes(PDF)  # content-addressed storage is shared by the test session


def _xlsx(extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_uploads_are_checked_for_structure_and_active_content(server, sign_in, db) -> None:
    provider_id, app = draft(db, "Shenzhen Evidence Co., Ltd.", "R-DOC-5")
    partner = sign_in(Role.PARTNER, provider_id=provider_id)
    html = b"client,result\n<html><script>alert(1)</script></html>,1\n"
    assert refused(partner, app, html, "cases.csv") == "FILE_CONTENT_REFUSED"
    script = b"name,value\nx,1\n<svg onload=alert(1)>,2\n"
    assert refused(partner, app, script, "cases.csv") == "FILE_CONTENT_REFUSED"
    signature_only = b"%PDF-1.7\n<svg><script>alert(1)</script></svg>\n%%EOF\n"
    assert refused(partner, app, signature_only, "cases.pdf") == "FILE_CONTENT_REFUSED"
    javascript = PDF.replace(
        b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (x) >>"
    )
    assert refused(partner, app, javascript, "cases.pdf") == "FILE_CONTENT_REFUSED"
    bomb = _xlsx({"xl/worksheets/sheet1.xml": b"0" * (60 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    assert refused(partner, app, bomb, "cases.xlsx") == "FILE_CONTENT_REFUSED"
    macro = _xlsx({"xl/vbaProject.bin": b"\x00" * 64})
    assert refused(partner, app, macro, "cases.xlsx") == "FILE_CONTENT_REFUSED"

    csv_ok = uploaded(partner, app, "client,gmv growth\n家居品牌,38%\n".encode(), "cases.csv")
    assert csv_ok["mediaType"] == "text/csv"
    xlsx_ok = uploaded(partner, app, _xlsx({"xl/worksheets/sheet1.xml": b"<sheet/>"}), "c.xlsx")
    assert xlsx_ok["mediaType"].endswith("spreadsheetml.sheet")
    assert uploaded(partner, app, PDF, "cases.pdf")["mediaType"] == "application/pdf"


APPEAL_WITH_DOCUMENTS = """mutation($s: ID!, $d: [ID!]) { fileAppeal(subjectType: SANCTION, subject: $s,
  reason: WRONG_FINDING, statement: "The jobs were on time.", evidence: [],
  documents: $d) { id evidenceDocuments } }"""


def test_an_appeal_links_uploaded_documents_as_typed_evidence(server, sign_in, db) -> None:
    provider_id, app = draft(db, "Shenzhen Evidence Co., Ltd.", "R-DOC-6")
    other_id, other_app = draft(db, "Dongguan Other Co., Ltd.", "R-DOC-7")
    partner = sign_in(Role.PARTNER, provider_id=provider_id)
    mine = uploaded(partner, app, PDF, "proof.pdf")["id"]
    theirs = uploaded(sign_in(Role.PARTNER, provider_id=other_id), other_app, PDF, "x.pdf")["id"]
    sanction = models.Sanction(
        provider_id=provider_id,
        category_key="sample",
        kind="WARNING",
        status="ACTIVE",
        dedupe_key="test:warning",
        cause={"scorecards": [], "violations": []},
        reason="a metric failed",
    )
    db.add(sanction)
    db.commit()
    sid = global_id("Sanction", sanction.id)
    errors = partner.errors(APPEAL_WITH_DOCUMENTS, {"s": sid, "d": [theirs]})
    assert errors[0]["extensions"]["code"] == "UNKNOWN_DOCUMENT"
    appeal = partner(APPEAL_WITH_DOCUMENTS, {"s": sid, "d": [mine]})["fileAppeal"]
    assert appeal["evidenceDocuments"] == [mine]
    reviewer = sign_in(Role.REVIEWER)
    node = reviewer(
        "query($d: ID!) { node(id: $d) { ... on Document { downloadPath } } }", {"d": mine}
    )["node"]
    assert get(reviewer, mine).status_code == 200 and node["downloadPath"].endswith(mine)
