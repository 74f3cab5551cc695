"""The web pages and their assets (the files and their rules: upstat.web.assets)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from upstat.api.deps import SettingsDep
from upstat.errors import NotFound
from upstat.web.assets import ASSETS, CSP, asset, page

router = APIRouter(tags=["pages"])


def _example(name: str, heading: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
        "  <title>Service status</title>\n"
        f'  <link rel="stylesheet" href="{name}/common.css">\n'
        f'  <script src="{name}/{name}.js" defer></script>\n'
        f"</head>\n<body>\n  ...\n  <h1>{heading}</h1>\n  ...\n</body>\n</html>\n"
    )


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
    return _serve("status.html", page("status.html", settings.status_page_title))


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
    return _serve("dashboard.html", page("dashboard.html", settings.status_page_title))


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
