"""Progress bars for long CLI jobs: counts and rates on a terminal, silent otherwise.

Output goes to stderr, so a job's own results on stdout stay clean for scripts; when stderr is
not a terminal (CI, cron, a pipe) nothing is drawn at all.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second, in the task's own unit (`fields["unit"]`)."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit", "items")
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f} {unit}/s", style="progress.data.speed")


@contextmanager
def job_progress(enabled: bool | None = None) -> Iterator[Progress]:
    """A rich Progress on stderr; disabled (draws nothing) unless stderr is a terminal."""
    console = Console(stderr=True)
    if enabled is None:
        enabled = sys.stderr.isatty()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
        transient=False,
    )
    with progress:
        yield progress
