"""Webhooks: registering endpoints, checking where they point, signing and delivering.

A delivery is attempted at most MAX_ATTEMPTS times; after a failed attempt the next one waits
BACKOFF_SECONDS · 2^(attempts-1) (capped at MAX_BACKOFF_SECONDS); after the last it is DEAD (the
dead letter, visible in the graph). Any number of processes may deliver at once: each claims a
batch of due deliveries by pushing their `next_attempt_at` past a lease with a conditional
UPDATE (on PostgreSQL the batch is first selected FOR UPDATE SKIP LOCKED, so concurrent workers
take different rows without waiting for each other), then sends outside any transaction.

Signature: `X-LinkStar-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.
Receivers recompute it over the raw body, compare in constant time, and refuse old timestamps.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.events import DomainEvent
from linkstar.core.kernel.telemetry import WEBHOOK_DELIVERIES, log_failure
from linkstar.core.live.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:  # httpx is imported when there is something to deliver (start-up cost)
    import httpx

log = logging.getLogger("linkstar.webhooks")

MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 6 * 3600
LEASE_SECONDS = 120  # a claimed delivery is someone else's to retry only after this
TIMEOUT_SECONDS = 10
BATCH = 20
MAX_ENDPOINTS_PER_PROVIDER = 10
MAX_EVENT_TYPES = 50
SIGNATURE_HEADER = "X-LinkStar-Signature"


class WebhookRefused(InvalidInput):
    """The URL may not receive webhooks (scheme, or an address that is not public)."""

    code = "WEBHOOK_URL_REFUSED"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: int = 300) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse stale timestamps."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_destination(url: str, production: bool) -> None:
    """Refuse a URL that must not receive webhooks.

    In production: HTTPS only, and every address the host resolves to must be public (no
    loopback, private, link-local, carrier-grade NAT, multicast or reserved range), so a
    webhook cannot be aimed at the platform's own network (SSRF). Checked at registration and
    again before every attempt. In development plain HTTP and local addresses are allowed, so
    tests and local receivers work.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookRefused("a webhook URL must be an absolute https:// URL")
    if parts.username or parts.password:
        raise WebhookRefused("a webhook URL must not carry credentials")
    if not production:
        return
    if parts.scheme != "https":
        raise WebhookRefused("webhooks are sent over HTTPS only", suggestion="use https://")
    try:
        port = parts.port or 443
    except ValueError:
        raise WebhookRefused("the URL's port is not a number") from None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, port, type=socket.SOCK_STREAM
        )
    except OSError:
        raise WebhookRefused(f"{parts.hostname} does not resolve") from None
    addresses = {info[4][0] for info in infos}
    if not addresses or not all(_public(a) for a in addresses):
        raise WebhookRefused(
            f"{parts.hostname} resolves to an address that is not public",
            suggestion="webhooks go to public HTTPS endpoints only",
        )


def _kinds(event_types: list[str]) -> list[str]:
    kinds = sorted({k.strip() for k in event_types if k.strip()})
    if not kinds or len(kinds) > MAX_EVENT_TYPES:
        raise InvalidInput(f"name between 1 and {MAX_EVENT_TYPES} event types")
    for kind in kinds:
        if len(kind) > 80 or " " in kind:
            raise InvalidInput(f"{kind!r} is not an event type (e.g. alert.raised, sanction.*)")
    return kinds


async def register(
    session: AsyncSession,
    provider_id: int,
    url: str,
    event_types: list[str],
    account_id: int | None,
    production: bool,
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it with its signing secret (shown to the caller once)."""
    url = url.strip()
    if len(url) > 2000:
        raise InvalidInput("the URL is longer than 2000 characters")
    await check_destination(url, production)
    count = len(
        (
            await session.execute(
                select(WebhookEndpoint.id).where(
                    WebhookEndpoint.provider_id == provider_id, WebhookEndpoint.active.is_(True)
                )
            )
        ).all()
    )
    if count >= MAX_ENDPOINTS_PER_PROVIDER:
        raise InvalidInput(
            f"a provider may have at most {MAX_ENDPOINTS_PER_PROVIDER} active webhooks",
            suggestion="disable one first",
        )
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        provider_id=provider_id,
        url=url,
        event_types=_kinds(event_types),
        secret=secret,
        active=True,
        created_by_account_id=account_id,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint, secret


def body_of(event: DomainEvent) -> bytes:
    """What is POSTed: the event as JSON (the same fields as a subscription's LiveEvent)."""
    provider = (
        None
        if event.provider_id is None
        else base64.b64encode(f"Provider:{event.provider_id}".encode()).decode()
    )
    return json.dumps(
        {
            "id": str(event.id),
            "kind": event.event_type,
            "occurredAt": event.occurred_at.isoformat(),
            "providerId": provider,
            "subjectType": event.subject_type,
            "subjectId": str(event.subject_id),
            "payload": event.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return timedelta(seconds=min(BACKOFF_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS))


@dataclass
class DrainResult:
    delivered: int = 0
    failed: int = 0
    dead: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.failed + self.dead


async def _claim(
    sessions: async_sessionmaker[AsyncSession], now: datetime, limit: int
) -> list[tuple[int, datetime]]:
    """Take up to `limit` due deliveries for this process (lease them); (id, claimed-at)."""
    async with sessions() as session, session.begin():
        query = (
            select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        due = (await session.execute(query)).all()
        lease = now + timedelta(seconds=LEASE_SECONDS)
        claimed = []
        for delivery_id, seen in due:
            won = await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, WebhookDelivery.next_attempt_at == seen)
                .values(next_attempt_at=lease)
                .returning(WebhookDelivery.id)
            )
            if won.first() is not None:
                claimed.append((delivery_id, lease))
        return claimed


async def _attempt(
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    delivery_id: int,
    lease: datetime,
    production: bool,
    now: datetime,
) -> DeliveryStatus | None:
    async with sessions() as session:
        row = (
            await session.execute(
                select(WebhookDelivery, WebhookEndpoint, DomainEvent)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .join(DomainEvent, DomainEvent.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.id == delivery_id)
            )
        ).first()
    if row is None:
        return None
    delivery, endpoint, event = row
    import httpx

    status_code: int | None = None
    error: str | None = None
    if not endpoint.active:
        error = "the endpoint was disabled"
    else:
        body = body_of(event)
        try:
            await check_destination(endpoint.url, production)
            response = await client.post(
                endpoint.url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "LinkStar-Webhooks/1",
                    "X-LinkStar-Event": event.event_type,
                    "X-LinkStar-Delivery": str(delivery.id),
                    SIGNATURE_HEADER: sign(endpoint.secret, int(time.time()), body),
                },
            )
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"the endpoint answered {status_code}"
        except InvalidInput as exc:
            error = exc.message
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
    attempts = delivery.attempts + 1
    changes: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": now,
        "response_status": status_code,
        "last_error": error,
    }
    if error is None:
        outcome = DeliveryStatus.DELIVERED
        changes |= {"status": outcome, "delivered_at": now}
    elif attempts >= MAX_ATTEMPTS or not endpoint.active:
        outcome = DeliveryStatus.DEAD
        changes |= {"status": outcome}
    else:
        outcome = DeliveryStatus.PENDING
        changes |= {"next_attempt_at": now + backoff(attempts)}
    async with sessions() as session, session.begin():
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.next_attempt_at == lease)
            .values(**changes)
        )
    WEBHOOK_DELIVERIES.labels(
        {DeliveryStatus.DELIVERED: "delivered", DeliveryStatus.DEAD: "dead"}.get(outcome, "retry")
    ).inc()
    return outcome


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    production: bool,
    now: datetime | None = None,
    limit: int = BATCH,
    client: httpx.AsyncClient | None = None,
) -> DrainResult:
    """Attempt up to `limit` deliveries that are due at `now` (default: the current time)."""
    now = now or utcnow()
    result = DrainResult()
    claimed = await _claim(sessions, now, limit)
    if not claimed:
        return result
    own = client is None
    import httpx

    client = client or httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    try:
        outcomes = await asyncio.gather(
            *(_attempt(sessions, client, d, lease, production, now) for d, lease in claimed)
        )
    finally:
        if own:
            await client.aclose()
    for outcome in outcomes:
        if outcome is DeliveryStatus.DELIVERED:
            result.delivered += 1
        elif outcome is DeliveryStatus.DEAD:
            result.dead += 1
        elif outcome is DeliveryStatus.PENDING:
            result.failed += 1
    return result


def start_worker(
    sessions: async_sessionmaker[AsyncSession], production: bool
) -> asyncio.Task[None] | None:
    """Start the server's delivery loop, every LINKSTAR_WEBHOOK_INTERVAL seconds (default 2;
    0 turns it off, e.g. when a separate `linkstar webhooks drain` job delivers)."""
    raw = os.environ.get("LINKSTAR_WEBHOOK_INTERVAL", "2")
    try:
        interval = float(raw)
    except ValueError:
        raise InvalidInput(
            f"LINKSTAR_WEBHOOK_INTERVAL must be a number of seconds, not {raw!r}"
        ) from None
    if interval <= 0:
        return None
    return asyncio.create_task(run_worker(sessions, production, interval), name="webhooks")


async def run_worker(
    sessions: async_sessionmaker[AsyncSession], production: bool, interval: float = 2.0
) -> None:
    """The server's delivery loop: deliver what is due, then wait `interval` seconds."""
    while True:
        try:
            while (await deliver_due(sessions, production=production)).attempted:
                pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log_failure(log, "webhook delivery round failed")
        await asyncio.sleep(interval)
