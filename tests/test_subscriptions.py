"""Subscriptions over graphql-transport-ws with a real websocket client: policy, catch-up,
revocation — and, on PostgreSQL, fan-out across `linkstar serve --workers 2` from a CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import URL

from linkstar.core.kernel.events import DomainEvent
from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role
from linkstar.core.runtime import tables as models
from tests.harness import LOGIN, PASSWORD, Server, free_port, global_id, on_postgres
from tests.live_client import LiveClient
from tests.sample_provider import shipper  # noqa: F401 - the fixture

EVENTS = """subscription($provider: ID, $kinds: [String!], $after: ID) {
  providerEvents(provider: $provider, kinds: $kinds, after: $after) {
    id kind providerId subjectType payload } }"""
QUEUE = "subscription($after: ID) { reviewQueue(queue: APPLICATIONS, after: $after) { id kind providerId } }"
REPORT = (
    "mutation($r: [ObservationInput!]!) { reportObservations(records: $r) { accepted alerts } }"
)
LINE = 'mutation { setAlertThreshold(category: "sample", metric: "on_time_rate", threshold: "98") }'


def deliveries(start: int, count: int, late: int) -> list[dict]:
    now = datetime.now(UTC) - timedelta(minutes=1)
    return [
        {
            "category": "sample",
            "metric": "on_time_rate",
            "subjectRef": f"p{i}",
            "observedAt": now.isoformat(),
            "value": "0" if i - start < late else "1",
            "idempotencyKey": f"d{i}",
        }
        for i in range(start, start + count)
    ]


def last_event_id(db) -> str:
    db.expire_all()
    return str(db.execute(select(func.coalesce(func.max(DomainEvent.id), 0))).scalar())


def other_provider(db) -> models.Provider:
    provider = models.Provider(
        legal_name="Yiwu Parcels", region=Region.MAINLAND_CHINA, registration_number="R-YP"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id, category_key="sample", status=ApplicationStatus.ACTIVE
        )
    )
    db.commit()
    return provider


def live(server: Server, client) -> LiveClient:
    connection = LiveClient(server.url, client.token)
    connection.acknowledged()
    return connection


def test_a_websocket_without_a_valid_credential_is_refused(server: Server) -> None:
    anonymous = LiveClient(server.url, None, params={})
    assert anonymous.close_code() == 4403
    forged = LiveClient(server.url, "not-a-token")
    assert forged.close_code() == 4403


def test_a_partner_receives_its_own_alert_live_and_never_another_providers(
    server: Server, shipper, sign_in, db
) -> None:
    rival = other_provider(db)
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    rival_partner = sign_in(Role.PARTNER, provider_id=rival.id)
    since = last_event_id(db)
    mine, theirs = live(server, partner), live(server, rival_partner)
    try:
        mine.subscribe(EVENTS, {"kinds": ["alert.raised"], "after": since})
        theirs.subscribe(EVENTS, {"after": since})
        partner(LINE)
        assert (
            partner(REPORT, {"r": deliveries(0, 50, late=2)})["reportObservations"]["alerts"] == 1
        )
        (event,) = mine.events(1)
        assert event["kind"] == "alert.raised" and event["subjectType"] == "Alert"
        assert event["providerId"] == global_id("Provider", shipper.id)
        assert event["payload"]["metric"] == "on_time_rate"
        assert event["payload"]["line"] == "INTERNAL" and event["payload"]["value"] == "96"
        assert theirs.silent_for(2)  # the rival hears nothing of it
        # …and may not ask for it by name
        spy = live(server, rival_partner)
        spy.subscribe(EVENTS, {"provider": global_id("Provider", shipper.id)})
        assert spy.refusal() == "FORBIDDEN"
        spy.close()
    finally:
        mine.close()
        theirs.close()


def test_resuming_with_the_last_event_id_delivers_what_was_missed(
    server: Server, shipper, sign_in, db
) -> None:
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    partner(LINE)
    since = last_event_id(db)
    first = live(server, partner)
    first.subscribe(EVENTS, {"kinds": ["alert.*"], "after": since})
    partner(REPORT, {"r": deliveries(0, 50, late=2)})  # 96%: the internal line
    (seen,) = first.events(1)
    first.close()
    # while disconnected: 48/60 = 80%, below the platform's warning line and threshold
    assert partner(REPORT, {"r": deliveries(50, 10, late=10)})["reportObservations"]["alerts"] == 2
    again = live(server, partner)
    try:
        again.subscribe(EVENTS, {"kinds": ["alert.*"], "after": seen["id"]})
        missed = again.events(2)
        assert [e["payload"]["line"] for e in missed] == ["PLATFORM_WARNING", "PLATFORM_THRESHOLD"]
        assert int(missed[0]["id"]) > int(seen["id"]) and int(missed[1]["id"]) > int(
            missed[0]["id"]
        )
        assert again.silent_for(1)  # nothing twice
    finally:
        again.close()


def test_a_session_that_ends_stops_receiving(server: Server, shipper, sign_in, db) -> None:
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    partner(LINE)
    connection = live(server, partner)
    try:
        connection.subscribe(EVENTS, {"after": last_event_id(db)})
        assert partner("mutation { logout }")["logout"] is True
        reporter = sign_in(Role.PARTNER, provider_id=shipper.id)  # a colleague still reports
        reporter(REPORT, {"r": deliveries(0, 50, late=2)})
        assert connection.refusal() == "UNAUTHENTICATED"
    finally:
        connection.close()


def test_staff_follow_the_application_queue_and_partners_may_not(
    server: Server, shipper, sign_in, staff, db
) -> None:
    since = last_event_id(db)
    queue = live(server, staff)
    partner = live(server, sign_in(Role.PARTNER, provider_id=shipper.id))
    try:
        queue.subscribe(QUEUE, {"after": since})
        partner.subscribe(QUEUE)
        assert partner.refusal() == "FORBIDDEN"
        # another process (here: the test's own connection) submits an application
        db.add(
            DomainEvent(
                event_type="application.submit",
                subject_type="Application",
                subject_id=1,
                provider_id=shipper.id,
                actor="someone@example.com",
                payload={"from": "DRAFT", "to": "SUBMITTED"},
            )
        )
        db.add(
            DomainEvent(
                event_type="application.note",
                subject_type="Application",
                subject_id=1,
                provider_id=shipper.id,
                actor="someone@example.com",
                payload={},
            )
        )
        db.commit()
        (event,) = queue.events(1)
        assert event["kind"] == "application.submit"
        assert event["providerId"] == global_id("Provider", shipper.id)
        assert queue.silent_for(1.5)  # the note is not a queue event
    finally:
        queue.close()
        partner.close()


# --- several processes ------------------------------------------------------------------

LINKSTAR = Path(sys.executable).parent / "linkstar"


@pytest.mark.postgres_only
@pytest.mark.skipif(not on_postgres(), reason="LISTEN/NOTIFY fan-out needs PostgreSQL")
def test_a_cli_evaluation_reaches_subscribers_on_every_worker(fresh_database_url: URL) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LINKSTAR_")}
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    environment["LINKSTAR_DATABASE_URL"] = fresh_database_url.render_as_string(hide_password=False)
    environment["LINKSTAR_ADMIN_PASSWORD"] = PASSWORD

    def cli(*args: str) -> None:
        done = subprocess.run(
            [str(LINKSTAR), *args], env=environment, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr

    cli("db", "upgrade")
    cli("demo", "--if-empty")
    cli("accounts", "create-admin", "--email", "ops@example.com")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(LINKSTAR), "serve", "--port", str(port), "--workers", "2"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    connections: list[LiveClient] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        token = httpx.post(
            f"{base}/graphql",
            json={"query": LOGIN, "variables": {"email": "ops@example.com", "password": PASSWORD}},
        ).json()["data"]["login"]["accessToken"]
        workers: set[int] = set()
        while len(workers) < 2 and len(connections) < 24:  # until both workers hold one
            connection = LiveClient(base, token)
            workers.add(connection.acknowledged()["payload"]["worker"])
            connections.append(connection)
        assert len(workers) == 2, "every connection landed on the same worker"
        for connection in connections:
            connection.subscribe(EVENTS, {"kinds": ["scorecard.published"]})
        time.sleep(1)  # let each subscription reach its worker's hub
        # The demo evaluated every closed month; forget the latest closed one's erp scorecards,
        # so the CLI's evaluation of it publishes them again.
        this_month = datetime.now(UTC).replace(day=1)
        last_month = this_month - timedelta(days=1)
        if datetime.now(UTC) < this_month + timedelta(days=8):  # still in its grace period
            last_month = last_month.replace(day=1) - timedelta(days=1)
        month = last_month.strftime("%Y-%m")
        engine = create_engine(fresh_database_url.set(drivername="postgresql+psycopg"))
        with engine.begin() as connection:
            for table in ("scorecards", "evaluation_runs"):
                connection.execute(
                    text(f"DELETE FROM {table} WHERE category_key = 'erp' AND period = :m"),
                    {"m": month},
                )
        engine.dispose()
        cli("evaluate", "--period", month, "--category", "erp")
        received = [c.events(1, timeout=30)[0] for c in connections]
        assert {e["kind"] for e in received} == {"scorecard.published"}
        assert all(e["payload"]["period"] == month for e in received)
    finally:
        for connection in connections:
            connection.close()
        server.terminate()
        server.wait(timeout=30)
