"""The ASGI application: /graphql, /documents/{id}, /healthz, /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

from linkstar.core.contract.registry import Registry, load_registry
from linkstar.core.identity import audit, ratelimit
from linkstar.core.identity.accounts import authenticate
from linkstar.core.identity.policy import ANONYMOUS, Unauthenticated
from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.db import (
    create_engine,
    is_outage,
    read_bind,
    session_factory,
    timeouts_of,
)
from linkstar.core.kernel.storage import LocalDirectoryStore
from linkstar.core.kernel.telemetry import log_failure
from linkstar.core.kpi.catalog import record_metric_versions
from linkstar.core.live import webhooks  # also installs the webhook outbox writer
from linkstar.core.live.hub import EventHub
from linkstar.core.marketplace.dispatch import expire_due
from linkstar.core.runtime import observability, payload
from linkstar.core.runtime.downloads import document_endpoint
from linkstar.core.runtime.edge import Edge
from linkstar.core.runtime.live import SubscriptionAuthentication
from linkstar.core.runtime.money_sweep import sweep_forever
from linkstar.core.runtime.protocol import GraphQLOverHTTP
from linkstar.core.runtime.retention import purge_documents_forever
from linkstar.core.runtime.web import dashboard_routes
from linkstar.core.standing.verdicts import evaluate_due
from linkstar.schema.compose import compose_schema
from linkstar.schema.context import Context
from linkstar.schema.hardening import MAX_TOKENS

log = logging.getLogger("linkstar")


MAX_JSON_BYTES = 4 * 1024 * 1024  # a 10,000-record KPI report fits
MAX_MULTIPART_BYTES = 25 * 1024 * 1024
MAX_ANONYMOUS_BYTES = 64 * 1024  # before authentication: sign-in, sign-up, registration
CSRF_HEADER = "x-linkstar-csrf"


class LinkStarGraphQL(SubscriptionAuthentication, GraphQL[Context, None]):
    """Strawberry's ASGI view, handing each request a fresh `Context` with its viewer."""

    def __init__(self, *args: Any, make_context: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._make_context = make_context

    async def get_context(self, request: Any, response: Any) -> Context:
        context = self._make_context(request, response)
        context.viewer = getattr(request.state, "viewer", ANONYMOUS)
        return context


def graphql_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """A GraphQL-shaped error refused before execution (HTTP-level checks)."""
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


class GraphQLEndpoint:
    """HTTP-level protections in front of GraphQL, then authentication, then strawberry.

    - POST bodies must be JSON, or multipart with the CSRF header (a browser cannot send a
      custom header cross-site without a preflight); form-encoded and text/plain are refused.
    - Bodies are bounded, much more tightly without credentials (MAX_ANONYMOUS_BYTES); the
      credential is checked before the body is read, and the body's shape before GraphQL
      parses it (`payload`).
    - A bad credential is a 401, never a silent downgrade to anonymous.
    """

    def __init__(
        self, graphql: LinkStarGraphQL, settings: Settings, sessions: Any, engine: Any
    ) -> None:
        self.graphql = graphql
        self.settings = settings
        self.sessions = sessions
        self.engine = engine

    def _refuse(self, request: Request) -> Response | None:
        if request.method != "POST":
            return None
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in ("application/json", "multipart/form-data"):
            return graphql_error(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "send application/json (or multipart/form-data for uploads)",
            )
        if media_type == "multipart/form-data" and not request.headers.get(CSRF_HEADER):
            return graphql_error(
                400, "CSRF_HEADER_REQUIRED", f"multipart requests need the {CSRF_HEADER} header"
            )
        if request.headers.get("transfer-encoding"):
            # the body limit is enforced on Content-Length; a chunked body could bypass it
            return graphql_error(
                411, "LENGTH_REQUIRED", "send the body with a Content-Length, not chunked"
            )
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            return graphql_error(411, "LENGTH_REQUIRED", "send a Content-Length header")
        limit = MAX_MULTIPART_BYTES if media_type == "multipart/form-data" else MAX_JSON_BYTES
        if not request.headers.get("authorization"):
            limit = MAX_ANONYMOUS_BYTES  # nobody is accountable yet: parse little
        if int(length) > limit:
            return graphql_error(
                413,
                "REQUEST_TOO_LARGE",
                f"the request body exceeds {limit} bytes",
                {"Connection": "close"},
            )
        return None

    async def _refuse_shape(self, request: Request) -> tuple[Response | None, bytes | None]:
        """Malformed requests, batches and GET mutations answer with a code (strawberry would
        answer plain text, or a 500); see `payload` for every check."""
        try:
            if request.method == "GET":
                return self._refuse_get(request), None
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            body = await request.body()
            if media_type == "multipart/form-data":
                await _check_multipart(request.scope, body)
                return None, body
            if body.lstrip()[:1] == b"[":
                return (
                    graphql_error(400, "BATCHING_DISABLED", "send one operation per request"),
                    None,
                )
            payload.check_operation(payload.decode_json(body))
        except payload.MalformedRequest as exc:
            return graphql_error(exc.status, exc.code, exc.message), None
        return None, body

    def _refuse_get(self, request: Request) -> Response | None:
        payload.check_query_params(request.query_params)
        query = request.query_params.get("query")
        if query:
            try:
                document = parse(query, max_tokens=MAX_TOKENS)
            except GraphQLError:
                return None  # strawberry reports the syntax error with its code
            if any(
                isinstance(d, OperationDefinitionNode) and d.operation is OperationType.MUTATION
                for d in document.definitions
            ):
                return graphql_error(405, "METHOD_NOT_ALLOWED", "send mutations with POST")
        return None

    async def _authenticate(self, request: Request) -> Response | None:
        """Find the viewer (before the body is read: a bad credential costs no parsing)."""
        try:
            async with self.sessions(bind=read_bind(self.engine)) as session:
                viewer = await authenticate(
                    session, request.headers.get("authorization"), self.settings.secret_key
                )
            if viewer.token_id is not None:
                await ratelimit.hit(
                    self.sessions,
                    f"token:{viewer.token_id}",
                    ratelimit.REQUESTS_PER_API_TOKEN,
                    "requests with this API token",
                )
        except Unauthenticated as exc:
            try:
                await audit.record_security_event(
                    self.sessions,
                    "security.authentication_refused",
                    client_address=request.client.host if request.client else None,
                    reason=exc.message,
                )
            except Exception as error:  # the refusal stands even if the audit store is down
                if not is_outage(error):
                    log.exception("could not audit a refused credential")
            return graphql_error(401, exc.code, exc.message, {"WWW-Authenticate": "Bearer"})
        except ratelimit.RateLimited as exc:
            return graphql_error(429, exc.code, exc.message, {"Retry-After": str(exc.retry_after)})
        request.state.viewer = viewer
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        refusal = self._refuse(request)
        if refusal is None:
            refusal = await self._authenticate(request)
        body: bytes | None = None
        if refusal is None:
            refusal, body = await self._refuse_shape(request)
        if body is not None:
            replayed = False

            async def receive_body() -> dict[str, Any]:  # the body was read once; hand it on
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            receive = receive_body
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.graphql(scope, receive, send)


async def evaluate_at_close(sessions: Any, registry: Registry, interval: float) -> None:
    """The in-server scheduler: every `interval` seconds, evaluate the months that have closed.

    Every app process runs it; each month is claimed in its evaluating transaction
    (`evaluate_due`), so exactly one process evaluates it. A failure is logged and retried at
    the next tick, never fatal to the server."""
    while True:
        try:
            await evaluate_due(sessions, registry, by="scheduler")
        except Exception:  # the server keeps serving; the next tick retries
            log_failure(log, "scheduled evaluation failed")
        await asyncio.sleep(interval)


READINESS_TIMEOUT = 3.0


def _processing_seconds(engine: Any) -> float:
    """How long a request may work once its body has arrived: one statement plus connecting."""
    timeouts = timeouts_of(engine)
    return timeouts.statement + timeouts.connect


async def _check_multipart(scope: Any, body: bytes) -> None:
    """Parse a multipart body once with tight limits, so strawberry only sees sane ones."""
    delivered = False

    async def replay() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request(scope, replay)
    try:
        form = await request.form(max_files=payload.MAX_PARTS, max_fields=payload.MAX_PARTS)
    except Exception as exc:  # python-multipart's refusals: too many parts, bad framing
        detail = getattr(exc, "detail", None) or "the multipart body is malformed"
        raise payload.MalformedRequest(str(detail)[:200]) from None
    try:
        payload.check_form(form)
    finally:
        await form.close()


EXPIRY_INTERVAL_SECONDS = 60


async def _expire_offers_forever(sessions: Any, registry: Registry) -> None:
    """Every minute, expire overdue offers and move their requests on (`linkstar dispatch
    expire` does the same once); several processes share the work safely."""
    while True:
        await asyncio.sleep(EXPIRY_INTERVAL_SECONDS)
        try:
            async with sessions() as session, session.begin():
                await expire_due(session, registry)
        except Exception:  # the sweep must outlive a bad minute (database restart, …)
            log_failure(log, "offer expiry sweep failed")


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> Starlette:
    """Build the app. Plugins are loaded and the schema composed here, before serving."""
    settings = settings or Settings.from_env()
    registry = registry or load_registry(settings.disabled_plugins)
    schema = compose_schema(
        registry,
        production=not settings.development,
        extensions=[observability.OperationMetrics],
    )
    engine = create_engine(settings.database_url)
    observability.instrument_pool(engine)
    sessions = session_factory(engine)

    def make_context(request: Request, response: Response) -> Context:
        return Context(
            registry=registry,
            settings=settings,
            sessionmaker=sessions,
            request=request,
            response=response,
        )

    graphql = LinkStarGraphQL(
        schema,
        make_context=make_context,
        graphql_ide="graphiql" if settings.development else None,
        allow_queries_via_get=True,
        multipart_uploads_enabled=True,  # guarded by GraphQLEndpoint's CSRF header check
    )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        try:
            # a frozen database must make readiness false quickly, not hang the probe
            async with asyncio.timeout(READINESS_TIMEOUT), engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                version = (
                    await connection.execute(text("SELECT version_num FROM alembic_version"))
                ).first()
        except Exception as exc:  # readiness must answer, whatever the failure
            log.warning("readiness check failed: %s", type(exc).__name__)
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable or not migrated"},
                status_code=503,
            )
        return JSONResponse({"status": "ready", "database": "ok", "migrated": version is not None})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with sessions() as session, session.begin():
            await record_metric_versions(session, registry)
        scheduler = None
        if settings.evaluation_interval > 0:
            scheduler = asyncio.create_task(
                evaluate_at_close(sessions, registry, settings.evaluation_interval)
            )
        # background work (event fan-out, webhook deliveries) has its own small pool, so it
        # never takes a connection a request is waiting for
        background = create_engine(settings.database_url)
        background_sessions = session_factory(background)
        app.state.hub = EventHub(background, background_sessions)  # for subscriptions
        await app.state.hub.start()
        delivering = webhooks.start_worker(background_sessions, production=not settings.development)
        sweeper = asyncio.create_task(_expire_offers_forever(background_sessions, registry))
        # charges at renewal and tier change, top-ups, refunds after exit
        charging = asyncio.create_task(sweep_forever(background_sessions, registry))
        purger = asyncio.create_task(
            purge_documents_forever(
                background_sessions, registry, LocalDirectoryStore(settings.storage_dir)
            )
        )
        # Everything built so far (schema, registry, modules) lives as long as the process:
        # moved out of the collector's generations, full collections stop re-scanning it.
        gc.freeze()
        yield
        for task in (scheduler, delivering, sweeper, charging, purger):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await app.state.hub.stop()
        await background.dispose()
        observability.release_pool(engine)
        await engine.dispose()

    app = Starlette(
        routes=[
            Route(
                "/graphql",
                GraphQLOverHTTP(GraphQLEndpoint(graphql, settings, sessions, engine)),
                methods=["GET", "POST"],
            ),
            Route("/documents/{id}", document_endpoint(settings, sessions), methods=["GET"]),
            WebSocketRoute("/graphql", graphql),  # subscriptions: graphql-transport-ws
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", observability.metrics),
            *dashboard_routes(),
        ],
        lifespan=lifespan,
        # outermost first: every answer, the edge's refusals included, carries a request id
        middleware=[
            Middleware(observability.RequestTelemetry),
            Middleware(Edge, processing_seconds=_processing_seconds(engine)),
        ],
    )
    app.state.settings = settings
    app.state.registry = registry
    app.state.schema = schema
    app.state.engine = engine
    app.state.sessions = sessions
    return app
