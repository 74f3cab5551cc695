"""The status page as a feed: ``GET /v1/status/feed.rss`` (RSS 2.0) and ``GET /v1/status/feed.atom`` (Atom).

Public while ``UPSTAT_PUBLIC_STATUS_PAGE`` is on, like the page (a read key otherwise), and about the
services the page shows only (see ``upstat.uptime.feed``). Answers carry an ETag and a max-age, so feed
readers polling every few minutes mostly get a 304.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from upstat.api.caching import cacheable
from upstat.api.deps import RedisDep, SettingsDep, require
from upstat.auth import Principal
from upstat.clock import now_ms
from upstat.config import Settings
from upstat.uptime import feed

router = APIRouter(prefix="/v1/status", tags=["status page"])

PublicReader = Annotated[Principal, Depends(require("read", public_setting="public_status_page"))]
MAX_AGE_S = 60


def _answer(request: Request, settings: Settings, data: bytes, media_type: str) -> Response:
    cache = f"public, max-age={MAX_AGE_S}" if settings.public_status_page else "private, no-cache"
    return cacheable(request, data, media_type=media_type, cache_control=cache)


def _channel(request: Request, settings: Settings) -> feed.Channel:
    base = str(request.base_url)
    return feed.Channel(settings.status_page_title, base + "status", str(request.url.remove_query_params([])))


def _xml(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {media_type: {"schema": {"type": "string"}}}, "description": "The feed"},
        304: {"description": "Not modified: the body still has the ETag sent in If-None-Match"},
    }


@router.get(
    "/feed.rss",
    summary="Incidents and maintenance of the status page's services as RSS 2.0",
    response_class=Response,
    responses=_xml("application/rss+xml"),
)
def rss(request: Request, client: RedisDep, settings: SettingsDep, _: PublicReader) -> Response:
    """Each incident's opening and resolution (cause in words, never details), and maintenance windows in
    force, to come or ended in the last 30 days; newest first, 100 at most."""
    now = now_ms()
    data = feed.rss(feed.entries(client, now=now), _channel(request, settings), now=now)
    return _answer(request, settings, data, "application/rss+xml")


@router.get(
    "/feed.atom",
    summary="Incidents and maintenance of the status page's services as Atom 1.0",
    response_class=Response,
    responses=_xml("application/atom+xml"),
)
def atom(request: Request, client: RedisDep, settings: SettingsDep, _: PublicReader) -> Response:
    """The same entries as the RSS feed."""
    now = now_ms()
    data = feed.atom(feed.entries(client, now=now), _channel(request, settings), now=now)
    return _answer(request, settings, data, "application/atom+xml")
