"""upstat's own uptime routes (/v1) over HTTP against the real Valkey: services with every field, status with
uptime windows, uptime over ranges, daily bars, response-time statistics, history, charts, incidents,
maintenance windows, push beats, checks of real local targets; and the status page."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH, now_ms, record
from tests.uptime.targets import LocalTarget

MIN = 60_000


def create(client: TestClient, name: str, **fields: Any) -> dict[str, Any]:
    body = {"name": name, "url": f"https://{name}.example.com/health", **fields}
    res = client.post("/v1/services", json=body, headers=AUTH)
    assert res.status_code == 201, res.text
    return res.json()


def error(res: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert res.status_code == status, res.text
    body = res.json()
    assert body["status"] == status and isinstance(body["message"], str)
    if field is not None:
        assert body["field"] == field, body
        if status == 400:
            assert field in body["message"]
    return body


# ------------------------------------------------------------------------------------------------------
# Services


def test_create_with_every_field_and_read_it_back(client: TestClient) -> None:
    fields = {
        "description": "Public API",
        "expectedStatus": ["200-299", 304],
        "method": "post",
        "timeout": 5000,
        "interval": 120,
        "headers": {"X-Check": "upstat"},
        "body": '{"ping": true}',
        "keyword": "ok",
        "keywordAbsent": False,
        "followRedirects": False,
        "degradedMs": 1500,
        "confirmations": {"down": 3, "up": 2},
        "certWarningDays": 21,
        "group": "backend",
        "tags": ["prod", "eu"],
        "visible": False,
        "paused": True,
    }
    created = create(client, "api", **fields)
    assert created["expectedStatus"] == "200-299,304" and created["method"] == "POST"
    assert created["id"] and created["version"] == 1 and created["pushToken"] is None
    got = client.get("/v1/services/api?reveal=true", headers=AUTH).json()
    for key, value in fields.items():
        if key not in ("expectedStatus", "method"):
            assert got[key] == value, key
    assert [s["name"] for s in client.get("/v1/services", headers=AUTH).json()["services"]] == ["api"]


def test_patch_changes_only_the_fields_sent(client: TestClient) -> None:
    create(client, "api", keyword="ok", tags=["a"])
    res = client.patch("/v1/services/api", json={"timeout": 3000, "tags": ["b"]}, headers=AUTH)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["timeout"] == 3000 and body["tags"] == ["b"] and body["keyword"] == "ok"
    assert body["version"] == 2


def test_a_whole_float_status_code_is_that_code(client: TestClient) -> None:
    """JSON Schema counts 204.0 as the integer 204 (the document says integer): accepted as 204."""
    assert create(client, "api", expectedStatus=204.0)["expectedStatus"] == 204
    assert create(client, "web", expectedStatus=[200.0, "300-302"])["expectedStatus"] == "200,300-302"
    res = client.post(
        "/v1/services",
        json={"name": "x", "url": "https://example.com", "expectedStatus": 204.5},
        headers=AUTH,
    )
    assert res.status_code == 400 and res.json()["field"] == "expectedStatus"


def test_duplicate_name_is_409_on_create_and_rename(client: TestClient) -> None:
    create(client, "a")
    create(client, "b")
    error(
        client.post("/v1/services", json={"name": "a", "url": "https://x.example"}, headers=AUTH), 409, "name"
    )
    error(client.patch("/v1/services/b", json={"name": "a"}, headers=AUTH), 409, "name")


def test_rename_keeps_history_uptime_and_incidents(client: TestClient, r: Any) -> None:
    create(client, "old")
    t = now_ms() - 10 * MIN
    record(r, "old", (t, "up", 10.0), (t + MIN, "down", None), (t + 2 * MIN, "up", 20.0))
    assert client.patch("/v1/services/old", json={"name": "new"}, headers=AUTH).status_code == 200
    error(client.get("/v1/services/old", headers=AUTH), 404, "name")
    history = client.get("/v1/services/new/history", headers=AUTH).json()
    assert [c["status"] for c in history["checks"]] == ["up", "down", "up"]
    uptime = client.get("/v1/services/new/uptime", params={"range": "2h"}, headers=AUTH).json()
    assert uptime["checks"] == 3 and uptime["uptime"] == pytest.approx(66.6667, abs=1e-3)
    incidents = client.get("/v1/services/new/incidents", headers=AUTH).json()["incidents"]
    assert len(incidents) == 1 and incidents[0]["service"] == "new"


def test_delete_then_404(client: TestClient) -> None:
    create(client, "api")
    assert client.delete("/v1/services/api", headers=AUTH).json() == {"deleted": "api"}
    error(client.get("/v1/services/api", headers=AUTH), 404)
    error(client.delete("/v1/services/api", headers=AUTH), 404)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"interval": 10}, "interval"),
        ({"timeout": 1.5}, "timeout"),
        ({"tags": "prod"}, "tags"),
        ({"headers": {"Bad Header": "x"}}, "headers"),
        ({"confirmations": {"down": 0}}, "confirmations.down"),
        ({"visible": "yes"}, "visible"),
    ],
)
def test_invalid_fields_are_400_naming_the_field(
    client: TestClient, fields: dict[str, Any], field: str
) -> None:
    body = {"name": "x", "url": "https://x.example", **fields}
    error(client.post("/v1/services", json=body, headers=AUTH), 400, field)


def test_nan_is_400_on_v1_too(client: TestClient) -> None:
    raw = '{"name": "x", "url": "https://x.example", "degradedMs": NaN}'
    res = client.post("/v1/services", content=raw, headers={**AUTH, "Content-Type": "application/json"})
    error(res, 400, "degradedMs")


def test_reads_need_a_key_and_writes_a_write_key(client: TestClient) -> None:
    error(client.get("/v1/services"), 401)
    error(client.get("/v1/status"), 401)
    error(client.post("/v1/services", json={"name": "x", "url": "https://x.example"}), 401)


# ------------------------------------------------------------------------------------------------------
# Status, uptime, response times


def test_status_has_uptime_windows_from_the_engine(client: TestClient, r: Any) -> None:
    create(client, "api", description="API")
    create(client, "quiet")
    t = now_ms() - 30 * MIN
    record(
        r,
        "api",
        (t, "up", 10.0),
        (t + MIN, "up", 12.0),
        (t + 2 * MIN, "up", 14.0),
        (t + 3 * MIN, "down", None),
    )
    body = client.get("/v1/status", headers=AUTH).json()
    assert body["overall"] == "down"
    rows = {s["name"]: s for s in body["services"]}
    api = rows["api"]
    assert api["status"] == "down" and api["lastCode"] == 500 and api["lastError"] == "HTTP 500"
    assert api["openIncident"] == t + 3 * MIN
    assert api["uptime"] == {"24h": 75.0, "7d": 75.0, "30d": 75.0, "90d": 75.0}
    assert rows["quiet"]["status"] == "pending"
    assert rows["quiet"]["uptime"] == {"24h": None, "7d": None, "30d": None, "90d": None}
    one = client.get("/v1/services/api/status", headers=AUTH).json()
    assert one["uptime"]["24h"] == 75.0 and one["name"] == "api"


def test_each_uptime_window_counts_only_its_own_checks(client: TestClient, r: Any) -> None:
    from upstat.timeseries.retention import set_retention

    # Raw points are accepted only within the raw tier's retention: widen it so old checks can be recorded.
    set_retention(r, {"raw": "100d", "5m": "101d", "15m": "102d", "1h": "103d"})
    create(client, "api")
    hour, day = 60 * MIN, 24 * 60 * MIN
    now = now_ms()
    record(
        r,
        "api",
        (now - 60 * day, "down", None),  # only in 90 d
        (now - 20 * day, "down", None),  # in 30 d and 90 d
        (now - 3 * day, "down", None),  # in 7 d, 30 d and 90 d
        (now - 2 * hour, "up", 10.0),  # in every window
    )
    uptime = client.get("/v1/services/api/status", headers=AUTH).json()["uptime"]
    assert uptime == {"24h": 100.0, "7d": 50.0, "30d": round(100 / 3, 4), "90d": 25.0}


def test_status_filters_by_group_and_tag(client: TestClient) -> None:
    create(client, "a", group="web", tags=["eu"])
    create(client, "b", group="db", tags=["us"])
    assert [s["name"] for s in client.get("/v1/status?group=web", headers=AUTH).json()["services"]] == ["a"]
    assert [s["name"] for s in client.get("/v1/status?tag=us", headers=AUTH).json()["services"]] == ["b"]


def test_uptime_over_any_range_and_between_dates(client: TestClient, r: Any) -> None:
    create(client, "api")
    t = now_ms() - 20 * MIN
    record(r, "api", (t, "up", 1.0), (t + MIN, "down", None))
    body = client.get("/v1/services/api/uptime", params={"range": "1h"}, headers=AUTH).json()
    assert body["uptime"] == 50.0 and body["checks"] == 2 and body["downChecks"] == 1
    assert sum(b["checks"] for b in body["buckets"]) == 2
    from upstat.timeseries.shapes import iso

    params = {"start": iso(t - MIN), "end": iso(t + 30_000)}
    body = client.get("/v1/services/api/uptime", params=params, headers=AUTH).json()
    assert body["uptime"] == 100.0 and body["checks"] == 1


def test_uptime_without_checks_is_null_not_100(client: TestClient) -> None:
    create(client, "api")
    body = client.get("/v1/services/api/uptime", params={"range": "7d"}, headers=AUTH).json()
    assert body["uptime"] is None and body["checks"] == 0


def test_uptime_range_errors_name_the_field(client: TestClient) -> None:
    create(client, "api")
    error(client.get("/v1/services/api/uptime", params={"range": "forever"}, headers=AUTH), 400, "range")
    error(client.get("/v1/services/api/uptime", params={"tz": "Mars/Base"}, headers=AUTH), 400, "tz")
    error(client.get("/v1/services/nope/uptime", headers=AUTH), 404)


def test_daily_bars_for_90_days(client: TestClient, r: Any) -> None:
    create(client, "api")
    t = now_ms() - 5 * MIN
    record(r, "api", (t, "up", 1.0), (t + 1000, "down", None), (t + 2000, "up", 1.0), (t + 3000, "up", 1.0))
    body = client.get("/v1/services/api/uptime/daily", headers=AUTH).json()
    days = body["days"]
    assert len(days) == 90 and body["tz"] == "UTC"
    assert days[-1]["start"] <= now_ms() < days[-1]["start"] + 86_400_000
    assert [d["date"] for d in days] == sorted(d["date"] for d in days)
    with_checks = [d for d in days if d["checks"]]
    assert len(with_checks) == 1 and with_checks[0]["uptime"] == 75.0 and with_checks[0]["downChecks"] == 1
    assert days[0]["uptime"] is None
    res = client.get("/v1/services/api/uptime/daily", params={"days": 7, "tz": "Europe/Berlin"}, headers=AUTH)
    assert len(res.json()["days"]) == 7
    error(client.get("/v1/services/api/uptime/daily", params={"days": 0}, headers=AUTH), 400, "days")


def test_response_time_statistics_exact_over_raw_and_flagged_beyond(client: TestClient, r: Any) -> None:
    create(client, "api")
    t = now_ms() - 30 * MIN
    times = [10.0, 20.0, 30.0, 40.0, 1000.0]
    record(r, "api", *[(t + i * MIN, "up", ms) for i, ms in enumerate(times)], (t + 6 * MIN, "down", None))
    body = client.get("/v1/services/api/response-times", params={"range": "2h"}, headers=AUTH).json()
    assert body["count"] == 5 and body["avg"] == 220.0 and body["min"] == 10.0 and body["max"] == 1000.0
    assert body["p50"] == 30.0 and body["exact"] is True
    assert body["p99"] == pytest.approx(961.6)
    wide = client.get("/v1/services/api/response-times", params={"range": "90d"}, headers=AUTH).json()
    assert wide["count"] == 5 and wide["avg"] == 220.0 and wide["max"] == 1000.0
    assert wide["exact"] is False  # the raw tier (48 h) does not cover 90 days


def test_history_is_the_check_log(client: TestClient, r: Any) -> None:
    create(client, "api")
    t = now_ms() - 5 * MIN
    record(r, "api", (t, "up", 5.0), (t + MIN, "down", None))
    body = client.get("/v1/services/api/history", headers=AUTH).json()
    assert body["ttl"] == 30 * 86400
    assert body["checks"] == [
        {
            "timestamp": t,
            "status": "up",
            "code": 200,
            "responseTime": 5.0,
            "error": None,
            "maintenance": False,
        },
        {
            "timestamp": t + MIN,
            "status": "down",
            "code": 500,
            "responseTime": None,
            "error": "HTTP 500",
            "maintenance": False,
        },
    ]
    assert (
        len(client.get("/v1/services/api/history", params={"limit": 1}, headers=AUTH).json()["checks"]) == 1
    )


def test_chart_of_response_times_and_up(client: TestClient, r: Any) -> None:
    create(client, "api")
    t = now_ms() - 5 * MIN
    record(r, "api", (t, "up", 5.0), (t + MIN, "up", 7.0))
    body = client.get("/v1/services/api/chart", params={"range": "1h"}, headers=AUTH).json()
    assert body["metric"] == "response_ms" and body["stats"]["avg"] == 6.0
    up = client.get("/v1/services/api/chart", params={"range": "1h", "metric": "up"}, headers=AUTH).json()
    assert up["stats"]["avg"] == 1.0
    error(client.get("/v1/services/api/chart", params={"metric": "cpu"}, headers=AUTH), 400, "metric")
    create(client, "fresh")
    error(client.get("/v1/services/fresh/chart", headers=AUTH), 404, "metric")


# ------------------------------------------------------------------------------------------------------
# Incidents and maintenance


def test_incidents_per_service_and_across_services(client: TestClient, r: Any) -> None:
    create(client, "a")
    create(client, "b")
    t = now_ms() - 30 * MIN
    record(r, "a", (t, "up", 1.0), (t + MIN, "down", None), (t + 3 * MIN, "up", 1.0))
    record(r, "b", (t, "up", 1.0), (t + 5 * MIN, "down", None))
    listed = client.get("/v1/incidents", headers=AUTH).json()["incidents"]
    assert [(i["service"], i["open"]) for i in listed] == [("b", True), ("a", False)]
    closed = listed[1]
    assert closed["start"] == t + MIN and closed["end"] == t + 3 * MIN and closed["durationMs"] == 2 * MIN
    assert closed["cause"] == "HTTP 500"
    assert listed[0]["cause"] == "HTTP 500" and listed[0]["errorKind"] == "status"
    assert [
        i["service"] for i in client.get("/v1/services/a/incidents", headers=AUTH).json()["incidents"]
    ] == ["a"]
    since = client.get("/v1/incidents", params={"since": t + 4 * MIN}, headers=AUTH).json()["incidents"]
    assert [i["service"] for i in since] == ["b"]


def test_maintenance_windows_crud(client: TestClient) -> None:
    create(client, "api")
    now = now_ms()
    res = client.post(
        "/v1/maintenance", json={"title": "upgrade", "start": now - MIN, "end": now + MIN}, headers=AUTH
    )
    assert res.status_code == 201, res.text
    window = res.json()
    assert window["active"] is True and window["serviceId"] is None
    listed = client.get("/v1/maintenance", headers=AUTH).json()["windows"]
    assert [w["id"] for w in listed] == [window["id"]]
    recurring = {"recurring": {"days": [0, 6], "start": "02:00", "durationMinutes": 30, "tz": "Europe/Paris"}}
    res = client.post("/v1/services/api/maintenance", json=recurring, headers=AUTH)
    assert res.status_code == 201, res.text
    own = res.json()
    assert own["recurring"]["durationMinutes"] == 30
    assert [w["id"] for w in client.get("/v1/services/api/maintenance", headers=AUTH).json()["windows"]] == [
        own["id"]
    ]
    assert client.delete(f"/v1/services/api/maintenance/{own['id']}", headers=AUTH).status_code == 200
    error(client.delete(f"/v1/services/api/maintenance/{own['id']}", headers=AUTH), 404, "window_id")
    assert client.delete(f"/v1/maintenance/{window['id']}", headers=AUTH).json() == {"deleted": window["id"]}
    assert client.get("/v1/maintenance", headers=AUTH).json()["windows"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": 1_767_225_602_000, "end": 1_767_225_601_000}, "end"),
        ({"start": 1_796_022_927, "end": 1_796_026_527}, "start"),  # seconds: refused, never 1970
        ({"title": "no times"}, "start"),
        ({"recurring": {"days": [7], "start": "02:00", "durationMinutes": 5}}, "recurring.days[0]"),
        ({"recurring": {"days": [1], "start": "25:00", "durationMinutes": 5}}, "recurring.start"),
    ],
)
def test_invalid_windows_are_400_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    error(client.post("/v1/maintenance", json=body, headers=AUTH), 400, field)


def test_downs_in_a_maintenance_window_do_not_count(client: TestClient, r: Any) -> None:
    create(client, "api")
    now = now_ms()
    client.post(
        "/v1/services/api/maintenance", json={"start": now - 10 * MIN, "end": now + MIN}, headers=AUTH
    )
    record(r, "api", (now - 20 * MIN, "up", 1.0), (now - 5 * MIN, "down", None))
    status = client.get("/v1/services/api/status", headers=AUTH).json()
    assert status["status"] == "maintenance" and status["uptime"]["24h"] == 100.0
    assert client.get("/v1/incidents", headers=AUTH).json()["incidents"] == []


# ------------------------------------------------------------------------------------------------------
# Push monitors and checks of real targets


def test_push_monitor_beats(client: TestClient) -> None:
    created = client.post(
        "/v1/services", json={"name": "backup", "kind": "push", "interval": 3600}, headers=AUTH
    )
    assert created.status_code == 201, created.text
    token = created.json()["pushToken"]
    assert client.get("/v1/services/backup", headers=AUTH).json().get("pushToken") is None
    res = client.get(f"/v1/push/{token}")  # no bearer key: the token is the credential
    assert res.json() == {"ok": True, "recorded": True, "status": "up"}
    res = client.post(f"/v1/push/{token}", params={"status": "down", "msg": "disk full"})
    assert res.json()["recorded"] is True
    checks = client.get("/v1/services/backup/history", headers=AUTH).json()["checks"]
    assert [c["status"] for c in checks] == ["up", "down"] and checks[1]["error"] == "disk full"
    error(client.get("/v1/push/not-a-token"), 404, "token")
    error(client.get(f"/v1/push/{token}", params={"status": "sideways"}), 400, "status")
    rotated = client.post("/v1/services/backup/push-token", headers=AUTH).json()["pushToken"]
    assert rotated != token
    error(client.get(f"/v1/push/{token}"), 404)
    assert client.get(f"/v1/push/{rotated}").status_code == 200


def test_check_now_probes_a_local_target(client: TestClient, local_target: LocalTarget) -> None:
    create(client, "ok", url=local_target.url("/ok"), keyword="hello")
    create(client, "bad", url=local_target.url("/status/503"))
    res = client.post("/v1/services/ok/check", headers=AUTH)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["status"] == "up" and body["code"] == 200 and body["responseTime"] >= 0
    bad = client.post("/v1/services/bad/check", headers=AUTH).json()
    assert bad["status"] == "down" and bad["code"] == 503 and bad["errorKind"] == "status"
    assert local_target.hits("/ok") == 1  # only the named service was checked
    rows = {s["name"]: s for s in client.get("/v1/status", headers=AUTH).json()["services"]}
    assert rows["ok"]["status"] == "up" and rows["bad"]["status"] == "down"


# ------------------------------------------------------------------------------------------------------
# Status page and docs


def test_status_page_is_served_with_its_assets(client: TestClient) -> None:
    import re
    from urllib.parse import urljoin, urlsplit

    res = client.get("/status")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in res.headers["content-security-policy"]
    # The page's links resolve as a browser resolves them, also behind a stage prefix (/prod/status).
    links = [x for x in re.findall(r'(?:src|href)="([^"]+)"', res.text) if not x.startswith(("data:", "#"))]
    assert len(links) == 6  # uPlot's script and style, the shared and the page's own script and style
    for link in links:
        assert urljoin("https://h.example/prod/status", link).startswith("https://h.example/prod/status/")
        asset = client.get(urlsplit(urljoin("http://testserver/status", link)).path)
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(
            ("text/css", "text/javascript", "application/javascript")
        )
    script = client.get("/status/status.js").text
    [api] = re.findall(r'fetch\("([^"?]+)\?', script)
    assert urljoin("http://testserver/status", api) == "http://testserver/v1/status/page"
    assert urljoin("https://h.example/prod/status", api) == "https://h.example/prod/v1/status/page"


def test_status_page_assets_ship_inside_the_package() -> None:
    from importlib import resources

    static = resources.files("upstat.web").joinpath("static")
    assert {"status.html", "status.js", "status.css"} <= {p.name for p in static.iterdir()}


def test_openapi_documents_the_uptime_routes_with_models(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/services",
        "/v1/services/{name}",
        "/v1/status",
        "/v1/services/{name}/uptime",
        "/v1/services/{name}/uptime/daily",
        "/v1/services/{name}/response-times",
        "/v1/services/{name}/history",
        "/v1/services/{name}/chart",
        "/v1/incidents",
        "/v1/services/{name}/incidents",
        "/v1/maintenance",
        "/v1/services/{name}/maintenance",
        "/v1/push/{token}",
    ):
        assert path in paths, path
    ok = paths["/v1/services/{name}/response-times"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/ResponseTimes")
    assert "examples" in spec["components"]["schemas"]["ResponseTimes"]


def test_every_status_view_agrees_during_a_maintenance_window(client: TestClient, r: Any) -> None:
    """The status page, /v1/status, /api/status and /v1/sources show one rule: a service a window covers
    reads maintenance (unless down), and so does the overall status when nothing is down or degraded."""
    create(client, "web")
    create(client, "db")
    record(r, "web", (now_ms() - 30_000, "up", 20.0))
    record(r, "db", (now_ms() - 30_000, "down", None))
    window = {"title": "upgrade", "start": now_ms() - 60_000, "end": now_ms() + 3_600_000}
    assert client.post("/v1/maintenance", json=window, headers=AUTH).status_code == 201
    v1 = {s["name"]: s["status"] for s in client.get("/v1/status", headers=AUTH).json()["services"]}
    dialect = {s["name"]: s["status"] for s in client.get("/api/status").json()["services"]}
    sources = {
        s["service"]: s["health"]
        for s in client.get("/v1/sources", headers=AUTH).json()["sources"]
        if s.get("service")
    }
    page = client.get("/v1/status/page").json()
    on_page = {s["name"]: s["state"] for g in page["groups"] for s in g["services"]}
    assert v1 == dialect == sources == on_page == {"web": "maintenance", "db": "down"}
    assert client.get("/v1/status", headers=AUTH).json()["overall"] == "down"
    client.delete("/v1/services/db", headers=AUTH)
    assert client.get("/v1/status", headers=AUTH).json()["overall"] == "maintenance"
    assert client.get("/api/status").json()["overall"] == "maintenance"
