"""Operations: request ids, structured JSON logs, Prometheus metrics.

- Every HTTP request and websocket gets an id: a sane incoming `X-Request-ID` is kept (so a
  proxy's id follows the request through), anything else is replaced by a fresh one; the id is
  returned in the `X-Request-ID` response header and stamped on every log record written while
  the request is served.
- `linkstar serve` logs one JSON object per line on stderr (`LINKSTAR_LOG_FORMAT=text` for a
  human-readable format), one `request` record per HTTP request with its status and duration.
- `/metrics` serves the metrics of `core.kernel.telemetry` in the Prometheus text format; with
  several workers it aggregates every worker's samples (see `prepare_multiprocess`).
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Iterator
from time import perf_counter
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from linkstar.core.kernel.telemetry import (
    DB_CONNECTIONS_IN_USE,
    DB_POOL_SIZE,
    GRAPHQL_OPERATIONS,
    GRAPHQL_SECONDS,
    HTTP_REQUESTS,
    HTTP_SECONDS,
    request_id,
)

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}")
ROUTES = frozenset({"/graphql", "/healthz", "/readyz", "/metrics", "/"})
METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS"})
MAX_OPERATION_NAMES = 200  # distinct label values; client-chosen names must not grow memory
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_seen_operations: set[str] = set()

access_log = logging.getLogger("linkstar.access")


def new_request_id(incoming: str | None) -> str:
    """The incoming id when it is short and made of safe characters, else a fresh one."""
    if incoming and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestTelemetry:
    """ASGI middleware: request id, the access log record and the HTTP metrics."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = new_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        token = request_id.set(rid)
        if scope["type"] == "websocket":
            try:
                await self.app(scope, receive, send)
            finally:
                request_id.reset(token)
            return
        status = 500
        started = perf_counter()

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = perf_counter() - started
            path = scope.get("path", "")
            route = path if path in ROUTES else "other"
            method = scope.get("method", "GET")
            method = method if method in METHODS else "other"
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_SECONDS.labels(method, route).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )
            request_id.reset(token)


def operation_label(name: str | None) -> str:
    """A bounded label for a client-chosen operation name."""
    if not name:
        return "anonymous"
    if not _OPERATION_NAME.fullmatch(name):
        return "invalid"
    if name not in _seen_operations:
        if len(_seen_operations) >= MAX_OPERATION_NAMES:
            return "other"
        _seen_operations.add(name)
    return name


class OperationMetrics(SchemaExtension):
    """Counts and times every GraphQL operation by name, type and outcome.

    Outcomes: `ok` (no errors), `error` (executed, with errors in the response), `rejected`
    (refused before execution: syntax, validation, limits, variables).
    """

    def on_operation(self) -> Iterator[None]:
        started = perf_counter()
        yield
        context = self.execution_context
        elapsed = perf_counter() - started
        name = operation_label(context.operation_name)
        try:
            kind = context.operation_type.value
        except Exception:  # no parsable document, or an unknown operation name
            kind = "unknown"
        result = context.result
        if (
            context.pre_execution_errors
            or result is None
            or (result.errors and result.data is None and not any(e.path for e in result.errors))
        ):
            outcome = "rejected"
        elif result.errors:
            outcome = "error"
        else:
            outcome = "ok"
        GRAPHQL_OPERATIONS.labels(name, kind, outcome).inc()
        GRAPHQL_SECONDS.labels(name, kind).observe(elapsed)


def instrument_pool(engine: AsyncEngine) -> None:
    """Keep the pool gauges current from the pool's own checkout/checkin events."""
    pool = engine.sync_engine.pool
    size = getattr(pool, "size", None)
    if callable(size):
        DB_POOL_SIZE.inc(size())

    @event.listens_for(engine.sync_engine, "checkout")
    def _out(*_: Any) -> None:
        DB_CONNECTIONS_IN_USE.inc()

    @event.listens_for(engine.sync_engine, "checkin")
    def _in(*_: Any) -> None:
        DB_CONNECTIONS_IN_USE.dec()


def release_pool(engine: AsyncEngine) -> None:
    """Take this engine's pool out of the gauges (the app is shutting down)."""
    size = getattr(engine.sync_engine.pool, "size", None)
    if callable(size):
        DB_POOL_SIZE.dec(size())


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # set by `linkstar serve --workers N`


async def metrics(_: Request) -> Response:
    """GET /metrics: the Prometheus text exposition of this process, or of every worker."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class RequestIdFilter(logging.Filter):
    """Stamps the current request id on every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


def log_config(fmt: str | None = None) -> dict[str, Any]:
    """`logging.config.dictConfig` for `linkstar serve` (uvicorn's `log_config`)."""
    fmt = (fmt or os.environ.get("LINKSTAR_LOG_FORMAT") or "json").lower()
    formatter: dict[str, Any]
    if fmt == "text":
        formatter = {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    else:
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        }
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "default",
        "filters": ["request_id"],
    }
    quiet = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": {
            "uvicorn": quiet,
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "linkstar": quiet,
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
