"""The status page: static files shipped inside the package, served at ``/status`` and at ``/``.

The page holds no data: its script reads ``/api/status`` (public when ``UPSTAT_PUBLIC_STATUS_PAGE`` is true,
the default). When the status is not public the script asks for an API key and sends it as a bearer token.
The assets are read once per process (they ship inside the layer, so they never change while it runs).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Response

router = APIRouter(tags=["status page"], include_in_schema=True)

#: The script and style sheet are separate files so the policy can forbid inline code.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
ASSETS = {
    "status.html": "text/html; charset=utf-8",
    "status.js": "text/javascript; charset=utf-8",
    "status.css": "text/css; charset=utf-8",
}


#: The start of status.html, as the OpenAPI document's example.
PAGE_EXAMPLE = (
    '<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n  <title>Status</title>\n'
    '  <link rel="stylesheet" href="status/status.css">\n  <script src="status/status.js" defer></script>\n'
    "</head>\n<body>\n  <main>\n    <h1>Service status</h1>\n    ...\n  </main>\n</body>\n</html>\n"
)


@lru_cache(maxsize=len(ASSETS))
def asset(name: str) -> bytes:
    """The bytes of one packaged asset (``upstat/web/static/<name>``)."""
    return resources.files("upstat.web").joinpath("static", name).read_bytes()


def _serve(name: str) -> Response:
    return Response(
        asset(name),
        media_type=ASSETS[name],
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=300",
        },
    )


@router.get(
    "/status",
    summary="The public status page, also at / (HTML; its script reads /api/status)",
    response_class=Response,
    responses={
        200: {
            "content": {"text/html": {"schema": {"type": "string"}, "example": PAGE_EXAMPLE}},
            "description": "The page (the same bytes on every request: no data in it)",
        }
    },
)
def status_page() -> Response:
    return _serve("status.html")


@router.get("/", include_in_schema=False)
def root_page() -> Response:
    """The site's root shows the status page, so a browser opened on the address sees it (its relative
    asset links resolve to /status/... from both paths)."""
    return _serve("status.html")


@router.get("/status/status.js", include_in_schema=False)
def status_script() -> Response:
    return _serve("status.js")


@router.get("/status/status.css", include_in_schema=False)
def status_style() -> Response:
    return _serve("status.css")
