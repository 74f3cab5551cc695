"""The ping tick end to end against real local targets and real Valkey: verdicts, the check log, states,
engine points, confirmations, incidents, maintenance, TTL, push monitors, and idempotency (twice, and at
once from threads)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.uptime.targets import KEYWORD, LocalTarget
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import Query
from upstat.timeseries.retention import current_engine
from upstat.uptime import checklog, incidents, maintenance, push
from upstat.uptime.checks import CheckResult
from upstat.uptime.keyspace import service_source
from upstat.uptime.recorder import record_results
from upstat.uptime.services import ServiceStore
from upstat.uptime.ticks import run_ping_now, run_ping_tick, trim_check_logs

MIN = 60_000


@pytest.fixture
def store(r: Any) -> ServiceStore:
    return ServiceStore(r)


@pytest.fixture
def now() -> int:
    return (int(time.time() * 1000) // MIN) * MIN - 10 * MIN  # minute-aligned, a little in the past


def tick(r: Any, at: int) -> dict[str, Any]:
    return run_ping_tick(r, now_ms=at, deadline=time.monotonic() + 20)


def status_of(r: Any, store: ServiceStore, name: str) -> str:
    return checklog.read_state(r, store.require(name).id).status


def test_verdicts_of_a_tick_go_to_state_log_and_engine(
    r: Any, store: ServiceStore, local_target: LocalTarget, now: int
) -> None:
    store.create({"name": "ok", "url": local_target.url("/ok")}, now_ms=now)
    store.create({"name": "down", "url": local_target.url("/down")}, now_ms=now)
    store.create({"name": "slow", "url": local_target.url("/slow?ms=3000"), "timeout": 300}, now_ms=now)
    store.create({"name": "kw", "url": local_target.url("/keyword"), "keyword": KEYWORD}, now_ms=now)
    store.create({"name": "nokw", "url": local_target.url("/ok"), "keyword": KEYWORD}, now_ms=now)
    summary = tick(r, now)
    assert summary["due"] == 5 and summary["recorded"] == 5
    expected = {"ok": "up", "down": "down", "slow": "down", "kw": "up", "nokw": "down"}
    assert {n: status_of(r, store, n) for n in expected} == expected
    kinds = {n: checklog.read_state(r, store.require(n).id).last_error_kind for n in expected}
    assert kinds == {"ok": None, "down": "status", "slow": "timeout", "kw": None, "nokw": "keyword"}
    ok = store.require("ok")
    [entry] = checklog.history(r, ok.id, now_ms=now)
    assert (entry.timestamp, entry.status, entry.code) == (now, "up", 200) and entry.response_ms
    engine = current_engine(r)
    q = Query(tm.parse_range("2h", now=now + MIN), tm.parse_resolution("1h"))  # 2 buckets: an hour may turn
    [up, rt] = engine.read_many(
        [(service_source(ok.id), "up"), (service_source(ok.id), "response_ms")], q, now=now + MIN
    )
    assert sum(up.count) == 1 and [s for s in up.sum if s] == [1.0]
    assert sum(rt.count) == 1
    # the down ones opened an incident each, listed per service and across services
    down = store.require("down")
    [incident] = incidents.for_service(r, down.id)
    assert incident.open and incident.start == now and incident.cause
    assert {i.service_id for i in incidents.across_services(r)} == {
        store.require(n).id for n in ("down", "slow", "nokw")
    }


def test_a_tick_run_twice_records_once(
    r: Any, store: ServiceStore, local_target: LocalTarget, now: int
) -> None:
    svc = store.create({"name": "ok", "url": local_target.url("/ok")}, now_ms=now)
    assert tick(r, now)["recorded"] == 1
    assert tick(r, now) == {"due": 0, "checked": 0}
    # even a result replayed for the same check time is recorded once
    replay = CheckResult(svc.id, "up", 200, 5.0, None, None, None, now)
    assert [x.applied for x in record_results(r, [(svc, replay)])] == [False]
    assert len(checklog.history(r, svc.id, now_ms=now)) == 1
    # one interval later it is due again
    assert tick(r, now + MIN)["recorded"] == 1
    assert len(checklog.history(r, svc.id, now_ms=now + MIN)) == 2


def test_concurrent_ticks_record_each_check_once(
    r: Any, store: ServiceStore, local_target: LocalTarget, now: int
) -> None:
    ids = [
        store.create({"name": f"s{i}", "url": local_target.url("/down")}, now_ms=now).id for i in range(10)
    ]
    outs: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: outs.append(tick(r, now))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(o.get("recorded", 0) for o in outs) == 10
    for sid in ids:
        assert len(checklog.history(r, sid, now_ms=now)) == 1
        assert len(incidents.for_service(r, sid)) == 1


def test_confirmations_keep_a_flapping_service_pending_then_down_then_up(
    r: Any, store: ServiceStore, local_target: LocalTarget, now: int
) -> None:
    store.create(
        {"name": "flappy", "url": local_target.url("/ok"), "confirmations": {"down": 3, "up": 2}}, now_ms=now
    )
    plan = ["/ok", "/down", "/ok", "/down", "/down", "/down", "/ok", "/down", "/ok", "/ok"]
    seen = []
    for i, path in enumerate(plan):
        store.update("flappy", {"url": local_target.url(path)}, now_ms=now + i * MIN)
        tick(r, now + i * MIN)
        seen.append(status_of(r, store, "flappy"))
    assert seen == ["up", "pending", "up", "pending", "pending", "down", "pending", "down", "pending", "up"]
    sid = store.require("flappy").id
    [incident] = incidents.for_service(r, sid)
    assert (incident.start, incident.end) == (now + 3 * MIN, now + 9 * MIN)
    assert incident.duration_ms == 6 * MIN and not incident.open
    assert incident.error_kind == "status"  # the cause's class survives the close
    assert len(checklog.history(r, sid, now_ms=now + 9 * MIN)) == len(plan)


def test_downs_in_a_maintenance_window_open_no_incident_and_count_no_downtime(
    r: Any, store: ServiceStore, local_target: LocalTarget, now: int
) -> None:
    svc = store.create({"name": "m", "url": local_target.url("/down")}, now_ms=now)
    maintenance.add_window(r, {"title": "upgrade", "start": now - MIN, "end": now + MIN}, service_id=svc.id)
    assert tick(r, now)["transitions"] == 0
    state = checklog.read_state(r, svc.id)
    assert state.status == "maintenance" and state.incident_id is None
    assert incidents.for_service(r, svc.id) == []
    [entry] = checklog.history(r, svc.id, now_ms=now)
    assert entry.maintenance and entry.status == "down"
    engine = current_engine(r)
    q = Query(tm.parse_range("2h", now=now + MIN), tm.parse_resolution("1h"))  # 2 buckets: an hour may turn
    [up] = engine.read_many([(service_source(svc.id), "up")], q, now=now + MIN)
    assert up is None  # no up point at all: the window does not count against uptime
    # after the window the down counts
    tick(r, now + MIN)
    assert checklog.read_state(r, svc.id).status == "down"
    assert len(incidents.for_service(r, svc.id)) == 1


def test_ttl_bounds_existing_and_new_entries(r: Any, store: ServiceStore, now: int) -> None:
    svc = store.create({"name": "t", "url": "http://127.0.0.1:9/"}, now_ms=now - 100 * MIN)
    for i in range(100):
        t = now - (100 - i) * MIN
        record_results(r, [(svc, CheckResult(svc.id, "up", 200, 1.0, None, None, None, t))], schedule=False)
    assert len(checklog.history(r, svc.id, now_ms=now)) == 100
    assert checklog.set_ttl(r, 3600, now_ms=now) == 3600
    assert checklog.get_ttl(r) == 3600
    assert r.zcard(store.keys.checklog(svc.id)) == 60  # existing entries trimmed at once
    record_results(r, [(svc, CheckResult(svc.id, "up", 200, 1.0, None, None, None, now + 10 * MIN))])
    assert r.zcard(store.keys.checklog(svc.id)) == 51  # and on each write
    checklog.set_ttl(r, 0, now_ms=now)
    assert trim_check_logs(now_ms=now + 10**9, deadline=time.monotonic() + 5)["check_logs"]["removed"] == 0
    with pytest.raises(Exception, match="ttl"):
        checklog.set_ttl(r, True)
    assert checklog.clear(r) == 1
    assert r.exists(store.keys.checklog(svc.id)) == 0 and store.get("t") is not None


def test_push_monitor_goes_down_after_interval_plus_grace_and_up_on_a_beat(
    r: Any, store: ServiceStore, now: int
) -> None:
    svc = store.create({"name": "cron", "kind": "push", "interval": 60, "grace": 30}, now_ms=now)
    token = svc.push_token or ""
    beat = push.record_beat(store, token, now_ms=now + 10_000)
    assert beat.applied and beat.state.status == "up"
    assert tick(r, now + 10_000 + 89_000) == {"due": 0, "checked": 0}
    assert tick(r, now + 10_000 + 90_000)["down"] == 1
    state = checklog.read_state(r, svc.id)
    assert state.status == "down" and state.last_error_kind == "timeout"
    back = push.record_beat(store, token, now_ms=now + 200_000)
    assert [t.kind for t in back.transitions] == ["up"]
    with pytest.raises(Exception, match="unknown push token"):
        push.record_beat(store, "nope")
    rotated = push.rotate_token(store, "cron")
    assert push.service_for_token(store, token) is None
    assert push.service_for_token(store, rotated.push_token or "") is not None


def test_run_ping_now_checks_every_unpaused_service_and_records(
    r: Any, store: ServiceStore, local_target: LocalTarget, now: int
) -> None:
    store.create({"name": "a", "url": local_target.url("/ok")}, now_ms=now)
    store.create({"name": "b", "url": local_target.url("/down")}, now_ms=now)
    store.create({"name": "p", "url": local_target.url("/ok"), "paused": True}, now_ms=now)
    out = run_ping_now(r, now=now)
    assert [(s.name, res.status, st.status) for s, res, st in out] == [
        ("a", "up", "up"),
        ("b", "down", "down"),
    ]
    [(s, res, _)] = run_ping_now(r, names=["p"], now=now + 1)
    assert s.name == "p" and res.status == "up"
    # the scheduled check moved an interval on
    assert tick(r, now + 1000) == {"due": 0, "checked": 0}


def test_deleted_service_is_not_recreated_by_a_late_record(r: Any, store: ServiceStore, now: int) -> None:
    svc = store.create({"name": "gone", "url": "http://127.0.0.1:9/"}, now_ms=now)
    store.delete("gone")
    [rec] = record_results(r, [(svc, CheckResult(svc.id, "down", None, None, "refused", "x", None, now))])
    assert not rec.applied and r.exists(*store.keys.all_of(svc.id)) == 0


def test_a_service_is_checked_every_interval_even_when_the_tick_fires_a_little_early(
    r: Any, store: ServiceStore, local_target: LocalTarget, now: int
) -> None:
    """The schedule fires once a minute, never exactly on a service's due time: a tick a few hundred
    milliseconds before the interval is up still checks a 60 s service (it used to wait a whole tick)."""
    store.create({"name": "ok", "url": local_target.url("/ok"), "interval": 60}, now_ms=now)
    assert tick(r, now)["recorded"] == 1
    for k in range(1, 4):
        assert tick(r, now + k * MIN - 300)["recorded"] == 1, k  # each tick fires 300 ms early
    push_token = store.create(
        {"name": "beat", "kind": "push", "interval": 60, "grace": 0}, now_ms=now
    ).push_token
    push.record_beat(store, str(push_token), now_ms=now)
    tick(r, now + MIN - 300)  # a push monitor is never late before its own deadline (beat + interval + grace)
    assert status_of(r, store, "beat") == "up"
    tick(r, now + MIN + 1_000)
    assert status_of(r, store, "beat") == "down"
