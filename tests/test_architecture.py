"""The dependency rules of docs/architecture.md, checked by import-linter on every run.

The package is installed in editable mode, which import-linter's graph builder cannot follow,
so the test lays the sources out as the installed package (`linkstar/core`, `linkstar/schema`,
`linkstar/plugins/...`) in a temporary directory and lints that copy with the contracts in
pyproject.toml.
"""

from __future__ import annotations

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
