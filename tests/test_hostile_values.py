"""Hostile values into every argument of every root field, generated from the schema itself:
a field added tomorrow is covered without touching this file (issue #15 point 5).

For each root field (queries and mutations) a baseline call is built with plausible values
for its required arguments (ids of demo data), then one position at a time (an argument, or
a field of an input object, nested) is replaced by a hostile value of its type: NUL, a lone
surrogate, an over-long string, an overflowing id, extreme numbers and decimals, dates at and
beyond the accepted bounds, deeply nested JSON. No answer may be an HTTP 500 or carry
INTERNAL_SERVER_ERROR, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
)
from sqlalchemy.orm import Session

from linkstar.core.kernel.db import create_engine, session_factory
from linkstar.core.kernel.vocabulary import Role
from linkstar.core.runtime.demo import load_demo

OVERLONG = "x" * 5_000


def gid(type_name: str, number: int | str) -> str:
    return base64.b64encode(f"{type_name}:{number}".encode()).decode()


def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"a": value}
    return value


# Hostile values by named type; strings also get NUL and surrogates (refused at the edge).
HOSTILE: dict[str, list[Any]] = {
    "String": ["a\x00b", "\ud800", OVERLONG, ""],
    "ID": ["a\x00", "\udfff", OVERLONG, gid("Provider", "9" * 40), gid("Provider", -1), "!!"],
    "Int": [2**31 - 1, -(2**31), 0],
    "Float": [1.7e308, -1.7e308],
    "Boolean": [True],
    "Decimal": ["1e999999", "NaN", "-Infinity", "9" * 38, "0.0000000000000000001", "-1"],
    "DateTime": [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "2199-12-31T23:59:59Z",
        "2000-01-01T00:00:00Z",
        "2026-01-01T00:00:00",
    ],
    "Date": ["0001-01-01", "9999-12-31", "2199-12-31", "1900-01-01"],
    "JSON": [_deep(55), {"n": 10**30}, {"s": "a\x00"}, ["\ud800"]],
}

ID_TYPES = {  # argument name → the node type its baseline id names
    "id": "Provider",
    "ids": "Provider",
}


def _baseline_id(name: str) -> str:
    base = name.removesuffix("Id").removesuffix("Ids").removesuffix("s")
    type_name = ID_TYPES.get(name) or (base[:1].upper() + base[1:]) or "Provider"
    return gid(type_name, 1)


def baseline(type_: Any, name: str, depth: int = 0) -> Any:
    """A plausible value for a required position (None when none can be built)."""
    if isinstance(type_, GraphQLNonNull):
        return baseline(type_.of_type, name, depth)
    if isinstance(type_, GraphQLList):
        inner = baseline(type_.of_type, name, depth)
        return [] if inner is None else [inner]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        if depth > 4:
            return None
        value = {}
        for field_name, field in type_.fields.items():
            if isinstance(field.type, GraphQLNonNull):
                value[field_name] = baseline(field.type, field_name, depth + 1)
        return value
    scalar = type_.name
    if scalar == "ID":
        return _baseline_id(name)
    if scalar == "String":
        return "sample" if name in ("category", "categoryKey") else "value"
    return {
        "Int": 1,
        "Float": 1.0,
        "Boolean": False,
        "Decimal": "1",
        "DateTime": "2026-01-15T00:00:00Z",
        "Date": "2026-01-15",
        "JSON": {},
        "Upload": None,
    }.get(scalar, "value")


def variants(type_: Any, name: str, depth: int = 0) -> Iterator[Any]:
    """Hostile values for one position of `type_`, one position changed at a time."""
    named = get_named_type(type_)
    is_list = isinstance(type_, GraphQLList) or (
        isinstance(type_, GraphQLNonNull) and isinstance(type_.of_type, GraphQLList)
    )
    if isinstance(named, GraphQLScalarType):
        for value in HOSTILE.get(named.name, []):
            yield [value] if is_list else value
    elif isinstance(named, GraphQLInputObjectType) and depth < 3:
        base = baseline(named, name, depth)
        if base is None:
            return
        for field_name, field in named.fields.items():
            for value in variants(field.type, field_name, depth + 1):
                changed = {**base, field_name: value}
                yield [changed] if is_list else changed


def _selection(type_: Any) -> str:
    return "" if is_leaf_type(get_named_type(type_)) else " { __typename }"


def calls(schema: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(description, document, variables) for every hostile call of every root field."""
    for operation, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        for field_name, field in root.fields.items():
            if not field.args:
                continue
            arguments = {
                a: d for a, d in field.args.items() if get_named_type(d.type).name != "Upload"
            }
            required = {
                a: baseline(d.type, a)
                for a, d in arguments.items()
                if isinstance(d.type, GraphQLNonNull)
            }
            if any(v is None for v in required.values()):
                continue
            names = list(arguments)
            header = ", ".join(f"${a}: {arguments[a].type}" for a in names)
            passed = ", ".join(f"{a}: ${a}" for a in names)
            document = f"{operation}({header}) {{ {field_name}({passed}){_selection(field.type)} }}"
            for argument in names:
                for value in variants(arguments[argument].type, argument):
                    yield f"{field_name}.{argument}", document, {**required, argument: value}


@pytest.fixture
def demo_data(db: Session, server, registry) -> None:
    async def load() -> None:
        engine = create_engine(server.app.state.engine.url)
        try:
            async with session_factory(engine)() as session, session.begin():
                await load_demo(session, registry, per_category=1)
        finally:
            await engine.dispose()

    asyncio.run(load())


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PARTNER], ids=["as-admin", "as-provider-owner"])
def test_hostile_values_in_every_argument_never_cause_an_internal_error(
    server, sign_in, demo_data, role: Role, caplog: pytest.LogCaptureFixture
) -> None:
    """As an admin (every staff action) and as the owner of provider 1 (every provider action),
    so the calls get past the policy layer into the resolvers."""
    schema = server.app.state.schema._schema

    def signed_in() -> Any:
        return sign_in(role, provider_id=1, owner=True) if role is Role.PARTNER else sign_in(role)

    admin = signed_in()
    failures: list[str] = []
    sent = 0
    for description, document, variables in calls(schema):
        body = json.dumps({"query": document, "variables": variables})  # \u-escapes surrogates
        response = admin.http.post(
            "/graphql", content=body.encode(), headers={"Content-Type": "application/json"}
        )
        sent += 1
        if response.status_code == 401:  # a mutation ended our session: sign in again
            admin = signed_in()
            continue
        if response.status_code >= 500:
            failures.append(f"{description} {str(variables)[:200]} → HTTP {response.status_code}")
            continue
        for error in response.json().get("errors") or []:
            if error.get("extensions", {}).get("code") in (None, "INTERNAL_SERVER_ERROR"):
                failures.append(f"{description} {str(variables)[:200]} → {error}")
    assert sent > 500  # the walk reached the schema (guards against an empty generator)
    assert not failures, "\n".join(failures[:40])
    tracebacks = [
        r.getMessage() for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR
    ]
    assert not tracebacks, tracebacks[:5]


VIOLATION = """mutation($p: ID!, $c: String!, $e: String) { recordViolation(provider: $p,
  category: $c, severity: MINOR, description: "late twice", occurredAt: "2026-01-02T00:00:00Z",
  evidenceRef: $e) { id } }"""


def test_both_databases_refuse_text_longer_than_its_column(server, sign_in, demo_data) -> None:
    """evidence_ref is varchar(255): 300 characters are refused on SQLite too, with a code."""
    admin = sign_in(Role.ADMIN)
    categories = admin("{ serviceCategories { edges { node { key } } } }")
    categories = [e["node"] for e in categories["serviceCategories"]["edges"]]
    variables = {"p": gid("Provider", 1), "e": "x" * 300}
    for category in (c["key"] for c in categories):
        errors = admin.raw(VIOLATION, {**variables, "c": category}).json().get("errors")
        if errors and errors[0]["extensions"]["code"] in ("NOT_FOUND", "INVALID_INPUT"):
            continue  # provider 1 is not in this category
        break
    assert errors is not None and errors[0]["extensions"]["code"] == "TEXT_TOO_LONG", errors
    assert errors[0]["extensions"]["details"] == {"field": "evidence_ref", "maxLength": 255}
    accepted = admin.raw(VIOLATION, {**variables, "c": category, "e": "x" * 255}).json()
    assert "errors" not in accepted, accepted
