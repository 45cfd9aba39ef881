#!/usr/bin/env python3
"""One entry point for a fresh clone: needs nothing but Python 3.11+.

    python3 dev.py up      # create .venv, install pinned deps, migrate, load demo data, serve
    python3 dev.py test    # create .venv, install pinned deps + test extras, check the import
                           # contracts (lint-imports), run the whole suite
    python3 dev.py setup   # only create/refresh .venv

Everything installed comes from pyproject.toml, pinned by constraints.txt.
Extra arguments after `test` are passed to pytest; after `up` to `linkstar serve`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".linkstar-installed"


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def setup(extras: str = "") -> None:
    """Create the virtualenv and install the project with pinned versions."""
    if sys.version_info < (3, 11):
        sys.exit(f"LinkStar needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    inputs = [ROOT / "constraints.txt", ROOT / "pyproject.toml"]
    wanted = "|".join([extras, *(str(p.stat().st_mtime) for p in inputs)])
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "setuptools>=77", "wheel")
    target = f".[{extras}]" if extras else "."
    run(PY, "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "-e", target)
    STAMP.write_text(wanted)


def browser() -> None:
    """The dashboard's browser test needs Debian's chromium; install it when we may (root)."""
    if shutil.which("chromium") or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    print("+ apt-get install chromium (for the dashboard's browser test)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"stdout": subprocess.DEVNULL, "env": env}
    subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)
    install = ["apt-get", "install", "-y", "-qq", "chromium"]
    if subprocess.run(install, check=False, **quiet).returncode:
        print("chromium could not be installed: the browser tests will be skipped", flush=True)


def main(argv: list[str]) -> None:
    command, rest = (argv[0], argv[1:]) if argv else ("up", [])
    if command == "setup":
        setup("test")
    elif command == "test":
        setup("test")
        browser()
        # the dependency rules of docs/architecture.md, as pyproject.toml's contracts state them
        run(BIN / "lint-imports")
        run(PY, "-m", "pytest", *rest)
    elif command == "up":
        setup("test")
        linkstar = BIN / "linkstar"
        run(linkstar, "db", "upgrade")
        run(linkstar, "demo", "--if-empty")
        run(linkstar, "serve", *rest)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
