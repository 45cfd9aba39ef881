"""Onboarding end to end over HTTP: registration → documents → agreements → review → probation → pool.

Documents go up as real GraphQL multipart requests; every failure branch answers with a code.
The applications are to the fixture categories (tests/fixture_category.py): `sample` asks a
mainland provider for a business licence, a profile and the two standard agreements; `extra`
asks for nothing but an interview. Each built-in plugin walks its own category through
`walk_into_the_pool()` in plugins/<name>/tests/.
"""

from __future__ import annotations

import io
import json
import random
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from pypdf import PdfWriter
from stdnum.cn import ric, uscc

from linkstar.core.kernel.vocabulary import ApplicationStatus, Role
from linkstar.core.runtime import tables as models
from tests.harness import VERIFY, GraphQLClient, global_id, mailbox, mailed_token


def _blank_pdf() -> bytes:
    """A real one-page PDF (uploads are parsed, so a bare signature is not enough)."""
    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PDF = _blank_pdf()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()

_rng = random.Random(32100)


def new_uscc() -> str:
    body = (
        "9144"
        + "".join(_rng.choice("0123456789") for _ in range(4))
        + "".join(_rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    )
    return body + uscc.calc_check_digit(body)


def resident_id() -> str:
    body = "44030019850101" + f"{_rng.randrange(100, 999)}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def person(region: str, name: str) -> dict[str, Any]:
    if region == "MAINLAND_CHINA":
        return {
            "name": name,
            "idType": "MAINLAND_RESIDENT_ID",
            "idNumber": resident_id(),
            "phone": "+86 755 1234 5678",
        }
    return {
        "name": name,
        "idType": "PASSPORT",
        "idNumber": f"K{_rng.randrange(10**7, 10**8)}",
        "email": "ops@example.com",
    }


def registration(region: str, name: str, number: str | None = None) -> dict[str, Any]:
    return {
        "legalName": name,
        "region": region,
        "registrationNumber": number
        or (new_uscc() if region == "MAINLAND_CHINA" else f"CR-{_rng.randrange(10**6, 10**7)}"),
        "marketplaces": ["AMAZON", "SHOPEE"],
        "details": {
            "legalRepresentative": person(region, "Li Wei"),
            "contactPerson": person(region, "Chen Jing"),
            "businessDescription": "Cross-border services for sellers on Amazon and Shopee since 2019.",
            "team": {
                "roles": [
                    {"role": "Operators", "headcount": 12},
                    {"role": "Engineers", "headcount": 4},
                ],
                "background": "Ex-marketplace account managers.",
            },
            "serviceCases": [
                {
                    "client": "Home goods brand",
                    "productCategories": ["Home & Kitchen"],
                    "results": "GMV +38% in six months",
                }
            ],
            "services": [
                {
                    "name": "Store operation",
                    "price": {"amount": "8000.00", "currency": "CNY"},
                    "billingBasis": "per store per month",
                }
            ],
            "certifications": ["Amazon SPN"],
        },
    }


REGISTER = """mutation($account: AccountInput!, $provider: ProviderInput!) {
  registerProvider(account: $account, provider: $provider) { email message } }"""
APP = "id status version allowedActions probationEndsAt pilotOrderQuota"


def register(
    gql: GraphQLClient, server_url: str, region: str, name: str, number: str | None = None
) -> GraphQLClient:
    email = f"owner-{_rng.randrange(10**9)}@example.com"
    data = gql(
        REGISTER,
        {
            "account": {
                "email": email,
                "password": "a long owner passphrase",
                "displayName": "Owner",
            },
            "provider": registration(region, name, number),
        },
    )
    assert data["registerProvider"]["email"] == email
    verified = gql(VERIFY, {"t": mailed_token(email)})["verifyEmail"]
    assert verified["account"]["isProviderOwner"] is True
    client = GraphQLClient(server_url, verified["accessToken"])
    client.provider_id = verified["account"]["provider"]["id"]  # type: ignore[attr-defined]
    return client


def upload(
    client: GraphQLClient,
    application: str,
    requirement: str,
    content: bytes,
    filename: str,
    expires: str | None = NEXT_YEAR,
) -> httpx.Response:
    operations = {
        "query": "mutation($a: ID!, $r: String!, $f: Upload!, $e: Date) { uploadDocument(application: $a, requirement: $r, file: $f, expiresOn: $e) { id sha256 mediaType status } }",
        "variables": {"a": application, "r": requirement, "f": None, "e": expires},
    }
    return client.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": (filename, content, "application/octet-stream")},
        headers={"X-LinkStar-CSRF": "1"},
    )


def category_info(gql: GraphQLClient, key: str) -> dict[str, Any]:
    return gql(
        """query($k: String!) { serviceCategory(key: $k) { interviewRequired
             requiredDocuments { key mandatory expires mediaTypes regions }
             agreements { key version sha256 mandatory } onboarding { probationDays pilotOrderQuota } } }""",
        {"k": key},
    )["serviceCategory"]


def prepare(client: GraphQLClient, gql: GraphQLClient, registry, category: str, region: str) -> str:
    """A draft application with profile, every mandatory document and every agreement."""
    application = client(
        "mutation($c: String!) { startApplication(category: $c) { id status } }", {"c": category}
    )["startApplication"]
    assert application["status"] == "DRAFT"
    app_id = application["id"]
    spec = registry.categories[category].profile
    if spec is not None:
        client(
            "mutation($c: String!, $d: JSON!) { saveCategoryProfile(category: $c, data: $d) { id } }",
            {"c": category, "d": spec.demo(random.Random(1), region)},
        )
    info = category_info(gql, category)
    for doc in info["requiredDocuments"]:
        if not doc["mandatory"] or region not in doc["regions"]:
            continue
        content, name = (
            (PDF, f"{doc['key']}.pdf")
            if "application/pdf" in doc["mediaTypes"]
            else (PNG, f"{doc['key']}.png")
        )
        response = upload(
            client, app_id, doc["key"], content, name, NEXT_YEAR if doc["expires"] else None
        )
        assert response.status_code == 200 and "errors" not in response.json(), response.text
    for agreement in info["agreements"]:
        client(
            "mutation($a: ID!, $k: String!, $v: String!, $h: String!) { signAgreement(application: $a, agreement: $k, version: $v, textSha256: $h) { id } }",
            {
                "a": app_id,
                "k": agreement["key"],
                "v": agreement["version"],
                "h": agreement["sha256"],
            },
        )
    return app_id


@pytest.mark.parametrize(
    ("category", "region"), [("sample", "MAINLAND_CHINA"), ("extra", "OVERSEAS")]
)
def test_a_provider_walks_from_registration_into_the_pool(
    category, region, gql, sign_in, server, registry, db
) -> None:
    walk_into_the_pool(category, region, gql, sign_in, server, registry, db)


def walk_into_the_pool(category: str, region: str, gql, sign_in, server, registry, db) -> None:
    """Register, apply to `category` with everything it asks, pass review (and the interview,
    if it holds one) and probation; the provider is listed, the timeline tells the story."""
    owner = register(gql, server.url, region, f"{category.title()} Partners Ltd")
    app_id = prepare(owner, gql, registry, category, region)

    checklist = owner(
        "query($a: ID!) { applicationChecklist(application: $a) { ready problems { key } items { kind status } } }",
        {"a": app_id},
    )["applicationChecklist"]
    assert checklist["ready"] is True and checklist["problems"] == []
    submitted = owner(
        f"mutation($a: ID!) {{ submitApplication(application: $a) {{ {APP} }} }}", {"a": app_id}
    )["submitApplication"]
    assert submitted["status"] == "SUBMITTED"

    reviewer = sign_in(Role.REVIEWER)
    reviewer_id = (
        reviewer("{ viewer { email } }")
        and db.query(models.Account).filter_by(role=Role.REVIEWER).one().id
    )
    assert (
        reviewer(
            f"mutation($a: ID!) {{ startReview(application: $a) {{ {APP} }} }}", {"a": app_id}
        )["startReview"]["status"]
        == "IN_REVIEW"
    )
    documents = reviewer(
        "query($a: ID!) { node(id: $a) { ... on Application { documents { edges { node { id } } } } } }",
        {"a": app_id},
    )["node"]["documents"]["edges"]
    for edge in documents:
        reviewer(
            "mutation($d: ID!) { reviewDocument(document: $d, decision: ACCEPT) { status } }",
            {"d": edge["node"]["id"]},
        )
    reviewer(
        'mutation($a: ID!) { addReviewNote(application: $a, text: "Cases check out with the sellers.", visibleToProvider: true) { id } }',
        {"a": app_id},
    )
    reviewer(
        'mutation($a: ID!) { addReviewNote(application: $a, text: "Internal: pricing looks aggressive.") { id } }',
        {"a": app_id},
    )

    if category_info(gql, category)["interviewRequired"]:
        reviewer(
            f'mutation($a: ID!, $i: ID!) {{ scheduleInterview(application: $a, at: "2026-12-03T10:00:00+08:00", interviewer: $i, channel: VIDEO) {{ {APP} }} }}',
            {"a": app_id, "i": global_id("Account", reviewer_id)},
        )
        # the interview is recorded once held: here, it was held an hour ago
        db.query(models.Interview).update({"scheduled_at": datetime.now(UTC) - timedelta(hours=1)})
        db.commit()
        done = reviewer(
            f'mutation($a: ID!) {{ recordInterview(application: $a, outcome: PASSED, notes: "Strong team, clear SOPs.") {{ {APP} }} }}',
            {"a": app_id},
        )
        assert done["recordInterview"]["status"] == "INTERVIEWED"

    approved = reviewer(
        f"mutation($a: ID!) {{ approveApplication(application: $a) {{ {APP} }} }}", {"a": app_id}
    )["approveApplication"]
    terms = category_info(gql, category)["onboarding"]
    assert (
        approved["status"] == "PROBATION"
        and approved["pilotOrderQuota"] == terms["pilotOrderQuota"]
    )
    assert approved["probationEndsAt"] is not None

    # not yet in the public directory during probation
    directory = (
        '{ providers(filter: {category: "' + category + '"}) { edges { node { legalName } } } }'
    )
    assert gql(directory)["providers"]["edges"] == []
    # passing against the KPI recommendation (no data yet: EXTEND) waits for the probation end
    db.query(models.Application).update({"probation_ends_at": datetime.now(UTC)})
    db.commit()
    passed = reviewer(
        f'mutation($a: ID!) {{ decideProbation(application: $a, decision: PASS, reason: "All pilot orders delivered on time.") {{ {APP} }} }}',
        {"a": app_id},
    )
    assert passed["decideProbation"]["status"] == "ACTIVE"
    assert [e["node"]["legalName"] for e in gql(directory)["providers"]["edges"]] == [
        f"{category.title()} Partners Ltd"
    ]

    timeline = owner(
        "query($a: ID!) { node(id: $a) { ... on Application { timeline(first: 100) { edges { node { eventType actor internal } } } } } }",
        {"a": app_id},
    )
    events = [e["node"]["eventType"] for e in timeline["node"]["timeline"]["edges"]]
    assert events[0] == "application.started" and events[-1] == "application.pass_probation"
    assert {"agreement.signed", "application.submit", "application.approve"} <= set(events)
    if documents:  # the category asked this provider for documents
        assert {"document.uploaded", "document.accepted"} <= set(events)
    assert not any(
        e["node"]["internal"] for e in timeline["node"]["timeline"]["edges"]
    )  # internal notes hidden
    staff_view = reviewer(
        "query($a: ID!) { node(id: $a) { ... on Application { timeline(first: 100) { totalCount } } } }",
        {"a": app_id},
    )
    assert staff_view["node"]["timeline"]["totalCount"] == len(events) + 1


# --- registration failures -----------------------------------------------------------------


def test_uscc_is_checked_with_its_check_character(gql, db) -> None:
    good = new_uscc()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    errors = gql.errors(
        REGISTER,
        {
            "account": {
                "email": "a@example.com",
                "password": "a long owner passphrase",
                "displayName": "A",
            },
            "provider": registration("MAINLAND_CHINA", "Bad Code Ltd", bad),
        },
    )
    assert errors[0]["extensions"]["code"] == "INVALID_USCC"
    assert db.query(models.Provider).count() == 0 and db.query(models.Account).count() == 0


def test_the_same_uscc_cannot_register_twice(gql, server, db) -> None:
    number = new_uscc()
    register(gql, server.url, "MAINLAND_CHINA", "First Ltd", number)
    second = {
        "account": {
            "email": "b@example.com",
            "password": "a long owner passphrase",
            "displayName": "B",
        },
        "provider": registration("MAINLAND_CHINA", "Second Ltd", number),
    }
    # the first provider is not listed: the answer tells nobody that the number is known ...
    answer = gql(REGISTER, second)["registerProvider"]
    assert answer["email"] == "b@example.com"
    # ... only the address owner learns it, by mail
    assert mailbox("b@example.com")[-1][0] == "LinkStar: this provider is already registered"
    assert db.query(models.Account).filter_by(email="b@example.com").count() == 0
    assert db.query(models.Provider).filter_by(registration_number=number).count() == 1
    # a listed provider is public, so its number is refused outright
    first = db.query(models.Provider).filter_by(registration_number=number).one()
    db.add(
        models.Application(
            provider_id=first.id, category_key="sample", status=ApplicationStatus.ACTIVE
        )
    )
    db.commit()
    errors = gql.errors(REGISTER, second)
    assert errors[0]["extensions"]["code"] == "DUPLICATE_REGISTRATION"


def test_registration_lists_every_invalid_field(gql, db) -> None:
    provider = registration("MAINLAND_CHINA", "Sloppy Ltd")
    provider["details"]["legalRepresentative"]["idNumber"] = (
        "440300198501011234"  # wrong check digit
    )
    provider["details"]["serviceCases"] = []
    provider["details"]["services"][0]["price"]["currency"] = "XXX"
    errors = gql.errors(
        REGISTER,
        {
            "account": {
                "email": "c@example.com",
                "password": "a long owner passphrase",
                "displayName": "C",
            },
            "provider": provider,
        },
    )
    fields = errors[0]["extensions"]["details"]["fields"]
    assert errors[0]["extensions"]["code"] == "REGISTRATION_INVALID"
    assert set(fields) == {"legalRepresentative.idNumber", "serviceCases", "services[0].price"}


# --- document failures ---------------------------------------------------------------------


def test_documents_are_checked_on_their_bytes_size_and_expiry(gql, server, registry, db) -> None:
    owner = register(gql, server.url, "MAINLAND_CHINA", "Upload Ltd")
    app_id = owner('mutation { startApplication(category: "sample") { id } }')["startApplication"][
        "id"
    ]

    disguised = upload(
        owner, app_id, "business_licence", b"just some text, not a pdf\n", "licence.pdf"
    ).json()
    assert disguised["errors"][0]["extensions"]["code"] == "FILE_TYPE_NOT_ALLOWED"
    expired = upload(
        owner,
        app_id,
        "business_licence",
        PDF,
        "licence.pdf",
        (date.today() - timedelta(days=1)).isoformat(),
    ).json()
    assert expired["errors"][0]["extensions"]["code"] == "DOCUMENT_EXPIRED"
    undated = upload(owner, app_id, "business_licence", PDF, "licence.pdf", None).json()
    assert undated["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    huge = upload(
        owner, app_id, "business_licence", PDF + b"0" * (10 * 1024 * 1024), "licence.pdf"
    ).json()
    assert huge["errors"][0]["extensions"]["code"] == "FILE_TOO_LARGE"
    unknown = upload(owner, app_id, "horoscope", PDF, "h.pdf").json()
    assert unknown["errors"][0]["extensions"]["code"] == "INVALID_INPUT"

    ok = upload(owner, app_id, "business_licence", PDF, "licence.pdf").json()["data"][
        "uploadDocument"
    ]
    import hashlib

    assert ok["sha256"] == hashlib.sha256(PDF).hexdigest() and ok["mediaType"] == "application/pdf"
    stored = server.app.state.settings.storage_dir
    from linkstar.core.kernel.storage import LocalDirectoryStore

    assert LocalDirectoryStore(stored).get(ok["sha256"]) == PDF  # tamper-evident: re-hashed on read
    assert db.query(models.Document).count() == 1  # failed uploads left nothing behind


def test_submitting_with_anything_missing_fails_with_the_full_list(gql, server, db) -> None:
    owner = register(gql, server.url, "MAINLAND_CHINA", "Hasty Ltd")
    app_id = owner('mutation { startApplication(category: "sample") { id } }')["startApplication"][
        "id"
    ]
    error = owner.errors(
        "mutation($a: ID!) { submitApplication(application: $a) { id } }", {"a": app_id}
    )[0]
    assert error["extensions"]["code"] == "CHECKLIST_INCOMPLETE"
    keys = {(i["kind"], i["key"]) for i in error["extensions"]["details"]["items"]}
    assert (
        ("DOCUMENT", "business_licence") in keys
        and ("AGREEMENT", "nda") in keys
        and ("PROFILE", "sample") in keys
    )
    assert ("DOCUMENT", "service_price_list") not in keys  # optional
    checklist = owner(
        "query($a: ID!) { applicationChecklist(application: $a) { ready problems { key } } }",
        {"a": app_id},
    )["applicationChecklist"]
    assert checklist["ready"] is False and {p["key"] for p in checklist["problems"]} == {
        k for _, k in keys
    }


# --- the state machine ---------------------------------------------------------------------


def test_an_invalid_transition_names_the_state_and_the_allowed_actions(
    gql, server, sign_in, db
) -> None:
    owner = register(gql, server.url, "OVERSEAS", "Early Bird Ltd")
    app_id = owner('mutation { startApplication(category: "sample") { id } }')["startApplication"][
        "id"
    ]
    reviewer = sign_in(Role.REVIEWER)
    error = reviewer.errors(
        "mutation($a: ID!) { approveApplication(application: $a) { id } }", {"a": app_id}
    )[0]
    assert error["extensions"]["code"] in ("INVALID_TRANSITION", "CHECKLIST_INCOMPLETE")
    error = reviewer.errors(
        "mutation($a: ID!) { startReview(application: $a) { id } }", {"a": app_id}
    )[0]
    assert error["extensions"]["code"] == "INVALID_TRANSITION"
    assert error["extensions"]["details"] == {
        "currentState": "DRAFT",
        "allowedActions": ["SUBMIT", "WITHDRAW"],
    }
    error = owner.errors(
        'mutation($a: ID!) { rejectApplication(application: $a, reason: "x") { id } }',
        {"a": app_id},
    )[0]
    assert error["extensions"]["code"] == "FORBIDDEN"


def test_more_information_then_resubmit(gql, server, sign_in, registry, db) -> None:
    owner = register(gql, server.url, "MAINLAND_CHINA", "Patchy Ltd")
    app_id = prepare(owner, gql, registry, "sample", "MAINLAND_CHINA")
    owner("mutation($a: ID!) { submitApplication(application: $a) { id } }", {"a": app_id})
    reviewer = sign_in(Role.REVIEWER)
    reviewer("mutation($a: ID!) { startReview(application: $a) { id } }", {"a": app_id})
    error = reviewer.errors(
        'mutation($a: ID!) { requestInformation(application: $a, reason: "") { id } }',
        {"a": app_id},
    )[0]
    assert error["extensions"]["code"] == "INVALID_INPUT"  # a reason is required
    back = reviewer(
        'mutation($a: ID!) { requestInformation(application: $a, reason: "The licence scan is unreadable.") { status } }',
        {"a": app_id},
    )
    assert back["requestInformation"]["status"] == "MORE_INFORMATION_REQUESTED"
    upload(owner, app_id, "business_licence", PDF, "licence-v2.pdf")
    assert (
        owner("mutation($a: ID!) { submitApplication(application: $a) { status } }", {"a": app_id})[
            "submitApplication"
        ]["status"]
        == "SUBMITTED"
    )


def test_rejection_starts_the_category_cool_down(gql, server, sign_in, registry, db) -> None:
    owner = register(gql, server.url, "MAINLAND_CHINA", "Rejected Ltd")
    app_id = prepare(owner, gql, registry, "sample", "MAINLAND_CHINA")
    owner("mutation($a: ID!) { submitApplication(application: $a) { id } }", {"a": app_id})
    reviewer = sign_in(Role.REVIEWER)
    reviewer("mutation($a: ID!) { startReview(application: $a) { id } }", {"a": app_id})
    reviewer(
        'mutation($a: ID!) { rejectApplication(application: $a, reason: "No customs registration.") { status } }',
        {"a": app_id},
    )
    error = owner.errors('mutation { startApplication(category: "sample") { id } }')[0]
    assert error["extensions"]["code"] == "REAPPLY_COOLDOWN"
    available = date.fromisoformat(error["extensions"]["details"]["availableFrom"][:10])
    assert available == date.today() + timedelta(
        days=registry.categories["sample"].onboarding.reapply_cooldown_days
    )
    assert (
        owner('mutation { startApplication(category: "spare") { status } }')["startApplication"][
            "status"
        ]
        == "DRAFT"
    )


def test_probation_can_be_extended_once(gql, server, sign_in, registry, db) -> None:
    owner = register(gql, server.url, "MAINLAND_CHINA", "Slow Start Ltd")
    app_id = prepare(owner, gql, registry, "sample", "MAINLAND_CHINA")
    owner("mutation($a: ID!) { submitApplication(application: $a) { id } }", {"a": app_id})
    reviewer = sign_in(Role.REVIEWER)
    reviewer("mutation($a: ID!) { startReview(application: $a) { id } }", {"a": app_id})
    for edge in reviewer(
        "query($a: ID!) { node(id: $a) { ... on Application { documents { edges { node { id } } } } } }",
        {"a": app_id},
    )["node"]["documents"]["edges"]:
        reviewer(
            "mutation($d: ID!) { reviewDocument(document: $d, decision: ACCEPT) { status } }",
            {"d": edge["node"]["id"]},
        )
    first = reviewer(
        "mutation($a: ID!) { approveApplication(application: $a) { probationEndsAt } }",
        {"a": app_id},
    )["approveApplication"]
    extended = reviewer(
        'mutation($a: ID!) { decideProbation(application: $a, decision: EXTEND, reason: "Only 12 of 20 pilot jobs so far.") { status probationEndsAt probationExtended } }',
        {"a": app_id},
    )["decideProbation"]
    assert (
        extended["status"] == "PROBATION"
        and extended["probationExtended"] is True
        and extended["probationEndsAt"] > first["probationEndsAt"]
    )
    error = reviewer.errors(
        'mutation($a: ID!) { decideProbation(application: $a, decision: EXTEND, reason: "again") { status } }',
        {"a": app_id},
    )[0]
    assert error["extensions"]["code"] == "ALREADY_EXTENDED"
    failed = reviewer(
        'mutation($a: ID!) { decideProbation(application: $a, decision: FAIL, reason: "Pilot jobs late.") { status } }',
        {"a": app_id},
    )
    assert failed["decideProbation"]["status"] == "REJECTED"


def test_agreements_must_be_signed_exactly_as_published(gql, server, db) -> None:
    owner = register(gql, server.url, "MAINLAND_CHINA", "Careless Signer Ltd")
    app_id = owner('mutation { startApplication(category: "sample") { id } }')["startApplication"][
        "id"
    ]
    error = owner.errors(
        'mutation($a: ID!) { signAgreement(application: $a, agreement: "nda", version: "2026.1", textSha256: "00") { id } }',
        {"a": app_id},
    )[0]
    assert error["extensions"]["code"] == "AGREEMENT_VERSION_MISMATCH"


def test_two_reviewers_cannot_both_win_one_transition(gql, server, sign_in, registry, db) -> None:
    owner = register(gql, server.url, "MAINLAND_CHINA", "Contested Ltd")
    app_id = prepare(owner, gql, registry, "sample", "MAINLAND_CHINA")
    owner("mutation($a: ID!) { submitApplication(application: $a) { id } }", {"a": app_id})
    reviewers = [sign_in(Role.REVIEWER), sign_in(Role.REVIEWER)]
    barrier = threading.Barrier(2)
    results: list[dict[str, Any]] = []

    def act(client: GraphQLClient) -> None:
        barrier.wait()
        results.append(
            client.raw(
                "mutation($a: ID!) { startReview(application: $a) { status } }", {"a": app_id}
            ).json()
        )

    threads = [threading.Thread(target=act, args=(r,)) for r in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wins = [r for r in results if not r.get("errors")]
    losses = [r["errors"][0]["extensions"]["code"] for r in results if r.get("errors")]
    assert len(wins) == 1 and len(losses) == 1
    assert losses[0] in ("CONFLICT", "INVALID_TRANSITION")
    db.expire_all()
    events = db.query(models.DomainEvent).filter_by(event_type="application.start_review").count()
    assert events == 1


def test_other_providers_cannot_touch_an_application(gql, server, registry, db) -> None:
    owner = register(gql, server.url, "OVERSEAS", "Owner Ltd")
    intruder = register(gql, server.url, "OVERSEAS", "Intruder Ltd")
    app_id = owner('mutation { startApplication(category: "sample") { id } }')["startApplication"][
        "id"
    ]
    error = intruder.errors(
        "query($a: ID!) { applicationChecklist(application: $a) { ready } }", {"a": app_id}
    )[0]
    assert error["extensions"]["code"] == "NOT_FOUND"
    response = upload(intruder, app_id, "business_licence", PDF, "x.pdf").json()
    assert response["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_a_new_mandatory_agreement_version_requires_signing_again(
    gql, server, registry, db, migrated
) -> None:
    """Signed v2026.1; the category publishes v2027.1 → the checklist says OUTDATED."""
    import asyncio
    import dataclasses

    from linkstar.core.kernel.db import create_engine, session_factory
    from linkstar.core.onboarding import applications as onboarding

    owner = register(gql, server.url, "MAINLAND_CHINA", "Signed Before Ltd")
    app_id = prepare(owner, gql, registry, "sample", "MAINLAND_CHINA")
    contribution = registry.categories["sample"]
    old = contribution.onboarding
    new_nda = dataclasses.replace(
        old.agreements[1], version="2027.1", text=old.agreements[1].text + "4. New clause.\n"
    )
    newer = dataclasses.replace(old, agreements=(old.agreements[0], new_nda))

    async def check(policy):
        engine = create_engine(migrated)
        try:
            async with session_factory(engine)() as session:
                application = await session.get(
                    models.Application,
                    int(__import__("base64").b64decode(app_id).decode().split(":")[1]),
                )
                return await onboarding.checklist(session, application, contribution, policy)
        finally:
            await engine.dispose()

    assert asyncio.run(check(old)).ready is True
    result = asyncio.run(check(newer))
    assert result.ready is False
    assert [(p.key, p.status.value) for p in result.problems] == [("nda", "OUTDATED")]
