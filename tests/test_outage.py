"""A database outage, for real: a PostgreSQL cluster this test starts, a `linkstar serve` process
on it; the cluster is stopped, then frozen (SIGSTOP), and every answer meanwhile is a quick
503 SERVICE_UNAVAILABLE with Retry-After; the server recovers without a restart.

Runs whatever LINKSTAR_TEST_DATABASE_URL says (the cluster is the test's own); skipped only
when PostgreSQL's server binaries are not installed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from linkstar.core.contract.registry import load_registry
from linkstar.core.kernel.config import async_database_url
from linkstar.core.runtime.migrate import upgrade
from tests.harness import LOGIN, PASSWORD, TEST_SECRET, free_port, sync_url

LINKSTAR = Path(sys.executable).parent / "linkstar"
BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
pytestmark = pytest.mark.skipif(
    not BINARIES, reason="PostgreSQL server binaries (/usr/lib/postgresql/*/bin) not installed"
)

STATEMENT, CONNECT, POOL = 3, 2, 3  # the server's database timeouts in this test (seconds)


def run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)}: {result.stdout}{result.stderr}"


@dataclass
class Cluster:
    """A throw-away PostgreSQL cluster in a temporary directory."""

    data: Path
    port: int
    bin: Path
    as_user: list[str]

    def ctl(self, *args: str) -> None:
        run(*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", *args)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self.ctl("-o", options, "-l", str(self.data / "log"), "start")

    def stop(self) -> None:
        self.ctl("-m", "fast", "stop")

    def processes(self) -> list[int]:
        """The postmaster and every backend it forked."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(
            ["pgrep", "-P", str(postmaster)], capture_output=True, text=True
        ).stdout.split()
        return [postmaster, *(int(c) for c in children)]

    def signal(self, number: int) -> None:
        for pid in self.processes():
            os.kill(pid, number)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/linkstar"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    bin_dir = Path(BINARIES[-1]).parent
    # not under pytest's basetemp, which concurrent pytest runs prune and re-permission
    root = Path(tempfile.mkdtemp(prefix="linkstar-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as its own user
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    run(*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
    cluster = Cluster(data, free_port(), bin_dir, as_user)
    cluster.start()
    admin = create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE linkstar"))
    admin.dispose()
    try:
        yield cluster
    finally:
        with contextlib.suppress(OSError, ValueError):
            cluster.signal(signal.SIGCONT)
        with contextlib.suppress(AssertionError):
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Served:
    url: str
    token: str


@pytest.fixture(scope="module")
def served(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from linkstar.core.identity.accounts import hash_password
    from linkstar.core.identity.models import Account
    from linkstar.core.kernel.vocabulary import Role

    url = async_database_url(cluster.url)
    upgrade(url, load_registry())
    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        connection.execute(
            Account.__table__.insert().values(
                email="admin@example.com",
                display_name="admin",
                password_hash=hash_password(PASSWORD),
                role=Role.ADMIN,
                is_provider_owner=False,
                disabled=False,
            )
        )
    engine.dispose()
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LINKSTAR_")}
    environment.update(
        LINKSTAR_DATABASE_URL=cluster.url,
        LINKSTAR_SECRET_KEY=TEST_SECRET,
        LINKSTAR_STORAGE_DIR=str(tmp_path_factory.mktemp("storage")),
        LINKSTAR_DB_STATEMENT_TIMEOUT=str(STATEMENT),
        LINKSTAR_DB_CONNECT_TIMEOUT=str(CONNECT),
        LINKSTAR_DB_POOL_TIMEOUT=str(POOL),
    )
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - read back after the process ends
    process = subprocess.Popen(
        [str(LINKSTAR), "serve", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        login = httpx.post(
            f"{base}/graphql",
            json={
                "query": LOGIN,
                "variables": {"email": "admin@example.com", "password": PASSWORD},
            },
        )
        yield Served(base, login.json()["data"]["login"]["accessToken"])
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.seek(0)
        served_log = log.read()
        log.close()
        assert "Traceback" not in served_log, served_log


QUERY = {"query": "{ providers { totalCount } }"}  # reads the database
VIEWER = {"query": "{ viewer { email } }"}


def ask(served: Served, body: dict, token: bool = False) -> tuple[httpx.Response, float]:
    headers = {"Authorization": f"Bearer {served.token}"} if token else {}
    started = time.monotonic()
    response = httpx.post(f"{served.url}/graphql", json=body, headers=headers, timeout=60)
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


def wait_until_serving(served: Served) -> None:
    deadline = time.monotonic() + 30
    while True:
        response, _ = ask(served, VIEWER, token=True)
        if response.status_code == 200:
            assert response.json()["data"]["viewer"]["email"] == "admin@example.com"
            return
        assert time.monotonic() < deadline, response.text
        time.sleep(0.5)


def test_healthy_before_the_outage(served: Served) -> None:
    response, _ = ask(served, VIEWER, token=True)
    assert response.json()["data"]["viewer"]["email"] == "admin@example.com"
    assert httpx.get(f"{served.url}/readyz").status_code == 200


def test_stopped_database_answers_503_then_recovers(cluster: Cluster, served: Served) -> None:
    cluster.stop()
    try:
        for body, token in ((QUERY, False), (VIEWER, True), (QUERY, True)):
            response, _ = ask(served, body, token)
            assert_unavailable(response)
        mutation = {"query": LOGIN, "variables": {"email": "a@example.com", "password": "x"}}
        assert_unavailable(ask(served, mutation)[0])
        ready = httpx.get(f"{served.url}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
    finally:
        cluster.start()
    wait_until_serving(served)  # the same server process, no restart
    assert httpx.get(f"{served.url}/readyz").status_code == 200


def test_frozen_database_fails_fast_then_recovers(cluster: Cluster, served: Served) -> None:
    wait_until_serving(served)
    cluster.signal(signal.SIGSTOP)
    try:
        for body, token in ((VIEWER, True), (QUERY, False)):
            response, took = ask(served, body, token)
            assert_unavailable(response)
            assert took < STATEMENT + CONNECT + POOL + 3, took
        started = time.monotonic()
        ready = httpx.get(f"{served.url}/readyz", timeout=30)
        assert ready.status_code == 503 and time.monotonic() - started < 5
    finally:
        cluster.signal(signal.SIGCONT)
    wait_until_serving(served)
    assert httpx.get(f"{served.url}/readyz").status_code == 200


# --- what counts as an outage (real driver errors) -----------------------------------------


def _sqlite_error(path: str, statement: str, lock: bool = False) -> BaseException:
    import sqlite3

    from sqlalchemy import create_engine as sync_create_engine

    holder = None
    if lock:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("CREATE TABLE IF NOT EXISTS t (x)")
        holder.execute("BEGIN EXCLUSIVE")
    engine = sync_create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except Exception as error:
        return error
    finally:
        engine.dispose()
        if holder is not None:
            holder.close()
    raise AssertionError("the statement succeeded")


def test_sqlite_outage_is_locked_or_unreachable_never_a_missing_table(tmp_path: Path) -> None:
    from linkstar.core.kernel.db import is_outage

    database = str(tmp_path / "db.sqlite")
    assert is_outage(_sqlite_error(database, "INSERT INTO t VALUES (1)", lock=True))
    assert is_outage(_sqlite_error(str(tmp_path / "missing" / "db.sqlite"), "SELECT 1"))
    assert not is_outage(_sqlite_error(database, "SELECT * FROM no_such_table"))
