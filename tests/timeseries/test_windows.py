"""Sums over exact windows, grouped at a step (upstat.timeseries.windows), through the engine on the real
Valkey, against a recomputation from the points themselves."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import NOW, make_engine
from upstat.store.keyspace import series_id
from upstat.timeseries import timemath as tm
from upstat.timeseries.windows import grouped_sums, window_totals

STEPS = ["1s", "1m", "1h", "1d", "1w", "1M"]
ZONES = ["UTC", "Asia/Tehran", "America/New_York", "Asia/Kathmandu"]


def reference(points: dict[int, float], start: int, end: int, step: tm.Interval, tz: str):
    """Bucket starts and sums, the obvious way: every point from the start (on its second) to the end, in
    the step bucket that holds it."""
    start -= start % 1000
    grid = tm.grid_between(start, end, step, tz)
    sums: dict[int, float] = {}
    for t, v in points.items():
        if start <= t < end:
            j = grid.index(t)
            sums[grid.starts()[j]] = sums.get(grid.starts()[j], 0.0) + v
    return sums


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32),
    age=st.integers(1, 47 * 3600 * 1000),
    step=st.sampled_from(STEPS),
    tz=st.sampled_from(ZONES),
)
def test_grouped_sums_equal_a_recomputation_from_the_points(r, seed, age, step, tz):
    r.flushall()
    engine = make_engine(r)
    rnd = random.Random(seed)
    points = {NOW - rnd.randrange(0, 47 * tm.HOUR): float(rnd.randrange(0, 10_000)) for _ in range(300)}
    # a few right at the window's edges: its start's second, and the millisecond before it
    start = NOW - age
    points[start - start % 1000] = 7.0
    points[start - start % 1000 - 1] = 11.0
    engine.write("gw", "bytes", sorted(points.items()), now=NOW)
    interval = tm.parse_interval(step)
    end = NOW + tm.MAX_FUTURE_MS
    if interval.ms < tm.HOUR and age > 2 * tm.HOUR:
        age = age % (2 * tm.HOUR) + 1  # fine steps go with short windows (a few hundred groups at most)
        start = NOW - age
    got = grouped_sums(
        engine, [("gw", "bytes"), ("none", "bytes")], start=start, end=end, step=interval, now=NOW, tz=tz
    )
    want = reference(points, start, end, interval, tz)
    row = got.sums[0]
    assert row is not None and got.sums[1] is None
    assert {s: v for s, v in zip(got.starts, row, strict=True) if v is not None} == pytest.approx(want)
    # None when no point lies in the window (a short window moved away from the edge points above)
    assert got.total(0) == (pytest.approx(sum(want.values())) if want else None)
    totals = window_totals(engine, [("gw", "bytes"), ("none", "bytes")], start=start, end=end, now=NOW)
    assert totals == [got.total(0), None]  # the same sums, read without grouping
    assert got.starts == sorted(got.starts) and got.starts[0] <= start


def test_a_window_older_than_the_raw_tier_starts_at_its_finest_kept_bucket(r):
    engine = make_engine(r)
    t = NOW - 3 * tm.DAY
    engine.write("gw", "bytes", [(t - t % (5 * tm.MINUTE) + 1000, 5.0), (t + 60_000, 7.0)], now=t + 120_000)
    engine.maintain([series_id("gw", "bytes")], now=NOW, rebuild_from=None, trim=True)
    assert not [f for f in r.hkeys(engine.keys.series(series_id("gw", "bytes"))) if f.startswith(b"r:")]
    got = grouped_sums(engine, [("gw", "bytes")], start=t, end=NOW, step=tm.parse_interval("1d"), now=NOW)
    # the raw points are trimmed (48 h); the 5-minute bucket holding the start counts whole
    assert got.total(0) == 12.0
