"""The engine against a real Valkey: writes, tiers, backfill, duplicates, counters, retention, bad input."""

from __future__ import annotations

import math
import random
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import NOW, OPENVPN_TABLE, make_engine, reference_buckets, reference_increase
from tests.redis_helpers import all_keys
from upstat.errors import InvalidInput, NotFound
from upstat.store.keyspace import series_id
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import Query
from upstat.timeseries.render import series_values, statistics

MIN = 60_000
HOUR = 3_600_000
DAY = 24 * HOUR


def q(range_text: str, resolution: str = "auto", **kw) -> Query:
    return Query(tm.parse_range(range_text, now=NOW), tm.parse_resolution(resolution), **kw)


def snapshot(r, source: str, metric: str) -> dict:
    return r.hgetall(f"upstat:ts:{{{series_id(source, metric)}}}")


def assert_tier_matches(engine, source, metric, points, resolution, range_text="24h"):
    b = engine.read(source, metric, q(range_text, resolution), now=NOW)
    ref = reference_buckets(points, b.grid.start, b.grid.step, b.grid.n)
    for j, want in enumerate(ref):
        if want is None:
            assert b.count[j] == 0, (resolution, j)
            continue
        assert b.count[j] == want["count"], (resolution, j)
        assert b.sum[j] == pytest.approx(want["sum"]), (resolution, j)
        assert b.min[j] == want["min"] and b.max[j] == want["max"] and b.last[j] == want["last"], (
            resolution,
            j,
        )
    return b


def test_chart_right_after_a_write_reflects_it_at_every_resolution(r):
    engine = make_engine(r)
    engine.write("api", "rt", [(NOW - 1000, 42.0)], now=NOW)
    for rng, res in [
        ("1h", "auto"),
        ("24h", "auto"),
        ("24h", "5m"),
        ("7d", "auto"),
        ("30d", "auto"),
        ("1y", "auto"),
    ]:
        b = engine.read("api", "rt", q(rng, res), now=NOW)
        values, _ = series_values(b, "max", None)
        assert values[-1] == 42.0, (rng, res, b.tier.name)
        assert sum(b.count) == 1


def test_every_tier_equals_a_recomputation_from_the_points(r):
    engine = make_engine(r)
    rng = random.Random(5)
    points = {NOW - i * 37_000 - rng.randrange(1000): round(rng.uniform(-5, 100), 2) for i in range(2000)}
    items = list(points.items())
    rng.shuffle(items)  # out of order, in several batches
    for i in range(0, len(items), 300):
        engine.write("api", "rt", items[i : i + 300], now=NOW)
    for res in ("1m", "5m", "15m", "1h", "6h", "1d"):
        b = assert_tier_matches(engine, "api", "rt", points, res)
        assert b.tier.ms == (tm.parse_interval(res).ms if res != "1m" else 0)


def test_backfilled_points_land_in_their_buckets_at_every_tier(r):
    engine = make_engine(r)
    recent = {NOW - i * MIN: 10.0 for i in range(60)}
    engine.write("vpn", "rx", list(recent.items()), now=NOW)
    old = {NOW - 30 * HOUR - i * MIN: 99.0 for i in range(30)}  # an agent that was offline sends later
    engine.write("vpn", "rx", list(old.items()), now=NOW)
    allp = recent | old
    for res in ("5m", "15m", "1h", "6h", "1d"):
        assert_tier_matches(engine, "vpn", "rx", allp, res, "48h")


def test_same_time_twice_is_stored_once_and_the_last_write_wins_everywhere(r):
    engine = make_engine(r)
    t = NOW - 10 * MIN
    engine.write("api", "rt", [(t, 500.0), (t + MIN, 20.0)], now=NOW)
    res = engine.write("api", "rt", [(t, 10.0)], now=NOW)
    assert (res.inserted, res.replaced) == (0, 1)
    for resolution in ("raw", "5m", "1h", "1d"):
        b = engine.read("api", "rt", q("24h" if resolution != "1d" else "7d", resolution), now=NOW)
        assert sum(b.count) == 2 or (b.grid.raw and len(b.raw_values) == 2)
        if b.grid.raw:
            assert sorted(b.raw_values) == [10.0, 20.0]
        else:
            assert max(v for v in b.max if v is not None) == 20.0, resolution  # the old 500 is gone


def test_duplicate_times_in_one_batch_keep_the_last(r):
    engine = make_engine(r)
    engine.write("api", "rt", [(NOW - 5000, 1.0), (NOW - 5000, 2.0)], now=NOW)
    b = engine.read("api", "rt", q("1h", "raw"), now=NOW)
    assert b.raw_values == [2.0]


def test_a_retried_batch_leaves_exactly_the_same_state(r):
    engine = make_engine(r)
    batch = [(NOW - i * 15_000, float(i % 13)) for i in range(500)]
    engine.write("api", "rt", batch, now=NOW)
    before = snapshot(r, "api", "rt")
    again = engine.write("api", "rt", batch, now=NOW)
    assert again.unchanged == 500 and again.inserted == 0
    assert snapshot(r, "api", "rt") == before


def test_concurrent_writers_of_one_series_lose_nothing(r):
    engine = make_engine(r)
    chunks = [[(NOW - (k * 100 + i) * 10_000, float(k)) for i in range(100)] for k in range(8)]
    threads = [
        threading.Thread(target=engine.write, args=("api", "rt", c), kwargs={"now": NOW}) for c in chunks
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    b = engine.read("api", "rt", q("24h", "1h"), now=NOW)
    assert sum(b.count) == 800
    assert sum(s for s in b.sum if s) == sum(float(k) * 100 for k in range(8))


def test_counter_increase_and_rate_treat_a_drop_as_a_restart(r):
    engine = make_engine(r)
    engine.declare("vpn", "bytes", "counter")
    start = tm.floor_to(NOW, 5 * MIN) - 5 * MIN * 6
    values = [0, 100, 250, 400, 30, 80, 200, 210, 5, 50, 70, 90]  # two resets (400 -> 30, 210 -> 5)
    pts = {start + i * 2 * MIN + 1000: float(v) for i, v in enumerate(values)}
    engine.write("vpn", "bytes", list(pts.items()), now=NOW)
    b = engine.read("vpn", "bytes", q("1h", "5m"), now=NOW)
    incs, fill = series_values(b, "increase", None)
    want = reference_increase(pts, b.grid.start, b.grid.step, b.grid.n)
    assert fill == "zero"
    assert incs == [w if w is not None else 0.0 for w in want]
    assert all(v >= 0 for v in incs)
    assert sum(incs) == 100 + 150 + 150 + 30 + 50 + 120 + 10 + 5 + 45 + 20 + 20
    rates, rate_fill = series_values(b, "rate", None)
    assert rate_fill == "null"
    for inc, rate in zip(incs, rates, strict=True):
        assert rate is None or rate == pytest.approx(inc / 300)
    # The same totals from a coarser tier.
    coarse = engine.read("vpn", "bytes", q("24h", "1h"), now=NOW)
    assert sum(v or 0 for v in series_values(coarse, "increase", None)[0]) == sum(incs)


def test_increase_needs_a_counter(r):
    from upstat.timeseries.render import check_aggregate

    engine = make_engine(r)
    engine.write("api", "rt", [(NOW, 1.0)], now=NOW)
    with pytest.raises(InvalidInput) as err:
        check_aggregate("rate", engine.info("api", "rt").kind)
    assert err.value.field == "aggregate"


@pytest.mark.parametrize(("rng", "resolution", "points"), OPENVPN_TABLE)
def test_openvpn_table_ranges_return_the_documented_points(r, rng, resolution, points):
    engine = make_engine(r)
    engine.write("alice", "rx", [(NOW - 1000, 1.0)], now=NOW)
    for res in ("auto", resolution):
        b = engine.read("alice", "rx", q(rng, res), now=NOW)
        assert b.grid.n == points and b.grid.resolution == resolution
        assert b.grid.start % b.grid.step == 0 and b.grid.start <= NOW < b.grid.end
        assert len(series_values(b, "sum", None)[0]) == points


def test_a_year_reads_the_daily_tier_and_never_raw_points(r):
    engine = make_engine(r)
    engine.write("alice", "rx", [(NOW - i * HOUR, 1.0) for i in range(40)], now=NOW)
    b = engine.read("alice", "rx", q("1y", "auto"), now=NOW)
    assert (b.grid.n, b.tier.name, b.grid.resolution) == (365, "1d", "1d")
    assert sum(b.count) == 40


def test_daily_buckets_follow_the_requested_time_zone(r):
    engine = make_engine(r)
    # 03:00 UTC is still the previous day in New York (UTC-4 in June).
    day = tm.floor_to(NOW, tm.DAY)
    engine.write("nyc", "jobs", [(day + 3 * HOUR, 1.0), (day + 5 * HOUR, 1.0)], now=NOW)
    utc = engine.read("nyc", "jobs", q("7d", "1d"), now=NOW)
    ny = engine.read("nyc", "jobs", q("7d", "1d", tz="America/New_York"), now=NOW)
    assert series_values(utc, "sum", None)[0][-1] == 2.0
    assert series_values(ny, "sum", None)[0][-2:] == [1.0, 1.0]
    assert ny.tier.name == "1h"
    assert ny.grid.bounds[-1] - ny.grid.bounds[-2] == tm.DAY


def test_fill_modes_and_the_fill_used_is_reported(r):
    engine = make_engine(r)
    base = tm.floor_to(NOW, 5 * MIN)
    engine.write("api", "rt", [(base - 20 * MIN, 5.0), (base - 5 * MIN, 7.0)], now=NOW)
    b = engine.read("api", "rt", q("30m", "5m"), now=NOW)
    # Buckets start at base-25m, -20m, -15m, -10m, -5m and base (the one holding now).
    assert series_values(b, "avg", None) == ([None, 5.0, None, None, 7.0, None], "null")
    assert series_values(b, "avg", "zero")[0] == [0.0, 5.0, 0.0, 0.0, 7.0, 0.0]
    assert series_values(b, "avg", "previous")[0] == [None, 5.0, 5.0, 5.0, 7.0, 7.0]
    assert series_values(b, "count", None) == ([0.0, 1.0, 0.0, 0.0, 1.0, 0.0], "zero")


def test_statistics_over_a_range_with_exact_percentiles_where_raw_covers_it(r):
    engine = make_engine(r)
    values = list(range(1, 101))
    engine.write("api", "rt", [(NOW - i * 10_000, float(v)) for i, v in enumerate(values)], now=NOW)
    b = engine.read("api", "rt", q("24h", percentiles=True), now=NOW)
    st_ = statistics(b)
    seen = st_["samples"]  # the measured values, whatever the chart's buckets
    assert (seen["min"], seen["max"], seen["count"], seen["total"], seen["avg"]) == (
        1.0,
        100.0,
        100,
        5050.0,
        50.5,
    )
    assert st_["p50"] == pytest.approx(50.5) and st_["p99"] == pytest.approx(99.01)
    assert st_["percentiles_exact"] is True
    assert st_["trend"] == "decreasing"  # newer points have smaller values


def test_percentiles_beyond_raw_retention_are_marked_approximate(r):
    engine = make_engine(r, retention="raw=2h,5m=14d,15m=35d,1h=90d,6h=400d,1d=0")
    engine.write("api", "rt", [(NOW - i * MIN, float(i)) for i in range(100)], now=NOW)
    b = engine.read("api", "rt", q("7d", percentiles=True), now=NOW)
    st_ = statistics(b)
    assert st_["percentiles_exact"] is False and st_["p50"] is not None
    assert st_["samples"]["min"] == 0.0 and st_["samples"]["max"] == 99.0  # exact from any tier


def test_retention_trims_old_chunks_and_refuses_backfill_into_them(r):
    engine = make_engine(r, retention="raw=2h,5m=1d,15m=35d,1h=90d,6h=400d,1d=0")
    engine.write("api", "rt", [(NOW - i * MIN, 1.0) for i in range(110)], now=NOW)
    later = NOW + 3 * HOUR
    engine.write("api", "rt", [(later, 2.0)], now=later)  # starts a new chunk: old raw chunks go
    fields = [f.decode() for f in snapshot(r, "api", "rt")]
    raw_chunks = sorted(int(f[2:]) for f in fields if f.startswith("r:"))
    assert all((c + 1) * engine.raw.chunk_ms > later - 2 * HOUR for c in raw_chunks)
    # Coarser tiers keep the older data.
    b = engine.read("api", "rt", Query(tm.parse_range("6h", now=later), tm.parse_resolution("1h")), now=later)
    assert sum(b.count) == 111
    with pytest.raises(InvalidInput) as err:
        engine.write("api", "rt", [(NOW - 100 * MIN, 3.0)], now=later)
    assert "retention" in err.value.message and err.value.field == "points[0].time"


def test_the_retention_job_trims_series_that_are_no_longer_written(r):
    engine = make_engine(r, retention="raw=2h,5m=1d,15m=35d,1h=90d,6h=400d,1d=0")
    engine.write("idle", "rt", [(NOW - i * MIN, 1.0) for i in range(60)], now=NOW)
    sid = series_id("idle", "rt")
    much_later = NOW + 3 * tm.DAY
    engine.maintain([sid], now=much_later, rebuild_from=None, trim=True)
    fields = [f.decode() for f in snapshot(r, "idle", "rt")]
    assert not [f for f in fields if f.startswith(("r:", "t300:"))]
    assert [f for f in fields if f.startswith("t86400:")]  # the daily tier is kept for ever


@pytest.mark.parametrize(
    ("bad", "field", "words"),
    [
        ((NOW, float("nan")), "points[2].value", "finite"),
        ((NOW, float("inf")), "points[2].value", "finite"),
        ((NOW, True), "points[2].value", "number"),
        ((NOW, "12"), "points[2].value", "number"),
        ((NOW // 1000, 1.0), "points[2].time", "seconds"),
        ((NOW + 6 * MIN, 1.0), "points[2].time", "future"),
        ((NOW - 49 * HOUR, 1.0), "points[2].time", "retention"),
        ((NOW + 0.5, 1.0), "points[2].time", "whole"),
    ],
)
def test_bad_points_are_refused_by_name_and_nothing_is_written(r, bad, field, words):
    engine = make_engine(r)
    engine.write("api", "rt", [(NOW - HOUR, 1.0)], now=NOW)
    before = snapshot(r, "api", "rt")
    with pytest.raises(InvalidInput) as err:
        engine.write("api", "rt", [(NOW - 2000, 5.0), (NOW - 1000, 6.0), bad], now=NOW)
    assert err.value.field == field and words in err.value.message
    assert snapshot(r, "api", "rt") == before


def test_a_bad_series_in_a_multi_series_batch_writes_nothing(r):
    engine = make_engine(r)
    with pytest.raises(InvalidInput) as err:
        engine.write_many([("a", "m", [(NOW, 1.0)], None), ("b", "m", [(NOW, math.nan)], None)], now=NOW)
    assert err.value.field == "series[1].points[0].value"
    assert engine.info("a", "m") is None


def test_names_with_colons_and_braces_are_distinct_series_in_one_slot(r):
    engine = make_engine(r)
    names = [("a:b", "c"), ("a", "b:c"), ("{x}", "y"), ("x", "{y}"), ("}{", ":")]
    for i, (s, m) in enumerate(names):
        engine.write(s, m, [(NOW, float(i))], now=NOW)
    for i, (s, m) in enumerate(names):
        b = engine.read(s, m, q("1h", "raw"), now=NOW)
        assert b.raw_values == [float(i)]
        assert engine.info(s, m).source == s
    assert engine.metrics_of("a:b") == ["c"] and engine.sources_of("{y}") == ["x"]
    # Every key of a series carries its own hash tag: one key per series here.
    keys = all_keys(r, "upstat:ts:*")
    assert len(keys) == len(names) and all(k.count(b"{") == 1 and k.count(b"}") == 1 for k in keys)


def test_unknown_series_is_not_found(r):
    engine = make_engine(r)
    with pytest.raises(NotFound):
        engine.read("nobody", "nothing", q("1h"), now=NOW)


def test_too_many_points_is_a_clear_error(r):
    engine = make_engine(r)
    engine.write("api", "rt", [(NOW, 1.0)], now=NOW)
    with pytest.raises(InvalidInput) as err:
        engine.read("api", "rt", q("30d", "1m"), now=NOW)
    assert "10000" in err.value.message and err.value.field == "range"


def test_rollup_twice_and_concurrently_never_changes_a_figure(r):
    engine = make_engine(r)
    rng = random.Random(9)
    engine.write("api", "rt", [(NOW - i * 20_000, rng.uniform(0, 50)) for i in range(3000)], now=NOW)
    before = snapshot(r, "api", "rt")
    sid = series_id("api", "rt")
    engine.maintain([sid], now=NOW, rebuild_from=NOW - 48 * HOUR, trim=False)
    assert snapshot(r, "api", "rt") == before
    threads = [
        threading.Thread(
            target=engine.maintain, args=([sid],), kwargs={"now": NOW, "rebuild_from": 0, "trim": True}
        )
        for _ in range(4)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert snapshot(r, "api", "rt") == before


def test_rollup_builds_a_tier_added_to_the_configuration(r):
    small = make_engine(r, tiers="5m,1h,1d", retention="raw=48h,5m=14d,1h=90d,1d=0")
    pts = {NOW - i * MIN: float(i % 9) for i in range(600)}
    small.write("api", "rt", list(pts.items()), now=NOW)
    full = make_engine(r)
    full.maintain([series_id("api", "rt")], now=NOW, rebuild_from=0, trim=False)
    assert_tier_matches(full, "api", "rt", pts, "15m")
    assert_tier_matches(full, "api", "rt", pts, "6h")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=47 * 3600), st.integers(min_value=-1000, max_value=1000)
        ),
        min_size=1,
        max_size=80,
    ),
    st.integers(min_value=1, max_value=5),
)
def test_any_batches_in_any_order_give_the_figures_of_the_final_points(r, raw_points, batches):
    r.flushall()
    engine = make_engine(r)
    final: dict[int, float] = {}
    pts = [(NOW - s * 1000, float(v)) for s, v in raw_points]
    for t, v in pts:
        final[t] = v
    size = max(1, len(pts) // batches)
    for i in range(0, len(pts), size):
        engine.write("p", "m", pts[i : i + size], now=NOW)
    for res in ("5m", "1h", "1d"):
        assert_tier_matches(engine, "p", "m", final, res, "48h")


def test_a_long_chart_still_sees_a_backfill_older_than_the_series_first_point(r):
    # A 1-year chart of a young series reads only the chunks after its first point; a later backfill
    # of older points (a device sending data it kept offline) must still appear in the next chart.
    engine = make_engine(r, retention="raw=400d,5m=401d,15m=402d,1h=403d,6h=404d,1d=0")
    engine.write("dev", "m", [(NOW - HOUR, 1.0)], now=NOW)
    year = Query(tm.parse_range("1y", now=NOW), "auto")
    assert sum(engine.read("dev", "m", year, now=NOW).count) == 1
    engine.write("dev", "m", [(NOW - 200 * DAY, 5.0), (NOW - 90 * DAY, 7.0)], now=NOW)
    again = engine.read("dev", "m", year, now=NOW)
    assert sum(again.count) == 3 and max(v for v in again.max if v is not None) == 7.0
    assert statistics(again)["total"] == 13.0 == statistics(again)["samples"]["total"]
