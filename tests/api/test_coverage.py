"""Coverage: a service checked every minute, then not at all for an hour (the pinger stopped), then again:
uptime still reads 100 % (every check that ran was up) but coverage drops, and the silent hour's buckets
read unknown, in the uptime routes, the status and the status page's data."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH, record
from upstat.jobs import SCHEDULES
from upstat.uptime import coverage
from upstat.uptime.services import ServiceStore

MINUTE = 60_000
HOUR = 60 * MINUTE


@pytest.fixture
def gap(r: Any) -> dict[str, int]:
    """api, created 3 hours ago with a 60 s interval: checked up every minute for an hour, silent for the
    next hour, checked every minute for the last hour (120 checks of 180 expected)."""
    now = int(time.time() * 1000)
    created = now - 3 * HOUR
    ServiceStore(r).create({"name": "api", "url": "http://127.0.0.1:9/", "interval": 60}, now_ms=created)
    times = [created + i * MINUTE for i in (*range(60), *range(120, 180))]
    record(r, "api", *[(t, "up", 50.0) for t in times])
    return {"now": now, "silent_from": created + HOUR, "silent_to": created + 2 * HOUR}


def test_the_silent_hour_lowers_coverage_not_uptime_in_the_status(
    client: TestClient, gap: dict[str, int]
) -> None:
    [status] = client.get("/v1/status", headers=AUTH).json()["services"]
    assert status["uptime"]["24h"] == 100.0
    assert status["coverage"]["24h"] == pytest.approx(66.67, abs=0.6)  # 120 of 180
    one = client.get("/v1/services/api/status", headers=AUTH).json()
    assert one["coverage"] == status["coverage"]


def test_the_silent_hour_buckets_read_unknown(client: TestClient, gap: dict[str, int]) -> None:
    res = client.get("/v1/services/api/uptime", params={"range": "3h", "resolution": "5m"}, headers=AUTH)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["uptime"] == 100.0
    assert body["coverage"] == pytest.approx(66.67, abs=1.5)
    silent = [
        b
        for b in body["buckets"]
        if b["start"] >= gap["silent_from"] and b["start"] + 5 * MINUTE <= gap["silent_to"]
    ]
    assert len(silent) >= 11
    assert all(b["uptime"] is None and b["checks"] == 0 and b["coverage"] == 0.0 for b in silent)
    watched = [b for b in body["buckets"] if b["start"] + 5 * MINUTE <= gap["silent_from"]]
    assert watched
    assert all(b["uptime"] == 100.0 and b["coverage"] == 100.0 for b in watched)
    before = [b for b in body["buckets"] if b["start"] + 5 * MINUTE <= gap["now"] - 3 * HOUR]
    assert before == []  # nothing is expected before the service existed


def test_the_status_page_and_the_daily_bars_show_the_drop(client: TestClient, gap: dict[str, int]) -> None:
    page = client.get("/v1/status/page").json()
    [service] = page["groups"][0]["services"]
    assert service["uptime"]["24h"] == 100.0
    assert service["coverage"]["24h"] == pytest.approx(66.67, abs=0.6)
    covered = [c for c in service["bars"]["coverage"] if c is not None]
    assert covered and min(covered) < 100  # the day(s) holding the silent hour
    assert service["bars"]["coverage"][0] is None  # 90 days ago the service did not exist
    days = client.get("/v1/services/api/uptime/daily", params={"days": 2}, headers=AUTH).json()["days"]
    checks = sum(d["checks"] for d in days)
    assert checks == 120
    assert any(d["coverage"] is not None and d["coverage"] < 100 for d in days)


def test_a_service_checked_all_the_time_is_fully_covered(client: TestClient, r: Any) -> None:
    now = int(time.time() * 1000)
    ServiceStore(r).create({"name": "web", "url": "http://127.0.0.1:9/", "interval": 60}, now_ms=now - HOUR)
    record(r, "web", *[(now - HOUR + i * MINUTE, "up", 10.0) for i in range(60)])
    [status] = client.get("/v1/status", headers=AUTH).json()["services"]
    assert status["coverage"]["24h"] == 100.0
    assert status["coverage"]["90d"] == 100.0


# ----------------------------------------------------------------------------------------------------
# The rules, as plain values


def test_the_check_period_is_the_interval_rounded_up_to_the_ping_schedule() -> None:
    ping = next(s.rate_seconds for s in SCHEDULES if s.name == "ping")
    assert ping * 1000 == coverage.PING_SCHEDULE_MS
    assert coverage.check_period_ms("http", 30) == 60_000
    assert coverage.check_period_ms("http", 60) == 60_000
    assert coverage.check_period_ms("tcp", 90) == 120_000
    assert coverage.check_period_ms("push", 90) == 90_000  # a push job beats on its own clock


def test_expected_checks_count_whole_periods_after_creation_and_before_now() -> None:
    expect = coverage.Expectation(created_ms=1_000_000, period_ms=60_000)
    assert coverage.expected_checks(0, 10_000_000, expect, now=1_000_000 + 10 * 60_000) == 10
    assert coverage.expected_checks(0, 500_000, expect, now=10**9) == 0  # before the service existed
    assert coverage.over(0, 500_000, 0, expect, now=10**9) is None
    assert coverage.ratio(11, 10) == 100.0  # never above 100
    assert coverage.ratio(1, 3) == 33.33
