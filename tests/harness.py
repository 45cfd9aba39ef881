"""Fixtures: a real database (SQLite file, or a fresh PostgreSQL database), migrated with the
real Alembic revisions, and a real uvicorn server on a loopback port, queried over HTTP.

Set LINKSTAR_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test to run on PostgreSQL:
a new database `linkstar_test_<random>` is created on that server and dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session

from linkstar.core.contract.registry import (
    PluginInfo,
    Registry,
    build_registry,
    discover,
    load_registry,
)
from linkstar.core.kernel.config import Settings, async_database_url
from linkstar.core.kernel.db import Base
from linkstar.core.runtime.migrate import upgrade
from tests import fixture_category

PG_ENV = "LINKSTAR_TEST_DATABASE_URL"
TEST_SECRET = "test-only-signing-key-" + secrets.token_hex(16)


def on_postgres() -> bool:
    return bool(os.environ.get(PG_ENV))


def sync_url(url: URL) -> URL:
    """The same database through a synchronous driver, for test set-up."""
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite")
    return url.set(drivername="postgresql+psycopg")


@contextmanager
def new_database(directory: Path) -> Iterator[URL]:
    """A brand-new empty database: a SQLite file in `directory`, or a PostgreSQL database."""
    raw = os.environ.get(PG_ENV)
    if not raw:
        yield async_database_url(f"sqlite:///{directory / 'linkstar-test.db'}")
        return
    server = make_url(raw).set(drivername="postgresql+psycopg")
    name = f"linkstar_test_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield async_database_url(server.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    with new_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[URL]:
    """An empty, unmigrated database of its own for one test (CLI tests)."""
    with new_database(tmp_path) as url:
        yield url


FIXTURE_PLUGIN = "fixture"


def registry_with_fixtures() -> Registry:
    """Every installed plugin, as production loads them, and the suite's fixture categories
    (`tests/fixture_category.py`), which the core's own tests use instead of built-in numbers."""
    installed = discover(Settings.from_env().disabled_plugins)
    return build_registry([*installed, PluginInfo(FIXTURE_PLUGIN, fixture_category)])


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The registry the test server runs: installed plugins plus the fixture categories."""
    return registry_with_fixtures()


@pytest.fixture(scope="session")
def migrated(database_url: URL) -> URL:
    upgrade(database_url, load_registry())  # as `linkstar db upgrade`: every installed plugin
    return database_url


@pytest.fixture(scope="session")
def sync_engine(migrated: URL) -> Iterator[Engine]:
    engine = create_engine(sync_url(migrated))
    if migrated.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _fk(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

    _ENGINES.append(engine)
    yield engine
    _ENGINES.remove(engine)
    engine.dispose()


_ENGINES: list[Engine] = []


def mailbox(email: str) -> list[tuple[str, str]]:
    """(subject, body) of every message the outbox holds for `email`, oldest first."""
    from linkstar.core.identity.models import OutboxMessage

    with Session(_ENGINES[-1]) as session:
        rows = session.query(OutboxMessage).filter_by(recipient=email).order_by(OutboxMessage.id)
        return [(m.subject, m.body) for m in rows]


def mailed_token(email: str) -> str:
    """The token in the newest message to `email` (verification or invitation)."""
    import re

    messages = mailbox(email)
    assert messages, f"no mail to {email}"
    found = re.search(r"^([A-Za-z0-9_-]{40,})$", messages[-1][1], re.MULTILINE)
    assert found, messages[-1]
    return found.group(1)


VERIFY = """mutation($t: String!) { verifyEmail(token: $t) {
  accessToken refreshToken account { email role isProviderOwner provider { id legalName } } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running app: its base URL and the app object (for engine-level instrumentation)."""

    url: str
    app: Any

    def statements(self) -> StatementCounter:
        return StatementCounter(self.app.state.engine.sync_engine)


class StatementCounter:
    """Counts SQL statements the server executes inside a `with` block."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


def start_server(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    # as `linkstar serve`: the app, not uvicorn, decides whose X-Forwarded-For to believe
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def server(
    migrated: URL, registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    from linkstar.core.runtime.app import create_app

    settings = Settings(
        database_url=migrated,
        environment="development",
        disabled_plugins=(),
        storage_dir=str(tmp_path_factory.mktemp("storage")),
        secret_key=TEST_SECRET,
    )
    app = create_app(settings, registry)
    uv, thread, url = start_server(app)
    yield Server(url, app)
    uv.should_exit = True
    thread.join(timeout=10)


class GraphQLClient:
    """Posts GraphQL over real HTTP to the test server, optionally with a bearer token."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, timeout=30, headers=headers)
        self.token = token

    def raw(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, **kwargs
        )

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a successful response; fails the test on any error."""
        response = self.raw(query, variables)
        body = response.json()
        assert response.status_code == 200, body
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def errors(self, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The `errors` of a response that must fail."""
        body = self.raw(query, variables).json()
        assert body.get("errors"), f"expected errors, got {body}"
        return body["errors"]


@pytest.fixture(scope="session")
def gql(server: Server) -> Iterator[GraphQLClient]:
    client = GraphQLClient(server.url)
    yield client
    client.http.close()


def _truncate(engine: Engine) -> None:
    existing = set(inspect(engine).get_table_names())
    tables = [
        t.name
        for t in reversed(Base.metadata.sorted_tables)
        if t.name in existing and t.name != "metric_definition_versions"
    ]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            # tables that refer to themselves (a reversal names the entry it reverses) are
            # emptied whole; their references are checked at commit, when nothing is left
            connection.execute(text("PRAGMA defer_foreign_keys = ON"))
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def db(sync_engine: Engine) -> Iterator[Session]:
    """An empty database and a synchronous session on it for arranging test data."""
    _truncate(sync_engine)
    with Session(sync_engine, expire_on_commit=False) as session:
        yield session


def global_id(type_name: str, node_id: int | str) -> str:
    """The Relay global ID the API gives `type_name` #`node_id`."""
    import base64

    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


REPO = Path(__file__).resolve().parent.parent


PASSWORD = "correct horse battery staple"
_PASSWORD_HASH: list[str] = []

LOGIN = "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken refreshToken } }"


@pytest.fixture
def sign_in(server: Server, gql: GraphQLClient, db: Session) -> Iterator[Any]:
    """`sign_in(role, provider_id=None, owner=False)` → a GraphQLClient signed in as a new account."""
    from linkstar.core.identity.accounts import hash_password
    from linkstar.core.identity.models import Account

    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(hash_password(PASSWORD))
    clients: list[GraphQLClient] = []

    def make(
        role: Any, provider_id: int | None = None, owner: bool = False, email: str | None = None
    ) -> GraphQLClient:
        email = email or f"{role.value.lower()}-{secrets.token_hex(3)}@example.com"
        db.add(
            Account(
                email=email,
                display_name=email.split("@")[0],
                password_hash=_PASSWORD_HASH[0],
                role=role,
                provider_id=provider_id,
                is_provider_owner=owner,
            )
        )
        db.commit()
        token = gql(LOGIN, {"email": email, "password": PASSWORD})["login"]["accessToken"]
        client = GraphQLClient(server.url, token)
        client.email = email  # type: ignore[attr-defined]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.http.close()


@pytest.fixture
def staff(sign_in: Any) -> GraphQLClient:
    """A reviewer: sees every provider's private data."""
    from linkstar.core.kernel.vocabulary import Role

    return sign_in(Role.REVIEWER)
