"""Alert rules without HTTP: the parser's refusals, each aggregate against a window computed by hand, the
state machine as a table, and evaluation runs over a real Valkey delivering to a local receiver once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.uptime.test_alerts_and_fanout import Receiver
from upstat.config import get_settings
from upstat.errors import InvalidInput
from upstat.rules import store
from upstat.rules.evaluate import value_of
from upstat.rules.model import Rule, parse_rule
from upstat.rules.run import evaluate_rules, read_figures, select
from upstat.rules.state import SeriesState, step
from upstat.sources import store as registry
from upstat.timeseries import timemath as tm
from upstat.timeseries.engine import Engine
from upstat.timeseries.retention import current_engine

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
M, H = tm.MINUTE, tm.HOUR
TIERS = tm.build_tiers("5m,15m,1h,6h,1d", "raw=48h,5m=14d,15m=35d,1h=90d,6h=400d,1d=0")


def rule(text: str, **fields: Any) -> Rule:
    body = {"name": "r", "source": "api", "expression": text, **fields}
    return parse_rule(body, TIERS, rule_id="r1", now=T0)


# ----------------------------------------------------------------------------------------------------
# Parsing


def test_an_expression_and_its_fields_make_the_same_rule() -> None:
    parsed = rule("p95(response_ms, 15m) > 800 for 3")
    fields = parse_rule(
        {
            "name": "r",
            "source": "api",
            "metric": "response_ms",
            "aggregate": "p95",
            "window": "15m",
            "op": ">",
            "threshold": 800,
            "for": 3,
        },
        TIERS,
        rule_id="r1",
        now=T0,
    )
    assert parsed == fields
    assert (parsed.window_ms, parsed.op, parsed.threshold, parsed.for_n) == (15 * M, ">", 800.0, 3)
    assert parsed.expression() == "p95(response_ms, 15m) > 800 for 3"
    assert rule("increase(bytes_received, 1h) < 1").expression() == "increase(bytes_received, 1h) < 1"
    assert rule("absent(duration, 26h)").op is None


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"expression": "p95(response_ms, 1m) > 800"}, "window", "shorter than the finest tier (5m)"),
        ({"expression": "avg(response_ms, 7m) > 800"}, "window", "whole number of the finest tier"),
        (
            {"expression": "median(response_ms, 15m) > 800"},
            "aggregate",
            "is not an aggregate (one of avg, max",
        ),
        ({"expression": "absent(duration, 26h) > 1"}, "op", "takes no comparison"),
        ({"expression": "avg(response_ms, 15m)"}, "op", "avg(...) needs a comparison"),
        ({"expression": "avg response_ms > 3"}, "expression", "is not a rule"),
        ({"expression": "avg(x, 15m) > 1", "metric": "x"}, "expression", "not both"),
        ({"expression": "avg(x, 15m) > 1 for 0"}, "for", "1 to 1000"),
        ({"expression": "avg(x, 15m) > 1", "source": None, "kind": None}, "source", "exactly one"),
        ({"expression": "avg(x, 15m) > 1", "kind": "device"}, "source", "exactly one"),
        ({"expression": "avg(x, 15m) > 1", "channels": "slack"}, "channels", "list"),
        ({"expression": "avg(x, 15m) > 1", "name": ""}, "name", "non-empty"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_field(body: dict[str, Any], field: str, words: str) -> None:
    full = {"name": "r", "source": "api", **body}
    with pytest.raises(InvalidInput) as caught:
        parse_rule({k: v for k, v in full.items()}, TIERS, rule_id="r1", now=T0)
    assert caught.value.field == field and words in caught.value.message, caught.value.message


# ----------------------------------------------------------------------------------------------------
# The state machine


def test_pending_for_n_then_firing_then_resolved_as_a_table() -> None:
    s = SeriesState()
    seen = []
    for slot, breached in enumerate([True, False, True, True, True, True, False, False, True], start=1):
        s = step(s, breached=breached, value=1.0 if breached else 0.0, for_n=3, slot=slot)
        seen.append((s.state, s.seq, None if s.alert is None else s.alert.transition))
    assert seen == [
        ("pending", 0, None),
        ("ok", 0, None),  # never fired: no alert
        ("pending", 0, None),
        ("pending", 0, None),
        ("firing", 1, "firing"),  # the third breach in a row
        ("firing", 1, "firing"),
        ("resolved", 2, "resolved"),
        ("resolved", 2, "resolved"),
        ("pending", 2, "resolved"),
    ]
    assert step(s, breached=True, value=1.0, for_n=3, slot=9) is s  # a slot already evaluated: nothing


# ----------------------------------------------------------------------------------------------------
# Each aggregate over a window computed by hand

NOW = T0 + 15 * M + 30_000  # the run evaluates [T0, T0 + 15m): its slot is T0 + 15m


@pytest.fixture
def engine(r: Any) -> Engine:
    e = current_engine(r, fresh=True)
    pts = [(T0 - M, 5000.0), (T0 + M, 100.0), (T0 + 2 * M, 300.0), (T0 + 6 * M, 500.0)]
    pts += [(T0 + 11 * M, 700.0), (T0 + 12 * M, 900.0), (T0 + 13 * M, 1100.0), (T0 + 15 * M + 10_000, 9999.0)]
    e.write("api", "response_ms", pts, now=NOW)
    counter = [(T0 - M, 900.0), (T0 + M, 1000.0), (T0 + 6 * M, 1500.0), (T0 + 11 * M, 400.0)]
    counter += [(T0 + 13 * M, 600.0)]
    e.write("vpn", "bytes_received", counter, now=NOW, kind="counter")
    return e


def value(engine: Engine, text: str, source: str = "api") -> float | None:
    r = rule(text, source=source)
    figures = read_figures(engine, [r], [[source]], slot=T0 + 15 * M, now=NOW)
    key = (r.window_ms, r.aggregate in ("p95", "p99"))
    return value_of(r.aggregate, figures[key].get((source, r.selector.metric)), r.window_ms)


def test_each_aggregate_over_a_window_computed_by_hand(engine: Engine) -> None:
    # In [T0, T0+15m): 100, 300 | 500 | 700, 900, 1100 (5-minute buckets; averages 200, 500, 900); the
    # points before the window (5000) and after its end (9999) are not counted.
    assert value(engine, "count(response_ms, 15m) > 0") == 6
    assert value(engine, "avg(response_ms, 15m) > 0") == 600
    assert value(engine, "min(response_ms, 15m) > 0") == 100
    assert value(engine, "max(response_ms, 15m) > 0") == 1100
    # p95/p99 from the bucket averages, each standing for its points: ranks 6 of 6 -> 900.
    assert value(engine, "p95(response_ms, 15m) > 0") == 900
    assert value(engine, "p99(response_ms, 15m) > 0") == 900
    assert value(engine, "absent(response_ms, 15m)") == 0
    assert value(engine, "absent(response_ms, 15m)", source="nobody") == 1
    assert value(engine, "avg(response_ms, 15m) > 0", source="nobody") is None
    # The counter from 900 (before the window): +100, +500, restart to 400 (counts 400), +200.
    assert value(engine, "increase(bytes_received, 15m) < 1", source="vpn") == 1200
    assert value(engine, "rate(bytes_received, 15m) < 1", source="vpn") == pytest.approx(1200 / 900)
    assert value(engine, "increase(response_ms, 15m) < 1") is None  # a gauge has no increase
    # A window of 5 minutes: the last bucket only.
    assert value(engine, "avg(response_ms, 5m) > 0") == 900


# ----------------------------------------------------------------------------------------------------
# Evaluation runs: states recorded, changes delivered once


@pytest.fixture
def hooked(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    rec = Receiver()
    monkeypatch.setenv("UPSTAT_ALERT_WEBHOOKS", rec.url)
    get_settings.cache_clear()
    try:
        yield rec
    finally:
        rec.server.shutdown()
        asyncio.set_event_loop(asyncio.new_event_loop())  # what send_alerts' asyncio.run leaves behind


def add(r: Any, text: str, **fields: Any) -> Rule:
    body = {"name": "slow api", "source": "api", "expression": text, **fields}
    return store.save(r, parse_rule(body, TIERS, rule_id=store.new_id(), now=T0))


def test_a_rule_fires_after_n_evaluations_then_resolves_each_change_sent_once(
    r: Any, hooked: Receiver
) -> None:
    e = current_engine(r, fresh=True)
    made = add(r, "max(response_ms, 5m) > 800 for 3", channels=["ops"])
    # Slow from T0 + 5m to T0 + 20m, fast again from T0 + 20m.
    for k in range(1, 5):
        at = T0 + k * 5 * M
        e.write("api", "response_ms", [(at + M, 900.0 if k < 4 else 100.0)], now=at + 2 * M)
    states = []
    for k in range(2, 6):  # runs at T0 + 10m, 15m, 20m, 25m: windows ending there
        now = T0 + k * 5 * M + 30_000
        for _ in range(2):  # every run retried: nothing counts twice
            evaluate_rules(r, e, now=now)
        states.append(store.states_of(r, made.id)["api"].state)
    assert states == ["pending", "pending", "firing", "resolved"]
    sent = hooked.payloads()
    assert [(p["event"], p["previous"], p["current"]) for p in sent] == [
        ("rule.firing", "pending", "firing"),
        ("rule.resolved", "firing", "resolved"),
    ]
    assert sent[0]["service"]["name"] == "slow api on api"
    assert sent[0]["rule"] == {"id": made.id, "source": "api"}
    assert "max(response_ms, 5m) > 800 for 3: max was 900" in sent[0]["error"]
    kept = store.states_of(r, made.id)["api"]
    assert (kept.value, kept.since, kept.sent) == (100.0, T0 + 25 * M, 2)


def test_two_runs_at_once_deliver_a_change_once(r: Any, hooked: Receiver) -> None:
    e = current_engine(r, fresh=True)
    for i in range(20):
        add(r, "avg(response_ms, 5m) > 800", source=f"api-{i}")
        e.write(f"api-{i}", "response_ms", [(T0 + M, 900.0)], now=T0 + 2 * M)
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        barrier.wait()
        results.append(evaluate_rules(r, e, now=T0 + 5 * M + 1000))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(x["alerts_sent"] for x in results) == 20
    assert sorted(p["service"]["id"] for p in hooked.payloads()) == sorted(
        f"rule:{rid}:api-{i}" for rid, i in _ids(r)
    )


def _ids(r: Any) -> list[tuple[str, int]]:
    return [(x.id, int(str(x.selector.source).split("-")[1])) for x in store.all_rules(r)]


def test_a_change_recorded_by_a_run_that_stopped_before_sending_is_sent_by_the_next(
    r: Any, hooked: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    e = current_engine(r, fresh=True)
    made = add(r, "avg(response_ms, 5m) > 800")
    e.write("api", "response_ms", [(T0 + M, 900.0)], now=T0 + 2 * M)
    from upstat.rules import run
    from upstat.rules.transitions import deliver

    def crash(*args: Any, **kwargs: Any) -> None:
        raise TimeoutError("the run's time ran out")

    monkeypatch.setattr(run, "deliver", crash)
    with pytest.raises(TimeoutError):
        evaluate_rules(r, e, now=T0 + 5 * M + 1000)
    assert store.states_of(r, made.id)["api"].state == "firing" and hooked.payloads() == []
    monkeypatch.setattr(run, "deliver", deliver)
    evaluate_rules(r, e, now=T0 + 5 * M + 2000)  # the retried run, same slot
    evaluate_rules(r, e, now=T0 + 5 * M + 3000)
    assert [p["event"] for p in hooked.payloads()] == ["rule.firing"]


def test_absent_fires_for_a_nightly_backup_that_did_not_run(r: Any, hooked: Receiver) -> None:
    e = current_engine(r, fresh=True)
    job = "nas01/documents"
    made = add(r, "absent(duration, 26h)", name="nightly documents", source=job)
    night = T0 + 2 * H  # runs at 02:00 each night
    e.write(job, "duration", [(night, 600.0)], now=night + M)
    evaluate_rules(r, e, now=night + 25 * H)  # the next night's run is late by an hour: still in 26h
    assert store.states_of(r, made.id)[job].state == "ok"
    evaluate_rules(r, e, now=night + 26 * H + 10 * M)  # no run for 26 hours
    assert store.states_of(r, made.id)[job].state == "firing"
    e.write(job, "duration", [(night + 26 * H + 12 * M, 640.0)], now=night + 26 * H + 13 * M)
    evaluate_rules(r, e, now=night + 26 * H + 15 * M)
    assert store.states_of(r, made.id)[job].state == "resolved"
    assert [p["event"] for p in hooked.payloads()] == ["rule.firing", "rule.resolved"]
    assert hooked.payloads()[0]["service"]["name"] == "nightly documents on nas01/documents"


def test_a_rule_on_a_kind_picks_up_a_source_registered_after_it(r: Any, hooked: Receiver) -> None:
    e = current_engine(r, fresh=True)
    made = add(r, "max(temperature, 5m) > 70", source=None, kind="device", name="hot")
    registry.create_source(r, "ap-1", kind="device", now_ms=T0)
    registry.create_source(r, "vpn-1", kind="vpn-server", now_ms=T0)
    e.write("ap-1", "temperature", [(T0 + M, 40.0)], now=T0 + 2 * M)
    e.write("vpn-1", "temperature", [(T0 + M, 90.0)], now=T0 + 2 * M)  # another kind: not read
    evaluate_rules(r, e, now=T0 + 5 * M + 1000)
    assert {s: x.state for s, x in store.states_of(r, made.id).items()} == {"ap-1": "ok"}
    registry.create_source(r, "ap-2", kind="device", now_ms=T0 + 6 * M)
    e.write("ap-2", "temperature", [(T0 + 7 * M, 85.0)], now=T0 + 8 * M)
    evaluate_rules(r, e, now=T0 + 10 * M + 1000)
    assert {s: x.state for s, x in store.states_of(r, made.id).items()} == {"ap-1": "ok", "ap-2": "firing"}
    assert [p["service"]["name"] for p in hooked.payloads()] == ["hot on ap-2"]
    assert select(r, e, [made]) == [["ap-1", "ap-2"]]


def test_a_disabled_rule_is_not_evaluated(r: Any, hooked: Receiver) -> None:
    e = current_engine(r, fresh=True)
    made = add(r, "avg(response_ms, 5m) > 800", enabled=False)
    e.write("api", "response_ms", [(T0 + M, 900.0)], now=T0 + 2 * M)
    assert evaluate_rules(r, e, now=T0 + 5 * M + 1000)["rules"] == 0
    assert store.states_of(r, made.id) == {} and hooked.payloads() == []


def test_the_scheduled_rollup_function_evaluates_the_rules_and_alerts_once(r: Any, hooked: Receiver) -> None:
    from tests.functions.conftest import LambdaContext, function_module, load_event
    from upstat.clock import now_ms

    e = current_engine(r, fresh=True)
    made = add(r, "max(response_ms, 5m) > 800")
    now = now_ms()
    if now % (5 * M) > 4 * M:  # both runs in one slot (the handler reads the clock)
        time.sleep((5 * M - now % (5 * M)) / 1000 + 0.1)
        now = now_ms()
    slot = now - now % (5 * M)
    e.write("api", "response_ms", [(slot - M, 950.0)], now=now)
    handler = function_module("rollup").handler
    first = handler(load_event("scheduler_input"), LambdaContext())
    second = handler(load_event("scheduler_input"), LambdaContext())  # a retried run in the same slot
    assert first["rules"]["alerts_sent"] == 1 and second["rules"]["alerts_sent"] == 0
    assert store.states_of(r, made.id)["api"].state == "firing"
    assert [p["event"] for p in hooked.payloads()] == ["rule.firing"]


def test_a_changed_rule_starts_afresh_and_its_next_firing_is_sent(r: Any, hooked: Receiver) -> None:
    from upstat.rules import service

    e = current_engine(r, fresh=True)
    made = add(r, "avg(response_ms, 5m) > 800")
    e.write("api", "response_ms", [(T0 + M, 900.0), (T0 + 6 * M, 700.0)], now=T0 + 7 * M)
    evaluate_rules(r, e, now=T0 + 5 * M + 1000)
    service.update(r, e, made.id, {"threshold": 600}, now=T0 + 6 * M)
    fresh = store.states_of(r, made.id)["api"]
    assert (fresh.state, fresh.count, fresh.slot) == ("ok", 0, -1)
    evaluate_rules(r, e, now=T0 + 10 * M + 1000)  # 700 > 600: fires again under the changed rule
    assert [(p["event"], p["seq"]) for p in hooked.payloads()] == [("rule.firing", 1), ("rule.firing", 2)]


def test_a_source_removed_from_the_registry_leaves_a_kind_rule(r: Any, hooked: Receiver) -> None:
    e = current_engine(r, fresh=True)
    made = add(r, "absent(temperature, 5m)", source=None, kind="device")
    for device in ("ap-1", "ap-2"):
        registry.create_source(r, device, kind="device", now_ms=T0)
    evaluate_rules(r, e, now=T0 + 5 * M + 1000)
    assert sorted(store.states_of(r, made.id)) == ["ap-1", "ap-2"]
    registry.delete_source(r, "ap-2")
    evaluate_rules(r, e, now=T0 + 10 * M + 1000)
    assert sorted(store.states_of(r, made.id)) == ["ap-1"]
