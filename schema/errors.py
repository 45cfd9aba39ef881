"""Error shaping: every GraphQL error carries a stable `extensions.code`; internals never leak."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from linkstar.core.kernel.db import is_outage
from linkstar.core.kernel.errors import LinkStarError

log = logging.getLogger("linkstar.graphql")

INTERNAL_MESSAGE = "Internal server error. It has been logged; please retry or report it."
UNAVAILABLE_MESSAGE = "the service is temporarily unavailable; retry shortly"
RETRY_AFTER_SECONDS = 5


def _graphql_core_code(error: GraphQLError) -> str | None:
    """Codes for errors graphql-core raises without one."""
    message = error.message.lower()
    if "tokens. parsing aborted" in message:
        return "QUERY_TOO_LARGE"
    if "introspection has been disabled" in message:
        return "INTROSPECTION_DISABLED"
    return None


def _original(error: GraphQLError) -> BaseException | None:
    """What caused `error`, through graphql-core's wrappers (a variable's coercion error
    wraps the scalar's error, which wraps what the scalar raised)."""
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    return original


def code_of(error: GraphQLError) -> str:
    """The stable code an error will carry in `extensions.code`."""
    original = _original(error)
    if isinstance(original, LinkStarError):
        return original.code
    if original is not None and is_outage(original):
        return "SERVICE_UNAVAILABLE"
    if error.path is None and isinstance(original, ValueError | TypeError | GraphQLError):
        return "BAD_USER_INPUT"  # a variable that does not coerce to its type
    if original is None:
        return (
            (error.extensions or {}).get("code")
            or _graphql_core_code(error)
            or ("GRAPHQL_VALIDATION_FAILED" if error.path is None else "BAD_REQUEST")
        )
    return "INTERNAL_SERVER_ERROR"


def shape_error(error: GraphQLError) -> GraphQLError:
    """Give the error a code; replace anything unexpected by an opaque internal error."""
    original = _original(error)
    if isinstance(original, LinkStarError) and error.path is None:
        # refused while coercing a variable or literal: keep graphql-core's message (it
        # names the variable), add the code
        extensions = {**(error.extensions or {}), "code": original.code}
        if original.suggestion:
            extensions["suggestion"] = original.suggestion
        return GraphQLError(
            error.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            None,
            extensions,
        )
    if isinstance(original, LinkStarError):
        extensions = {"code": original.code, **(error.extensions or {})}
        if original.suggestion:
            extensions["suggestion"] = original.suggestion
        if original.details:
            extensions["details"] = original.details
        return GraphQLError(
            original.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            None,
            extensions,
        )
    if original is None or code_of(error) == "BAD_USER_INPUT":
        code = code_of(error)
        return GraphQLError(
            error.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            None,
            {**(error.extensions or {}), "code": code},
        )
    if code_of(error) == "SERVICE_UNAVAILABLE":
        return GraphQLError(
            UNAVAILABLE_MESSAGE,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            None,
            {"code": "SERVICE_UNAVAILABLE"},
        )
    return GraphQLError(
        INTERNAL_MESSAGE,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        None,
        {"code": "INTERNAL_SERVER_ERROR"},
    )


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class ErrorCodes(SchemaExtension):
    """Rewrites the result's errors with `shape_error` after each operation.

    In production it also strips graphql-core's "Did you mean …?" hints (arguments, enum
    values, types), which would otherwise reveal the schema with introspection off.
    """

    def __init__(self, *, production: bool = False) -> None:
        self.production = production

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            shaped = [shape_error(e) for e in result.errors]
            if self.production:
                shaped = [
                    GraphQLError(
                        _SUGGESTION.sub("", e.message),
                        e.nodes,
                        e.source,
                        e.positions,
                        e.path,
                        None,
                        e.extensions,
                    )
                    for e in shaped
                ]
            result.errors = shaped
            if any((e.extensions or {}).get("code") == "SERVICE_UNAVAILABLE" for e in shaped):
                _answer_unavailable(self.execution_context.context)


def _answer_unavailable(context: object) -> None:
    """A database outage met inside GraphQL answers HTTP 503 with Retry-After, like outside."""
    response = getattr(context, "response", None)
    if response is not None:
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
