"""Webhooks against a local receiver: signed deliveries from the outbox, retries with
exponential backoff, the dead letter, the drain command, and the SSRF guard."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL

from linkstar.core.kernel.db import create_engine, session_factory
from linkstar.core.kernel.events import DomainEvent
from linkstar.core.kernel.vocabulary import Role
from linkstar.core.live import webhooks
from linkstar.core.live.models import DeliveryStatus, WebhookDelivery
from tests.harness import global_id
from tests.sample_provider import shipper  # noqa: F401 - the fixture

REGISTER = "mutation($u: String!, $t: [String!]!) { registerWebhook(url: $u, eventTypes: $t) { secret endpoint { id url eventTypes active } } }"
HOOKS = """query($id: ID!) { provider(id: $id) { webhooks { edges { node { id url active
  deliveries { totalCount edges { node { eventType status attempts responseStatus lastError nextAttemptAt } } } } } } } }"""
REPORT = (
    "mutation($r: [ObservationInput!]!) { reportObservations(records: $r) { accepted alerts } }"
)
LINE = 'mutation { setAlertThreshold(category: "sample", metric: "on_time_rate", threshold: "98") }'
LINKSTAR = Path(sys.executable).parent / "linkstar"


class Receiver:
    """A local HTTP endpoint that records what it receives and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/linkstar"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"received {len(self.received)} of {count}"
            time.sleep(0.05)
        return self.received


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()


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


def test_an_alert_is_delivered_signed_and_the_delivery_is_in_the_graph(
    shipper, sign_in, receiver
) -> None:
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    registered = partner(REGISTER, {"u": receiver.url, "t": ["alert.raised"]})["registerWebhook"]
    secret = registered["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert registered["endpoint"]["eventTypes"] == ["alert.raised"]
    partner(LINE)
    partner(
        REPORT, {"r": deliveries(0, 50, late=2)}
    )  # 96%: below the provider's own 98%, above the fixture's 95 % warning line
    (request,) = receiver.wait(1)
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-linkstar-event"] == "alert.raised"
    # the receiver's check, written out: HMAC-SHA256 over "<t>." + raw body
    fields = dict(part.split("=", 1) for part in headers["x-linkstar-signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{fields['t']}.".encode() + request["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    assert abs(time.time() - int(fields["t"])) < 60
    event = json.loads(request["body"])
    assert event["kind"] == "alert.raised" and event["payload"]["line"] == "INTERNAL"
    assert event["providerId"] == global_id("Provider", shipper.id)
    # a tampered body fails the same check
    assert not webhooks.verify(
        secret, headers["x-linkstar-signature"], request["body"] + b" ", time.time()
    )
    deadline = time.monotonic() + 10
    while True:
        hooks = partner(HOOKS, {"id": global_id("Provider", shipper.id)})["provider"]["webhooks"]
        (delivery,) = [e["node"] for e in hooks["edges"][0]["node"]["deliveries"]["edges"]]
        if delivery["status"] == "DELIVERED" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert delivery == {
        "eventType": "alert.raised",
        "status": "DELIVERED",
        "attempts": 1,
        "responseStatus": 200,
        "lastError": None,
        "nextAttemptAt": None,
    }
    # another provider's partner sees none of it
    rival = sign_in(Role.SELLER)
    assert (
        rival(HOOKS, {"id": global_id("Provider", shipper.id)})["provider"]["webhooks"]["edges"]
        == []
    )


def test_the_outbox_row_is_written_with_the_event_or_not_at_all(shipper, sign_in, db) -> None:
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    partner(REGISTER, {"u": "http://127.0.0.1:9/unused", "t": ["sanction.*"]})

    def event(kind: str) -> DomainEvent:
        return DomainEvent(
            event_type=kind,
            subject_type="Provider",
            subject_id=shipper.id,
            provider_id=shipper.id,
            actor="test",
            payload={},
        )

    db.add_all([event("sanction.warning"), event("tier.changed")])
    db.flush()
    pending = db.execute(select(WebhookDelivery.event_type)).scalars().all()
    assert pending == ["sanction.warning"]  # in the same transaction, only the wanted kind
    db.rollback()
    assert db.execute(select(WebhookDelivery)).first() is None  # rolled back together


def test_a_failing_endpoint_is_retried_with_exponential_backoff_then_dead_lettered(
    shipper, sign_in, migrated: URL
) -> None:
    failing = Receiver(status=500)
    try:
        partner = sign_in(Role.PARTNER, provider_id=shipper.id)
        partner(REGISTER, {"u": failing.url, "t": ["alert.*"]})
        partner(LINE)
        partner(REPORT, {"r": deliveries(0, 50, late=2)})
        failing.wait(1)  # the server's worker makes the first attempt at once

        async def retry_until_dead() -> list[tuple[int, timedelta]]:
            engine = create_engine(migrated)
            sessions = session_factory(engine)
            waits = []
            try:
                for _ in range(20):
                    async with sessions() as session:
                        row = (await session.execute(select(WebhookDelivery))).scalar_one()
                    if row.status is DeliveryStatus.DEAD:
                        return waits
                    if row.attempts == 0 or row.next_attempt_at <= datetime.now(UTC):
                        await asyncio.sleep(0.2)  # the first attempt is still being recorded
                        continue
                    waits.append((row.attempts, row.next_attempt_at - row.last_attempt_at))
                    # time travel: act as a worker at the moment the retry falls due
                    await webhooks.deliver_due(sessions, production=False, now=row.next_attempt_at)
            finally:
                await engine.dispose()
            raise AssertionError(f"not dead after 20 rounds: {waits}")

        waits = asyncio.run(retry_until_dead())
        assert [a for a, _ in waits] == list(range(1, webhooks.MAX_ATTEMPTS))
        assert [w.total_seconds() for _, w in waits] == [
            30 * 2 ** (a - 1) for a in range(1, webhooks.MAX_ATTEMPTS)
        ]
        assert len(failing.received) == webhooks.MAX_ATTEMPTS
        hooks = partner(HOOKS, {"id": global_id("Provider", shipper.id)})["provider"]["webhooks"]
        (delivery,) = [e["node"] for e in hooks["edges"][0]["node"]["deliveries"]["edges"]]
        assert delivery["status"] == "DEAD" and delivery["attempts"] == webhooks.MAX_ATTEMPTS
        assert delivery["lastError"] == "the endpoint answered 500"
        assert delivery["nextAttemptAt"] is None
    finally:
        failing.server.shutdown()


def test_drain_delivers_what_is_due_exactly_once_beside_the_server(
    shipper, sign_in, db, receiver, migrated: URL
) -> None:
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    partner(REGISTER, {"u": receiver.url, "t": ["violation.recorded"]})
    for n in range(5):
        db.add(
            DomainEvent(
                event_type="violation.recorded",
                subject_type="Provider",
                subject_id=shipper.id,
                provider_id=shipper.id,
                actor="test",
                payload={"n": n},
            )
        )
    db.commit()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LINKSTAR_")}
    environment["LINKSTAR_DATABASE_URL"] = migrated.render_as_string(hide_password=False)
    done = subprocess.run(
        [str(LINKSTAR), "webhooks", "drain"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("delivered ")
    received = receiver.wait(5)
    time.sleep(3)  # the server's worker ran meanwhile too: still nothing twice
    ids = [r["headers"]["X-LinkStar-Delivery"] for r in received]
    assert len(ids) == len(set(ids)) == 5
    db.expire_all()
    statuses = db.execute(select(WebhookDelivery.status)).scalars().all()
    assert statuses == [DeliveryStatus.DELIVERED] * 5


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",  # the cloud metadata service
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://localhost/hook",
        "http://93.184.216.34/hook",  # public, but not HTTPS
        "https://user:pw@93.184.216.34/hook",
        "ftp://93.184.216.34/hook",
    ],
)
def test_production_refuses_urls_that_are_not_public_https(url: str) -> None:
    with pytest.raises(webhooks.WebhookRefused):
        asyncio.run(webhooks.check_destination(url, production=True))


def test_production_accepts_a_public_https_address_and_development_a_local_one() -> None:
    asyncio.run(webhooks.check_destination("https://93.184.216.34/hook", production=True))
    asyncio.run(webhooks.check_destination("http://127.0.0.1:8080/hook", production=False))
