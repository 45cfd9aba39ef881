"""The first hour with the CLI: every mistake a newcomer makes is one `linkstar: error:` line,
never a traceback (issue #12, point 10). The real `linkstar` command runs as a subprocess."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from tests.harness import REPO, free_port, sync_url
from tests.test_cli import run

STORAGE = {"LINKSTAR_STORAGE_DIR": "/tmp/linkstar-cli-first-hour/storage"}


def one_line_error(result) -> str:
    """The single stderr line of a clean failure (exit status 2, no traceback)."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("linkstar: error: "), lines[0]
    return lines[0]


@pytest.fixture
def existing_empty_database(fresh_database_url: URL) -> URL:
    """A database that exists (SQLite file created) but was never migrated."""
    engine = create_engine(sync_url(fresh_database_url))
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()
    return fresh_database_url


@pytest.mark.parametrize(
    "command",
    [
        ["serve", "--port", "0"],
        ["demo"],
        ["evaluate", "--period", "2026-10"],
        ["accounts", "create-admin", "--email", "admin@example.com"],
        ["mail", "drain"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_an_unmigrated_database_names_db_upgrade(existing_empty_database, command) -> None:
    result = run(
        *command,
        url=existing_empty_database,
        LINKSTAR_ADMIN_PASSWORD="a long admin passphrase",
        **STORAGE,
    )
    line = one_line_error(result)
    assert "is not migrated" in line and "linkstar db upgrade" in line


@pytest.fixture
def migrated_database(fresh_database_url: URL) -> URL:
    upgraded = run("db", "upgrade", url=fresh_database_url, **STORAGE)
    assert upgraded.returncode == 0, upgraded.stderr
    return fresh_database_url


def test_demo_twice_says_it_is_already_loaded(migrated_database) -> None:
    first = run("demo", url=migrated_database, **STORAGE)
    assert first.returncode == 0 and first.stdout.startswith("demo: loaded "), first.stderr
    second = run("demo", url=migrated_database, **STORAGE)
    assert second.returncode == 0, second.stderr
    assert "providers already exist" in second.stdout and "Traceback" not in second.stderr
    # --provider takes a registration number or a global id; an unknown one is an error
    engine = create_engine(sync_url(migrated_database))
    with engine.connect() as connection:
        provider_id, number = connection.execute(
            text("SELECT id, registration_number FROM providers ORDER BY id LIMIT 1")
        ).one()
    engine.dispose()
    import base64

    gid = base64.b64encode(f"Provider:{provider_id}".encode()).decode()
    for given in (number, gid):
        result = run("evaluate", "--period", "2026-10", "--provider", given, url=migrated_database)
        assert result.returncode == 0, result.stderr
        assert "evaluated 1" in result.stdout or "evaluated 0" in result.stdout
    unknown = run("evaluate", "--period", "2026-10", "--provider", "999999", url=migrated_database)
    assert "no provider has the id or registration number '999999'" in one_line_error(unknown)


def test_a_port_out_of_range_is_one_line(migrated_database) -> None:
    line = one_line_error(run("serve", "--port", "99999", url=migrated_database, **STORAGE))
    assert "--port must be between 1 and 65535" in line


def test_a_port_in_use_is_one_line(migrated_database) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = run("serve", "--port", str(port), url=migrated_database, **STORAGE)
    line = one_line_error(result)
    assert f"cannot listen on 127.0.0.1:{port}" in line


def test_mail_drain_prints_pending_messages_once(migrated_database) -> None:
    engine = create_engine(sync_url(migrated_database))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO outbox_messages (recipient, subject, body, created_at) "
                "VALUES ('a@example.com', 'Hello', 'token-123', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()
    first = run("mail", "drain", url=migrated_database, **STORAGE)
    assert first.returncode == 0, first.stderr
    assert "To: a@example.com" in first.stdout and "token-123" in first.stdout
    second = run("mail", "drain", url=migrated_database, **STORAGE)
    assert second.returncode == 0 and "token-123" not in second.stdout
    assert "0 message(s) sent" in second.stderr


# --- the committed SDL covers the built-in plugins only (point 13) --------------------------


def test_schema_export_installed_never_overwrites_the_core_sdl(tmp_path: Path) -> None:
    line = one_line_error(
        run("schema", "export", "--installed", "--output", str(REPO / "schema/schema.graphql"))
    )
    assert "describes the built-in plugins only" in line
    printed = run("schema", "export", "--installed")
    assert printed.returncode == 0 and printed.stdout.startswith(
        (REPO / "schema/schema.graphql").read_text()[:200]
    )
