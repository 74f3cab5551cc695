"""upstat's own time-series routes over HTTP: ingestion, charts, totals, top-N, retention, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_TOKEN
from upstat.api.app import create_app

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MINUTE = 60_000


@pytest.fixture
def http(env: dict[str, str], r: object) -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


def now_ms() -> int:
    return int(time.time() * 1000)


def ingest(http: TestClient, body: dict[str, object]) -> dict[str, object]:
    res = http.post("/v1/ingest", json=body, headers=AUTH)
    assert res.status_code == 200, res.text
    return res.json()


def test_metrics_pushed_now_appear_in_the_chart_at_once(http: TestClient) -> None:
    ingest(http, {"source": "alice", "metrics": {"latency_ms": 20, "bytes_received": 1000}})
    res = http.get(
        "/v1/chart", params={"source": "alice", "metric": "latency_ms", "range": "1h"}, headers=AUTH
    )
    body = res.json()
    assert res.status_code == 200
    assert body["count"] == 120 and body["resolution"] == "30s"  # the OpenVPN table: 1h -> 30 s, 120 points
    assert [v for _, v in body["points"] if v is not None] == [20.0]
    assert body["fill"] == "null" and body["stats"]["avg"] == 20.0


def test_offline_points_sent_later_land_in_their_own_buckets(http: TestClient) -> None:
    now = now_ms()
    points = [{"metric": "temp", "time": now - k * 10 * MINUTE, "value": float(k)} for k in range(1, 7)]
    result = ingest(http, {"source": "sensor/1", "points": points})
    assert result["inserted"] == 6
    res = http.get(
        "/v1/chart",
        params={
            "source": "sensor/1",
            "metric": "temp",
            "range": "2h",
            "resolution": "10m",
            "aggregate": "sum",
        },
        headers=AUTH,
    )
    body = res.json()
    assert body["count"] == 12
    assert sum(v for _, v in body["points"]) == pytest.approx(21.0)
    assert body["fill"] == "zero"  # sum is additive: empty buckets are 0 and the response says so


def test_resending_a_batch_stores_it_once(http: TestClient) -> None:
    t = now_ms() - 5 * MINUTE
    body = {"source": "vpn", "time": t, "metrics": {"clients": 7}}
    ingest(http, body)
    second = ingest(http, body)
    assert second["inserted"] == 0
    chart = http.get(
        "/v1/chart", params={"source": "vpn", "metric": "clients", "range": "1h"}, headers=AUTH
    ).json()
    assert chart["stats"]["count"] == 1


def test_counters_give_increase_and_rate_with_resets(http: TestClient) -> None:
    now = now_ms() - 10 * MINUTE
    values = [100, 160, 220, 20, 80]  # a reset to 20 is a restart from zero, not a negative rate
    points = [{"metric": "bytes", "time": now - (4 - i) * MINUTE, "value": v} for i, v in enumerate(values)]
    ingest(http, {"source": "alice", "points": points, "kinds": {"bytes": "counter"}})
    body = http.get(
        "/v1/chart",
        params={
            "source": "alice",
            "metric": "bytes",
            "range": "2h",  # two hourly buckets: the points may straddle an hour boundary
            "resolution": "1h",
            "aggregate": "increase",
        },
        headers=AUTH,
    ).json()
    assert body["kind"] == "counter"
    assert sum(v for _, v in body["points"] if v) == pytest.approx(60 + 60 + 20 + 60)


def test_a_raw_chart_reports_statistics_of_the_points_it_returns(http: TestClient) -> None:
    now = now_ms()
    points = [{"metric": "load", "time": now - k * MINUTE, "value": float(k % 5)} for k in range(1, 30)]
    ingest(http, {"source": "alice", "points": points})
    body = http.get(
        "/v1/chart",
        params={"source": "alice", "metric": "load", "range": "3h", "resolution": "raw", "stats": "true"},
        headers=AUTH,
    ).json()
    assert body["count"] == 29
    values = [v for _, v in body["points"]]
    stats = body["stats"]
    assert (stats["count"], stats["min"], stats["max"]) == (29, min(values), max(values))
    assert stats["total"] == pytest.approx(sum(values)) and stats["avg"] == pytest.approx(sum(values) / 29)


def test_csv_on_request(http: TestClient) -> None:
    ingest(http, {"source": "a", "metrics": {"m": 3}})
    res = http.get(
        "/v1/chart", params={"source": "a", "metric": "m", "range": "1h", "format": "csv"}, headers=AUTH
    )
    assert res.headers["content-type"].startswith("text/csv")
    lines = res.text.strip().splitlines()
    assert lines[0] == "timestamp_ms,time,m" and len(lines) == 121
    assert any(line.endswith(",3.0") for line in lines[1:])


def test_totals_and_top_across_sources(http: TestClient) -> None:
    t = now_ms() - 2 * MINUTE
    for name, value in (("a", 5), ("b", 50), ("c", 20)):
        ingest(http, {"source": name, "time": t, "metrics": {"traffic": value}})
    total = http.get("/v1/total", params={"metric": "traffic", "range": "1h"}, headers=AUTH).json()
    assert total["sources"] == 3 and total["total"] == 75.0 and total["count"] == 120
    top = http.get("/v1/top", params={"metric": "traffic", "range": "1h", "n": 2}, headers=AUTH).json()
    assert [row["source"] for row in top["top"]] == ["b", "c"]
    listing = http.get("/v1/series", params={"metric": "traffic"}, headers=AUTH).json()
    assert listing["sources"] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b'{"source": "s", "metrics": {"x": NaN}}', "metrics.x"),
        (b'{"source": "s", "metrics": {"x": Infinity}}', "metrics.x"),
        (b'{"source": "s", "metrics": {"x": true}}', "metrics.x"),
        (
            b'{"source": "s", "points": [{"metric": "x", "value": 1}, {"metric": "x", "value": "2"}]}',
            "points[1].value",
        ),
        (b'{"source": "s", "points": [{"metric": "x", "value": 1, "time": 1700000000}]}', "points[0].time"),
        (
            b'{"source": "s", "points": [{"metric": "x", "value": 1, "time": 99999999999999}]}',
            "points[0].time",
        ),
        (b'{"source": "s", "metrics": {"x": 1}, "extra": 1}', "extra"),
        (b'{"source": "s", "metrics": {"x": 1', "body"),
    ],
)
def test_bad_points_are_refused_naming_the_field_and_nothing_is_stored(
    http: TestClient, payload: bytes, field: str
) -> None:
    ingest(http, {"source": "s", "metrics": {"x": 42}})
    res = http.post("/v1/ingest", content=payload, headers={**AUTH, "Content-Type": "application/json"})
    assert 400 <= res.status_code < 500
    err = res.json()
    assert err["field"] == field and field in err["message"] and err["status"] == res.status_code
    chart = http.get("/v1/chart", params={"source": "s", "metric": "x", "range": "1h"}, headers=AUTH).json()
    assert chart["stats"]["count"] == 1 and chart["stats"]["max"] == 42.0


def test_a_body_sent_without_a_json_content_type_gets_a_hint(http: TestClient) -> None:
    # curl -d sends application/x-www-form-urlencoded unless told otherwise
    res = http.post(
        "/v1/ingest",
        content=b'{"source": "s", "metrics": {"x": 1}}',
        headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert res.status_code == 400 and "Content-Type: application/json" in res.json()["message"]


def test_one_bad_point_rejects_the_whole_batch(http: TestClient) -> None:
    points = [{"metric": "x", "value": 1}, {"metric": "y", "value": 2}, {"metric": "x", "value": None}]
    res = http.post("/v1/ingest", json={"source": "s", "points": points}, headers=AUTH)
    assert res.status_code == 400 and res.json()["field"] == "points[2].value"
    assert http.get("/v1/series", params={"source": "s"}, headers=AUTH).json()["metrics"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"range": "3x"}, "range"),
        ({"range": "1y", "resolution": "30s"}, "range"),  # over 10,000 points
        ({"start": "2026-01-02", "end": "2026-01-01"}, "end"),
        ({"fill": "linear"}, "fill"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"aggregate": "rate"}, "aggregate"),
    ],
)
def test_bad_ranges_get_a_clear_error(http: TestClient, params: dict[str, str], field: str) -> None:
    ingest(http, {"source": "s", "metrics": {"x": 1}})
    res = http.get("/v1/chart", params={"source": "s", "metric": "x", **params}, headers=AUTH)
    assert res.status_code == 400, res.text
    assert res.json()["field"] == field


def test_unknown_series_and_routes_are_404(http: TestClient) -> None:
    res = http.get("/v1/chart", params={"source": "nobody", "metric": "x"}, headers=AUTH)
    assert res.status_code == 404 and res.json()["error"] == "not_found"
    assert http.get("/v1/nothing-here", headers=AUTH).status_code == 404


def test_bodies_over_the_limit_are_413(http: TestClient) -> None:
    big = b'{"source": "s", "metrics": {"x": 1}, "pad": "' + b"a" * (1024 * 1024) + b'"}'
    res = http.post("/v1/ingest", content=big, headers={**AUTH, "Content-Type": "application/json"})
    assert res.status_code == 413 and res.json()["error"] == "payload_too_large"


def test_reads_need_a_token_and_retention_changes_need_admin(http: TestClient) -> None:
    assert http.get("/v1/series").status_code == 401
    assert http.get("/v1/retention", headers={"Authorization": "Bearer wrong"}).status_code == 401
    res = http.patch("/v1/retention", json={"retention": {"raw": "72h"}}, headers=AUTH)
    assert res.status_code == 200 and res.json()["retention"]["raw"] == 72 * 3600
    assert http.get("/v1/retention", headers=AUTH).json()["retention"]["raw"] == 72 * 3600


def test_retention_that_breaks_the_tier_order_is_refused_and_kept(http: TestClient) -> None:
    before = http.get("/v1/retention", headers=AUTH).json()
    res = http.patch("/v1/retention", json={"retention": {"1h": "1d"}}, headers=AUTH)
    assert res.status_code == 400 and res.json()["field"].startswith("retention")
    assert http.get("/v1/retention", headers=AUTH).json() == before


def test_openapi_documents_the_error_envelope(http: TestClient) -> None:
    doc = http.get("/openapi.json").json()
    ingest_op = doc["paths"]["/v1/ingest"]["post"]
    assert ingest_op["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ErrorBody"
    )
    assert "422" not in ingest_op["responses"]  # bad requests answer 400, as documented
    assert "Retry-After" in ingest_op["responses"]["429"]["headers"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert http.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"start": "garbage"}, "start", "is not an ISO 8601 date-time"),
        ({"range": "0h"}, "range", "is not an interval"),
        ({"tz": "Mars/Olympus"}, "tz", "such as Europe/Rome"),
        ({"source": "a\x01b"}, "source", "is not a name without control characters"),
    ],
)
def test_refusals_say_what_is_expected_not_a_pattern(
    http: TestClient, params: dict[str, str], field: str, words: str
) -> None:
    res = http.get("/v1/chart", params={"source": "s", "metric": "m", **params}, headers=AUTH)
    body = res.json()
    assert res.status_code == 400 and body["field"] == field and words in body["message"], body
    assert "^" not in body["message"] and len(body["message"]) < 300


def test_a_body_that_is_not_utf8_json_names_the_body(http: TestClient) -> None:
    res = http.post(
        "/v1/ingest", content=b'{"source": "\xff\xfe"}', headers={**AUTH, "Content-Type": "application/json"}
    )
    assert res.status_code == 400 and res.json()["field"] == "body"
    deep = b"[" * 100_000 + b"]" * 100_000
    res = http.post("/v1/ingest", content=deep, headers={**AUTH, "Content-Type": "application/json"})
    assert res.status_code == 400 and res.json()["field"] == "body"


def test_calls_without_a_token_count_against_their_address(
    env: dict[str, str], r: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upstat.config import get_settings

    monkeypatch.setenv("UPSTAT_RATE_LIMIT_PER_IP", "10")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        codes = [client.get("/v1/series").status_code for _ in range(15)]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
