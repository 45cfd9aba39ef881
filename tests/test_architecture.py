"""The dependency rules of docs/architecture.md, checked by import-linter on every run.

The package is installed in editable mode, which import-linter's graph builder cannot follow,
so the test lays the sources out as the installed package (`linkstar/core`, `linkstar/schema`,
`linkstar/plugins/...`) in a temporary directory and lints that copy with the contracts in
pyproject.toml.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def installed_layout(target: Path) -> Path:
    """Copy every package of pyproject's package-dir map to where an install would put it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for package, directory in config["tool"]["setuptools"]["package-dir"].items():
        destination = target.joinpath(*package.split("."))
        destination.mkdir(parents=True, exist_ok=True)
        for source in (ROOT / directory).glob("*.py"):
            shutil.copy2(source, destination / source.name)
    for namespace in (target / "linkstar", target / "linkstar" / "plugins"):
        (namespace / "__init__.py").touch()
    return target


def test_the_import_contracts_hold(tmp_path: Path) -> None:
    tree = installed_layout(tmp_path / "site")
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


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
