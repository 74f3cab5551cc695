"""From per-bucket aggregates to what a chart shows: one value per bucket, gaps filled, range statistics.

Pure functions over ``Buckets``; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from upstat.errors import InvalidInput
from upstat.timeseries import chunks
from upstat.timeseries.chunks import Record
from upstat.timeseries.model import ADDITIVE, AGGREGATES, FILLS, FIRST, INC, LAST, MAX, MIN, Buckets, C, S
from upstat.timeseries.timemath import percentile, trend


def default_fill(aggregate: str) -> str:
    """Empty buckets are 0 for additive aggregates (sum, count, increase), null for the others."""
    return "zero" if aggregate in ADDITIVE else "null"


def check_aggregate(aggregate: str, kind: str, field: str = "aggregate") -> None:
    if aggregate not in AGGREGATES:
        raise InvalidInput(f"{field}: must be one of {', '.join(AGGREGATES)}", field=field)
    if aggregate in ("increase", "rate") and kind != "counter":
        raise InvalidInput(
            f"{field}: {aggregate} needs a counter series; declare the metric kind 'counter' first",
            field=field,
        )


def check_fill(fill: str | None, field: str = "fill") -> None:
    if fill is not None and fill not in FILLS:
        raise InvalidInput(f"{field}: must be one of {', '.join(FILLS)}", field=field)


def increases(b: Buckets) -> list[float | None]:
    """Per-bucket increase of a counter: growth inside the bucket plus the step from the previous value.

    A value lower than the one before is a counter reset: it counts as a restart from zero, never as a
    negative increase.
    """
    out: list[float | None] = []
    prev = b.prev_last
    for rec in b.records:
        if rec is None:
            out.append(None)
            continue
        first = rec[FIRST]
        step = 0.0 if prev is None else (first - prev if first >= prev else first)
        out.append(rec[INC] + step)
        prev = rec[LAST]
    return out


_FIELD = {"sum": S, "min": MIN, "max": MAX, "first": FIRST, "last": LAST}


def column(b: Buckets, aggregate: str) -> list[float | None]:
    """One value per bucket, ``None`` for empty buckets."""
    recs = b.records
    if b.runs is not None and aggregate in chunks.COLUMNS:
        return _sliced_column(b, aggregate)
    if b.present is not None and len(b.present) * 4 < len(recs) and aggregate in _SPARSE:
        return _sparse_column(recs, b.present, aggregate)
    if aggregate == "avg":
        return [None if r is None else r[S] / r[C] for r in recs]
    if aggregate == "count":
        return [None if r is None else float(r[C]) for r in recs]
    if aggregate in _FIELD:
        i = _FIELD[aggregate]
        return [None if r is None else r[i] for r in recs]
    incs = increases(b)
    if aggregate == "increase":
        return incs
    return rates(b, incs)


def _sliced_column(b: Buckets, aggregate: str) -> list[float | None]:
    """``column`` where the grid's buckets are the tier's: each chunk's cached column sliced in, then the
    open bucket's value."""
    out: list[float | None] = [None] * len(b.records)
    slots = b.tier.chunk_ms // b.tier.ms
    for k0, lo, hi, data in b.runs or ():
        out[k0 + lo : k0 + hi] = chunks.tier_column(data, aggregate, slots)[lo:hi]
    if b.open_index is not None:
        rec = b.records[b.open_index]
        assert rec is not None
        out[b.open_index] = _value(rec, aggregate)
    return out


def _value(rec: Record, aggregate: str) -> float:
    if aggregate == "avg":
        return rec[S] / rec[C]
    if aggregate == "count":
        return float(rec[C])
    return rec[_FIELD[aggregate]]


def rates(b: Buckets, incs: list[float | None]) -> list[float | None]:
    """Per-second rate of a counter per bucket: the bucket's increase over its length in seconds.

    The bucket holding ``b.now`` is still filling: its increase is divided by the time elapsed in it (at
    least one second) instead of its whole length, so a counter growing steadily reads the same rate in
    the last bucket as in the full ones, not a drop. (README "Statistics and trend".)
    """
    out = [None if v is None else v / (b.grid.length(j) / 1000) for j, v in enumerate(incs)]
    now, grid = b.now, b.grid
    if now is not None and grid.start <= now < grid.end:
        j = grid.index(now)
        inc = incs[j]
        if inc is not None:
            out[j] = inc / (max(now - grid.starts()[j], 1000) / 1000)
    return out


_SPARSE = frozenset({"avg", "count", "sum", "min", "max", "first", "last"})


def _sparse_column(recs: list[Record | None], present: list[int], aggregate: str) -> list[float | None]:
    """``column`` for mostly empty grids: touch only the buckets that hold data."""
    out: list[float | None] = [None] * len(recs)
    if aggregate == "avg":
        for j in present:
            r = recs[j]
            out[j] = r[S] / r[C]  # type: ignore[index]
    elif aggregate == "count":
        for j in present:
            out[j] = float(recs[j][C])  # type: ignore[index]
    else:
        i = _FIELD[aggregate]
        for j in present:
            out[j] = recs[j][i]  # type: ignore[index]
    return out


def fill_gaps(values: list[float | None], fill: str) -> list[float | None]:
    if fill == "null":
        return values
    if fill == "zero":
        return [0.0 if v is None else v for v in values]
    out: list[float | None] = []
    prev: float | None = None
    for v in values:
        if v is not None:
            prev = v
        out.append(prev)
    return out


def series_values(b: Buckets, aggregate: str, fill: str | None) -> tuple[list[float | None], str]:
    """The chart line: values per bucket with gaps filled as asked; returns (values, fill used)."""
    used = fill or default_fill(aggregate)
    return fill_gaps(column(b, aggregate), used), used


def chart_points(
    b: Buckets, aggregate: str, fill: str | None
) -> tuple[Sequence[int], list[float | None], str]:
    """What a chart returns: (times, values, fill used). A raw chart returns the stored points as they are
    (fill ``none``); a bucketed one a value per bucket, gaps filled as asked."""
    if b.grid.raw:
        return b.raw_times, list(b.raw_values), "none"
    values, used = series_values(b, aggregate, fill)
    return b.grid.starts(), values, used


def statistics(b: Buckets, aggregate: str = "avg", fill: str | None = None) -> dict[str, Any]:
    """The statistics of the chart ``chart_points(b, aggregate, fill)`` returns (see ``point_statistics``)."""
    times, values, _ = chart_points(b, aggregate, fill)
    return point_statistics(b, times, values)


def point_statistics(b: Buckets, times: Sequence[int], values: list[float | None]) -> dict[str, Any]:
    """Statistics of a chart, computed from the points it returns, so the two always agree.

    ``count``, ``min``, ``max``, ``avg``, ``total`` and ``trend`` are over the returned points that have a
    value (filled values included, null points left out): what a reader of the chart can check. ``samples``
    has the same figures over the measured values themselves, exact from any tier (buckets keep count,
    sum, min and max); ``increase`` (counters) is the counter's increase over the range, resets counted
    as restarts. Percentiles, when read, are of the measured values: exact from raw points covering the
    range (``percentiles_exact``), else approximate (bucket averages weighted by count).
    """
    pts = [(float(t), v) for t, v in zip(times, values, strict=True) if v is not None]
    vals = [v for _, v in pts]
    total = sum(vals)
    stats: dict[str, Any] = {
        "count": len(vals),
        "min": min(vals) if vals else None,
        "max": max(vals) if vals else None,
        "avg": total / len(vals) if vals else None,
        "total": total,
        "trend": trend(pts),
        "samples": measured(b),
    }
    if b.kind == "counter":
        stats["increase"] = counter_increase(b)
    if b.percentile_values is not None:
        pv = b.percentile_values
        stats.update({"p50": percentile(pv, 50), "p95": percentile(pv, 95), "p99": percentile(pv, 99)})
        stats["percentiles_exact"] = b.percentiles_exact
    return stats


def measured(b: Buckets) -> dict[str, Any]:
    """count, min, max, avg and total of the measured values in the range, whatever the chart's aggregate:
    exact from any tier, since buckets keep count, sum, min and max (never averages)."""
    low: float | None = None
    high: float | None = None
    if b.grid.raw:
        vals = b.raw_values
        count, total = len(vals), float(sum(vals))
        if vals:
            low, high = min(vals), max(vals)
    else:
        recs = [r for r in b.records if r is not None]
        count, total = sum(int(r[C]) for r in recs), float(sum(r[S] for r in recs))
        if recs:
            low, high = min(r[MIN] for r in recs), max(r[MAX] for r in recs)
    return {"count": count, "min": low, "max": high, "avg": total / count if count else None, "total": total}


def counter_increase(b: Buckets) -> float:
    """A counter's increase over the range: every step between consecutive values (from the last value
    before the range), a drop counted as a restart from zero."""
    if not b.grid.raw:
        return sum(v for v in increases(b) if v is not None)
    total, prev = 0.0, b.prev_last
    for v in b.raw_values:
        if prev is not None:
            total += v - prev if v >= prev else v
        prev = v
    return total
