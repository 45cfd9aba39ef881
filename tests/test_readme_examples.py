"""README.md's examples cannot drift from the API (issue #12, point 12).

Every ```graphql block and every `curl -d` / `-F operations=` payload in the README is parsed
and validated against the composed schema (ids a step would take from the previous one are
`$…` placeholders). A block preceded by `<!-- example: ROLE -->` is also executed over HTTP
against the demo data set, as that role, and must answer data without errors.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import parse, specified_rules, validate
from graphql.validation import LoneAnonymousOperationRule, NoUndefinedVariablesRule

from linkstar.core.contract.registry import load_built_in_registry
from linkstar.core.kernel.errors import error_code_table
from linkstar.core.kernel.vocabulary import ApplicationStatus, Role
from linkstar.core.runtime import tables as models
from linkstar.schema.compose import compose_schema
from tests.harness import REPO, GraphQLClient

README = (REPO / "README.md").read_text()
BLOCK = re.compile(
    r"(?:<!-- example: (?P<role>[\w-]+) -->\n)?```(?P<lang>graphql|sh)\n(?P<body>.*?)```", re.S
)
NOW = "'\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"'"
SPLICE = re.compile(r"'\"\$(\w+)\"'")  # '"$APPLICATION"' inside a single-quoted payload
PAYLOAD = re.compile(r"(?:-d |-F operations=)'(\{.*?\})'(?=\s)", re.S)
# placeholders stand for ids from earlier steps; several operations share one block
RULES = [
    r for r in specified_rules if r not in (NoUndefinedVariablesRule, LoneAnonymousOperationRule)
]


@dataclass
class Example:
    line: int
    role: str | None
    operations: list[tuple[str, dict[str, Any]]]


def _payloads(body: str) -> list[tuple[str, dict[str, Any]]]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = body.replace(NOW, now)
    body = SPLICE.sub(lambda m: f"${m.group(1)}", body)
    found = []
    for raw in PAYLOAD.findall(body):
        payload = json.loads(raw.replace("\\\n", ""))
        found.append((payload["query"], payload.get("variables") or {}))
    return found


def examples() -> list[Example]:
    found = []
    for match in BLOCK.finditer(README):
        line = README.count("\n", 0, match.start()) + 1
        body = match.group("body")
        if match.group("lang") == "graphql":
            operations = [(body, {})]
        else:
            operations = _payloads(body)
            if not operations:
                continue  # a shell block without GraphQL (dev.py, create-admin)
        found.append(Example(line, match.group("role"), operations))
    return found


def test_the_readme_has_examples_to_check() -> None:
    found = examples()
    assert len(found) >= 8
    assert {e.role for e in found} >= {"anonymous", "reviewer", "admin", "partner-logistics"}


@pytest.mark.parametrize("example", examples(), ids=lambda e: f"README.md:{e.line}")
def test_every_readme_operation_validates_against_the_schema(example: Example) -> None:
    schema = compose_schema(load_built_in_registry())._schema
    for query, _ in example.operations:
        errors = validate(schema, parse(query), RULES)
        assert not errors, f"README.md:{example.line}: {[e.message for e in errors]}"


def test_the_readme_error_codes_are_generated_from_the_code() -> None:
    start, end = "<!-- error-codes:start -->\n", "<!-- error-codes:end -->"
    listed = README[README.index(start) + len(start) : README.index(end)]
    assert listed == error_code_table(), "run `linkstar docs error-codes --readme README.md`"


# --- executed against the demo ---------------------------------------------------------------

ADMIN_PASSWORD = "your long passphrase"  # the one the README's sign-in example uses


async def _load_demo(url: Any, registry: Any) -> None:
    from linkstar.core.kernel.db import create_engine, session_factory
    from linkstar.core.kpi.catalog import record_metric_versions
    from linkstar.core.runtime.demo import load_demo

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await record_metric_versions(session, registry)
            await load_demo(session, registry, seed=2026)
    finally:
        await engine.dispose()


def _non_empty(data: dict[str, Any], where: str) -> None:
    for key, value in data.items():
        assert value not in (None, [], {}), f"{where}: {key} is empty"
        if isinstance(value, dict) and "totalCount" in value:
            assert value["totalCount"] > 0, f"{where}: {key} has no items"
        if isinstance(value, dict) and "edges" in value:
            assert value["edges"], f"{where}: {key} has no items"


def test_the_runnable_examples_answer_on_the_demo(migrated, registry, server, gql, sign_in, db):
    asyncio.run(_load_demo(migrated, registry))
    from linkstar.core.identity.accounts import hash_password

    db.add(
        models.Account(
            email="admin@example.com",
            display_name="Admin",
            password_hash=hash_password(ADMIN_PASSWORD),
            role=Role.ADMIN,
        )
    )
    db.commit()
    logistics = (
        db.query(models.Application)
        .filter_by(category_key="logistics", status=ApplicationStatus.ACTIVE)
        .order_by(models.Application.id)
        .first()
    )
    from linkstar.core.runtime.demo_marketplace import SELLER_PASSWORD

    seller_token = gql(
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
        {"e": "seller1@demo.linkstar.example", "p": SELLER_PASSWORD},
    )["login"]["accessToken"]
    ordered = db.query(models.Order).order_by(models.Order.id).first()
    clients = {
        "anonymous": gql,
        "admin": gql,  # the example signs in itself
        "reviewer": sign_in(Role.REVIEWER),
        "partner-logistics": sign_in(Role.PARTNER, provider_id=logistics.provider_id, owner=True),
        "seller": GraphQLClient(server.url, seller_token),  # the demo's first seller
        "provider": sign_in(Role.PARTNER, provider_id=ordered.provider_id, owner=True),
    }
    ran = 0
    for example in examples():
        if example.role is None:
            continue
        client = clients[example.role]
        for query, variables in example.operations:
            data = client(query, variables)
            _non_empty(data, f"README.md:{example.line}")
            if "login" in data:  # later payloads of the block send this token
                client = GraphQLClient(server.url, data["login"]["accessToken"])
            if "reportObservations" in data:
                assert data["reportObservations"] == {"accepted": 1, "duplicates": 0}
            ran += 1
    assert ran >= 7


def test_profile_data_in_the_readme_passes_the_category_profile() -> None:
    """The keys of saveCategoryProfile's `data` are the plugin's (snake_case) profile keys."""
    from graphql import value_from_ast_untyped, visit
    from graphql.language import Visitor

    registry = load_built_in_registry()
    checked = []

    class Profiles(Visitor):
        def enter_field(self, node: Any, *_: Any) -> None:
            if node.name.value != "saveCategoryProfile":
                return
            args = {a.name.value: value_from_ast_untyped(a.value) for a in node.arguments}
            registry.category(args["category"]).profile.validate(args["data"])
            checked.append(args["category"])

    for example in examples():
        for query, _ in example.operations:
            visit(parse(query), Profiles())
    assert checked == ["agency"]
