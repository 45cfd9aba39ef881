"""Malformed requests and hostile values: always a 4xx (or a GraphQL error) with a JSON body and
a stable code, never plain text, a 500 or a traceback (issue #12 point 5, issue #15 point 5)."""

from __future__ import annotations

import json
import logging
import time

import httpx
import jwt
import pytest

from tests.harness import TEST_SECRET


def post_raw(server, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/graphql",
        content=content,
        headers={"Content-Type": "application/json", **headers},
        timeout=30,
    )


def refused(response: httpx.Response, code: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"][0]["extensions"]["code"] == code, response.text


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO)
    yield
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert record.levelno < logging.ERROR, record.getMessage()


QUERY = b'{"query": "{ viewer { email } }", "variables": %s}'


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'"a string"', "MALFORMED_REQUEST"),
        (b"42", "MALFORMED_REQUEST"),
        (b"null", "MALFORMED_REQUEST"),
        (b'{"query": "{ viewer { email } }"', "MALFORMED_REQUEST"),  # truncated
        (b'{"query": "{ viewer { email } }", "variables": "oops"}', "MALFORMED_REQUEST"),
        (b'{"query": null}', "MALFORMED_REQUEST"),
        (b'{"query": "{ viewer { email } }", "operationName": 5}', "MALFORMED_REQUEST"),
        (
            b'{"query": "{ viewer { email } }", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}",
            "MALFORMED_REQUEST",
        ),
        (QUERY % (b'{"v": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"), "MALFORMED_REQUEST"),
        (QUERY % (b'{"v": ' + b"9" * 5000 + b"}"), "MALFORMED_REQUEST"),
        (QUERY % b'{"v": "\xff\xfe"}', "INVALID_TEXT"),
        (b'{"query": "{ viewer { email } }\xc3"}', "INVALID_TEXT"),
        (QUERY % b'{"v": "a\\u0000"}', "INVALID_TEXT"),
        (QUERY % b'{"v": "\\ud800"}', "INVALID_TEXT"),
        (QUERY % b'{"v\\u0000": 1}', "INVALID_TEXT"),
    ],
)
def test_malformed_json_bodies(server, staff, no_tracebacks, body: bytes, code: str) -> None:
    """Signed in, so the larger bodies get past the anonymous size limit to their check."""
    refused(post_raw(server, body, Authorization=staff.http.headers["Authorization"]), code)


def test_document_size_is_bounded_separately_comments_included(
    server, staff, no_tracebacks
) -> None:
    document = "{ viewer { email } } #" + "x" * 200_000
    body = json.dumps({"query": document}).encode()
    authorization = staff.http.headers["Authorization"]
    refused(post_raw(server, body, Authorization=authorization), "QUERY_TOO_LARGE", 413)


def test_get_parameters_are_checked_too(server, no_tracebacks) -> None:
    for params, code in (
        ({"query": "{ viewer { email } }", "variables": "oops"}, "MALFORMED_REQUEST"),
        ({"query": "{ viewer { email } }", "variables": '{"a": "\\u0000"}'}, "INVALID_TEXT"),
        ({"query": "{ viewer { email } }\x00"}, "INVALID_TEXT"),
    ):
        refused(httpx.get(f"{server.url}/graphql", params=params), code)


def test_nul_and_surrogates_in_document_literals_are_refused(gql, no_tracebacks) -> None:
    errors = gql.errors('{ providers(filter: {nameContains: "a\\u0000"}) { totalCount } }')
    assert errors[0]["extensions"]["code"] == "INVALID_TEXT"
    errors = gql.errors('{ providers(filter: {nameContains: "\\ud800"}) { totalCount } }')
    assert errors[0]["message"].startswith("Syntax Error: Invalid Unicode escape")  # the lexer
    errors = gql.errors('{ node(id: "UHJvdmlkZXI6MQ==\\u0000") { id } }')
    assert errors[0]["extensions"]["code"] == "INVALID_TEXT"


def _multipart(staff, files: list) -> httpx.Response:
    """Signed in: anonymous bodies are refused by size long before these checks."""
    return staff.http.post("/graphql", files=files, headers={"X-LinkStar-CSRF": "1"})


OPERATIONS = ("operations", (None, '{"query": "{ viewer { email } }", "variables": {}}'))


def test_multipart_with_a_huge_file_name(staff, no_tracebacks) -> None:
    files = [OPERATIONS, ("map", (None, "{}")), ("0", ("x" * 10_000, b"data", "text/plain"))]
    refused(_multipart(staff, files), "MALFORMED_REQUEST")


def test_multipart_with_too_many_parts(staff, no_tracebacks) -> None:
    files = [OPERATIONS, ("map", (None, "{}"))]
    files += [(f"f{i}", (None, "x")) for i in range(2000)]
    refused(_multipart(staff, files), "MALFORMED_REQUEST")


def test_multipart_operations_are_checked_like_json(staff, no_tracebacks) -> None:
    files = [("operations", (None, '"oops"')), ("map", (None, "{}"))]
    refused(_multipart(staff, files), "MALFORMED_REQUEST")
    files = [
        ("operations", (None, '{"query": "{ viewer { email } }\\u0000"}')),
        ("map", (None, "{}")),
    ]
    refused(_multipart(staff, files), "INVALID_TEXT")


@pytest.mark.parametrize(
    "claims", [{"sub": "abc", "sid": 1}, {"sub": "1", "sid": "x"}, {"sub": [1], "sid": {}}]
)
def test_signed_token_with_non_numeric_subject_or_session(server, no_tracebacks, claims) -> None:
    token = jwt.encode({**claims, "exp": int(time.time() + 600)}, TEST_SECRET, algorithm="HS256")
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": "{ viewer { email } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    refused(response, "UNAUTHENTICATED", 401)


REPORT = """mutation($at: DateTime!) { recordViolation(provider: "UHJvdmlkZXI6MQ==",
  category: "sample", severity: MINOR, occurredAt: $at, description: "d") { __typename } }"""


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-01:00",
        "1900-01-01T00:00:00Z",
    ],
)
def test_implausible_dates_are_refused_with_a_code(staff, no_tracebacks, value: str) -> None:
    errors = staff.errors(REPORT, {"at": value})
    assert errors[0]["extensions"]["code"] == "DATE_OUT_OF_RANGE", errors


def test_dates_in_range_pass_the_scalar(staff) -> None:
    errors = staff.errors(REPORT, {"at": "2026-01-01T00:00:00+08:00"})
    assert errors[0]["extensions"]["code"] != "DATE_OUT_OF_RANGE"
