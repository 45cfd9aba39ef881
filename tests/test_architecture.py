"""The dependency rules of docs/architecture.md, checked by import-linter on every run.

`lint-imports` runs as installed, from the repository root, exactly as `python3 dev.py test`
(and so CI) runs it before the suite: the contracts in pyproject.toml name the packages the
editable install maps to folders (`linkstar.core`, `linkstar.schema`, each built-in plugin).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_cover_every_installed_package() -> None:
    """A package the contracts do not reach is a package nobody checks: every top-level
    package of the distribution (the core, the GraphQL layer, each built-in plugin) is a root."""
    packages = CONFIG["tool"]["setuptools"]["packages"]
    tops = {
        ".".join(p.split(".")[: 3 if p.startswith("linkstar.plugins.") else 2]) for p in packages
    }
    assert set(CONFIG["tool"]["importlinter"]["root_packages"]) == tops
    entry_points = CONFIG["project"]["entry-points"]["linkstar.plugins"].values()
    assert {e.rpartition(".")[0] for e in entry_points} <= tops
    plugins = {p for p in tops if p.startswith("linkstar.plugins.")}
    contracts = {c["name"]: c for c in CONFIG["tool"]["importlinter"]["contracts"]}
    never = contracts["The core and the GraphQL layer never import a plugin"]
    only_api = contracts["Built-in plugins import only the public plugin API"]
    assert set(never["forbidden_modules"]) == plugins == set(only_api["source_modules"])


def test_plugins_are_forbidden_every_module_of_schema_but_the_plugin_api() -> None:
    """The contract names what plugins may not import; a new module of `schema/` must join it,
    or plugins could reach past the public API without the contract noticing."""
    (contract,) = [
        c
        for c in CONFIG["tool"]["importlinter"]["contracts"]
        if c["name"] == "Built-in plugins import only the public plugin API"
    ]
    schema = {
        f"linkstar.schema.{p.stem if p.is_file() else p.name}"
        for p in (ROOT / "schema").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    forbidden = set(contract["forbidden_modules"])
    assert "linkstar.core" in forbidden
    assert schema - forbidden == {"linkstar.schema.plugin_api"}


def test_no_function_imports_our_own_modules_except_cli_commands() -> None:
    """An import inside a function hides a dependency (often a cycle) from the contracts above.

    Only the CLI's commands may import inside their functions, to keep `linkstar` quick to
    start; `if TYPE_CHECKING:` blocks are module-level and allowed everywhere.
    """
    found = []
    for package in ("core", "schema", "plugins"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative.parts[:3] == ("core", "runtime", "cli"):
                continue
            for function in ast.walk(ast.parse(path.read_text())):
                if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for node in ast.walk(function):
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                        "linkstar"
                    ):
                        found.append(f"{relative}:{node.lineno} imports {node.module}")
    assert not found, "\n".join(found)


def test_the_package_map_counts_every_line_of_every_package() -> None:
    from linkstar.core.runtime.cli.docs import package_map

    rows = [line.split(" | ") for line in package_map(ROOT).splitlines()[2:]]
    by_label = {row[0].strip("| `"): row for row in rows}
    standing = sorted((ROOT / "core" / "standing").glob("*.py"))
    assert by_label["core/standing/"][1] == str(len(standing))
    lines = sum(len(p.read_bytes().splitlines()) for p in standing)
    assert by_label["core/standing/"][2] == f"{lines:,}"
    assert "core/runtime/cli/" in by_label and "schema/kpi/" in by_label
