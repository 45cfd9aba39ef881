"""Start-up cost: plugin discovery + validation + schema composition, with every built-in plugin;
then `linkstar serve` to its first `/healthz` against a bare Starlette app under uvicorn.

    .venv/bin/python benchmarks/startup.py [runs] [postgresql://postgres@127.0.0.1:5432/test]

Each run happens in a fresh interpreter (so imports count, as they do at a real start-up). The
project's sources are byte-compiled first, as installing a wheel does (with
PYTHONDONTWRITEBYTECODE set, an editable install would otherwise compile every module at every
start).
Prints the median and the spread of the runs. The serve comparison migrates a scratch
database (SQLite file, or one created and dropped on the given server), then alternates:
`linkstar serve` (production mode) and `uvicorn raw_pages:create_app` (a plain Starlette app),
each timed from process start to the first 200 from `/healthz`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

from _bench import ROOT, linkstar_server, ratios, raw_server, scratch_database

from linkstar.core.contract.registry import load_registry
from linkstar.core.runtime.migrate import upgrade

PROBE = """
import gc
import time
gc.disable()  # as `linkstar serve` does while it imports and composes
t0 = time.perf_counter()
from linkstar.core.contract.registry import load_registry
from linkstar.schema.compose import compose_schema
t1 = time.perf_counter()
registry = load_registry()
t2 = time.perf_counter()
schema = compose_schema(registry)
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, len(registry.plugins), len(schema.as_str().splitlines()))
"""


def main(runs: int) -> None:
    rows = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True
        ).stdout
        imports, load, compose, plugins, sdl_lines = out.split()
        rows.append((float(imports), float(load), float(compose)))
    for label, index in (("imports", 0), ("discover+validate plugins", 1), ("compose schema", 2)):
        values = [r[index] * 1000 for r in rows]
        print(
            f"{label:28s} median {statistics.median(values):7.1f} ms  (min {min(values):.1f}, max {max(values):.1f})"
        )
    total = [sum(r) * 1000 for r in rows]
    print(
        f"{'total':28s} median {statistics.median(total):7.1f} ms  over {runs} runs; {plugins} plugins, SDL {sdl_lines} lines"
    )


def serve(runs: int, database: str | None) -> None:
    with scratch_database(database) as url:
        upgrade(url, load_registry())
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(runs):
            for make, into in (
                (lambda: linkstar_server(url), ours),
                (lambda: raw_server("raw_pages", url), theirs),
            ):
                server = make()
                into.append(server.ready_after)
                server.stop()
        print(f"backend {url.get_backend_name()}, {runs} interleaved runs:")
        print(ratios("process start → first /healthz", ours, theirs, "s", False))


def compile_sources() -> None:
    folders = [str(ROOT / name) for name in ("core", "schema", "plugins")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True)


if __name__ == "__main__":
    compile_sources()
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    main(runs)
    serve(runs, sys.argv[2] if len(sys.argv) > 2 else None)
