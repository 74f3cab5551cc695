"""From per-bucket aggregates to what a chart shows: one value per bucket, gaps filled, range statistics.

Pure functions over ``Buckets``; no I/O.
"""

from __future__ import annotations

from typing import Any

from upstat.errors import InvalidInput
from upstat.timeseries.engine import (
    ADDITIVE,
    AGGREGATES,
    FILLS,
    FIRST,
    INC,
    LAST,
    MAX,
    MIN,
    Buckets,
    C,
    Record,
    S,
)
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
    return [None if v is None else v / (b.grid.length(j) / 1000) for j, v in enumerate(incs)]


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


def statistics(b: Buckets, aggregate: str = "avg") -> dict[str, Any]:
    """min, max, avg, total, count over the range (exact from any tier), percentiles when read, trend.

    Percentiles are exact when computed from raw points covering the range (``percentiles_exact``), else
    approximate (bucket averages weighted by count), or absent when not asked for.
    """
    recs = [r for r in b.records if r is not None]
    count = sum(r[C] for r in recs)
    mins = [r[MIN] for r in recs]
    maxs = [r[MAX] for r in recs]
    total = sum(r[S] for r in recs)
    stats: dict[str, Any] = {
        "count": count,
        "min": min(mins) if mins else None,
        "max": max(maxs) if maxs else None,
        "avg": total / count if count else None,
        "total": total,
    }
    if b.kind == "counter":
        stats["increase"] = sum(v for v in increases(b) if v is not None)
    if b.percentile_values is not None:
        pv = b.percentile_values
        stats.update({"p50": percentile(pv, 50), "p95": percentile(pv, 95), "p99": percentile(pv, 99)})
        stats["percentiles_exact"] = b.percentiles_exact
    values = column(b, aggregate if aggregate in ("avg", "sum", "min", "max", "last", "increase") else "avg")
    starts = b.grid.starts() if not b.grid.raw else b.raw_times
    if b.grid.raw:
        points = [(float(t), v) for t, v in zip(b.raw_times, b.raw_values, strict=True)]
    else:
        points = [(float(t), v) for t, v in zip(starts, values, strict=True) if v is not None]
    stats["trend"] = trend(points)
    return stats
