"""Badges: SVG parsed as XML (texts, colours, widths), shields.io endpoint JSON, public for visible services
only, cacheable with ETag and 304."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH, record
from upstat.config import get_settings
from upstat.uptime import badges
from upstat.uptime.services import ServiceStore

SVG = "{http://www.w3.org/2000/svg}"
MINUTE = 60_000


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def fleet(r: Any) -> None:
    """api: 100 checks in the last ~2 hours, 2 of them down, response times 100..199 ms; flaky <&"x">: up
    now; hidden: visible false, up."""
    store = ServiceStore(r)
    now = now_ms()
    for name, visible in (("api", True), ('flaky <&"x">', True), ("hidden", False)):
        store.create({"name": name, "url": "http://127.0.0.1:9/", "visible": visible}, now_ms=now - 3_600_000)
    checks = [(now - (100 - i) * MINUTE, "down" if i in (10, 11) else "up", 100.0 + i) for i in range(100)]
    record(r, "api", *checks)
    record(r, 'flaky <&"x">', (now - MINUTE, "up", 30.0))
    record(r, "hidden", (now - MINUTE, "up", 30.0))


def parse(res: Any) -> tuple[ET.Element, list[str], list[str]]:
    """The SVG root, its texts (shadows left out) and the fills of its rects."""
    assert res.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(res.content)
    assert root.tag == f"{SVG}svg"
    texts = [t.text or "" for t in root.iter(f"{SVG}text") if t.get("aria-hidden") != "true"]
    fills = [r.get("fill") or "" for r in root.iter(f"{SVG}rect")]
    return root, texts, fills


def test_the_status_badge_names_the_service_and_its_status_in_its_colour(
    client: TestClient, fleet: None
) -> None:
    root, texts, fills = parse(client.get("/v1/badges/api/status.svg"))
    assert texts == ["api", "up"]
    assert badges.COLORS["brightgreen"] in fills
    assert root.find(f"{SVG}title").text == "api: up"  # type: ignore[union-attr]


def test_uptime_and_response_time_badges_show_the_stored_figures(client: TestClient, fleet: None) -> None:
    _, texts, fills = parse(client.get("/v1/badges/api/uptime-24h.svg"))
    assert texts == ["uptime 24h", "98.00%"]  # 98 of 100 checks up
    assert badges.COLORS["yellowgreen"] in fills  # between 97 and 99 %
    _, texts, _ = parse(client.get("/v1/badges/api/response-p50.svg"))
    assert texts[0] == "p50 24h"
    p50 = float(texts[1].removesuffix(" ms"))
    assert 140 <= p50 <= 160  # 98 answered checks of 100..199 ms (the two down ones have no time)
    body = client.get("/v1/badges/api/uptime-90d.json").json()
    assert body == {
        "schemaVersion": 1,
        "label": "uptime 90d",
        "message": "98.00%",
        "color": "yellowgreen",
        "cacheSeconds": 300,
    }


def test_a_window_without_checks_reads_no_data_in_grey(client: TestClient, r: Any) -> None:
    ServiceStore(r).create({"name": "new", "url": "http://127.0.0.1:9/"})
    _, texts, fills = parse(client.get("/v1/badges/new/uptime-7d.svg"))
    assert texts == ["uptime 7d", "no data"]
    assert badges.COLORS["lightgrey"] in fills
    assert client.get("/v1/badges/new/status.json").json()["message"] == "pending"


def test_texts_are_escaped_and_the_badge_is_as_wide_as_its_texts(client: TestClient, fleet: None) -> None:
    res = client.get('/v1/badges/flaky <&"x">/status.svg', params={"label": "<b>&co"})
    root, texts, _ = parse(res)  # parses: nothing unescaped broke the XML
    assert texts == ["<b>&co", "up"]
    assert b"<b>" not in res.content
    width = float(root.get("width"))  # type: ignore[arg-type]
    assert width == round(badges.text_width("<b>&co") + 10) + round(badges.text_width("up") + 10)
    wider = parse(client.get('/v1/badges/flaky <&"x">/status.svg', params={"label": "W" * 30}))[0]
    assert float(wider.get("width")) > width + 200  # type: ignore[arg-type]


def test_hidden_and_unknown_services_are_the_same_404_to_the_public(client: TestClient, fleet: None) -> None:
    hidden = client.get("/v1/badges/hidden/status.svg")
    unknown = client.get("/v1/badges/nothing/status.svg")
    assert hidden.status_code == unknown.status_code == 404
    same = unknown.json()["message"].replace("nothing", "hidden")
    assert hidden.json()["message"] == same
    assert client.get("/v1/badges/hidden/status.svg", headers=AUTH).status_code == 200


def test_badges_need_a_read_key_when_the_status_page_is_private(
    client: TestClient, fleet: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPSTAT_PUBLIC_STATUS_PAGE", "false")
    get_settings.cache_clear()
    assert client.get("/v1/badges/api/status.svg").status_code == 401
    res = client.get("/v1/badges/api/status.svg", headers=AUTH)
    assert res.status_code == 200
    assert res.headers["cache-control"].startswith("private")


def test_badges_are_cacheable_and_revalidate_with_304(client: TestClient, fleet: None) -> None:
    first = client.get("/v1/badges/api/uptime-30d.svg")
    assert first.headers["cache-control"] == "public, max-age=60"
    etag = first.headers["etag"]
    again = client.get("/v1/badges/api/uptime-30d.svg", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get("/v1/badges/api/status.svg", headers={"If-None-Match": etag}).status_code == 200


def test_an_unknown_badge_or_a_bad_label_is_a_400_naming_the_field(client: TestClient, fleet: None) -> None:
    res = client.get("/v1/badges/api/uptime-1y.svg")
    assert res.status_code == 400
    assert res.json()["field"] == "badge"
    res = client.get("/v1/badges/api/status.svg", params={"label": "a\nb"})
    assert res.status_code == 400
    assert res.json()["field"] == "label"


def test_text_width_grows_with_each_character_and_counts_unknown_ones_wide() -> None:
    assert badges.text_width("") == 0
    assert badges.text_width("iii") < badges.text_width("mmm")
    assert badges.text_width("é") == badges.text_width("M")


def test_badges_inlined_side_by_side_keep_their_own_clip_and_gradient() -> None:
    one = ET.fromstring(badges.svg(badges.Badge("api", "up", "brightgreen")))
    two = ET.fromstring(badges.svg(badges.Badge("uptime 30d", "99.95%", "brightgreen")))
    ids = [{e.get("id") for e in root.iter() if e.get("id")} for root in (one, two)]
    assert len(ids[0]) == 2 and not ids[0] & ids[1]
    clip = next(e for e in two.iter(f"{SVG}g") if e.get("clip-path"))
    assert clip.get("clip-path") == f"url(#{next(i for i in ids[1] if i.startswith('r'))})"
