"""The `linkstar` command, run as a user runs it: a subprocess with environment variables."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from linkstar.core.contract.registry import load_built_in_registry, load_registry
from linkstar.core.kernel.vocabulary import ApplicationStatus, ObservationSource, Region, Tier
from linkstar.core.runtime import tables as models
from linkstar.schema.compose import compose_schema, sdl
from tests.harness import REPO, free_port, sync_url

LINKSTAR = Path(sys.executable).parent / "linkstar"


def run(*args: str, url: URL | str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LINKSTAR_")}
    if url is not None:
        environment["LINKSTAR_DATABASE_URL"] = (
            url if isinstance(url, str) else url.render_as_string(hide_password=False)
        )
    environment.update(env)
    return subprocess.run(
        [str(LINKSTAR), *args], capture_output=True, text=True, env=environment, timeout=300
    )


def test_committed_schema_matches_the_composed_one() -> None:
    """Every API change shows up in review: re-run `linkstar schema export` and commit."""
    committed = (REPO / "schema" / "schema.graphql").read_text()
    assert committed == sdl(compose_schema(load_built_in_registry())), (
        "schema/schema.graphql is stale: run `linkstar schema export`"
    )


def test_schema_export_writes_the_sdl(tmp_path: Path) -> None:
    result = run("schema", "export", "--output", str(tmp_path / "out.graphql"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.graphql").read_text() == (
        REPO / "schema" / "schema.graphql"
    ).read_text()


def test_db_upgrade_then_demo_gives_a_populated_graph(fresh_database_url: URL) -> None:
    upgraded = run("db", "upgrade", url=fresh_database_url)
    assert upgraded.returncode == 0, upgraded.stderr
    loaded = run("demo", url=fresh_database_url)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("demo: loaded ")
    again = run("demo", "--if-empty", url=fresh_database_url)
    assert "already exist" in again.stdout

    engine = create_engine(sync_url(fresh_database_url))
    try:
        with engine.connect() as connection:
            regions = (
                connection.execute(text("SELECT DISTINCT region FROM providers")).scalars().all()
            )
            categories = (
                connection.execute(text("SELECT DISTINCT category_key FROM applications"))
                .scalars()
                .all()
            )
            months = (
                connection.execute(text("SELECT observed_at FROM kpi_observations")).scalars().all()
            )
            versions = connection.execute(
                text("SELECT COUNT(*) FROM metric_definition_versions")
            ).scalar_one()
    finally:
        engine.dispose()
    assert sorted(regions) == ["HK_MACAU_TAIWAN", "MAINLAND_CHINA", "OVERSEAS"]
    assert set(categories) == set(load_registry().categories)
    assert len({str(m)[:7] for m in months}) >= 5  # several months of observations
    assert versions == sum(len(c.metrics) for c in load_registry().categories.values())


def test_unreachable_database_is_one_clear_line() -> None:
    result = run("db", "upgrade", url="postgresql://postgres@127.0.0.1:1/nowhere")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "linkstar: error: cannot connect to the database at postgresql"
    ), result.stderr
    assert "Traceback" not in result.stderr


def test_unsupported_or_malformed_database_url_is_one_clear_line() -> None:
    for url in ("mysql://root@localhost/x", "not a url at all", "sqlite://"):
        result = run("db", "upgrade", url=url)
        assert result.returncode == 2, url
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "LINKSTAR_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


def test_bad_plugin_configuration_refuses_to_start() -> None:
    result = run("serve", LINKSTAR_DISABLED_PLUGINS="astrology")
    assert result.returncode == 2
    assert "plugin 'astrology'" in result.stderr and "Traceback" not in result.stderr


def test_plugins_lists_built_ins_in_load_order() -> None:
    result = run("plugins")
    assert result.returncode == 0, result.stderr
    names = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert names == sorted(names)  # load order: entry-point names, whatever else is installed
    built_in = ["agency", "erp", "logistics", "training"]
    assert [n for n in names if n in built_in] == built_in


def test_serve_with_several_workers_answers_health_and_graphql(fresh_database_url: URL) -> None:
    assert run("db", "upgrade", url=fresh_database_url).returncode == 0
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LINKSTAR_")}
    environment["LINKSTAR_DATABASE_URL"] = fresh_database_url.render_as_string(hide_password=False)
    process = subprocess.Popen(
        [str(LINKSTAR), "serve", "--port", str(port), "--workers", "2"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        body = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ serviceCategories { totalCount } }"},
        ).json()
        assert body["data"]["serviceCategories"]["totalCount"] >= 4
    finally:
        process.terminate()
        process.wait(timeout=30)


# The CLI runs the installed plugins only (never the suite's fixture categories), so the CLI's
# evaluation race uses a built-in category: logistics, whose loss limit is 0.5 % of parcels.
@pytest.fixture
def logistics_shipper(db):
    provider = models.Provider(
        legal_name="Ningbo Freight", region=Region.MAINLAND_CHINA, registration_number="R-NF"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id,
            category_key="logistics",
            status=ApplicationStatus.ACTIVE,
            tier=Tier.PREFERRED,
        )
    )
    db.commit()
    return provider


def logistics_month(db, provider_id: int, month: int, lost: int) -> None:
    """200 deliveries, all on time; `lost` of 200 parcels lost (0.5% is the limit)."""
    for i in range(200):
        when = datetime(2026, month, 1 + i % 27, 8, tzinfo=UTC)
        for key, value in (("on_time_delivery_rate", 1), ("loss_damage_rate", int(i < lost))):
            db.add(
                models.KpiObservation(
                    provider_id=provider_id,
                    category_key="logistics",
                    metric_key=key,
                    subject_ref=f"s{i}",
                    observed_at=when,
                    value=Decimal(value),
                    source=ObservationSource.PLATFORM,
                    idempotency_key=f"{key}-2026-{month}-{i}",
                )
            )
    db.commit()


def evaluation_counts(db) -> tuple[list[tuple[str, str]], list[tuple[str, int]]]:
    db.expire_all()
    runs = sorted((r.category_key, r.period) for r in db.query(models.EvaluationRun).all())
    cards = sorted((c.period, c.revision) for c in db.query(models.Scorecard).all())
    return runs, cards


def test_two_cron_processes_racing_evaluate_each_closed_month_once(
    logistics_shipper, migrated, db
) -> None:
    # given: three closed months of data and the open one
    for month in (8, 9, 10, 11):
        logistics_month(db, logistics_shipper.id, month, lost=2 if month == 8 else 0)
    # when: two `linkstar evaluate --due` start at the same moment
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKSTAR_")}
    env["LINKSTAR_DATABASE_URL"] = migrated.render_as_string(hide_password=False)
    processes = [
        subprocess.Popen(
            [str(LINKSTAR), "evaluate", "--due"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    # then: each closed month evaluated exactly once, the open month not at all
    runs, cards = evaluation_counts(db)
    assert runs == [("logistics", "2026-08"), ("logistics", "2026-09"), ("logistics", "2026-10")]
    assert cards == [("2026-08", 1), ("2026-09", 1), ("2026-10", 1)]
    evaluated = [line for out, _ in outputs for line in out.splitlines() if "\t2026-" in line]
    assert sorted(line.split("\t")[1] for line in evaluated) == ["2026-08", "2026-09", "2026-10"]
    assert db.query(models.Sanction).filter_by(kind="WARNING").count() == 1
    # and a later run finds nothing due
    again = run("evaluate", "--due", url=migrated)
    assert again.returncode == 0 and "nothing due" in again.stdout
