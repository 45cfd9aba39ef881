"""Closed periods only (issue #9, point 2): open and future months are refused, silence is not a
passing month, the open month is a labelled projection, and closed months are evaluated at
close by exactly one of several schedulers (server tasks and cron processes)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.db import create_engine, session_factory
from linkstar.core.kernel.vocabulary import ObservationSource, Role
from linkstar.core.runtime import tables as models
from linkstar.core.standing.verdicts import evaluate_due
from tests.harness import TEST_SECRET, global_id, start_server
from tests.sample_provider import shipper  # noqa: F401
from tests.test_cli import run

STANDING = """query($id: ID!) { provider(id: $id) {
  publicStandings { category period standing }
  sanctions(first: 50) { edges { node { kind status period } } }
  scorecard(category: "sample", period: "2026-10") { composite standing
    metrics { metric status } } } }"""


def month_of_data(db, provider_id: int, month: int, lost: int, metrics=None, year=2026) -> None:
    """10 jobs, each answered within 2 hours; `lost` of them late (90 % on time is the limit)."""
    for i in range(10):
        when = datetime(year, month, 1 + i % 27, 8, tzinfo=UTC)
        for key, value in (("on_time_rate", int(i >= lost)), ("response_hours", 2)):
            if metrics is None or key in metrics:
                db.add(
                    models.KpiObservation(
                        provider_id=provider_id,
                        category_key="sample",
                        metric_key=key,
                        subject_ref=f"s{i}",
                        observed_at=when,
                        value=Decimal(value),
                        source=ObservationSource.PLATFORM,
                        idempotency_key=f"{key}-{year}-{month}-{i}",
                    )
                )
    db.commit()


def evaluate(admin, period: str) -> None:
    admin(f'mutation {{ evaluatePeriod(period: "{period}", category: "sample") {{ written }} }}')


def kinds(data) -> list[tuple[str, str, str]]:
    return [
        (e["node"]["kind"], e["node"]["status"], e["node"]["period"])
        for e in data["sanctions"]["edges"]
    ]


@pytest.mark.parametrize("period", ["2026-11", "2099-01"])
def test_open_and_future_months_are_refused_with_a_code(period, shipper, sign_in, db) -> None:
    # given: data in the open month (today is in November 2026, which closes on 7 December)
    month_of_data(db, shipper.id, 11, lost=0)
    admin = sign_in(Role.ADMIN)
    # when
    errors = admin.errors(f'mutation {{ evaluatePeriod(period: "{period}") {{ written }} }}')
    # then: one clear refusal, nothing written for any category
    assert [e["extensions"]["code"] for e in errors] == ["PERIOD_NOT_CLOSED"]
    assert "is not closed" in errors[0]["message"]
    assert db.query(models.Scorecard).count() == 0 and db.query(models.Sanction).count() == 0


def test_the_cli_refuses_an_open_month_in_one_line(migrated) -> None:
    result = run("evaluate", "--period", "2099-01", url=migrated)
    assert result.returncode == 2
    assert result.stderr.startswith("linkstar: error: ") and len(result.stderr.splitlines()) == 1
    assert "is not closed" in result.stderr and "Traceback" not in result.stderr


def test_a_silent_month_keeps_the_standing_and_the_restriction(shipper, sign_in, db) -> None:
    # given: two failing months (warning, then restriction), then a month without any report
    admin = sign_in(Role.ADMIN)
    gid = {"id": global_id("Provider", shipper.id)}
    for month in (8, 9):
        month_of_data(db, shipper.id, month, lost=2)
        evaluate(admin, f"2026-{month:02d}")
    before = admin(STANDING, gid)["provider"]
    assert ("RESTRICTED_INTAKE", "ACTIVE", "2026-09") in kinds(before)
    # when: October, in which the provider reported nothing, is evaluated
    evaluate(admin, "2026-10")
    # then: its scorecard says INSUFFICIENT_DATA, and nothing else moves
    data = admin(STANDING, gid)["provider"]
    card = data["scorecard"]
    assert card["standing"] == "UNRATED" and {m["status"] for m in card["metrics"]} == {
        "INSUFFICIENT_DATA"
    }
    assert data["publicStandings"] == before["publicStandings"]  # September's, not UNRATED
    assert data["publicStandings"][0]["period"] == "2026-09"
    assert ("RESTRICTED_INTAKE", "ACTIVE", "2026-09") in kinds(data)
    assert kinds(data) == kinds(before)  # no new warning either: silence is not a failure


def test_silence_on_the_failing_metric_does_not_lift_a_restriction(shipper, sign_in, db) -> None:
    # given: restricted for late jobs in August and September
    admin = sign_in(Role.ADMIN)
    gid = {"id": global_id("Provider", shipper.id)}
    for month in (8, 9):
        month_of_data(db, shipper.id, month, lost=2)
        evaluate(admin, f"2026-{month:02d}")
    # when: October reports only the response times, not whether the jobs were on time
    month_of_data(db, shipper.id, 10, lost=0, metrics={"response_hours"})
    evaluate(admin, "2026-10")
    data = admin(STANDING, gid)["provider"]
    # then: a rated month, but the failing metric is unproven: the restriction stays
    assert data["scorecard"]["standing"] != "UNRATED"
    assert ("RESTRICTED_INTAKE", "ACTIVE", "2026-09") in kinds(data)
    # and once the jobs are reported and on time, it is lifted
    month_of_data(db, shipper.id, 10, lost=0, metrics={"on_time_rate"})
    evaluate(admin, "2026-10")
    assert ("RESTRICTED_INTAKE", "LIFTED", "2026-09") in kinds(admin(STANDING, gid)["provider"])


def test_the_open_month_is_a_labelled_projection_not_a_scorecard(shipper, sign_in, db) -> None:
    # given: this month's jobs so far (1 of 10 late: 90 %, at the limit, inside the warning band)
    now = datetime.now(UTC)
    month_of_data(db, shipper.id, now.month, lost=1, year=now.year)
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    # when
    data = partner(
        """query($id: ID!) { provider(id: $id) {
          kpiProjection(category: "sample") { period closesAt composite standing
            metrics { metric value status } }
          scorecards { totalCount } } }""",
        {"id": global_id("Provider", shipper.id)},
    )["provider"]
    # then
    projection = data["kpiProjection"]
    assert projection["period"] == f"{now:%Y-%m}" and projection["closesAt"] > now.isoformat()
    on_time = next(m for m in projection["metrics"] if m["metric"] == "on_time_rate")
    assert (on_time["value"], on_time["status"]) == ("90.0000", "WARNING")
    assert data["scorecards"]["totalCount"] == 0  # the projection wrote nothing
    # and sellers never see it
    seller = sign_in(Role.SELLER)
    hidden = seller(
        'query($id: ID!) { provider(id: $id) { kpiProjection(category: "sample") { period } } }',
        {"id": global_id("Provider", shipper.id)},
    )
    assert hidden["provider"] is None or hidden["provider"]["kpiProjection"] is None


def counts(db) -> tuple[list[tuple[str, str]], list[tuple[str, int]]]:
    db.expire_all()
    runs = sorted((r.category_key, r.period) for r in db.query(models.EvaluationRun).all())
    cards = sorted((c.period, c.revision) for c in db.query(models.Scorecard).all())
    return runs, cards


def test_server_schedulers_in_two_apps_evaluate_each_closed_month_once(
    shipper, migrated, registry, db, tmp_path
) -> None:
    # given: two app processes' worth of servers on one database, each with its scheduler
    for month in (9, 10):
        month_of_data(db, shipper.id, month, lost=0)
    from linkstar.core.runtime.app import create_app

    servers = []
    for index in range(2):
        settings = Settings(
            database_url=migrated,
            environment="development",
            disabled_plugins=(),
            storage_dir=str(tmp_path / f"s{index}"),
            secret_key=TEST_SECRET,
            evaluation_interval=0.2,
        )
        servers.append(start_server(create_app(settings, registry)))
    try:
        # when: they tick for a while
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(counts(db)[0]) < 2:
            time.sleep(0.2)
        time.sleep(1.0)  # several more ticks of both schedulers
    finally:
        for uv, thread, _url in servers:
            uv.should_exit = True
            thread.join(timeout=10)
    # then: each closed month once; the open one never
    runs, cards = counts(db)
    assert runs == [("sample", "2026-09"), ("sample", "2026-10")]
    assert cards == [("2026-09", 1), ("2026-10", 1)]


def test_evaluate_due_tasks_racing_in_one_process(shipper, migrated, registry, db) -> None:
    for month in (9, 10):
        month_of_data(db, shipper.id, month, lost=0)

    async def race() -> list[int]:
        engines = [create_engine(migrated) for _ in range(3)]
        try:
            done = await asyncio.gather(
                *(
                    evaluate_due(session_factory(e), registry, by=f"task-{i}")
                    for i, e in enumerate(engines)
                )
            )
        finally:
            for engine in engines:
                await engine.dispose()
        return [len(d) for d in done]

    assert sum(asyncio.run(race())) == 2  # two closed months, split among three racers
    runs, cards = counts(db)
    assert cards == [("2026-09", 1), ("2026-10", 1)] and len(runs) == 2
