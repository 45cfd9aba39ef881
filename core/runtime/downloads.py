"""GET /documents/{id}: an uploaded document's bytes, for the provider's members and staff.

The same policy as the graph (`can_read_private`) decides; a forbidden and a missing document
answer the same 404; the stored bytes are verified against their SHA-256 before a byte is
sent; every download (and every refusal) is audited. A document whose retention ran out
answers 410 DOCUMENT_PURGED to those who may see it. The response names the stored media
type, forbids sniffing, and offers the file name as an attachment (RFC 6266, `filename*`).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from linkstar.core.identity import audit
from linkstar.core.identity.accounts import authenticate
from linkstar.core.identity.policy import ANONYMOUS, Unauthenticated, Viewer
from linkstar.core.kernel.config import Settings
from linkstar.core.kernel.errors import LinkStarError
from linkstar.core.kernel.storage import LocalDirectoryStore
from linkstar.core.kernel.vocabulary import AuditOutcome
from linkstar.core.onboarding.evidence import read_document

log = logging.getLogger("linkstar")
_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._\- ()]")


def document_number(raw: str) -> int | None:
    """The database id in a Document global id ("RG9jdW1lbnQ6MQ=="), or None."""
    try:
        type_name, _, number = base64.b64decode(raw, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if type_name != "Document" or not number.isdigit() or len(number) > 18:
        return None
    return int(number)


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266/5987)."""
    fallback = _ASCII_SAFE.sub("_", filename).strip() or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
    )


def document_endpoint(settings: Settings, sessions: Any) -> Any:
    """The Starlette endpoint serving documents."""
    store = LocalDirectoryStore(settings.storage_dir)

    async def _audit(
        viewer: Viewer, request: Request, outcome: AuditOutcome, **details: Any
    ) -> None:
        await audit.record(
            sessions,
            audit.entry(
                viewer,
                "document.download",
                outcome,
                target=request.path_params.get("id"),
                client_address=request.client.host if request.client else None,
                details=details,
            ),
        )

    async def endpoint(request: Request) -> Response:
        viewer: Viewer = ANONYMOUS
        try:
            async with sessions() as session:
                viewer = await authenticate(
                    session, request.headers.get("authorization"), settings.secret_key
                )
                number = document_number(request.path_params["id"])
                if number is None:
                    raise LinkStarError("no such document", code="NOT_FOUND")
                document, data = await read_document(session, viewer, number, store)
        except Unauthenticated as exc:
            await _audit(viewer, request, AuditOutcome.DENIED, reason=exc.message)
            return _error(401, exc.code, exc.message)
        except LinkStarError as exc:
            status = {"NOT_FOUND": 404, "DOCUMENT_PURGED": 410}.get(exc.code, 409)
            await _audit(viewer, request, AuditOutcome.DENIED, reason=exc.code)
            if status == 409:
                log.error("document %s refused: %s", request.path_params["id"], exc.message)
            return _error(status, exc.code, exc.message)
        await _audit(viewer, request, AuditOutcome.SUCCESS, sha256=document.sha256)
        return Response(
            data,
            media_type=document.media_type,
            headers={
                "Content-Disposition": content_disposition(document.filename),
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, no-store",
            },
        )

    return endpoint
