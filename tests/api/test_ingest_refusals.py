"""Ingestion refuses what it cannot store, naming the field the caller's way, and stores nothing then:
forged uptime, huge integers, names with control characters, points behind a series' trimmed data, and
times in the wrong unit. Also: totals of a metric nobody has, and internal series kept apart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import record
from tests.conftest import ADMIN_TOKEN
from upstat.api.app import create_app
from upstat.timeseries.retention import current_engine
from upstat.uptime.services import ServiceStore

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HOUR = 3_600_000


@pytest.fixture
def http(env: dict[str, str], r: Any) -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


def now_ms() -> int:
    return int(time.time() * 1000)


def post(http: TestClient, body: dict[str, Any]) -> Any:
    return http.post("/v1/ingest", json=body, headers=AUTH)


def test_nobody_can_forge_a_services_uptime(http: TestClient, r: Any) -> None:
    service = ServiceStore(r).create({"name": "api", "url": "https://example.com"})
    record(r, "api", (now_ms() - 60_000, "down", None))
    before = http.get("/v1/services/api/uptime", params={"range": "24h"}, headers=AUTH).json()["uptime"]
    forged = {"source": f"service:{service.id}", "points": [{"metric": "up", "value": 1}] * 1}
    res = post(http, forged)  # even the bootstrap admin token
    assert res.status_code == 403 and res.json()["field"] == "source"
    kind = {"source": f"service:{service.id}", "metric": "up", "kind": "counter"}
    assert http.put("/v1/series/kind", json=kind, headers=AUTH).status_code == 403
    after = http.get("/v1/services/api/uptime", params={"range": "24h"}, headers=AUTH).json()["uptime"]
    assert before == after == 0.0


def test_internal_series_are_kept_apart_and_named_by_their_service(http: TestClient, r: Any) -> None:
    ServiceStore(r).create({"name": "api", "url": "https://example.com"})
    record(r, "api", (now_ms() - 60_000, "up", 20.0))
    assert post(http, {"source": "alice", "metrics": {"up": 1}}).status_code == 200
    assert http.get("/v1/series", headers=AUTH).json() == {"sources": ["alice"]}
    both = http.get("/v1/series", params={"services": "true"}, headers=AUTH).json()
    service_id = ServiceStore(r).require("api").id
    assert both == {"sources": ["alice"], "services": [{"name": "api", "source": f"service:{service_id}"}]}
    top = http.get("/v1/top", params={"metric": "up", "range": "1h"}, headers=AUTH).json()
    assert [row["source"] for row in top["top"]] == ["alice"]
    top = http.get("/v1/top", params={"metric": "up", "range": "1h", "services": "true"}, headers=AUTH).json()
    assert {row.get("service") for row in top["top"]} == {None, "api"}
    total = http.get("/v1/total", params={"metric": "up", "range": "1h"}, headers=AUTH).json()
    assert total["sources"] == 1


def test_a_metric_nobody_has_totals_to_nothing(http: TestClient) -> None:
    res = http.get("/v1/total", params={"metric": "does-not-exist", "range": "1h"}, headers=AUTH)
    assert res.status_code == 200
    body = res.json()
    assert body["sources"] == 0 and body["total"] == 0 and body["count"] == len(body["points"]) == 120
    assert {v for _, v in body["points"]} == {0}  # sum's default fill
    top = http.get("/v1/top", params={"metric": "does-not-exist"}, headers=AUTH)
    assert top.status_code == 200 and top.json()["top"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "s", "metrics": {"x": int("9" * 400)}}, "metrics.x"),
        ({"source": "s", "points": [{"metric": "x", "value": -int("9" * 400)}]}, "points[0].value"),
        ({"source": "s", "points": [{"metric": "x", "value": 1, "time": int("9" * 400)}]}, "points[0].time"),
    ],
)
def test_huge_integers_are_refused(http: TestClient, body: dict[str, Any], field: str) -> None:
    res = post(http, body)
    assert res.status_code == 400 and res.json()["field"] == field
    assert "digits" in res.json()["message"]  # never the 400-digit number itself


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "a\x00b", "metrics": {"x": 1}}, "source"),
        ({"source": "a\nb", "metrics": {"x": 1}}, "source"),
        ({"source": " padded", "metrics": {"x": 1}}, "source"),
        ({"source": "s", "metrics": {"x\x1f": 1}}, "metrics.x\x1f"),
        ({"source": "s", "points": [{"metric": "x\u2028y", "value": 1}]}, "points[0].metric"),
        ({"source": "s", "metrics": {}, "kinds": {"k\x7f": "counter"}}, "kinds.k\x7f"),
    ],
)
def test_one_name_rule_for_sources_metrics_and_services(
    http: TestClient, body: dict[str, Any], field: str
) -> None:
    res = post(http, body)
    assert res.status_code == 400 and res.json()["field"] == field
    assert http.get("/v1/series", headers=AUTH).json()["sources"] == []
    service = http.post("/v1/services", json={"name": "a\x00b", "url": "https://example.com"}, headers=AUTH)
    assert service.status_code == 400 and service.json()["field"] == "name"


def test_a_refused_point_behind_trimmed_data_stores_nothing(http: TestClient, r: Any) -> None:
    """Retention lowered, the series trimmed, retention raised again: the point is inside the accepted
    window but behind x's trimmed data. The whole batch is refused; c_new is neither stored nor listed."""
    now = now_ms()
    engine = current_engine(r, fresh=True)
    engine.write("s", "x", [(now - 5 * HOUR, 1.0), (now, 2.0)])
    assert http.patch("/v1/retention", json={"retention": {"raw": "1h"}}, headers=AUTH).status_code == 200
    current_engine(r, fresh=True).maintain([_sid("s", "x")], now=now, rebuild_from=None, trim=True)
    floor = current_engine(r, fresh=True).info("s", "x").floor
    assert floor is not None and floor > now - 5 * HOUR
    assert http.patch("/v1/retention", json={"retention": {"raw": "48h"}}, headers=AUTH).status_code == 200
    current_engine(r, fresh=True)
    for metrics in ({"x": 3, "c_new": 7}, {"c_new": 7, "x": 3}):
        res = post(http, {"source": "s", "time": floor - 600_000, "metrics": metrics})
        assert res.status_code == 400, res.text
        assert res.json()["field"] == "time" and "trimmed" in res.json()["message"]
        assert http.get("/v1/series", params={"source": "s"}, headers=AUTH).json()["metrics"] == ["x"]
    res = post(
        http,
        {
            "source": "s",
            "points": [
                {"metric": "c_new", "value": 7, "time": floor - 600_000},
                {"metric": "x", "value": 3, "time": floor - 600_000},
            ],
        },
    )
    assert res.status_code == 400 and res.json()["field"] == "points[1].time"
    assert http.get("/v1/series", params={"source": "s"}, headers=AUTH).json()["metrics"] == ["x"]


def _sid(source: str, metric: str) -> str:
    from upstat.store.keyspace import series_id

    return series_id(source, metric)


@pytest.mark.parametrize(
    ("time_value", "words"),
    [
        (1_767_225_600, "looks like epoch seconds"),
        (
            1_767_225_600_000_000,
            "looks like epoch microseconds; times are epoch milliseconds (1767225600000)",
        ),
        (
            1_767_225_600_000_000_000,
            "looks like epoch nanoseconds; times are epoch milliseconds (1767225600000)",
        ),
    ],
)
def test_times_in_another_unit_get_a_hint(http: TestClient, time_value: int, words: str) -> None:
    res = post(http, {"source": "s", "time": time_value, "metrics": {"x": 1}})
    assert res.status_code == 400 and words in res.json()["message"]


@pytest.mark.parametrize(("value", "shown"), [(True, "got true"), (None, "got null"), ("12", 'got "12"')])
def test_errors_speak_json_not_python(http: TestClient, value: Any, shown: str) -> None:
    res = post(http, {"source": "s", "metrics": {"x": value}})
    assert res.status_code == 400 and res.json()["message"].endswith(shown)
    res = http.post(
        "/v1/ingest",
        content=b'{"source": "s", "points": [{"metric": "x", "value": 1, "time": NaN}]}',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert res.status_code == 400 and "NaN" in res.json()["message"] and "nan" not in res.json()["message"]


def test_the_accepted_window_is_named_in_the_error(http: TestClient) -> None:
    old = post(http, {"source": "s", "time": now_ms() - 72 * HOUR, "metrics": {"x": 1}})
    assert old.status_code == 400 and "retention.raw" in old.json()["message"]
    ahead = post(http, {"source": "s", "time": now_ms() + HOUR, "metrics": {"x": 1}})
    assert ahead.status_code == 400 and "at most 5 minutes ahead" in ahead.json()["message"]


def test_deleting_a_service_deletes_its_series_and_check_log(http: TestClient, r: Any) -> None:
    service = ServiceStore(r).create({"name": "api", "url": "https://example.com"})
    record(r, "api", (now_ms() - 60_000, "up", 20.0))
    source = f"service:{service.id}"
    assert http.get("/v1/series", params={"source": source}, headers=AUTH).json()["metrics"]
    assert http.delete("/v1/services/api", headers=AUTH).status_code == 200
    assert http.get("/v1/series", params={"source": source}, headers=AUTH).json()["metrics"] == []
    assert http.get("/v1/series", params={"services": "true"}, headers=AUTH).json()["services"] == []
    assert http.get("/v1/chart", params={"source": source, "metric": "up"}, headers=AUTH).status_code == 404
    assert not [k for k in r.scan_iter(match=f"*{service.id}*")]
