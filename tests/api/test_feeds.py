"""The status page's RSS and Atom feeds: parsed (ElementTree, feedparser), with the incidents and maintenance
of visible services only, public while the page is, cacheable."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH, record
from upstat.config import get_settings
from upstat.uptime import maintenance
from upstat.uptime.maintenance import MaintenanceIn
from upstat.uptime.services import ServiceStore

MINUTE = 60_000
HOUR = 60 * MINUTE


@pytest.fixture
def fleet(r: Any) -> dict[str, int]:
    """R&D <api>: down 10 minutes two hours ago, then up; web: down now; hidden (not on the page): down an
    hour ago with a secret in its check error; a global window tomorrow, and one of hidden's own."""
    now = int(time.time() * 1000)
    store = ServiceStore(r)
    for name, visible in (("R&D <api>", True), ("web", True), ("hidden", False)):
        store.create({"name": name, "url": "http://127.0.0.1:9/", "visible": visible}, now_ms=now - 3 * HOUR)
    t0 = now - 2 * HOUR
    record(r, "R&D <api>", (t0, "up", 5.0), (t0 + MINUTE, "down", None), (t0 + 11 * MINUTE, "up", 5.0))
    record(r, "web", (now - 5 * MINUTE, "up", 5.0), (now - 2 * MINUTE, "down", None))
    record(r, "hidden", (now - HOUR, "down", None))
    tomorrow = now + 24 * HOUR
    maintenance.add_window(r, MaintenanceIn(title="DB upgrade", start=tomorrow, end=tomorrow + HOUR))
    hidden = store.require("hidden").id
    maintenance.add_window(
        r, MaintenanceIn(title="secret", start=tomorrow, end=tomorrow + HOUR), service_id=hidden
    )
    return {"now": now, "t0": t0, "tomorrow": tomorrow}


def test_the_rss_feed_lists_incidents_and_maintenance_of_visible_services(
    client: TestClient, fleet: dict[str, int]
) -> None:
    res = client.get("/v1/status/feed.rss")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("application/rss+xml")
    root = ET.fromstring(res.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Service status"
    items = channel.findall("item")
    titles = [i.findtext("title") for i in items]
    # newest first: tomorrow's window, web's opening, api's resolution, api's opening
    assert titles == ["Maintenance: DB upgrade", "web is down", "R&D <api> is up again", "R&D <api> is down"]
    guids = [i.findtext("guid") for i in items]
    assert len(set(guids)) == len(guids)
    dates = [parsedate_to_datetime(i.findtext("pubDate") or "").timestamp() for i in items]
    assert dates[1] == (fleet["now"] - 2 * MINUTE) // 1000  # RFC 822 dates have whole seconds
    assert dates[2] == (fleet["t0"] + 11 * MINUTE) // 1000
    assert "after 10 min down (HTTP 500)" in (items[2].findtext("description") or "")
    assert b"hidden" not in res.content and b"secret" not in res.content


def test_the_atom_feed_has_the_same_entries(client: TestClient, fleet: dict[str, int]) -> None:
    res = client.get("/v1/status/feed.atom")
    assert res.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(res.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Service status"
    titles = [e.title for e in parsed.entries]
    assert titles == ["Maintenance: DB upgrade", "web is down", "R&D <api> is up again", "R&D <api> is down"]
    assert parsed.entries[1].tags[0].term == "incident.opened"
    rss = feedparser.parse(client.get("/v1/status/feed.rss").content)
    assert not rss.bozo
    assert [e.title for e in rss.entries] == titles
    assert [e.id for e in rss.entries] == [e.id.removeprefix("urn:upstat:") for e in parsed.entries]


def test_feeds_follow_the_status_page_setting(
    client: TestClient, fleet: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPSTAT_PUBLIC_STATUS_PAGE", "false")
    get_settings.cache_clear()
    assert client.get("/v1/status/feed.rss").status_code == 401
    assert client.get("/v1/status/feed.atom").status_code == 401
    res = client.get("/v1/status/feed.atom", headers=AUTH)
    assert res.status_code == 200
    assert res.headers["cache-control"] == "private, no-cache"


def test_feeds_revalidate_with_304(client: TestClient, fleet: dict[str, int]) -> None:
    first = client.get("/v1/status/feed.rss")
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get("/v1/status/feed.rss", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_an_empty_fleet_gives_a_valid_empty_feed(client: TestClient) -> None:
    for path in ("/v1/status/feed.rss", "/v1/status/feed.atom"):
        parsed = feedparser.parse(client.get(path).content)
        assert not parsed.bozo
        assert parsed.entries == []
