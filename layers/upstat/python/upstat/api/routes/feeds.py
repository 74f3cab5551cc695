"""The status page as a feed: ``GET /v1/status/feed.rss`` (RSS 2.0) and ``GET /v1/status/feed.atom`` (Atom).

Public while ``UPSTAT_PUBLIC_STATUS_PAGE`` is on, like the page (a read key otherwise), and about the
services the page shows only (see ``upstat.uptime.feed``). Answers carry an ETag and a max-age, so feed
readers polling every few minutes mostly get a 304.
"""

from __future__ import annotations

from collections.abc import Callable
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


def _answer(
    request: Request, client: Any, settings: Settings, render: Callable[..., bytes], media_type: str
) -> Response:
    """The feed rendered by ``render`` (``feed.rss`` or ``feed.atom``), cacheable."""
    now = now_ms()
    page = str(request.base_url) + "status"
    channel = feed.Channel(settings.status_page_title, page, str(request.url.remove_query_params([])))
    data = render(feed.entries(client, now=now), channel, now=now)
    cache = f"public, max-age={MAX_AGE_S}" if settings.public_status_page else "private, no-cache"
    return cacheable(request, data, media_type=media_type, cache_control=cache)


EXAMPLES = {
    "application/rss+xml": '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
    "<title>Service status</title><item><title>api is down</title>"
    '<guid isPermaLink="false">incident.opened:3f9a1c2b7d4e:1767225660000</guid>'
    "<pubDate>Thu, 01 Jan 2026 00:01:00 GMT</pubDate><category>incident.opened</category></item>"
    "</channel></rss>",
    "application/atom+xml": '<?xml version="1.0" encoding="utf-8"?>\n'
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>Service status</title><entry>'
    "<title>api is down</title><id>urn:upstat:incident.opened:3f9a1c2b7d4e:1767225660000</id>"
    "<updated>2026-01-01T00:01:00Z</updated></entry></feed>",
}


def _xml(media_type: str) -> dict[int | str, dict[str, Any]]:
    content = {media_type: {"schema": {"type": "string"}, "example": EXAMPLES[media_type]}}
    return {
        200: {"content": content, "description": "The feed"},
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
    return _answer(request, client, settings, feed.rss, "application/rss+xml")


@router.get(
    "/feed.atom",
    summary="Incidents and maintenance of the status page's services as Atom 1.0",
    response_class=Response,
    responses=_xml("application/atom+xml"),
)
def atom(request: Request, client: RedisDep, settings: SettingsDep, _: PublicReader) -> Response:
    """The same entries as the RSS feed."""
    return _answer(request, client, settings, feed.atom, "application/atom+xml")
