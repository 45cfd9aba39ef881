"""Regressions for holes a security review found; each test fails on the old code."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlparse

import httpx
from graphql import get_introspection_query

from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role
from linkstar.core.runtime import tables as models
from tests.harness import LOGIN, PASSWORD, global_id


def post(server, query: str, variables: dict | None = None, **kwargs) -> httpx.Response:
    return httpx.post(
        f"{server.url}/graphql", json={"query": query, "variables": variables or {}}, **kwargs
    )


def test_fragments_on_interfaces_are_costed_by_their_type_condition(server) -> None:
    ids = [global_id("Provider", i) for i in range(1, 101)]
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Provider { observations(first: 100) {
        edges { node { provider { observations(first: 100) { edges { node { id } } } } } } } } } }"""
    body = post(server, query, {"ids": ids}).json()
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


def test_exponential_fragment_fan_out_is_measured_in_linear_time(server) -> None:
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    query = "{ ...F0 } " + fragments + " fragment F40 on Query { serviceCategories { totalCount } }"
    response = post(server, query)  # 2^40 paths: would never return if expanded naively
    assert response.status_code == 200


def test_development_tools_can_introspect(server) -> None:
    body = post(server, get_introspection_query()).json()
    assert "errors" not in body and body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_chunked_bodies_cannot_slip_past_the_size_limit(server) -> None:
    url = urlparse(server.url)
    payload = json.dumps({"query": "{ __typename }"}).encode()
    request = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        + f"{len(payload):x}\r\n".encode()
        + payload
        + b"\r\n0\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request)
        answer = sock.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 4"), answer[:80]


def test_the_executed_operation_is_audited_even_behind_fragments(sign_in, db) -> None:
    admin = sign_in(Role.ADMIN)
    document = """query A { __typename }
      mutation B { ...M }
      fragment M on Mutation { createStaffAccount(email: "hidden@linkstar.example", password: "a long staff passphrase", displayName: "H", role: ADMIN) { email } }"""
    response = admin.http.post("/graphql", json={"query": document, "operationName": "B"}).json()
    assert "errors" not in response, response
    entry = db.query(models.AuditEntry).filter_by(action="mutation.createStaffAccount").one()
    assert entry.target == "email=hidden@linkstar.example" and entry.outcome.value == "SUCCESS"


def test_the_directory_lists_a_category_only_once_the_provider_is_in_its_pool(gql, db) -> None:
    provider = models.Provider(
        legal_name="Half In", region=Region.OVERSEAS, registration_number="R-HI"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id, category_key="sample", status=ApplicationStatus.ACTIVE
        )
    )
    db.add(
        models.Application(
            provider_id=provider.id, category_key="spare", status=ApplicationStatus.IN_REVIEW
        )
    )
    db.commit()

    def names(c):
        return [
            e["node"]["legalName"]
            for e in gql(
                f'{{ providers(filter: {{category: "{c}"}}) {{ edges {{ node {{ legalName }} }} }} }}'
            )["providers"]["edges"]
        ]

    assert names("sample") == ["Half In"] and names("spare") == []


def test_a_password_change_revokes_api_tokens(sign_in, server, db) -> None:
    client = sign_in(Role.SELLER)
    token = client(
        'mutation { createApiToken(name: "t", scopes: [READ], expiresInDays: 5) { token } }'
    )["createApiToken"]["token"]
    client(
        'mutation { changePassword(currentPassword: "correct horse battery staple", newPassword: "another long passphrase") { accessToken } }'
    )
    assert (
        post(
            server, "{ viewer { email } }", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 401
    )


def test_bad_input_never_becomes_an_internal_error(server, sign_in, db) -> None:
    admin = sign_in(Role.ADMIN)
    codes = [
        post(
            server,
            "query($d: DateTime!) { auditLog(filter: {since: $d}) { totalCount } }",
            {"d": "not-a-date"},
        ).json()["errors"][0]["extensions"]["code"],
        admin.errors('{ auditLog(filter: {since: "2026-01-01T00:00:00"}) { totalCount } }')[0][
            "extensions"
        ]["code"],
    ]
    assert codes == ["BAD_USER_INPUT", "INVALID_INPUT"]
    for node_id in ("Provider:99999999999999999999999", "Account:\u00b2", "AgencyProfile:abc"):
        import base64

        gid = base64.b64encode(node_id.encode()).decode()
        assert admin("query($id: ID!) { node(id: $id) { id } }", {"id": gid})["node"] is None


def test_long_emails_cannot_break_sign_in(gql, db) -> None:
    email = "a" * 230 + "@example.com"
    error = gql.errors(LOGIN, {"email": email, "password": PASSWORD})[0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
