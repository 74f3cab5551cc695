"""The web pages: static files shipped inside the package, served with a strict Content-Security-Policy.

- The public status page at ``/status`` and at ``/``: its script reads ``v1/status/page`` (one request per
  refresh; public while ``UPSTAT_PUBLIC_STATUS_PAGE`` is on, else it asks for a key).
- The operator dashboard at ``/dashboard``: its script asks for a read key once (kept in the tab's session
  storage, sent as a bearer token) and reads only the documented API routes.

No page holds data, and nothing is loaded from another host (the chart library, uPlot, is vendored under
``static/vendor``). Links are relative, so the pages work behind an API Gateway stage path. The only
server-side change to a page is its title (``UPSTAT_STATUS_PAGE_TITLE``, HTML-escaped), so it shows before
the script runs. Assets are read once per process (they ship inside the layer).
"""

from __future__ import annotations

import html
from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Response

from upstat.api.deps import SettingsDep
from upstat.errors import NotFound

router = APIRouter(tags=["pages"])

#: Scripts and style sheets are separate files so the policy can forbid inline code.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: Asset name (as linked) -> (file under static/, media type). Only these are served.
ASSETS = {
    "status.html": ("status.html", "text/html; charset=utf-8"),
    "dashboard.html": ("dashboard.html", "text/html; charset=utf-8"),
    "common.js": ("common.js", "text/javascript; charset=utf-8"),
    "status.js": ("status.js", "text/javascript; charset=utf-8"),
    "dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "common.css": ("common.css", "text/css; charset=utf-8"),
    "status.css": ("status.css", "text/css; charset=utf-8"),
    "dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
    "uplot.min.js": ("vendor/uplot.min.js", "text/javascript; charset=utf-8"),
    "uplot.min.css": ("vendor/uplot.min.css", "text/css; charset=utf-8"),
}
#: Replaced by the configured title in the HTML pages.
TITLE_MARK = "{{title}}"


def _example(name: str, heading: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
        "  <title>Service status</title>\n"
        f'  <link rel="stylesheet" href="{name}/common.css">\n'
        f'  <script src="{name}/{name}.js" defer></script>\n'
        f"</head>\n<body>\n  ...\n  <h1>{heading}</h1>\n  ...\n</body>\n</html>\n"
    )


@lru_cache(maxsize=len(ASSETS))
def asset(name: str) -> bytes:
    """The bytes of one packaged asset (``upstat/web/static/<file>``)."""
    return resources.files("upstat.web").joinpath("static", *ASSETS[name][0].split("/")).read_bytes()


@lru_cache(maxsize=16)
def _page(name: str, title: str) -> bytes:
    return asset(name).replace(TITLE_MARK.encode(), html.escape(title).encode())


def _serve(name: str, body: bytes | None = None) -> Response:
    return Response(
        asset(name) if body is None else body,
        media_type=ASSETS[name][1],
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "public, max-age=300",
        },
    )


def _html_doc(name: str, heading: str, what: str) -> dict[int | str, dict[str, object]]:
    return {
        200: {
            "content": {"text/html": {"schema": {"type": "string"}, "example": _example(name, heading)}},
            "description": what,
        }
    }


@router.get(
    "/status",
    summary="The public status page, also at / (HTML; its script reads /v1/status/page)",
    response_class=Response,
    responses=_html_doc("status", "Service status", "The page (no data in it: its script reads it)"),
)
def status_page(settings: SettingsDep) -> Response:
    return _serve("status.html", _page("status.html", settings.status_page_title))


@router.get("/", include_in_schema=False)
def root_page(settings: SettingsDep) -> Response:
    """The site's root shows the status page, so a browser opened on the address sees it (its relative
    asset links resolve to /status/... from both paths)."""
    return status_page(settings)


@router.get(
    "/dashboard",
    summary="The operator dashboard (HTML; asks for a read key, then reads the API with it)",
    response_class=Response,
    responses=_html_doc("dashboard", "Dashboard", "The page (no data in it: its script reads the API)"),
)
def dashboard_page(settings: SettingsDep) -> Response:
    return _serve("dashboard.html", _page("dashboard.html", settings.status_page_title))


@router.get("/status/{name}", include_in_schema=False)
def status_asset(name: str) -> Response:
    return _asset_or_404(name)


@router.get("/dashboard/{name}", include_in_schema=False)
def dashboard_asset(name: str) -> Response:
    return _asset_or_404(name)


def _asset_or_404(name: str) -> Response:
    if name not in ASSETS or name.endswith(".html"):
        raise NotFound(f"name: no asset {name!r}", field="name")
    return _serve(name)
