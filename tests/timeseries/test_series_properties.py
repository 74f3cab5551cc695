"""Properties of the pure time-series functions: point validation (points), gap filling (render), sums and
rankings across series (multi), the CSV shape of a chart (shapes) and uptime ratios (reports).

Buckets for the cross-series properties come from the engine over the real test Valkey, so the properties
hold for what reads really return, not for hand-made records.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import NOW, make_engine
from upstat.errors import InvalidInput
from upstat.timeseries import multi
from upstat.timeseries.points import check_value, normalize
from upstat.timeseries.render import column, fill_gaps
from upstat.timeseries.shapes import ChartParams, chart, chart_csv, iso
from upstat.uptime.reports import _ratio_of

MIN = 60_000
times = st.integers(min_value=NOW - 47 * 3_600_000, max_value=NOW)
values = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
LOWEST = NOW - 48 * 3_600_000


@given(st.lists(st.tuples(times, values), max_size=60), st.randoms())
def test_normalizing_points_is_sorted_unique_and_the_last_sent_wins(points: list[Any], rnd: Any) -> None:
    out = normalize(points, now=NOW, lowest=LOWEST)
    assert [t for t, _ in out] == sorted({t for t, _ in points})
    last = {t: v for t, v in points}
    assert dict(out) == last
    unique = list(last.items())
    rnd.shuffle(unique)
    assert normalize(unique, now=NOW, lowest=LOWEST) == out  # order-independent once times are unique


@given(
    st.one_of(
        st.booleans(), st.text(max_size=5), st.none(), st.just(float("nan")), st.integers(min_value=2**53 + 1)
    )
)
def test_values_that_cannot_be_stored_exactly_are_refused(value: Any) -> None:
    with pytest.raises(InvalidInput):
        check_value(value, field="x")


@given(st.lists(st.one_of(st.none(), values), max_size=50))
def test_filling_keeps_length_and_only_fills_gaps(vals: list[float | None]) -> None:
    for fill in ("zero", "null", "previous"):
        out = fill_gaps(list(vals), fill)
        assert len(out) == len(vals)
        assert all(o == v for o, v in zip(out, vals, strict=True) if v is not None)
    assert fill_gaps(list(vals), "null") == vals
    assert None not in fill_gaps(list(vals), "zero")
    previous = fill_gaps(list(vals), "previous")
    first = next((i for i, v in enumerate(vals) if v is not None), len(vals))
    assert all(v is None for v in previous[:first]) and None not in previous[first:]


@given(st.lists(st.tuples(st.integers(1, 100), st.floats(0, 100)), max_size=50))
def test_uptime_is_a_ratio_between_0_and_1(records: list[tuple[int, float]]) -> None:
    recs = [(None, count, min(ups, count)) for count, ups in records]
    ratio, checks, downs = _ratio_of(recs)
    assert checks == sum(c for c, _ in records)
    if checks:
        assert ratio is not None and 0.0 <= ratio <= 1.0 and 0 <= downs <= checks
    else:
        assert ratio is None


series = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d"]),
    st.dictionaries(st.integers(0, 179).map(lambda i: NOW - i * MIN), st.floats(0, 1e6), max_size=20),
    min_size=1,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=series, order=st.randoms())
def test_sums_across_series_are_order_independent_and_add_up(
    r: Any, data: dict[str, Any], order: Any
) -> None:
    r.flushall()
    engine = make_engine(r)
    for source, points in data.items():
        if points:
            engine.write(source, "m", list(points.items()), now=NOW)
    query = ChartParams(range="3h", resolution="15m").query(NOW)
    named = [
        (s, b)
        for s, b in zip(data, engine.read_many([(s, "m") for s in data], query, now=NOW), strict=True)
        if b
    ]
    n = 12
    summed = multi.total_per_bucket([b for _, b in named], "sum", n)
    shuffled = list(named)
    order.shuffle(shuffled)
    assert multi.total_per_bucket([b for _, b in shuffled], "sum", n) == pytest.approx(summed, nan_ok=True)
    for j in range(n):
        cells = [column(b, "sum")[j] for _, b in named]
        present = [c for c in cells if c is not None]
        assert summed[j] is None if not present else summed[j] == pytest.approx(math.fsum(present))
    ranked = multi.top(named, "sum", 2)
    assert len(ranked) == min(2, len(named))
    assert [r.total for r in ranked] == sorted((r.total for r in ranked), reverse=True)
    everyone = multi.top(named, "sum", 10)
    assert all(r.total >= other.total for r in ranked for other in everyone[len(ranked) :])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    points=st.dictionaries(st.integers(0, 59).map(lambda i: NOW - i * MIN), values, min_size=1, max_size=30),
    name=st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=12
    ),
)
def test_a_charts_csv_reads_back_as_its_points(r: Any, points: dict[int, float], name: str) -> None:
    r.flushall()
    engine = make_engine(r)
    engine.write("s", "m", list(points.items()), now=NOW)
    params = ChartParams(range="1h", resolution="5m", format="csv")
    metric = name.strip() or "x"
    body = chart(engine.read("s", "m", params.query(NOW), now=NOW), params, "s", metric)
    rows = list(csv.reader(io.StringIO(chart_csv(body))))
    assert rows[0] == ["timestamp_ms", "time", metric]  # a metric name with commas or quotes stays one cell
    assert len(rows) == 1 + len(body["points"])
    for row, (t, v) in zip(rows[1:], body["points"], strict=True):
        assert int(row[0]) == t and row[1] == iso(t)
        assert (row[2] == "" and v is None) or float(row[2]) == v  # repr round-trips a double exactly
