"""Long CLI jobs show progress (counts and rates) on a terminal, and nothing otherwise."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import URL

LINKSTAR = Path(sys.executable).parent / "linkstar"


def environment(url: URL) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKSTAR_")}
    env["LINKSTAR_DATABASE_URL"] = url.render_as_string(hide_password=False)
    env.update({"COLUMNS": "160", "TERM": "xterm"})
    return env


def on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal; returns the exit status and what it drew."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    drawn = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        drawn += chunk
    os.close(controller)
    return process.wait(timeout=600), drawn.decode(errors="replace")


def test_demo_and_evaluate_draw_progress_on_a_terminal_only(fresh_database_url: URL) -> None:
    env = environment(fresh_database_url)
    upgraded = subprocess.run([str(LINKSTAR), "db", "upgrade"], env=env, capture_output=True)
    assert upgraded.returncode == 0, upgraded.stderr
    status, drawn = on_a_terminal([str(LINKSTAR), "demo"], env)
    assert status == 0, drawn
    assert "generating providers' KPIs" in drawn and "evaluating months" in drawn
    assert "24/24" in drawn  # six months × four categories, counted
    assert "providers/s" in drawn and "categories/s" in drawn  # and rates
    quiet = subprocess.run(
        [str(LINKSTAR), "evaluate", "--period", "2026-01"], env=env, capture_output=True, text=True
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""  # not a terminal: no bar, no escape codes
    assert "evaluated" in quiet.stdout
    status, drawn = on_a_terminal([str(LINKSTAR), "evaluate", "--period", "2026-01"], env)
    assert status == 0 and "evaluating 2026-01" in drawn and "4/4" in drawn
