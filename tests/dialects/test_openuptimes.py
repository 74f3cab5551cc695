"""The OpenUptimes API over HTTP: every route of openuptimes-routes.md at its path, with its fields, its auth
and its error shape, against the real Valkey and real local HTTP targets."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH, now_ms, record
from tests.uptime.targets import LocalTarget
from upstat.uptime import checklog
from upstat.uptime.services import ServiceStore

SIX = ("name", "url", "description", "expectedStatus", "method", "timeout")
KEY_ROUTES = [
    ("GET", "/api/ping"),
    ("GET", "/api/services"),
    ("POST", "/api/services"),
    ("PUT", "/api/services?name=x"),
    ("DELETE", "/api/services?name=x"),
    ("GET", "/api/ping-history/ttl"),
    ("PATCH", "/api/ping-history/ttl"),
    ("DELETE", "/api/ping-history"),
    ("POST", "/api/setup/complete"),
]
PUBLIC_ROUTES = ["/api/status", "/api/history/missing", "/api/setup/status", "/api/test-redis"]


def add(client: TestClient, name: str, url: str = "https://example.com", **extra: Any) -> dict[str, Any]:
    res = client.post("/api/services", json={"name": name, "url": url, **extra}, headers=AUTH)
    assert res.status_code == 200, res.text
    return res.json()


def assert_error(res: Any, status: int, *words: str) -> dict[str, Any]:
    assert res.status_code == status, res.text
    body = res.json()
    assert set(body) == {"error", "message", "status"}
    assert body["error"] is True and body["status"] == status
    for word in words:
        assert word in body["message"]
    return body


# ------------------------------------------------------------------------------------------------------
# Auth and error shape


@pytest.mark.parametrize(("method", "path"), KEY_ROUTES)
def test_key_routes_answer_401_in_the_document_shape_without_a_key(
    client: TestClient, method: str, path: str
) -> None:
    res = client.request(method, path, json={"ttl": 60, "name": "x", "url": "https://example.com"})
    assert_error(res, 401, "Authorization")


@pytest.mark.parametrize("path", PUBLIC_ROUTES)
def test_public_routes_answer_without_a_key(client: TestClient, path: str) -> None:
    res = client.get(path)
    assert res.status_code in (200, 404), res.text  # the history of a missing service is a 404, not a 401
    if res.status_code == 404:
        assert_error(res, 404, "missing")


def test_a_wrong_key_is_401_and_a_read_key_cannot_change_services(client: TestClient) -> None:
    assert_error(client.get("/api/services", headers={"Authorization": "Bearer nope"}), 401)
    res = client.post("/v1/keys", json={"name": "reader", "scopes": ["read"]}, headers=AUTH)
    assert res.status_code in (200, 201), res.text
    reader = {"Authorization": f"Bearer {res.json()['token']}"}
    assert client.get("/api/services", headers=reader).status_code == 200
    assert_error(
        client.post("/api/services", json={"name": "a", "url": "https://a.example"}, headers=reader), 403
    )
    assert_error(client.patch("/api/ping-history/ttl", json={"ttl": 5}, headers=reader), 403)


def test_status_and_history_need_a_key_when_the_status_page_is_private(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upstat.config import get_settings

    add(client, "api")
    monkeypatch.setenv("UPSTAT_PUBLIC_STATUS_PAGE", "false")
    get_settings.cache_clear()
    assert_error(client.get("/api/status"), 401)
    assert_error(client.get("/api/history/api"), 401)
    assert client.get("/api/status", headers=AUTH).status_code == 200
    assert client.get("/api/setup/status").status_code == 200  # always public


def test_unknown_route_under_api_is_a_404_in_the_document_shape(client: TestClient) -> None:
    assert_error(client.get("/api/nothing-here"), 404)


# ------------------------------------------------------------------------------------------------------
# Services


def test_add_list_update_delete_a_service_with_the_six_fields(client: TestClient) -> None:
    body = {
        "name": "New Service",
        "url": "https://example.com",
        "description": "A new service to monitor",
        "expectedStatus": 200,
        "method": "GET",
        "timeout": 10000,
    }
    res = client.post("/api/services", json=body, headers=AUTH)
    assert res.status_code == 200
    assert res.json() == {"success": True, "service": body}

    listed = client.get("/api/services", headers=AUTH).json()
    assert listed == {"services": [body]}

    change = {**body, "name": "Updated Service", "description": "An updated service", "timeout": 5000}
    res = client.put("/api/services", params={"name": "New Service"}, json=change, headers=AUTH)
    assert res.status_code == 200, res.text
    assert res.json() == {"success": True, "service": change}
    assert [s["name"] for s in client.get("/api/services", headers=AUTH).json()["services"]] == [
        "Updated Service"
    ]

    res = client.delete("/api/services", params={"name": "Updated Service"}, headers=AUTH)
    assert res.json() == {"success": True, "message": "Service deleted"}
    assert client.get("/api/services", headers=AUTH).json() == {"services": []}


def test_defaults_fill_the_fields_not_sent(client: TestClient) -> None:
    service = add(client, "minimal")["service"]
    assert set(service) == set(SIX)
    assert service["expectedStatus"] == 200 and service["method"] == "GET" and service["timeout"] == 10000


def test_a_duplicate_name_is_409(client: TestClient) -> None:
    add(client, "api")
    res = client.post("/api/services", json={"name": "api", "url": "https://other.example"}, headers=AUTH)
    assert_error(res, 409, "api")


def test_renaming_to_a_taken_name_is_409_and_changes_nothing(client: TestClient) -> None:
    add(client, "a")
    add(client, "b")
    res = client.put("/api/services", params={"name": "a"}, json={"name": "b"}, headers=AUTH)
    assert_error(res, 409)
    assert sorted(s["name"] for s in client.get("/api/services", headers=AUTH).json()["services"]) == [
        "a",
        "b",
    ]


def test_update_and_delete_of_a_missing_service_are_404(client: TestClient) -> None:
    assert_error(
        client.put("/api/services", params={"name": "ghost"}, json={"timeout": 5000}, headers=AUTH), 404
    )
    assert_error(client.delete("/api/services", params={"name": "ghost"}, headers=AUTH), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://example.com"}, "name"),
        ({"name": "x", "url": "ftp://example.com"}, "url"),
        ({"name": "x", "url": "https://example.com", "timeout": "10000"}, "timeout"),
        ({"name": "x", "url": "https://example.com", "timeout": 10}, "timeout"),
        ({"name": "x", "url": "https://example.com", "expectedStatus": 999}, "expectedStatus"),
        ({"name": "x", "url": "https://example.com", "method": "TRACE"}, "method"),
        ({"name": "x", "url": "https://example.com", "unknownField": 1}, "unknownField"),
        ({"name": "x", "url": "https://example.com", "interval": 5}, "interval"),
    ],
)
def test_invalid_services_are_400_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    res = client.post("/api/services", json=body, headers=AUTH)
    assert_error(res, 400, field)


def test_nan_and_infinity_in_json_are_400_not_500(client: TestClient) -> None:
    raw = '{"name": "x", "url": "https://example.com", "timeout": NaN}'
    res = client.post("/api/services", content=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert_error(res, 400, "timeout")
    res = client.patch(
        "/api/ping-history/ttl",
        content='{"ttl": Infinity}',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert_error(res, 400, "ttl")


def test_malformed_json_is_400(client: TestClient) -> None:
    res = client.post("/api/services", content="{nope", headers={**AUTH, "Content-Type": "application/json"})
    assert_error(res, 400, "JSON")


def test_put_and_delete_without_name_are_400_naming_it(client: TestClient) -> None:
    assert_error(client.put("/api/services", json={"timeout": 5000}, headers=AUTH), 400, "name")
    assert_error(client.delete("/api/services", headers=AUTH), 400, "name")


def test_upstat_fields_are_accepted_on_add_and_kept_on_update(client: TestClient) -> None:
    add(client, "kw", keyword="hello", interval=120, expectedStatus="200-299")
    client.put("/api/services", params={"name": "kw"}, json={"description": "changed"}, headers=AUTH)
    full = client.get("/v1/services/kw", headers=AUTH).json()
    assert full["keyword"] == "hello" and full["interval"] == 120 and full["description"] == "changed"
    assert full["expectedStatus"] == "200-299"


def test_renaming_keeps_history(client: TestClient, r: Any) -> None:
    add(client, "old")
    t = now_ms() - 60_000
    record(r, "old", (t, "up", 12.0), (t + 30_000, "down", None))
    res = client.put("/api/services", params={"name": "old"}, json={"name": "new"}, headers=AUTH)
    assert res.status_code == 200
    hist = client.get("/api/history/new").json()
    assert hist["name"] == "new"
    assert [(h["timestamp"], h["status"], h["responseTime"]) for h in hist["history"]] == [
        (t, "up", 12.0),
        (t + 30_000, "down", None),
    ]
    assert_error(client.get("/api/history/old"), 404)


# ------------------------------------------------------------------------------------------------------
# Status and history


def test_status_of_never_checked_services_is_pending_with_null_times(client: TestClient) -> None:
    add(client, "api", description="The API")
    body = client.get("/api/status").json()
    assert body["overall"] == "pending"  # nothing checked yet: not "up"
    assert abs(body["updated"] - now_ms()) < 5_000
    assert body["services"] == [
        {
            "name": "api",
            "description": "The API",
            "status": "pending",
            "lastChecked": None,
            "responseTime": None,
        }
    ]


def test_status_without_services_is_unknown(client: TestClient) -> None:
    assert client.get("/api/status").json()["services"] == []
    assert client.get("/api/status").json()["overall"] == "unknown"


def test_status_after_real_checks_of_local_targets(client: TestClient, local_target: LocalTarget) -> None:
    add(client, "ok", url=local_target.url("/ok"), description="answers")
    add(client, "broken", url=local_target.url("/down"))
    add(client, "hidden", url=local_target.url("/ok"), visible=False)
    before = now_ms()
    res = client.get("/api/ping", headers=AUTH)
    assert res.status_code == 200, res.text
    ping = res.json()
    assert ping["success"] is True and ping["duration"] >= 0 and ping["timestamp"] >= before
    by_name = {s["name"]: s for s in ping["services"]}
    assert set(by_name) == {"ok", "broken", "hidden"}
    assert set(by_name["ok"]) == {"name", "url", "status", "responseTime", "timestamp"}
    assert by_name["ok"]["status"] == "up" and by_name["ok"]["url"] == local_target.url("/ok")
    assert by_name["broken"]["status"] == "down"
    assert local_target.hits("/ok") == 2 and local_target.hits("/down") == 1

    status = client.get("/api/status").json()
    assert status["overall"] == "down"
    rows = {s["name"]: s for s in status["services"]}
    assert set(rows) == {"ok", "broken"}  # hidden services are not on the status page
    assert rows["ok"]["status"] == "up" and rows["ok"]["lastChecked"] >= before
    assert isinstance(rows["ok"]["responseTime"], int)
    assert rows["broken"]["status"] == "down"

    hist = client.get("/api/history/ok").json()
    assert len(hist["history"]) == 1 and hist["history"][0]["status"] == "up"
    assert_error(client.get("/api/history/hidden"), 404)  # not public
    assert client.get("/api/history/hidden", headers=AUTH).status_code == 200


def test_overall_is_degraded_when_one_is_degraded_and_none_down(client: TestClient, r: Any) -> None:
    add(client, "a")
    add(client, "b")
    t = now_ms()
    record(r, "a", (t, "up", 10.0))
    record(r, "b", (t, "degraded", 900.0))
    assert client.get("/api/status").json()["overall"] == "degraded"


def test_history_engine_variant_buckets_checks(client: TestClient, r: Any) -> None:
    add(client, "api")
    t = now_ms() - 3 * 60_000
    record(r, "api", (t, "up", 10.0), (t + 60_000, "down", None), (t + 120_000, "up", 30.0))
    res = client.get("/api/history/api", params={"range": "2h", "resolution": "1h"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["resolution"] == "1h"
    checks = sum(h["checks"] for h in body["history"])
    assert checks == 3
    if len(body["history"]) == 1:  # all three in one hourly bucket
        item = body["history"][0]
        assert item["status"] == "degraded" and item["responseTime"] == 20.0
        assert item["uptime"] == pytest.approx(66.6667, abs=1e-3)


def test_history_validation_errors_name_the_field(client: TestClient) -> None:
    add(client, "api")
    assert_error(client.get("/api/history/api", params={"limit": 0}), 400, "limit")
    assert_error(client.get("/api/history/api", params={"range": "soon"}), 400, "range")


# ------------------------------------------------------------------------------------------------------
# History TTL and clearing


def test_ttl_default_get_and_set(client: TestClient) -> None:
    body = client.get("/api/ping-history/ttl", headers=AUTH).json()
    assert body == {"ttl": 30 * 86400, "unlimited": False}
    res = client.patch("/api/ping-history/ttl", json={"ttl": 604800}, headers=AUTH)
    assert res.json() == {
        "success": True,
        "ttl": 604800,
        "unlimited": False,
        "message": "History TTL set to 604800 seconds",
    }
    res = client.patch("/api/ping-history/ttl", json={"ttl": 0}, headers=AUTH)
    assert res.json()["unlimited"] is True and res.json()["message"] == "History TTL set to 0 seconds"
    assert client.get("/api/ping-history/ttl", headers=AUTH).json() == {"ttl": 0, "unlimited": True}


@pytest.mark.parametrize("value", [-1, "60", True, 1.5, None])
def test_bad_ttl_is_400_naming_ttl(client: TestClient, value: Any) -> None:
    assert_error(client.patch("/api/ping-history/ttl", json={"ttl": value}, headers=AUTH), 400, "ttl")


def test_missing_ttl_is_400(client: TestClient) -> None:
    assert_error(client.patch("/api/ping-history/ttl", json={}, headers=AUTH), 400, "ttl")


def test_setting_a_shorter_ttl_trims_existing_entries(client: TestClient, r: Any) -> None:
    add(client, "api")
    now = now_ms()
    record(
        r, "api", (now - 3 * 3600_000, "up", 1.0), (now - 2 * 3600_000, "up", 2.0), (now - 60_000, "up", 3.0)
    )
    assert len(client.get("/api/history/api").json()["history"]) == 3
    client.patch("/api/ping-history/ttl", json={"ttl": 3600}, headers=AUTH)
    service = ServiceStore(r).require("api")
    assert r.zcard(f"upstat:svc:{{svc:{service.id}}}:log") == 1  # removed from Redis, not only hidden
    assert [h["responseTime"] for h in client.get("/api/history/api").json()["history"]] == [3.0]


def test_clearing_history_keeps_services_and_rollups(client: TestClient, r: Any) -> None:
    add(client, "api")
    t = now_ms() - 60_000
    record(r, "api", (t, "up", 5.0))
    res = client.delete("/api/ping-history", headers=AUTH)
    assert res.json() == {"success": True, "message": "Ping history cleared"}
    assert client.get("/api/history/api").json()["history"] == []
    assert [s["name"] for s in client.get("/api/services", headers=AUTH).json()["services"]] == ["api"]
    uptime = client.get("/v1/services/api/uptime", params={"range": "1h"}, headers=AUTH).json()
    assert uptime["uptime"] == 100.0  # the engine's series stay

    client.delete("/api/ping-history", params={"rollups": "true"}, headers=AUTH)
    uptime = client.get("/v1/services/api/uptime", params={"range": "1h"}, headers=AUTH).json()
    assert uptime["uptime"] is None


def test_check_log_entries_older_than_the_ttl_are_never_served(client: TestClient, r: Any) -> None:
    add(client, "api")
    client.patch("/api/ping-history/ttl", json={"ttl": 60}, headers=AUTH)
    service = ServiceStore(r).require("api")
    old = now_ms() - 120_000
    r.zadd(f"upstat:svc:{{svc:{service.id}}}:log", {checklog.encode_entry(old, "up", 200, 1.0, None): old})
    assert client.get("/api/history/api").json()["history"] == []


# ------------------------------------------------------------------------------------------------------
# Setup and Redis


def test_setup_status_then_complete(client: TestClient) -> None:
    assert client.get("/api/setup/status").json() == {"completed": False}
    res = client.post("/api/setup/complete", headers=AUTH)
    assert res.json() == {"success": True, "message": "Setup completed"}
    assert client.get("/api/setup/status").json() == {"completed": True}
    assert client.post("/api/setup/complete", headers=AUTH).status_code == 200  # idempotent


def test_test_redis(client: TestClient) -> None:
    assert client.get("/api/test-redis").json() == {"connected": True, "ping": "PONG"}


def test_openapi_lists_every_route_of_the_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    expected = {
        "/api/ping": "get",
        "/api/status": "get",
        "/api/history/{serviceName}": "get",
        "/api/services": "get",
        "/api/ping-history/ttl": "patch",
        "/api/ping-history": "delete",
        "/api/setup/status": "get",
        "/api/setup/complete": "post",
        "/api/test-redis": "get",
    }
    for path, method in expected.items():
        assert method in paths[path], path
        assert "400" in paths[path][method]["responses"] or path.startswith("/api/setup/status")
    assert {"get", "post", "put", "delete"} <= set(paths["/api/services"])


def test_status_reflects_service_changes_at_once(client: TestClient, r: Any) -> None:
    add(client, "api", description="first")
    assert client.get("/api/status").json()["services"][0]["description"] == "first"
    client.put("/api/services", params={"name": "api"}, json={"description": "second"}, headers=AUTH)
    assert client.get("/api/status").json()["services"][0]["description"] == "second"
    record(r, "api", (now_ms() - 1000, "down", None))
    assert client.get("/api/status").json()["services"][0]["status"] == "down"
    client.patch("/v1/services/api", json={"visible": False}, headers=AUTH)
    assert client.get("/api/status").json()["services"] == []
    client.patch("/v1/services/api", json={"visible": True, "paused": True}, headers=AUTH)
    body = client.get("/api/status").json()
    assert body["services"][0]["status"] == "paused"
    assert body["overall"] == "unknown"  # paused services do not count: nothing is being watched
