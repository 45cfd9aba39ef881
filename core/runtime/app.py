"""The ASGI application: /graphql, /healthz, /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from linkstar.core.contract.registry import Registry, load_registry
from linkstar.core.identity import audit, ratelimit
from linkstar.core.identity.accounts import authenticate
from linkstar.core.identity.policy import ANONYMOUS, Unauthenticated
from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.db import create_engine, session_factory
from linkstar.core.kernel.vocabulary import AuditOutcome
from linkstar.core.kpi.catalog import record_metric_versions
from linkstar.core.marketplace.dispatch import expire_due
from linkstar.schema.compose import compose_schema
from linkstar.schema.context import Context

log = logging.getLogger("linkstar")


MAX_JSON_BYTES = 4 * 1024 * 1024  # a 10,000-record KPI report fits
MAX_MULTIPART_BYTES = 25 * 1024 * 1024
CSRF_HEADER = "x-linkstar-csrf"


class LinkStarGraphQL(GraphQL[Context, None]):
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
    - Bodies are bounded; mutations over GET are refused by strawberry itself.
    - A bad credential is a 401, never a silent downgrade to anonymous.
    """

    def __init__(self, graphql: LinkStarGraphQL, settings: Settings, sessions: Any) -> None:
        self.graphql = graphql
        self.settings = settings
        self.sessions = sessions

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
        if int(length) > limit:
            return graphql_error(
                413, "REQUEST_TOO_LARGE", f"the request body exceeds {limit} bytes"
            )
        return None

    async def _refuse_shape(self, request: Request) -> tuple[Response | None, bytes | None]:
        """Batches and GET mutations answer with a code (strawberry would answer plain text)."""
        if request.method == "GET":
            query = request.query_params.get("query")
            if query:
                try:
                    document = parse(query, max_tokens=5_000)
                except GraphQLError:
                    return None, None  # strawberry reports the syntax error with its code
                if any(
                    isinstance(d, OperationDefinitionNode) and d.operation is OperationType.MUTATION
                    for d in document.definitions
                ):
                    return graphql_error(
                        405, "METHOD_NOT_ALLOWED", "send mutations with POST"
                    ), None
            return None, None
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            return None, None
        body = await request.body()
        if body.lstrip()[:1] == b"[":
            return graphql_error(400, "BATCHING_DISABLED", "send one operation per request"), None
        return None, body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        refusal = self._refuse(request)
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
        if refusal is None:
            try:
                async with self.sessions() as session:
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
                request.state.viewer = viewer
            except Unauthenticated as exc:
                refusal = graphql_error(401, exc.code, exc.message, {"WWW-Authenticate": "Bearer"})
                try:
                    await audit.record(
                        self.sessions,
                        audit.entry(
                            ANONYMOUS,
                            "security.authentication_refused",
                            AuditOutcome.DENIED,
                            client_address=request.client.host if request.client else None,
                            details={"reason": exc.message},
                        ),
                    )
                except Exception:  # the refusal stands even if the audit store is down
                    log.exception("could not audit a refused credential")
            except ratelimit.RateLimited as exc:
                refusal = graphql_error(
                    429, exc.code, exc.message, {"Retry-After": str(exc.retry_after)}
                )
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.graphql(scope, receive, send)


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
            log.exception("offer expiry sweep failed")


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> Starlette:
    """Build the app. Plugins are loaded and the schema composed here, before serving."""
    settings = settings or Settings.from_env()
    registry = registry or load_registry(settings.disabled_plugins)
    schema = compose_schema(registry, production=not settings.development)
    engine = create_engine(settings.database_url)
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
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                version = (
                    await connection.execute(text("SELECT version_num FROM alembic_version"))
                ).first()
        except Exception as exc:  # readiness must answer, whatever the failure
            log.warning("readiness check failed: %s", exc)
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable or not migrated"},
                status_code=503,
            )
        return JSONResponse({"status": "ready", "database": "ok", "migrated": version is not None})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with sessions() as session, session.begin():
            await record_metric_versions(session, registry)
        sweeper = asyncio.create_task(_expire_offers_forever(sessions, registry))
        yield
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await engine.dispose()

    app = Starlette(
        routes=[
            Route(
                "/graphql", GraphQLEndpoint(graphql, settings, sessions), methods=["GET", "POST"]
            ),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.registry = registry
    app.state.schema = schema
    app.state.engine = engine
    app.state.sessions = sessions
    return app
