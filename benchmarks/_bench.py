"""Shared plumbing of the side-by-side benchmarks: scratch databases, servers, load, figures.

Not a benchmark itself. Every side-by-side benchmark runs LinkStar and a hand-written
equivalent on the same database in one run, alternating rounds (so both see the same machine
load), checks that both answered the same, and prints min and median of the per-round ratios.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url

from linkstar.core.kernel.config import async_database_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "benchmark-signing-key-" + secrets.token_hex(16)


@contextmanager
def scratch_database(argument: str | None) -> Iterator[URL]:
    """A new empty database: a SQLite file, or a database created (and dropped) on a server."""
    if not argument or not argument.startswith("postgresql"):
        with tempfile.TemporaryDirectory() as tmp:
            yield async_database_url(f"sqlite:///{Path(tmp) / 'bench.db'}")
        return
    server = make_url(argument).set(drivername="postgresql+psycopg")
    name = f"linkstar_bench_{secrets.token_hex(3)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield async_database_url(server.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sync_engine(url: URL) -> Engine:
    driver = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql+psycopg"
    return create_engine(url.set(drivername=driver))


def plain_url(url: URL) -> str:
    """The URL as `linkstar` reads it from LINKSTAR_DATABASE_URL (and the raw handlers)."""
    driver = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
    return url.set(drivername=driver).render_as_string(hide_password=False)


def refresh_statistics(url: URL) -> None:
    """What autovacuum (PostgreSQL) or a periodic `PRAGMA optimize` (SQLite) does after a bulk load."""
    engine = sync_engine(url)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
        if url.get_backend_name() == "sqlite":
            connection.execute(text("PRAGMA optimize"))
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process on a free port, stopped (by its own pid) at exit."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        self.name = name
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        # stderr to a file: a pipe nobody drains fills up (64 KB of log lines) and then blocks
        # the server in the middle of a benchmark
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(
            argv,
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.ready_after = wait_healthy(self.base, self.process, self.log)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def wait_healthy(
    base: str, process: subprocess.Popen[bytes], log: Any, timeout: float = 180
) -> float:
    """Seconds until GET /healthz answers 200 (from now)."""
    started = time.perf_counter()
    with httpx.Client(timeout=1) as client:
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(log.read().decode() or "died")
            try:
                if client.get(f"{base}/healthz").status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.005)
    raise RuntimeError(f"{base} not healthy after {timeout} s")


def linkstar_server(url: URL, extra_env: dict[str, str] | None = None) -> Server:
    port = free_port()
    env = {
        "LINKSTAR_DATABASE_URL": plain_url(url),
        "LINKSTAR_ENV": "production",
        "LINKSTAR_SECRET_KEY": SECRET,
        **(extra_env or {}),
    }
    argv = [str(BIN / "linkstar"), "serve", "--port", str(port)]
    return Server("linkstar", argv, env, port)


def raw_server(module: str, url: URL, extra_env: dict[str, str] | None = None) -> Server:
    port = free_port()
    env = {
        "LINKSTAR_DATABASE_URL": plain_url(url),
        "LINKSTAR_SECRET_KEY": SECRET,
        "PYTHONPATH": str(ROOT / "benchmarks"),
        **(extra_env or {}),
    }
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        f"{module}:create_app",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return Server("raw", argv, env, port)


async def _load(
    url: str, body: bytes, headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[int, list[float]]:
    """Keep-alive HTTP/1.1 clients on raw asyncio streams: a load generator far lighter than
    httpx, so the client steals as little CPU as possible from the servers it measures."""
    target = httpx.URL(url)
    head = (
        f"POST {target.raw_path.decode()} HTTP/1.1\r\nhost: {target.host}:{target.port}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        + f"content-length: {len(body)}\r\n\r\n"
    ).encode()
    request = head + body
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(target.host, target.port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(request)
                status_line = await reader.readline()
                length = None
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                if length is None:
                    raise RuntimeError(f"{url}: no content-length ({status_line!r})")
                answer = await reader.readexactly(length)
                if b" 200 " not in status_line:
                    raise RuntimeError(f"{url}: {status_line!r} {answer[:300]!r}")
                latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), latencies


def load(
    url: str, body: bytes, headers: dict[str, str], seconds: float, concurrency: int
) -> tuple[float, float]:
    """(requests per second, p50 latency in ms) of `concurrency` clients posting for `seconds`."""
    started = time.perf_counter()
    count, latencies = asyncio.run(_load(url, body, headers, seconds, concurrency))
    elapsed = time.perf_counter() - started
    return count / elapsed, statistics.median(latencies) * 1000


def ratios(label: str, ours: list[float], theirs: list[float], unit: str, higher: bool) -> str:
    """One line: both sides' medians and min/median of the per-round ratios (ours / theirs)."""
    per_round = [o / t for o, t in zip(ours, theirs, strict=True)]
    return (
        f"{label:34s} linkstar {statistics.median(ours):8.2f} {unit}  "
        f"hand-written {statistics.median(theirs):8.2f} {unit}  "
        f"ratio min {min(per_round):5.2f} median {statistics.median(per_round):5.2f}"
        f"{'  (higher is better)' if higher else '  (lower is better)'}"
    )


def post_json(base: str, path: str, payload: Any, token: str | None = None) -> Any:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = httpx.post(f"{base}{path}", json=payload, headers=headers, timeout=120)
    response.raise_for_status()
    return response.json()
