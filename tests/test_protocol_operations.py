"""GraphQL over HTTP media types, request ids, /metrics and JSON logs — over real HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import URL

from tests.harness import Server, free_port

GQL = "application/graphql-response+json"
LINKSTAR = Path(sys.executable).parent / "linkstar"


def post(server: Server, body: Any, accept: str | None, raw: bytes | None = None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if accept is not None:
        headers["accept"] = accept
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.post(f"{server.url}/graphql", content=content, headers=headers, timeout=30)


def media(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


# --- media-type negotiation -------------------------------------------------------------


def test_graphql_response_json_answers_a_valid_query_with_200(server: Server) -> None:
    response = post(server, {"query": "{ serviceCategories { totalCount } }"}, GQL)
    assert response.status_code == 200
    assert media(response) == GQL
    assert response.json()["data"]["serviceCategories"]["totalCount"] >= 4


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ serviceCategories { totalCount "},  # syntax error
        {"query": "{ serviceCategories { noSuchField } }"},  # validation error
        {
            "query": "query($n: Int!) { providers(first: $n) { totalCount } }",
            "variables": {"n": "x"},
        },
        {"query": "query A { __typename }", "operationName": "B"},  # no such operation
    ],
    ids=["syntax", "validation", "variables", "no-operation"],
)
def test_graphql_response_json_refuses_a_request_that_cannot_run_with_400(
    server: Server, body: dict[str, Any]
) -> None:
    response = post(server, body, GQL)
    assert response.status_code == 400, response.text
    assert media(response) == GQL
    payload = response.json()
    assert "data" not in payload  # the request never executed
    assert payload["errors"] and payload["errors"][0]["message"]


def test_graphql_response_json_keeps_200_when_a_field_fails(server: Server) -> None:
    response = post(server, {"query": "{ providers(first: 1000) { totalCount } }"}, GQL)
    payload = response.json()
    assert response.status_code == 200, payload  # it executed: the spec's 200, data present
    assert "data" in payload and payload["errors"][0]["path"] == ["providers"]
    assert payload["errors"][0]["extensions"]["code"] == "INVALID_PAGINATION"


def test_application_json_keeps_200_for_a_validation_error(server: Server) -> None:
    response = post(server, {"query": "{ serviceCategories { noSuchField } }"}, "application/json")
    assert response.status_code == 200
    assert media(response) == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_no_accept_header_gets_application_json(server: Server) -> None:
    response = post(server, {"query": "{ __typename }"}, None)
    assert response.status_code == 200 and media(response) == "application/json"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (f"application/json;q=0.9, {GQL}", GQL),
        (f"{GQL};q=0.5, application/json", "application/json"),
        (f"{GQL}, application/json", GQL),
        ("*/*", "application/json"),
        ("text/html", "application/json"),  # neither: the default, as the spec allows
    ],
)
def test_accept_header_quality_values_pick_the_media_type(
    server: Server, accept: str, expected: str
) -> None:
    response = post(server, {"query": "{ __typename }"}, accept)
    assert response.status_code == 200 and media(response) == expected


@pytest.mark.parametrize("accept", [GQL, "application/json"])
def test_unparseable_json_is_a_graphql_shaped_400_in_either_media_type(
    server: Server, accept: str
) -> None:
    response = post(server, None, accept, raw=b'{"query": ')
    assert response.status_code == 400
    assert media(response) == accept
    assert response.json()["errors"][0]["extensions"]["code"] == "MALFORMED_REQUEST"


# --- request ids ---------------------------------------------------------------------------


def test_every_response_carries_a_request_id(server: Server) -> None:
    first = httpx.get(f"{server.url}/healthz").headers["x-request-id"]
    second = httpx.get(f"{server.url}/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_a_sane_incoming_request_id_is_kept_and_an_unsafe_one_replaced(server: Server) -> None:
    kept = httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": "edge-7f3a.42"})
    assert kept.headers["x-request-id"] == "edge-7f3a.42"
    for bad in ["a b<script>", "x" * 300, "-leading-dash"]:
        replaced = httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": bad})
        assert replaced.headers["x-request-id"] != bad
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])


# --- /metrics ----------------------------------------------------------------------------


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if not head.startswith(name + "{") and head != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', head))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def test_metrics_count_operations_by_name_and_outcome(server: Server) -> None:
    before = httpx.get(f"{server.url}/metrics").text
    for _ in range(3):
        post(server, {"query": "query MetricsProbe { __typename }"}, None)
    post(server, {"query": "query MetricsProbe { nope }"}, None)
    after = httpx.get(f"{server.url}/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    ok = dict(operation="MetricsProbe", type="query", outcome="ok")
    rejected = dict(operation="MetricsProbe", outcome="rejected")
    total = "linkstar_graphql_operations_total"
    assert sample(text, total, **ok) - sample(before, total, **ok) == 3
    assert sample(text, total, **rejected) - sample(before, total, **rejected) == 1
    count = "linkstar_graphql_operation_duration_seconds_count"
    assert sample(text, count, operation="MetricsProbe", type="query") >= 3
    assert sample(text, "linkstar_http_requests_total", route="/graphql", status="200") >= 4
    assert "linkstar_db_pool_connections_in_use" in text
    assert sample(text, "linkstar_db_pool_size") >= 1


def test_operation_name_labels_are_bounded(server: Server) -> None:
    post(server, {"query": "query Wéird { __typename }"}, None)  # not a GraphQL name
    text = httpx.get(f"{server.url}/metrics").text
    assert "Wéird" not in text


def test_an_evaluation_is_timed(server: Server, sign_in: Any) -> None:
    from linkstar.core.kernel.vocabulary import Role

    admin = sign_in(Role.ADMIN)
    admin('mutation { evaluatePeriod(period: "2026-09", category: "sample") { evaluated } }')
    text = httpx.get(f"{server.url}/metrics").text
    assert sample(text, "linkstar_evaluation_duration_seconds_count", category="sample") >= 1


# --- the server as operators run it: several workers, JSON logs --------------------------


def test_workers_share_metrics_and_log_json_with_the_request_id(fresh_database_url: URL) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LINKSTAR_")}
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    environment["LINKSTAR_DATABASE_URL"] = fresh_database_url.render_as_string(hide_password=False)
    upgraded = subprocess.run(
        [str(LINKSTAR), "db", "upgrade"], env=environment, capture_output=True, timeout=300
    )
    assert upgraded.returncode == 0, upgraded.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(LINKSTAR), "serve", "--port", str(port), "--workers", "2"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        for n in range(8):  # a new connection each: the workers share them out
            httpx.post(
                f"{base}/graphql",
                json={"query": "query Counted { __typename }"},
                headers={"X-Request-ID": f"probe-{n}"},
            )
        # every worker answers for all of them
        for _ in range(4):
            text = httpx.get(f"{base}/metrics").text
            assert (
                sample(text, "linkstar_graphql_operations_total", operation="Counted", outcome="ok")
                == 8
            ), text
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    probe = [r for r in records if r.get("request_id") == "probe-3" and r["message"] == "request"]
    assert probe, stderr[-2000:]
    assert probe[0]["path"] == "/graphql" and probe[0]["status"] == 200
    assert probe[0]["level"] == "INFO" and "duration_ms" in probe[0] and "time" in probe[0]
