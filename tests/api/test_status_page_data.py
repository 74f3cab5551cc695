"""GET /v1/status/page: everything the public status page shows, in one cacheable body."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH, record
from upstat.api.routes.status_page import StatusPageOut
from upstat.config import get_settings
from upstat.uptime import maintenance
from upstat.uptime.maintenance import MaintenanceIn
from upstat.uptime.services import ServiceStore

HOUR = 3_600_000
DAY = 24 * HOUR
SECRET_URL = "http://127.0.0.1:9/health?api_key=hunter2-secret"


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def fleet(r: Any) -> dict[str, str]:
    """api (group Backend, up for 3 days then down), web (no group, up), and a hidden service with a
    credential in its URL that was down for an hour yesterday."""
    now = now_ms()
    store = ServiceStore(r)
    store.create(
        {"name": "api", "url": "http://127.0.0.1:9/a", "group": "Backend", "description": "Public API"},
        now_ms=now - 3 * DAY,
    )
    store.create({"name": "web", "url": "http://127.0.0.1:9/w"}, now_ms=now - 3 * DAY)
    store.create({"name": "hidden-db", "url": SECRET_URL, "visible": False, "description": "internal"})
    ups = [(now - i * 10 * 60_000, "up", 80.0 + i % 7) for i in range(40, 0, -1)]
    record(r, "api", *ups)
    record(r, "api", *[(now - i * 60_000, "down", None) for i in (5, 4, 3)])
    record(r, "web", *ups)
    record(r, "hidden-db", *[(now - DAY - i * 60_000, "down", None) for i in range(60, 0, -1)])
    record(r, "hidden-db", (now - DAY + 60_000, "up", 5.0))
    return {"now": str(now)}


def page(client: TestClient, **params: Any) -> Any:
    res = client.get("/v1/status/page", params=params)
    assert res.status_code == 200, res.text
    return res


def test_the_page_data_has_every_visible_service_with_bars_uptime_and_series(
    client: TestClient, fleet: dict[str, str]
) -> None:
    body = page(client).json()
    StatusPageOut.model_validate(body)  # the documented model is what is sent
    assert body["title"] == "Service status"
    assert body["state"] == "partial_outage"
    assert [(g["name"], [s["name"] for s in g["services"]]) for g in body["groups"]] == [
        ("Backend", ["api"]),
        (None, ["web"]),
    ]
    api = body["groups"][0]["services"][0]
    assert api["state"] == "down" and api["description"] == "Public API"
    assert len(body["days"]["dates"]) == 90 and len(api["bars"]["uptime"]) == 90
    assert api["bars"]["uptime"][:80] == [None] * 80  # before the service's checks: no data, not down
    assert api["bars"]["downChecks"][-1] + api["bars"]["downChecks"][-2] == 3
    assert sum(api["bars"]["incidents"]) == 1
    assert 0 < api["uptime"]["24h"] < 100
    assert len(body["chart"]["times"]) == 96 and body["chart"]["resolution"] == "15m"
    assert body["chart"]["perBucketPercentiles"] is True
    assert len(api["responseTimes"]["avg"]) == 96
    assert any(v is not None for v in api["responseTimes"]["p95"])
    assert api["responseTimes"]["stats"]["count"] == 40 and api["responseTimes"]["stats"]["exact"]
    [incident] = body["incidents"]
    assert incident["service"] == "api" and incident["open"] and incident["cause"] == "HTTP 500"
    assert body["updated"] == max(s["lastChecked"] for g in body["groups"] for s in g["services"])


def test_a_hidden_service_appears_nowhere_in_the_data(
    client: TestClient, fleet: dict[str, str], r: Any
) -> None:
    hidden = ServiceStore(r).require("hidden-db")
    maintenance.add_window(
        r,
        MaintenanceIn(title="db patch", start=now_ms() + HOUR, end=now_ms() + 2 * HOUR),
        service_id=hidden.id,
    )
    text = page(client).text
    for leak in ("hidden-db", "hunter2", "api_key", "internal", "db patch", hidden.id, "127.0.0.1"):
        assert leak not in text
    assert [i["service"] for i in json.loads(text)["incidents"]] == ["api"]


def test_an_unchanged_page_answers_304_and_a_new_check_changes_the_etag(
    client: TestClient, fleet: dict[str, str], r: Any
) -> None:
    first = page(client)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=15"
    again = client.get("/v1/status/page", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    record(r, "web", (now_ms(), "up", 50.0))
    changed = client.get("/v1/status/page", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_maintenance_windows_are_announced_ahead_and_flagged_while_active(
    client: TestClient, fleet: dict[str, str], r: Any
) -> None:
    now = now_ms()
    maintenance.add_window(r, MaintenanceIn(title="upgrade", start=now + DAY, end=now + DAY + HOUR))
    maintenance.add_window(r, MaintenanceIn(title="past", start=now - 2 * HOUR, end=now - HOUR))
    web = ServiceStore(r).require("web")
    maintenance.add_window(
        r, MaintenanceIn(title="web deploy", start=now - HOUR, end=now + HOUR), service_id=web.id
    )
    body = page(client).json()
    assert [(w["title"], w["active"], w["services"]) for w in body["maintenance"]] == [
        ("web deploy", True, ["web"]),
        ("upgrade", False, None),
    ]
    states = {s["name"]: s["state"] for g in body["groups"] for s in g["services"]}
    assert states == {"api": "down", "web": "maintenance"}


def test_the_title_is_the_setting(
    client: TestClient, fleet: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPSTAT_STATUS_PAGE_TITLE", "Acme <status>")
    get_settings.cache_clear()
    assert page(client).json()["title"] == "Acme <status>"


def test_a_private_status_page_needs_a_read_key_and_is_not_cached_publicly(
    client: TestClient, fleet: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPSTAT_PUBLIC_STATUS_PAGE", "false")
    get_settings.cache_clear()
    assert client.get("/v1/status/page").status_code == 401
    res = client.get("/v1/status/page", headers=AUTH)
    assert res.status_code == 200 and res.headers["cache-control"] == "private, no-cache"


@pytest.mark.parametrize(("params", "field"), [({"tz": "Mars/Olympus"}, "tz"), ({"range": "1y"}, "range")])
def test_bad_parameters_are_refused_naming_them(
    client: TestClient, fleet: dict[str, str], params: dict[str, str], field: str
) -> None:
    res = client.get("/v1/status/page", params=params)
    assert res.status_code == 400 and res.json()["field"] == field


def test_days_follow_the_readers_time_zone(client: TestClient, fleet: dict[str, str]) -> None:
    body = page(client, tz="Pacific/Kiritimati").json()  # UTC+14: its today is often UTC's tomorrow
    from datetime import datetime
    from zoneinfo import ZoneInfo

    assert body["days"]["dates"][-1] == datetime.now(ZoneInfo("Pacific/Kiritimati")).date().isoformat()
    assert body["tz"] == "Pacific/Kiritimati"


def test_an_empty_install_is_pending(client: TestClient, r: Any) -> None:
    body = page(client).json()
    assert body["state"] == "pending" and body["groups"] == [] and body["updated"] is None
    assert len(body["days"]["dates"]) == 90


def test_beyond_the_raw_tier_the_chart_has_averages_and_no_per_bucket_percentiles(
    client: TestClient, fleet: dict[str, str]
) -> None:
    body = page(client, range="7d").json()
    assert body["chart"]["perBucketPercentiles"] is False and len(body["chart"]["times"]) == 168
    api = body["groups"][0]["services"][0]
    assert set(api["responseTimes"]["p50"]) == {None} and any(
        v is not None for v in api["responseTimes"]["avg"]
    )


def test_sources_lists_services_and_users_sources_with_health(
    client: TestClient, fleet: dict[str, str], r: Any
) -> None:
    from upstat.timeseries.retention import current_engine

    now = now_ms()
    engine = current_engine(r, fresh=True)
    engine.write("router", "cpu", [(now - 60_000, 12.0)], now=now)
    engine.write("backup", "duration_s", [(now - 5 * HOUR, 300.0)], now=now)
    res = client.get("/v1/sources", headers=AUTH)
    assert res.status_code == 200
    found = {s["service"] or s["source"]: s for s in res.json()["sources"]}
    assert found["api"]["health"] == "down" and "response_ms" in found["api"]["metrics"]
    assert found["hidden-db"]["health"] == "up"  # a read key sees hidden services
    assert found["router"]["health"] == "active" and found["router"]["metrics"] == ["cpu"]
    assert found["backup"]["health"] == "quiet" and found["backup"]["lastSeen"] == now - 5 * HOUR
    assert client.get("/v1/sources").status_code == 401
