"""Documents are kept for their category's retention after a provider leaves, then purged
(issue #9, point 6): the category declares the period, nothing deletes a document within it,
and after it `linkstar purge-documents` (and every server, hourly) removes the file and marks
the document purged on its timeline and in the audit log; the row and its hash stay. Real
files, both databases."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from linkstar.core.kernel.db import create_engine, session_factory
from linkstar.core.kernel.storage import LocalDirectoryStore
from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role
from linkstar.core.runtime import tables as models
from linkstar.core.runtime.retention import purge_documents_forever
from tests.harness import global_id
from tests.test_cli import LINKSTAR, run
from tests.test_onboarding import upload

YEAR = timedelta(days=365)
DOCUMENT = """query($d: ID!) { node(id: $d) { ... on Document { sha256 filename purgedAt
  downloadPath } } }"""


def storage(server) -> Path:
    return Path(server.app.state.settings.storage_dir)


def stored_file(server, sha256: str) -> Path:
    return storage(server) / sha256[:2] / sha256[2:]


def left(db, sign_in, category: str, status: ApplicationStatus, ago: timedelta, tag: str):
    """A provider that uploaded a document (real bytes, unique to `tag`) as a member of
    `category`, whose application then reached `status` `ago` (the retention clock's start)."""
    provider = models.Provider(
        legal_name=f"Retention {tag} Co., Ltd.",
        region=Region.MAINLAND_CHINA,
        registration_number=f"R-RET-{tag}",
    )
    db.add(provider)
    db.flush()
    application = models.Application(
        provider_id=provider.id, category_key=category, status=ApplicationStatus.ACTIVE
    )
    db.add(application)
    db.commit()
    partner = sign_in(Role.PARTNER, provider_id=provider.id)
    content = f"client,result\n{tag},kept for the retention period\n".encode()
    body = upload(
        partner, global_id("Application", application.id), "service_cases", content, "c.csv", None
    ).json()
    assert "errors" not in body, body
    document = body["data"]["uploadDocument"]
    if status is not ApplicationStatus.ACTIVE:
        application.status = status
    db.commit()
    # the provider left (or, for a member, last changed) `ago`: moved back in time by hand
    db.query(models.Application).filter_by(id=application.id).update(
        {"updated_at": datetime.now(UTC) - ago}
    )
    db.commit()
    return partner, document, content


def purge(server, url) -> subprocess.CompletedProcess[str]:
    return run("purge-documents", url=url, LINKSTAR_STORAGE_DIR=str(storage(server)))


def test_categories_declare_their_retention_in_the_graph(gql, registry) -> None:
    data = gql("{ serviceCategories { edges { node { key documentRetentionDays } } } }")
    days = {
        e["node"]["key"]: e["node"]["documentRetentionDays"]
        for e in data["serviceCategories"]["edges"]
    }
    # the fixture categories declare none and get the default of three years
    assert [days[k] for k in ("sample", "spare", "extra")] == [1095, 1095, 1095]
    # every installed category shows what it declares
    assert days == {
        key: c.category.document_retention_days for key, c in registry.categories.items()
    }


def test_documents_are_kept_within_the_retention_and_purged_after_it(
    server, sign_in, db, migrated
) -> None:
    # given: documents of providers that left logistics (5 years) and agency (3 years)
    kept_terminated = left(db, sign_in, "logistics", ApplicationStatus.TERMINATED, 4 * YEAR, "t4")
    kept_withdrawn = left(db, sign_in, "agency", ApplicationStatus.WITHDRAWN, 2 * YEAR, "w2")
    kept_member = left(db, sign_in, "agency", ApplicationStatus.ACTIVE, 9 * YEAR, "a9")
    due_terminated = left(db, sign_in, "logistics", ApplicationStatus.TERMINATED, 6 * YEAR, "t6")
    due_rejected = left(db, sign_in, "agency", ApplicationStatus.REJECTED, 4 * YEAR, "r4")
    # when: the purge runs
    result = purge(server, migrated)
    # then: exactly the two past their category's retention lose their bytes
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "purged 2 documents, removed 2 files"
    for partner, document, content in (kept_terminated, kept_withdrawn, kept_member):
        assert stored_file(server, document["sha256"]).read_bytes() == content
        response = partner.http.get(f"/documents/{document['id']}")
        assert response.status_code == 200 and response.content == content
    reviewer = sign_in(Role.REVIEWER)
    for partner, document, _ in (due_terminated, due_rejected):
        assert not stored_file(server, document["sha256"]).exists()
        # the metadata and the hash stay, with the moment of the purge
        node = reviewer(DOCUMENT, {"d": document["id"]})["node"]
        assert node["sha256"] == document["sha256"] and node["purgedAt"] is not None
        # those who may see it are told it was purged; anyone else learns nothing
        gone = partner.http.get(f"/documents/{document['id']}")
        assert gone.status_code == 410
        assert gone.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_PURGED"
        assert sign_in(Role.SELLER).http.get(f"/documents/{document['id']}").status_code == 404
    # and each purge is on the provider's timeline and in the audit log
    db.expire_all()
    events = db.query(models.DomainEvent).filter_by(event_type="document.purged").all()
    assert sorted(e.payload["sha256"] for e in events) == sorted(
        d["sha256"] for _, d, _ in (due_terminated, due_rejected)
    )
    assert {e.actor for e in events} == {"platform:retention"}
    assert {e.payload["retentionDays"] for e in events} == {1825, 1095}
    audited = db.query(models.AuditEntry).filter_by(action="document.purge").all()
    assert len(audited) == 2 and {a.outcome.value for a in audited} == {"SUCCESS"}
    # and a second run is a no-op
    again = purge(server, migrated)
    assert again.stdout.strip() == "purged 0 documents, removed 0 files"
    assert db.query(models.DomainEvent).filter_by(event_type="document.purged").count() == 2


def test_bytes_another_live_document_shares_are_kept(server, sign_in, db, migrated) -> None:
    # given: the same file uploaded by a provider that left long ago and by a member
    gone_partner, gone, content = left(
        db, sign_in, "agency", ApplicationStatus.TERMINATED, 4 * YEAR, "shared"
    )
    provider = models.Provider(
        legal_name="Retention Sharer", region=Region.MAINLAND_CHINA, registration_number="R-SH"
    )
    db.add(provider)
    db.flush()
    application = models.Application(
        provider_id=provider.id, category_key="agency", status=ApplicationStatus.ACTIVE
    )
    db.add(application)
    db.commit()
    member = sign_in(Role.PARTNER, provider_id=provider.id)
    body = upload(
        member, global_id("Application", application.id), "service_cases", content, "c.csv", None
    ).json()
    live = body["data"]["uploadDocument"]
    assert live["sha256"] == gone["sha256"]
    # when: the purge runs
    assert purge(server, migrated).stdout.strip() == "purged 1 documents, removed 0 files"
    # then: the old document is purged, the member's still opens
    assert gone_partner.http.get(f"/documents/{gone['id']}").status_code == 410
    response = member.http.get(f"/documents/{live['id']}")
    assert response.status_code == 200 and response.content == content


def test_two_purges_racing_purge_each_document_once(server, sign_in, db, migrated) -> None:
    due = [
        left(db, sign_in, "erp", ApplicationStatus.WITHDRAWN, 5 * YEAR, f"race{i}")
        for i in range(6)
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKSTAR_")}
    env["LINKSTAR_DATABASE_URL"] = migrated.render_as_string(hide_password=False)
    env["LINKSTAR_STORAGE_DIR"] = str(storage(server))
    processes = [
        subprocess.Popen(
            [str(LINKSTAR), "purge-documents"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    purged = sum(int(out.split()[1]) for out, _ in outputs)
    assert purged == 6
    db.expire_all()
    assert db.query(models.DomainEvent).filter_by(event_type="document.purged").count() == 6
    assert all(not stored_file(server, d["sha256"]).exists() for _, d, _ in due)


def test_the_servers_periodic_job_purges_too(server, sign_in, db, migrated, registry) -> None:
    _, document, _ = left(db, sign_in, "training", ApplicationStatus.TERMINATED, 4 * YEAR, "srv")

    async def a_few_ticks() -> None:
        engine = create_engine(migrated)
        job = asyncio.create_task(
            purge_documents_forever(
                session_factory(engine), registry, LocalDirectoryStore(storage(server)), 0.05
            )
        )
        for _ in range(200):  # until the purge committed (the file goes just before)
            await asyncio.sleep(0.05)
            db.expire_all()
            if db.get(models.Document, _number(document["id"])).purged_at is not None:
                break
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job
        await engine.dispose()

    asyncio.run(a_few_ticks())
    assert not stored_file(server, document["sha256"]).exists()
    db.expire_all()
    row = db.get(models.Document, _number(document["id"]))
    assert row.purged_at is not None and row.sha256 == document["sha256"]
    assert row.storage_key is None


def _number(document_id: str) -> int:
    import base64

    return int(base64.b64decode(document_id).decode().partition(":")[2])
