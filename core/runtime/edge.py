"""The edge of every HTTP request: deadlines, database outages, disconnects, last-resort errors.

`Edge` is ASGI middleware around every route. Whatever happens inside, the caller gets JSON
with a stable code, never plain text or a traceback:

| situation | status | code |
|---|---|---|
| the database is stopped, frozen, locked, out of connections | 503 | SERVICE_UNAVAILABLE |
| the request did not finish within its deadline | 503 | SERVICE_UNAVAILABLE |
| the headers or the body arrive too slowly (slow-loris) | 408 | REQUEST_TIMEOUT |
| an unexpected error | 500 | INTERNAL_SERVER_ERROR (logged once) |

503 answers carry `Retry-After`; a 408 closes the connection.

A client that disconnects is not an incident: nothing is logged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from uvicorn.protocols.http.h11_impl import H11Protocol

from linkstar.core.kernel.db import is_outage

log = logging.getLogger("linkstar.edge")

RETRY_AFTER_SECONDS = 5
BODY_GRACE_SECONDS = 5.0  # the first bytes of a body, whatever its size
BODY_MIN_RATE = 64 * 1024  # bytes per second a client must sustain after that


class SlowBody(Exception):
    """The client sends its body slower than BODY_MIN_RATE allows."""


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A GraphQL-shaped error for a request refused outside GraphQL execution."""
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


def unavailable() -> JSONResponse:
    """503: the database cannot serve right now."""
    return error_response(
        503,
        "SERVICE_UNAVAILABLE",
        "the service is temporarily unavailable; retry shortly",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def body_deadline(content_length: int) -> float:
    """Seconds a body of `content_length` bytes may take to arrive."""
    return BODY_GRACE_SECONDS + content_length / BODY_MIN_RATE


class Edge:
    """Bounds every HTTP request in time and turns whatever escapes into a JSON answer.

    `processing_seconds` bounds the work after the body has arrived (the database's
    statement timeout plus its connect timeout: a frozen database cannot hold a request
    longer). The body itself must arrive within `body_deadline(content_length)`.
    """

    def __init__(self, app: Any, *, processing_seconds: float) -> None:
        self.app = app
        self.processing_seconds = processing_seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        headers = dict(scope.get("headers") or [])
        raw_length = headers.get(b"content-length", b"0")
        length = int(raw_length) if raw_length.isdigit() else 0
        body_seconds = body_deadline(length) if scope.get("method") in ("POST", "PUT") else 0.0
        body_until = loop.time() + body_seconds
        body_done = body_seconds == 0.0
        started = False

        deadline_at = loop.time() + body_seconds + self.processing_seconds
        answered = False

        async def bounded_receive() -> dict[str, Any]:
            nonlocal body_done, deadline_at
            if body_done:  # past the body: waiting for a disconnect is not bounded
                return await receive()
            try:
                async with asyncio.timeout(max(body_until - loop.time(), 0.001)):
                    message = await receive()
            except TimeoutError:
                raise SlowBody from None
            if message["type"] != "http.request" or not message.get("more_body"):
                body_done = True
                deadline_at = loop.time() + self.processing_seconds
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if answered:
                return  # the edge answered already (deadline); late output goes nowhere
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        # The app runs as a task so that at the deadline the caller is answered at once: a
        # cancelled database driver may take many seconds to give up on a frozen server.
        task = asyncio.ensure_future(self.app(scope, bounded_receive, tracking_send))
        try:
            while not task.done():
                # the deadline moves once the body is in: look again at least every second
                await asyncio.wait({task}, timeout=min(max(deadline_at - loop.time(), 0), 1.0))
                if not task.done() and loop.time() >= deadline_at and not started:
                    task.cancel()
                    task.add_done_callback(_forget)
                    raise TimeoutError
            task.result()
            return
        except ClientDisconnect:
            return  # the client left; nobody to answer
        except asyncio.CancelledError:
            task.cancel()
            task.add_done_callback(_forget)
            raise
        except SlowBody:
            log.info("closed a connection sending its body too slowly")
            response = error_response(
                408,
                "REQUEST_TIMEOUT",
                "the request body arrived too slowly",
                {"Connection": "close"},
            )
        except TimeoutError:
            log.warning("a request exceeded its %.0f s deadline", self.processing_seconds)
            response = unavailable()
        except Exception as exc:
            if is_outage(exc):
                log.warning("database unavailable: %s", type(exc).__name__)
                response = unavailable()
            else:
                log.exception("unexpected error on %s", scope.get("path"))
                response = error_response(
                    500,
                    "INTERNAL_SERVER_ERROR",
                    "Internal server error. It has been logged; please retry or report it.",
                )
        if started:
            return  # too late to answer; the server closes the connection
        answered = True
        await response(scope, receive, send)


def _forget(task: asyncio.Future[Any]) -> None:
    """Collect a cancelled request's outcome so it is not reported as never retrieved."""
    if not task.cancelled():
        task.exception()


HEADER_SECONDS = 5.0  # a request's line and headers must arrive within this


class BoundedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing connections whose headers trickle in.

    uvicorn bounds the idle time between requests (keep-alive) but not the time a request's
    headers may take, so a client sending a byte every few seconds holds a connection for
    ever (slow-loris). Here the headers of every request must be complete within
    HEADER_SECONDS of their first byte (or of the connection); the body is bounded by
    `Edge`. Serve with `uvicorn.run(..., http=HTTP_PROTOCOL)`.
    """

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the headers are in

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(HEADER_SECONDS, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.write(_HEADERS_TIMEOUT_RESPONSE)
            self.transport.close()


_HEADERS_TIMEOUT_BODY = (
    b'{"data":null,"errors":[{"message":"the request headers arrived too slowly",'
    b'"extensions":{"code":"REQUEST_TIMEOUT"}}]}'
)
_HEADERS_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    + f"content-length: {len(_HEADERS_TIMEOUT_BODY)}\r\n\r\n".encode()
    + _HEADERS_TIMEOUT_BODY
)
HTTP_PROTOCOL = f"{__name__}:BoundedH11Protocol"
