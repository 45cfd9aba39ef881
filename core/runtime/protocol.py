"""GraphQL over HTTP: media-type negotiation and the status codes the specification gives.

A client that accepts `application/graphql-response+json` gets it, with the spec's status
codes: a request that cannot run at all (unparseable JSON, a syntax or validation error, a bad
variable, no operation) is a 400 and carries no `data` entry; a request that ran is a 200 even
when a field failed. A client that asks for `application/json` — or sends no Accept header, as
older clients do — keeps the legacy behaviour: 200 for every well-formed request. Refusals
strawberry answers in plain text (unparseable body, wrong method) become GraphQL-shaped errors
with a stable `extensions.code` in either media type.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import Headers, MutableHeaders

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

_PLAIN_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def negotiate(accept: str | None) -> str:
    """The media type to answer with, from an Accept header (q-values honoured).

    The GraphQL response type wins a tie; a header naming neither (nor a wildcard) gets
    `application/json`, which the specification allows instead of a 406.
    """
    if not accept:
        return JSON
    best: tuple[float, int, str] | None = None
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        quality = 1.0
        for parameter in pieces[1:]:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            candidate = (quality, 2, GRAPHQL_RESPONSE)
        elif media == JSON:
            candidate = (quality, 1, JSON)
        elif media in ("application/*", "*/*"):
            candidate = (quality, 0, JSON)
        else:
            continue
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else JSON


def is_request_error(body: Any) -> bool:
    """True for a response to a request that never executed (no field error has a path)."""
    if not isinstance(body, dict) or body.get("data") is not None:
        return False
    errors = body.get("errors")
    return bool(errors) and not any(isinstance(e, dict) and e.get("path") for e in errors)


class GraphQLOverHTTP:
    """ASGI wrapper around the /graphql endpoint that applies the negotiated media type."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        media_type = negotiate(Headers(scope=scope).get("accept"))
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []
        buffering = False

        async def rewrite(message: dict[str, Any]) -> None:
            nonlocal start, buffering
            if message["type"] == "http.response.start":
                content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
                kind = content_type.split(";")[0].strip().lower()
                if kind in (JSON, "text/plain"):
                    start, buffering = message, True  # rewritten once the body is complete
                    return
                await send(message)
                return
            if message["type"] == "http.response.body" and buffering:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                assert start is not None
                status, body = self._finish(start, b"".join(chunks), media_type)
                start["status"] = status
                headers = MutableHeaders(scope=start)
                headers["content-type"] = f"{media_type}; charset=utf-8"
                headers["content-length"] = str(len(body))
                await send(start)
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, rewrite)

    @staticmethod
    def _finish(start: dict[str, Any], raw: bytes, media_type: str) -> tuple[int, bytes]:
        status = start["status"]
        kind = Headers(raw=start.get("headers", [])).get("content-type", "").split(";")[0]
        if kind.strip().lower() == "text/plain":
            # strawberry's own refusals (body not JSON, no query, wrong method) are plain text
            message = raw.decode("utf-8", "replace").strip() or "bad request"
            code = _PLAIN_CODES.get(status, "BAD_REQUEST")
            body: Any = {"errors": [{"message": message, "extensions": {"code": code}}]}
            return status, json.dumps(body).encode()
        if media_type != GRAPHQL_RESPONSE:
            return status, raw
        try:
            body = json.loads(raw)
        except ValueError:
            return status, raw
        if status == 200 and is_request_error(body):
            body.pop("data", None)
            return 400, json.dumps(body).encode()
        if isinstance(body, dict) and status >= 400 and body.get("data") is None:
            body.pop("data", None)  # refused before execution: no data entry (spec)
            return status, json.dumps(body).encode()
        return status, raw
