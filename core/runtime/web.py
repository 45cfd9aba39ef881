"""The browser dashboard at `/`: built assets shipped inside the package (see dashboard/)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

BUILT = Path(__file__).resolve().parent / "dashboard"

# The page talks to this origin only; no inline script, no third-party content.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
        "style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def index(_: Request) -> Response:
    page = BUILT / "index.html"
    if not page.is_file():
        return PlainTextResponse(
            "the dashboard is not built: cd dashboard && npm ci && npm run build", status_code=404
        )
    return FileResponse(page, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


def dashboard_routes() -> list[BaseRoute]:
    """`/` (the single page) and `/assets/…` (hashed, immutable files)."""
    return [
        Route("/", index),
        Mount("/assets", StaticFiles(directory=BUILT / "assets", check_dir=False)),
    ]
