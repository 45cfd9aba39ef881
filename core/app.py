"""The ASGI application: /graphql, /healthz, /readyz."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from linkstar.core.catalog import record_metric_versions
from linkstar.core.config import Settings
from linkstar.core.db import create_engine, session_factory
from linkstar.core.plugins import Registry, load_registry
from linkstar.schema.compose import compose_schema
from linkstar.schema.context import Context

log = logging.getLogger("linkstar")


class LinkStarGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view, handing each request a fresh `Context`."""

    def __init__(self, *args: Any, make_context: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._make_context = make_context

    async def get_context(self, request: Any, response: Any) -> Context:
        return self._make_context(request, response)


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> Starlette:
    """Build the app. Plugins are loaded and the schema composed here, before serving."""
    settings = settings or Settings.from_env()
    registry = registry or load_registry(settings.disabled_plugins)
    schema = compose_schema(registry)
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
        yield
        await engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
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
