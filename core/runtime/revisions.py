"""Which migration revisions exist and which a database has, without loading Alembic.

`linkstar serve` refuses a database that lacks a revision `linkstar db upgrade` would apply.
Asking Alembic for its heads means importing it (a fifth of the server's start-up) for a
question the revision files answer by themselves: each names its `revision` and its
`down_revision`(s), and the heads are the revisions no other revision builds on. The files
are read, never executed. Applying migrations stays with Alembic (`migrate`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from linkstar.core.contract.registry import Registry

CORE_VERSIONS = Path(__file__).resolve().parent / "migrations" / "versions"


def _names(value: ast.expr | None) -> set[str]:
    """The revision ids of a `down_revision` value: a string, a tuple/list of them, or None."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return {value.value}
    if isinstance(value, ast.Tuple | ast.List):
        return {e.value for e in value.elts if isinstance(e, ast.Constant) and e.value}
    return set()


def _declared(path: Path) -> tuple[str | None, set[str]]:
    """(revision, down revisions) as assigned at the top level of a revision file."""
    revision: str | None = None
    down: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        if target.id == "revision" and isinstance(value, ast.Constant):
            revision = str(value.value)
        elif target.id == "down_revision":
            down = _names(value)
    return revision, down


def heads_of(locations: Iterable[str | Path]) -> set[str]:
    """The head revisions of the revision files in `locations` (Alembic's `get_heads()`)."""
    revisions: set[str] = set()
    built_on: set[str] = set()
    for location in locations:
        for path in sorted(Path(location).glob("*.py")):
            revision, down = _declared(path)
            if revision is not None:
                revisions.add(revision)
                built_on |= down
    return revisions - built_on


def head_revisions(registry: Registry) -> set[str]:
    """The revisions `linkstar db upgrade` brings a database to (core and every plugin)."""
    return heads_of([CORE_VERSIONS, *(path for _, path in registry.migration_locations)])


def applied_revisions(connection: Connection) -> set[str] | None:
    """The revisions recorded in the database; None when it was never migrated."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
