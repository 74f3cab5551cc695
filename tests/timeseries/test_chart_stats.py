"""Chart statistics agree with the points the chart returns, whatever the resolution, aggregate or fill.

Against a real Valkey: points are written through the engine and read back as the chart routes do
(``shapes.chart``), then the statistics are recomputed the obvious way from the returned points.
"""

from __future__ import annotations

import statistics as pystats

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import NOW, make_engine
from upstat.timeseries import timemath as tm
from upstat.timeseries.shapes import ChartParams, chart

MIN = 60_000
HOUR = 3_600_000


def read_chart(engine, source, metric, now=NOW, **params):
    p = ChartParams(**params)
    b = engine.read(source, metric, p.query(now), now=now)
    return chart(b, p, source, metric)


def recomputed(body):
    """count, min, max, avg, total of the returned points that have a value."""
    vals = [v for _, v in body["points"] if v is not None]
    if not vals:
        return {"count": 0, "min": None, "max": None, "avg": None, "total": 0.0}
    return {
        "count": len(vals),
        "min": min(vals),
        "max": max(vals),
        "avg": sum(vals) / len(vals),
        "total": sum(vals),
    }


def assert_stats_agree_with_points(body):
    stats, want = body["stats"], recomputed(body)
    for name in ("count", "min", "max", "avg", "total"):
        expected = want[name] if want[name] is None else pytest.approx(want[name], rel=1e-9, abs=1e-9)
        assert stats[name] == expected, (name, stats, want)
    pts = [(t, v) for t, v in body["points"] if v is not None]
    scale = sum(abs(v) for _, v in pts) / len(pts) if pts else 0.0
    if len(pts) < 2 or scale == 0:  # all 0, or values so small their mean underflows to 0 (as trend())
        assert stats["trend"] == "stable"
        return
    slope = pystats.linear_regression([float(t) for t, _ in pts], [v for _, v in pts]).slope
    change = slope * (pts[-1][0] - pts[0][0]) / scale
    if stats["trend"] == "increasing":
        assert slope > 0 and change > 0.05 - 1e-9
    elif stats["trend"] == "decreasing":
        assert slope < 0 and change < -0.05 + 1e-9
    else:
        assert abs(change) <= 0.05 + 1e-9


def test_a_raw_chart_has_statistics_of_its_points(r):
    engine = make_engine(r)
    engine.write("api", "rt", [(NOW - i * MIN, float(i % 7)) for i in range(179)], now=NOW)
    body = read_chart(engine, "api", "rt", range="3h", resolution="raw")
    assert body["count"] == 179 and body["fill"] == "none"
    assert body["stats"]["count"] == 179 and (body["stats"]["min"], body["stats"]["max"]) == (0.0, 6.0)
    assert body["stats"]["samples"]["count"] == 179
    assert_stats_agree_with_points(body)


def test_a_raw_chart_of_a_counter_reports_its_increase(r):
    engine = make_engine(r)
    engine.declare("vpn", "bytes", "counter")
    values = [100.0, 160.0, 220.0, 20.0, 80.0]  # a reset to 20: a restart from zero
    engine.write("vpn", "bytes", [(NOW - (5 - i) * MIN, v) for i, v in enumerate(values)], now=NOW)
    body = read_chart(engine, "vpn", "bytes", range="1h", resolution="raw")
    assert body["stats"]["increase"] == 60 + 60 + 20 + 60


def steady_counter(engine, now, per_minute=1000.0, hours=3):
    """A counter growing ``per_minute`` every minute, sampled on the minute, up to ``now``."""
    engine.declare("vpn", "bytes", "counter")
    first = tm.floor_to(now, MIN) - hours * HOUR
    pts = [(t, (t - first) / MIN * per_minute) for t in range(first, now + 1, MIN)]
    engine.write("vpn", "bytes", pts, now=now)


def test_a_steady_rate_reads_steady_in_the_bucket_still_filling(r):
    # 22 minutes into the hour: the last hourly bucket holds 22 of its 60 minutes.
    now = tm.floor_to(NOW, HOUR) + 22 * MIN + 7_000
    engine = make_engine(r)
    steady_counter(engine, now)
    body = read_chart(engine, "vpn", "bytes", now=now, range="3h", resolution="1h", aggregate="rate")
    values = [v for _, v in body["points"]]
    assert values[-2] == pytest.approx(1000 / 60)
    assert values[-1] == pytest.approx(1000 / 60, rel=0.06)  # not 6.4/s: the rate so far, not a drop
    assert body["stats"]["trend"] == "stable"


def test_the_trend_follows_the_returned_points_whatever_the_aggregate(r):
    now = tm.floor_to(NOW, HOUR) + 22 * MIN + 7_000
    engine = make_engine(r)
    steady_counter(engine, now)
    for aggregate in ("rate", "increase", "avg", "max", "last", "sum", "count"):
        body = read_chart(engine, "vpn", "bytes", now=now, range="3h", resolution="1h", aggregate=aggregate)
        assert_stats_agree_with_points(body)
    # The increase of the hour so far is smaller than a whole hour's: those points do decrease.
    increase = read_chart(engine, "vpn", "bytes", now=now, range="3h", resolution="1h", aggregate="increase")
    assert increase["stats"]["trend"] == "decreasing"


RESOLUTIONS = ("raw", "auto", "1m", "5m", "15m", "1h")
RANGES = ("1h", "3h", "6h", "24h")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    points=st.dictionaries(
        st.integers(min_value=0, max_value=30 * HOUR),
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=60,
    ),
    counter=st.booleans(),
    range_=st.sampled_from(RANGES),
    resolution=st.sampled_from(RESOLUTIONS),
    aggregate=st.sampled_from(("avg", "sum", "min", "max", "count", "first", "last", "increase", "rate")),
    fill=st.sampled_from((None, "zero", "null", "previous")),
)
def test_any_chart_statistics_agree_with_its_points(r, points, counter, range_, resolution, aggregate, fill):
    r.flushall()
    engine = make_engine(r)
    if counter:
        engine.declare("s", "m", "counter")
        points = {age: abs(v) for age, v in points.items()}
    elif aggregate in ("increase", "rate"):
        aggregate = "avg"
    engine.write("s", "m", [(NOW - age, v) for age, v in points.items()], now=NOW)
    body = read_chart(engine, "s", "m", range=range_, resolution=resolution, aggregate=aggregate, fill=fill)
    assert body["stats"]["count"] == sum(v is not None for _, v in body["points"])
    assert_stats_agree_with_points(body)
