"""The engine's storage against a real Valkey: appended points, sealed (compressed) chunks, the open buckets
read like RedisTimeSeries' LATEST, many series per script call, and what a month of points costs."""

from __future__ import annotations

import math
import random
import struct

import pytest

from tests.factories import NOW, make_engine, reference_buckets, reference_increase
from tests.redis_helpers import command_stats, reset_stats, slot_groups
from upstat.store.keyspace import series_id
from upstat.timeseries import timemath as tm
from upstat.timeseries.across import read_across
from upstat.timeseries.model import Query
from upstat.timeseries.render import series_values

MIN = 60_000
HOUR = 3_600_000
DAY = 24 * HOUR
LONG = "raw=40d,5m=41d,15m=42d,1h=90d,6h=400d,1d=0"


def q(range_text: str, resolution: str = "auto", now: int = NOW) -> Query:
    return Query(tm.parse_range(range_text, now=now), tm.parse_resolution(resolution))


def bits(values: list[float]) -> list[bytes]:
    return [struct.pack("<d", v) for v in values]


def key(source: str, metric: str) -> str:
    return f"upstat:ts:{{{series_id(source, metric)}}}"


# Values a compressor could get wrong: decimals, floats with no short decimal form, signed zeros, integers at
# the edge of a double's precision, tiny and huge magnitudes.
AWKWARD = [
    0.1,
    0.30000000000000004,
    -0.0,
    0.0,
    2.0**53,
    -(2.0**53),
    1e-300,
    1.7976931348623157e308,
    123.456789,
    -7.25,
    math.pi,
    1e15 + 0.5,
]


def test_values_come_back_bit_for_bit_after_their_chunks_are_sealed(r):
    engine = make_engine(r, retention=LONG)
    start = tm.floor_to(NOW - 3 * DAY, HOUR)
    rng = random.Random(1)
    points = [
        (start + i * 30_000, AWKWARD[i % len(AWKWARD)] if i % 3 else round(rng.uniform(-50, 50), 1))
        for i in range(3 * 2 * 60 * 24)
    ]
    for i in range(0, len(points), 700):
        engine.write("dev", "v", points[i : i + 700], now=NOW)
    sealed = [f for f, v in r.hgetall(key("dev", "v")).items() if f.startswith(b"r:") and v[:1] == b"\x01"]
    assert len(sealed) > 60  # three days of hourly chunks, all but the open one sealed
    want = dict(points)
    for day in range(3):
        lo = start + day * DAY
        b = engine.read("dev", "v", Query(tm.RangeSpec(start=lo, end=lo + DAY), "raw"), now=NOW)
        assert bits(b.raw_values) == bits([want[t] for t in b.raw_times])
        assert b.raw_times == sorted(t for t in want if lo <= t < lo + DAY)
    # Every tier's min, max, first and last are stored values, exactly.
    b = engine.read(
        "dev", "v", Query(tm.RangeSpec(start=start, end=start + 3 * DAY), tm.parse_resolution("1h")), now=NOW
    )
    ref = reference_buckets(want, b.grid.start, b.grid.step, b.grid.n)
    for j, expected in enumerate(ref):
        assert expected is not None
        got = (b.min[j], b.max[j], b.first[j], b.last[j])
        assert bits(list(got)) == bits([expected[k] for k in ("min", "max", "first", "last")])
        assert b.sum[j] == pytest.approx(expected["sum"], rel=1e-12)


def test_backfill_and_duplicates_into_sealed_chunks_recompute_every_tier(r):
    engine = make_engine(r, retention=LONG)
    start = tm.floor_to(NOW - 2 * DAY, HOUR)
    live = {start + i * MIN: float(i % 17) for i in range(2 * 24 * 60)}
    engine.write("dev", "v", list(live.items()), now=NOW)
    # A device sends what it kept while offline, some points twice with new values, in shuffled batches.
    late = {start + i * MIN + 20_000: float(100 + i % 5) for i in range(0, 2 * 24 * 60, 7)}
    late |= {t: v + 0.5 for t, v in list(live.items())[::11]}
    items = list(late.items())
    random.Random(4).shuffle(items)
    for i in range(0, len(items), 97):
        engine.write("dev", "v", items[i : i + 97], now=NOW)
    final = live | late
    for res in ("5m", "15m", "1h", "6h"):
        b = engine.read("dev", "v", q("48h", res), now=NOW)
        ref = reference_buckets(final, b.grid.start, b.grid.step, b.grid.n)
        for j, want in enumerate(ref):
            assert b.count[j] == (want["count"] if want else 0), (res, j)
            if want:
                assert (b.min[j], b.max[j], b.last[j]) == (want["min"], want["max"], want["last"]), (res, j)
                assert b.sum[j] == pytest.approx(want["sum"]), (res, j)


def test_the_bucket_still_filling_is_read_at_every_resolution_like_latest(r):
    engine = make_engine(r)
    engine.declare("vpn", "rx", "counter")
    start = tm.floor_to(NOW, DAY)  # 12:00:07 today: the day, the 6 h, 1 h, 15 min and 5 min buckets are open
    pts = {start + i * 45_000: float(1000 * i) for i in range((NOW - start) // 45_000 + 1)}
    for t, v in pts.items():  # one point per call, as an agent reports
        engine.write("vpn", "rx", [(t, v)], now=NOW)
    for rng, res in (("1h", "5m"), ("24h", "15m"), ("24h", "1h"), ("7d", "6h"), ("30d", "1d")):
        b = engine.read("vpn", "rx", q(rng, res), now=NOW)
        ref = reference_buckets(pts, b.grid.start, b.grid.step, b.grid.n)
        assert b.count == [w["count"] if w else 0 for w in ref], (rng, res)
        assert series_values(b, "last", None)[0][-1] == pts[max(pts)], (rng, res)
        incs, _ = series_values(b, "increase", None)
        want = reference_increase(pts, b.grid.start, b.grid.step, b.grid.n)
        assert incs == pytest.approx([w or 0.0 for w in want]), (rng, res)


def test_many_points_a_second_beyond_what_the_open_field_keeps(r):
    engine = make_engine(r)
    start = tm.floor_to(NOW - 2 * HOUR, HOUR)
    pts = [(start + i * 1000, float(i)) for i in range(2 * 3600)]
    for i in range(0, len(pts), 25):
        engine.write("fast", "v", pts[i : i + 25], now=NOW)
    b = engine.read("fast", "v", Query(tm.RangeSpec(start=start, end=start + 2 * HOUR), "raw"), now=NOW)
    assert b.raw_values == [v for _, v in pts]
    b = engine.read(
        "fast",
        "v",
        Query(tm.RangeSpec(start=start, end=start + 2 * HOUR), tm.parse_resolution("5m")),
        now=NOW,
    )
    assert b.count == [300] * 24 and b.sum[0] == sum(range(300))


def test_a_series_idle_beyond_raw_retention_keeps_its_last_buckets_in_every_tier(r):
    engine = make_engine(r, retention="raw=2h,5m=1d,15m=35d,1h=90d,6h=400d,1d=0")
    pts = [(NOW - 50 * MIN + i * MIN, float(i)) for i in range(50)]
    engine.write("idle", "v", pts, now=NOW)
    later = NOW + 3 * DAY
    engine.maintain([series_id("idle", "v")], now=later, rebuild_from=None, trim=True)
    fields = [f.decode() for f in r.hkeys(key("idle", "v"))]
    assert not [f for f in fields if f.startswith(("r:", "t300:"))]
    b = engine.read("idle", "v", Query(tm.parse_range("7d", now=later), tm.parse_resolution("1h")), now=later)
    assert sum(b.count) == 50 and max(v for v in b.max if v is not None) == 49.0
    assert engine.info("idle", "v").last_ts == pts[-1][0]
    with pytest.raises(Exception, match="retention"):
        engine.write("idle", "v", [(NOW, 1.0)], now=later)


def test_a_change_of_tiers_is_rebuilt_by_the_next_write_with_the_open_buckets(r):
    small = make_engine(r, tiers="5m,1h,1d", retention="raw=48h,5m=14d,1h=90d,1d=0")
    pts = {NOW - i * MIN: float(i % 9) for i in range(600)}
    small.write("api", "rt", list(pts.items()), now=NOW)
    full = make_engine(r)
    full.write("api", "rt", [(NOW + 1000, 4.0)], now=NOW + 1000)
    pts[NOW + 1000] = 4.0
    for res in ("15m", "6h", "1h"):
        b = full.read("api", "rt", q("24h", res, now=NOW + 1000), now=NOW + 1000)
        ref = reference_buckets(pts, b.grid.start, b.grid.step, b.grid.n)
        assert b.count == [w["count"] if w else 0 for w in ref], res


def test_a_live_tick_of_a_thousand_series_is_one_script_call(r):
    engine = make_engine(r)
    batches = [(f"dev-{i}", "up", [], "gauge") for i in range(1000)]
    engine.write_many(batches, now=NOW)  # declared: the registry is written once, here
    reset_stats(r)
    engine.write_many(
        [(s, m, [(NOW - 1000, float(i % 2))], k) for i, (s, m, _, k) in enumerate(batches)], now=NOW
    )
    calls = command_stats(r)["cmdstat_evalsha"]["calls"]
    series = [engine.keys.series(series_id(s, m)) for s, m, *_ in batches]
    assert calls == slot_groups(r, series)  # one call on one server; on a cluster one per hash slot
    b = engine.read_many([(s, "up") for s, *_ in batches], q("1h", "5m"), now=NOW)
    assert [series_values(x, "last", None)[0][-1] for x in b] == [float(i % 2) for i in range(1000)]


def test_a_batch_of_ten_thousand_new_series_is_indexed_whole(r):
    """The index writes of one batch go as one call per index key, in calls of at most 1,000 members (Lua's
    unpack stops near 8,000)."""
    engine = make_engine(r)
    one_source = [("wide", f"m{i}", [(NOW - 1000, 1.0)], None) for i in range(10_000)]
    one_metric = [(f"host{i}", "rx", [(NOW - 1000, 1.0)], None) for i in range(10_000)]
    engine.write_many(one_source + one_metric, now=NOW)
    assert len(engine.metrics_of("wide")) == 10_000
    assert len(engine.sources_of("rx")) == 10_000
    assert len(engine.sources()) == 10_001


def test_totals_and_top_across_many_series_equal_each_series_chart(r):
    engine = make_engine(r)
    rng = random.Random(8)
    series = [(f"host-{i}", "rx") for i in range(30)]
    engine.declare("host-3", "rx", "counter")
    for s, m in series:
        pts = [(NOW - k * 70_000 - rng.randrange(1000), float(rng.randrange(1000))) for k in range(1300)]
        engine.write(s, m, pts, now=NOW)
    query = q("24h", "15m")
    many = read_across(engine, series, query, now=NOW)
    charts = engine.read_many(series[:5], query, now=NOW) + engine.read_many(series[5:], query, now=NOW)
    for aggregate in ("sum", "count", "avg", "max", "last"):
        want = [0.0] * 96
        for b in charts:
            for j, v in enumerate(series_values(b, aggregate, "zero")[0]):
                want[j] += v or 0.0
        assert many.per_bucket(aggregate) == pytest.approx(want), aggregate
    top = many.top("sum", 3)
    totals = sorted(((-sum(v or 0 for v in b.sum), s) for (s, _), b in zip(series, charts, strict=True)))
    assert [t.source for t in top] == [s for _, s in totals[:3]]
    assert [t.total for t in top] == pytest.approx([-t for t, _ in totals[:3]])
    assert [t.count for t in top] == [sum(charts[series.index((t.source, "rx"))].count) for t in top]


def test_a_total_across_a_series_gone_quiet_where_a_chunk_starts_and_one_still_reporting(r):
    """The quiet series' open bucket starts where the other's stored chunk does: both count."""
    engine = make_engine(r)
    boundary = tm.floor_to(NOW, 12 * HOUR)  # where a 15-minute chunk starts
    now = boundary + 2 * HOUR
    engine.write("quiet", "v", [(boundary + k * MIN, 1.0) for k in range(4)], now=now)
    engine.write("busy", "v", [(boundary + k * MIN, 2.0) for k in range(110)], now=now)
    series = [("quiet", "v"), ("busy", "v")]
    query = q("24h", "15m", now=now)
    want = [0.0] * 96
    for b in engine.read_many(series, query, now=now):
        assert b is not None
        for j, v in enumerate(series_values(b, "sum", "zero")[0]):
            want[j] += v or 0.0
    summed = read_across(engine, series, query, now=now).per_bucket("sum")
    assert summed[-10:] == [None, 34.0, 30.0, 30.0, 30.0, 30.0, 30.0, 30.0, 10.0, None]
    assert [v or 0.0 for v in summed] == want


def test_a_month_of_points_costs_a_few_bytes_each_with_every_tier(r):
    engine = make_engine(r, retention=LONG)
    rng = random.Random(2)
    start = tm.floor_to(NOW - 30 * DAY, HOUR)
    n = 30 * 24 * 120
    gauge = [
        (start + i * 30_000, round(50 + 20 * math.sin(i / 100) + rng.random() * 10, 1)) for i in range(n)
    ]
    total, counter = 0.0, []
    for i in range(n):
        total += rng.randint(0, 50_000)
        counter.append((start + i * 30_000, total))
    for i in range(0, n, 1000):
        engine.write("dev", "latency", gauge[i : i + 1000], now=NOW)
        engine.write("dev", "bytes", counter[i : i + 1000], now=NOW, kind="counter")
    used = sum(r.memory_usage(key("dev", m), samples=0) for m in ("latency", "bytes"))
    assert used / (2 * n) < 6  # the raw points and all five tiers (21 bytes a point before sealing)
