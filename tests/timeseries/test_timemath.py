"""Pure time math: interval grammar, grids, auto resolution, tier choice, percentiles and trend."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.factories import BEYOND_THE_TABLE, OPENVPN_TABLE
from upstat.errors import InvalidInput
from upstat.timeseries import timemath as tm

NOW = 1_780_315_207_000
times = st.integers(min_value=1_500_000_000_000, max_value=2_000_000_000_000)
units = st.sampled_from("smhdw")
fixed = st.builds(lambda c, u: tm.Interval(c, u), st.integers(1, 90), st.sampled_from("smh"))
zones = st.sampled_from(
    ["UTC", "Europe/Rome", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"]
)


@given(st.integers(1, 999_999_999), st.sampled_from("smhdwMy"))
def test_interval_grammar_round_trips(count, unit):
    iv = tm.parse_interval(f"{count}{unit}")
    assert (iv.count, iv.unit, str(iv)) == (count, unit, f"{count}{unit}")
    assert iv.ms == count * tm.UNIT_MS[unit]


@pytest.mark.parametrize(
    "text", ["", "15", "m", "0m", "-5m", "1.5h", "15 x", "15min", "1H", "h1", "1mm", None]
)
def test_bad_intervals_are_refused_naming_the_field(text):
    with pytest.raises(InvalidInput) as err:
        tm.parse_interval(text, field="range")
    assert err.value.field == "range" and "interval" in err.value.message


@given(times, fixed, st.integers(1, 500))
def test_last_grid_has_the_asked_points_aligned_and_ends_with_now(now, res, n):
    grid = tm.grid_for_last(res.ms * n, res, now)
    assert grid.n == n
    assert grid.start % res.ms == 0 and grid.end - grid.start == n * res.ms
    assert grid.start + (n - 1) * res.ms <= now < grid.end


@given(times, st.integers(1, 10_000_000), fixed)
def test_a_point_falls_in_exactly_one_bucket(start, span, res):
    grid = tm.grid_between(start, start + span, res) if span // res.ms <= 9000 else None
    assume(grid is not None)
    assert grid is not None
    bounds = grid.boundaries()
    for ts in (start, start + span - 1, start + span // 2):
        holders = [i for i in range(grid.n) if bounds[i] <= ts < bounds[i + 1]]
        assert holders == [grid.index(ts)]


@given(times, zones, st.sampled_from(["1d", "1w", "1M"]), st.integers(1, 60))
def test_calendar_grids_start_at_local_midnight_and_cover_now(now, tz, res, n):
    iv = tm.parse_interval(res)
    grid = tm.grid_for_last(iv.ms * n, iv, now, tz)
    assert grid.n == n and len(grid.boundaries()) == n + 1
    zi = tm.zone(tz)
    for b in grid.boundaries():
        local = tm._local(b, zi)
        assert (local.hour, local.minute) == (0, 0) or tz == "Australia/Lord_Howe"
        if res == "1w":
            assert local.weekday() == 0
        if res == "1M":
            assert local.day == 1
    assert grid.boundaries()[-2] <= now < grid.end
    assert all(a < b for a, b in zip(grid.boundaries(), grid.boundaries()[1:], strict=False))


def test_dst_days_are_23_and_25_hours_long_in_new_york():
    # 2026-03-08 and 2026-11-01 are the DST switches in New York.
    grid = tm.grid_between(
        tm.parse_datetime("2026-03-07 12:00:00", field="start", tz="America/New_York"),
        tm.parse_datetime("2026-03-09 12:00:00", field="end", tz="America/New_York"),
        tm.Interval(1, "d"),
        "America/New_York",
    )
    assert [grid.length(i) // tm.HOUR for i in range(grid.n)] == [24, 23, 24]


@pytest.mark.parametrize(("rng", "res", "points"), OPENVPN_TABLE + BEYOND_THE_TABLE)
def test_auto_resolution_follows_the_openvpn_table(rng, res, points):
    spec = tm.parse_range(rng, now=NOW)
    grid = tm.make_grid(spec, "auto", now=NOW)
    assert (grid.resolution, grid.n) == (res, points)


@given(st.integers(1, 3 * 365 * tm.DAY))
def test_auto_resolution_never_exceeds_the_point_limit(span):
    res = tm.auto_resolution(span)
    assert span / res.ms <= tm.MAX_POINTS + 1


def test_start_end_grammar_accepts_iso_and_openwisp_formats():
    a = tm.parse_datetime("2026-01-09 12:00:00", field="start")
    b = tm.parse_datetime("2026-01-09T12:00:00Z", field="start")
    c = tm.parse_datetime("2026-01-09T13:00:00+01:00", field="start")
    assert a == b == c == 1_767_960_000_000
    with pytest.raises(InvalidInput) as err:
        tm.parse_datetime("09/01/2026", field="end")
    assert err.value.field == "end"


def test_end_before_start_is_refused():
    with pytest.raises(InvalidInput) as err:
        tm.parse_range(start="2026-01-09 12:00:00", end="2026-01-09 11:00:00", now=NOW)
    assert err.value.field == "end"


def test_unknown_time_zone_is_refused():
    with pytest.raises(InvalidInput) as err:
        tm.make_grid(tm.parse_range("7d", now=NOW), "1d", now=NOW, tz="Mars/Olympus")
    assert err.value.field == "tz"


TIERS = tm.build_tiers("5m,15m,1h,6h,1d", "raw=48h,5m=14d,15m=35d,1h=90d,6h=400d,1d=0")


@given(
    times,
    st.sampled_from(["1m", "5m", "15m", "30m", "1h", "105m", "450m", "6h", "12h", "1d", "1w"]),
    st.integers(1, 200),
    zones,
)
def test_the_chosen_tier_nests_exactly_in_every_bucket(now, res, n, tz):
    iv = tm.parse_interval(res)
    grid = tm.grid_for_last(iv.ms * n, iv, now, tz)
    tier = tm.choose_tier(grid, TIERS)
    if tier.ms:
        assert all(b % tier.ms == 0 for b in grid.boundaries())
    coarser = [t for t in TIERS if t.ms > tier.ms]
    assert all(any(b % t.ms for b in grid.boundaries()) for t in coarser)


def test_openvpn_analytics_buckets_nest_in_the_15_minute_tier():
    for rng, res in (("7d", "105m"), ("30d", "450m")):
        grid = tm.grid_for_last(tm.parse_interval(rng).ms, tm.parse_interval(res), NOW)
        assert grid.n == 96 and tm.choose_tier(grid, TIERS).name == "15m"


@pytest.mark.parametrize(
    ("tiers", "retention", "field"),
    [
        ("5m,7m", "raw=48h,5m=14d,7m=30d", "tiers"),
        ("5m,1h", "raw=48h,5m=1d,1h=90d", "retention.5m"),
        ("5m,1h", "raw=30m,5m=14d,1h=90d", "retention.raw"),
        ("5m,1h", "raw=48h,5m=14d", "retention"),
        ("5m,1h", "raw=48h,5m=14d,1h=90d,2h=1d", "retention"),
    ],
)
def test_inconsistent_tier_settings_are_refused(tiers, retention, field):
    with pytest.raises(InvalidInput) as err:
        tm.build_tiers(tiers, retention)
    assert err.value.field == field


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=200), st.floats(0, 100))
def test_percentiles_lie_within_the_data_and_grow_with_q(values, qv):
    data = sorted(values)
    p = tm.percentile(data, qv)
    assert p is not None and data[0] <= p <= data[-1]
    assert tm.percentile(data, min(100, qv + 1)) >= p - 1e-6 * max(1.0, abs(p))


@given(st.integers(3, 100), st.floats(0.5, 100))
def test_trend_of_a_rising_line_is_increasing_and_of_a_flat_line_stable(n, slope):
    rising = [(float(i), 10 + slope * i) for i in range(n)]  # grows by over 5% of its mean
    assert tm.trend(rising) == "increasing"
    assert tm.trend([(t, -v) for t, v in rising]) == "decreasing"
    assert tm.trend([(float(i), 42.0) for i in range(n)]) == "stable"
    assert tm.trend([(0.0, 1.0)]) == "stable"


def test_a_small_wobble_around_a_level_is_stable():
    # +2% over the range: under the 5% rule, so stable.
    assert tm.trend([(float(i), 100 + i) for i in range(3)]) == "stable"


@settings(max_examples=300, deadline=None)
@given(
    last=st.sampled_from(["1h", "3h", "6h", "12h", "24h", "7d", "30d", "90d", "1y", "45m", "2w", "3M"]),
    res=st.sampled_from(["auto", "1m", "5m", "15m", "1h", "6h", "1d", "1w", "1M"]),
    tz=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
    now=st.integers(min_value=1_600_000_000_000, max_value=1_900_000_000_000),
)
def test_the_cached_last_range_grid_is_the_computed_one(last, res, tz, now):
    rng = tm.parse_range(last, now=now)
    resolution = tm.parse_resolution(res)
    interval = tm.auto_resolution(rng.last_ms) if resolution == "auto" else resolution
    try:
        expected = tm.grid_for_last(rng.last_ms, interval, now, tz)
    except InvalidInput:
        with pytest.raises(InvalidInput):
            tm.make_grid(rng, resolution, now=now, tz=tz)
        return
    assert tm.make_grid(rng, resolution, now=now, tz=tz) == expected
