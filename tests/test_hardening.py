"""Each GraphQL limit bites, with a clear error code; production hides what development shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from linkstar.core.contract.registry import load_registry
from linkstar.core.kernel.config import Settings
from linkstar.core.runtime.migrate import upgrade
from tests.harness import TEST_SECRET, start_server, sync_url


def code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def post(server, query: str, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.url}/graphql", json={"query": query}, **kwargs)


def test_depth_limit(server) -> None:
    nested = "provider { " * 8
    query = (
        "{ providers { edges { node { applications { edges { node { "
        + nested
        + "id"
        + " }" * 8
        + " } } } } } } }"
    )
    response = post(server, query)
    assert code(response) == "QUERY_TOO_DEEP"
    assert "limit is 12" in response.json()["errors"][0]["message"]


def test_depth_limit_follows_fragments(server) -> None:
    query = """{ providers { edges { node { ...A } } } }
      fragment A on Provider { applications { edges { node { provider { applications { edges { node { ...B } } } } } } } }
      fragment B on Application { provider { applications { edges { node { provider { id } } } } } }"""
    assert code(post(server, query)) == "QUERY_TOO_DEEP"


def test_alias_limit(server) -> None:
    query = "{ " + " ".join(f"a{i}: serviceCategories {{ totalCount }}" for i in range(31)) + " }"
    assert code(post(server, query)) == "TOO_MANY_ALIASES"
    fine = "{ " + " ".join(f"a{i}: serviceCategories {{ totalCount }}" for i in range(30)) + " }"
    assert "errors" not in post(server, fine).json()


def test_cost_limit_multiplies_nested_pages(server) -> None:
    query = """{ providers(first: 100) { edges { node {
        applications(first: 100) { edges { node { provider {
          documents(first: 100) { edges { node { sha256 } } } } } } } } } } }"""
    response = post(server, query)
    assert code(response) == "QUERY_TOO_COSTLY"
    assert response.json()["errors"][0]["extensions"]["cost"] > 25_000
    cheaper = query.replace("first: 100", "first: 5")
    assert "errors" not in post(server, cheaper).json()


def test_variables_for_page_sizes_count_as_the_maximum(server) -> None:
    query = """query($n: Int) { providers(first: $n) { edges { node {
        applications(first: $n) { edges { node { provider { documents(first: $n) { edges { node { id } } } } } } } } } } }"""
    response = httpx.post(f"{server.url}/graphql", json={"query": query, "variables": {"n": 1}})
    assert code(response) == "QUERY_TOO_COSTLY"


def test_token_limit(server) -> None:
    query = "{ " + " ".join("serviceCategories { totalCount }" for _ in range(1300)) + " }"
    assert len(query.encode()) < 256 * 1024  # under the byte limit: the token limit bites
    assert code(post(server, query)) == "QUERY_TOO_LARGE"


def test_body_size_limit(server) -> None:
    query = "{ serviceCategories { totalCount } } #" + "x" * (5 * 1024 * 1024)
    response = post(server, query)
    assert response.status_code == 413 and code(response) == "REQUEST_TOO_LARGE"


def test_batched_requests_are_refused(server) -> None:
    response = httpx.post(f"{server.url}/graphql", json=[{"query": "{ viewer { email } }"}] * 2)
    assert response.status_code == 400 and code(response) == "BATCHING_DISABLED"


def test_page_size_limit(server) -> None:
    assert code(post(server, "{ providers(first: 1000) { totalCount } }")) == "INVALID_PAGINATION"


# --- CSRF ----------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_simple_cross_site_content_types_are_refused(server, content_type: str) -> None:
    response = httpx.post(
        f"{server.url}/graphql",
        content=b'{"query": "mutation { logout }"}',
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 415 and code(response) == "UNSUPPORTED_MEDIA_TYPE"


def test_multipart_needs_the_csrf_header(server) -> None:
    files = {
        "operations": (None, '{"query": "{ viewer { email } }", "variables": {}}'),
        "map": (None, "{}"),
    }
    response = httpx.post(f"{server.url}/graphql", files=files)
    assert response.status_code == 400 and code(response) == "CSRF_HEADER_REQUIRED"
    accepted = httpx.post(f"{server.url}/graphql", files=files, headers={"X-LinkStar-CSRF": "1"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["data"] == {"viewer": None}


def test_no_mutations_over_get(server) -> None:
    response = httpx.get(f"{server.url}/graphql", params={"query": "mutation { logout }"})
    assert response.status_code == 405 and code(response) == "METHOD_NOT_ALLOWED"
    query = httpx.get(
        f"{server.url}/graphql", params={"query": "{ serviceCategories { totalCount } }"}
    )
    assert query.status_code == 200 and query.json()["data"]["serviceCategories"]["totalCount"] >= 4


# --- production mode -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def production(migrated, registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from linkstar.core.runtime.app import create_app

    settings = Settings(
        database_url=migrated,
        environment="production",
        disabled_plugins=(),
        storage_dir=str(tmp_path_factory.mktemp("prod")),
        secret_key=TEST_SECRET,
    )
    uv, thread, url = start_server(create_app(settings, registry))
    yield url
    uv.should_exit = True
    thread.join(timeout=10)


def test_production_disables_introspection(production: str, server) -> None:
    query = "{ __schema { types { name } } }"
    response = httpx.post(f"{production}/graphql", json={"query": query})
    assert code(response) == "INTROSPECTION_DISABLED"
    assert "errors" not in post(server, query).json()  # development keeps it


def test_production_hides_field_suggestions(production: str, server) -> None:
    query = "{ serviceCategorys { totalCount } }"
    dev = post(server, query).json()["errors"][0]["message"]
    prod = httpx.post(f"{production}/graphql", json={"query": query}).json()["errors"][0]["message"]
    assert "Did you mean" in dev and "Did you mean" not in prod


def test_production_serves_no_graphiql(production: str, server) -> None:
    headers = {"Accept": "text/html"}
    assert "graphiql" in httpx.get(f"{server.url}/graphql", headers=headers).text.lower()
    page = httpx.get(f"{production}/graphql", headers=headers)
    assert "graphiql" not in page.text.lower()


def test_production_requires_a_secret_key() -> None:
    from linkstar.core.kernel.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="LINKSTAR_SECRET_KEY is required in production"):
        Settings.from_env({"LINKSTAR_ENV": "production"})
    with pytest.raises(ConfigurationError, match="at least 32 characters"):
        Settings.from_env({"LINKSTAR_SECRET_KEY": "short"})


# --- internal errors are masked ------------------------------------------------------------


def test_internal_errors_are_masked(fresh_database_url, tmp_path: Path) -> None:
    from linkstar.core.runtime.app import create_app

    upgrade(fresh_database_url, load_registry())
    engine = create_engine(sync_url(fresh_database_url))
    with engine.begin() as connection:  # break the database under the app's feet
        connection.execute(text("ALTER TABLE providers RENAME TO providers_moved"))
    engine.dispose()
    settings = Settings(
        database_url=fresh_database_url,
        environment="production",
        disabled_plugins=(),
        storage_dir=str(tmp_path),
        secret_key=TEST_SECRET,
    )
    uv, thread, url = start_server(create_app(settings, load_registry()))
    try:
        response = httpx.post(f"{url}/graphql", json={"query": "{ providers { totalCount } }"})
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    body = response.text.lower()
    for leak in (
        "providers_moved",
        "select",
        "traceback",
        "sqlalchemy",
        "operationalerror",
        "undefinedtable",
        "no such table",
    ):
        assert leak not in body, leak


def test_production_hides_argument_enum_and_type_suggestions(production: str, server) -> None:
    for query in (
        "{ providers(frist: 1) { totalCount } }",
        '{ feeQuote(category: "sample", region: MAINLAND_CHIN, tier: REGULAR) { commissionPercent } }',
        '{ node(id: "x") { ... on Providr { id } } }',
    ):
        dev = post(server, query).json()["errors"][0]["message"]
        prod = httpx.post(f"{production}/graphql", json={"query": query}).json()["errors"][0][
            "message"
        ]
        assert "Did you mean" in dev and "Did you mean" not in prod, (dev, prod)
