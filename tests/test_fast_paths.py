"""The read path's shape, over real HTTP: one connection and one transaction per query, the
same answers and the same refusals when a document is sent again (parsed and validated once)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from tests.harness import global_id
from tests.test_graphql_api import add_provider

SAMPLE = ("sample", "on_time_rate")  # the fixture category's metric (tests/fixture_category.py)

DIRECTORY = """{ providers(first: 20) { totalCount edges { node {
    legalName marketplaces publicStandings { category standing tier }
    applications(first: 3) { totalCount edges { node { status } } }
    observations(first: 3) { totalCount edges { node { value } } }
} } } }"""


@contextmanager
def pool_activity(server: Any) -> Iterator[dict[str, int]]:
    """Counts connection checkouts and transactions the server starts inside the block."""
    engine = server.app.state.engine.sync_engine
    seen = {"checkouts": 0, "transactions": 0}

    def checkout(*_: Any) -> None:
        seen["checkouts"] += 1

    def begin(*_: Any) -> None:
        seen["transactions"] += 1

    event.listen(engine.pool, "checkout", checkout)
    event.listen(engine, "begin", begin)
    try:
        yield seen
    finally:
        event.remove(engine.pool, "checkout", checkout)
        event.remove(engine, "begin", begin)


def test_an_anonymous_query_reads_through_one_connection_and_one_transaction(
    gql, db, server
) -> None:
    # given providers in the pool, so the page runs the count, the page and four loaders
    for i in range(3):
        add_provider(
            db, f"Shared read {i}", categories=("sample",), observations=2, observed=SAMPLE
        )
    # when an anonymous visitor asks for the directory with nested lists
    with pool_activity(server) as seen, server.statements() as counter:
        data = gql(DIRECTORY)
    # then every statement went through one checkout and one transaction
    assert len(data["providers"]["edges"]) >= 3
    assert counter.count >= 4
    assert seen == {"checkouts": 1, "transactions": 1}, seen


def test_a_signed_in_query_adds_only_the_credential_check(staff, db, server) -> None:
    add_provider(db, "Shared read staff", categories=("sample",), observations=2, observed=SAMPLE)
    with pool_activity(server) as seen:
        data = staff(DIRECTORY)
    assert data["providers"]["edges"]
    # one for the session check before GraphQL runs, one for every read of the query
    assert seen["checkouts"] == 2, seen


def test_a_mutation_writes_in_its_own_transaction_and_the_next_query_reads_it(staff, db) -> None:
    provider = add_provider(db, "Shared read mutation", categories=("sample",))
    pid = global_id("Provider", provider.id)
    recorded = staff(
        """mutation($p: ID!) { recordViolation(provider: $p, category: "sample",
             severity: MINOR, description: "late reply", occurredAt: "2026-10-02T08:00:00Z")
             { points } }""",
        {"p": pid},
    )
    assert recorded["recordViolation"]["points"] == 1
    data = staff(
        """query($p: ID!) { node(id: $p) { ... on Provider { legalName
             violations { edges { node { points description } } } } } }""",
        {"p": pid},
    )
    assert data["node"]["violations"]["edges"] == [
        {"node": {"points": 1, "description": "late reply"}}
    ]


def test_a_repeated_document_gets_the_same_answer(gql, db) -> None:
    add_provider(db, "Repeated document", categories=("sample",))
    first = gql(DIRECTORY)
    assert gql(DIRECTORY) == first


def test_a_refused_document_is_refused_again_with_its_code(server) -> None:
    deep = "{ providers { edges { node { " + "applications { edges { node { provider { " * 4
    deep += "id" + " } } } }" * 4 + " } } } }"
    for _ in range(3):
        body = httpx.post(f"{server.url}/graphql", json={"query": deep}).json()
        assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    typo = "{ providers { totalCount secretField } }"
    for _ in range(2):
        body = httpx.post(f"{server.url}/graphql", json={"query": typo}).json()
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_the_same_document_is_checked_against_each_operations_variables(gql, db) -> None:
    query = "query($n: Int) { providers(first: $n) { edges { node { legalName } } } }"
    add_provider(db, "Variables one", categories=("sample",))
    assert gql(query, {"n": 1})["providers"]["edges"]
    errors = gql.errors(query, {"n": 101})
    assert errors[0]["extensions"]["code"] == "INVALID_PAGINATION"
    errors = gql.errors(query, {"n": "many"})
    assert errors[0]["extensions"]["code"]


def test_the_timing_equaliser_hash_uses_the_hashers_current_parameters() -> None:
    # an unknown email is verified against this constant: same cost as a real account's hash
    from linkstar.core.identity import accounts

    assert not accounts._hasher.check_needs_rehash(accounts._DUMMY_HASH)
    assert accounts._verify(accounts._DUMMY_HASH, "linkstar-timing-equaliser")
