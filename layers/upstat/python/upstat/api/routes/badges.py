"""Badges of a service (``/v1/badges/{name}/{badge}.svg``) and their shields.io endpoint documents
(``/v1/badges/{name}/{badge}.json``, for ``https://img.shields.io/endpoint?url=...``).

Public while ``UPSTAT_PUBLIC_STATUS_PAGE`` is on, like the status page, and for the services the page shows
(``visible``) only: a hidden or unknown service answers the same 404 to the public, so a badge URL tells
nobody whether a hidden service exists. A read key sees every service's badges. Answers carry an ETag and
a max-age, so an image proxy (GitHub's camo) or shields.io revalidates them cheaply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from upstat.api.caching import cacheable
from upstat.api.deps import EngineDep, RedisDep, SettingsDep, require
from upstat.auth import ANONYMOUS_READER, Principal
from upstat.clock import now_ms
from upstat.errors import NotFound
from upstat.uptime import badges, reports
from upstat.uptime.reports import StatusRow
from upstat.uptime.services import ServiceStore

router = APIRouter(prefix="/v1/badges", tags=["badges"])

PublicReader = Annotated[Principal, Depends(require("read", public_setting="public_status_page"))]
#: Seconds a cache may keep a badge: a minute, the usual check interval. shields.io keeps an endpoint's
#: answer at least 300 s whatever it is told.
MAX_AGE_S = 60
SHIELDS_CACHE_S = 300

BadgeName = Annotated[
    Literal[badges.BADGES],  # type: ignore[valid-type]
    Path(description="status, uptime-24h, uptime-7d, uptime-30d, uptime-90d, response-p50 or response-p95"),
]
LabelQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=badges.MAX_TEXT,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="the left text instead of the default (the service's name for status, else the figure)",
    ),
]
SVG_EXAMPLE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="70" height="20" role="img" aria-label="api: up">'
    "<title>api: up</title>...</svg>"
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such service, or one the status page does not show"}
}


def _row(client: object, caller: Principal, name: str) -> StatusRow:
    """The service's status row; 404 alike for an unknown service and, to the public, a hidden one."""
    service = ServiceStore(client).get(name)
    row = None
    if service is not None:
        row = next((r for r in reports.status_rows(client) if r.id == service.id), None)
    if row is None or (caller is ANONYMOUS_READER and not row.visible):
        raise NotFound(f"service {name!r} not found", field="name")
    return row


@dataclass(frozen=True)
class Found:
    """The badge asked for, and how long a cache may keep it."""

    badge: badges.Badge
    cache_control: str


def find_badge(
    name: str,
    badge: BadgeName,
    client: RedisDep,
    engine: EngineDep,
    settings: SettingsDep,
    caller: PublicReader,
    label: LabelQuery = None,
) -> Found:
    """The parameters both forms of a badge take, and what they find."""
    found = badges.facts(engine, _row(client, caller, name), badge, now=now_ms())
    public = settings.public_status_page and caller is ANONYMOUS_READER
    cache = f"{'public' if public else 'private'}, max-age={MAX_AGE_S}"
    return Found(badges.with_label(found, label), cache)


FoundBadge = Annotated[Found, Depends(find_badge)]


@router.get(
    "/{name}/{badge}.svg",
    summary="A service's badge as SVG (public for services the status page shows)",
    response_class=Response,
    responses={
        200: {
            "content": {"image/svg+xml": {"schema": {"type": "string"}, "example": SVG_EXAMPLE}},
            "description": "The badge",
        },
        304: {"description": "Not modified"},
        **NOT_FOUND,
    },
)
def badge_svg(request: Request, found: FoundBadge) -> Response:
    """Status: up (green), degraded (yellow), down (red), maintenance (blue), paused or pending (grey).
    Uptime: the percentage over the window (grey "no data" without checks). Response time: p50 or p95
    over the last 24 hours in ms."""
    data = badges.svg(found.badge).encode()
    return cacheable(request, data, media_type="image/svg+xml", cache_control=found.cache_control)


@router.get(
    "/{name}/{badge}.json",
    summary="A service's badge as a shields.io endpoint document (schemaVersion 1)",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["schemaVersion", "label", "message", "color"],
                        "properties": {
                            "schemaVersion": {"type": "integer", "enum": [1]},
                            "label": {"type": "string"},
                            "message": {"type": "string"},
                            "color": {"type": "string"},
                            "cacheSeconds": {"type": "integer"},
                        },
                    },
                    "example": {
                        "schemaVersion": 1,
                        "label": "uptime 30d",
                        "message": "99.95%",
                        "color": "brightgreen",
                        "cacheSeconds": SHIELDS_CACHE_S,
                    },
                }
            },
            "description": "https://shields.io/badges/endpoint-badge",
        },
        304: {"description": "Not modified"},
        **NOT_FOUND,
    },
)
def badge_shields(request: Request, found: FoundBadge) -> Response:
    """The same figures as the SVG badge, for ``https://img.shields.io/endpoint?url=<this URL>``."""
    body = badges.shields(found.badge, cache_seconds=SHIELDS_CACHE_S)
    data = json.dumps(body, separators=(",", ":")).encode()
    return cacheable(request, data, media_type="application/json", cache_control=found.cache_control)
