"""Across many series of one metric: the sum per bucket and the top N series by total. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass

from upstat.timeseries.model import Buckets
from upstat.timeseries.render import column


@dataclass(frozen=True)
class Ranked:
    source: str
    total: float
    count: int


def total_per_bucket(series: list[Buckets], aggregate: str, n: int) -> list[float | None]:
    """Sum of each series' aggregate in each of the ``n`` buckets; ``None`` where no series has data in the
    bucket (every bucket, when there is no series at all)."""
    out: list[float | None] = [None] * n
    for b in series:
        for j, v in enumerate(column(b, aggregate)):
            if v is not None:
                out[j] = v if out[j] is None else out[j] + v  # type: ignore[operator]
    return out


def series_total(b: Buckets, aggregate: str) -> float:
    """A series' total over the range: the increase for a counter's increase/rate, else the sum."""
    agg = "increase" if aggregate in ("increase", "rate") else "sum"
    return sum(v for v in column(b, agg) if v is not None)


def top(named: list[tuple[str, Buckets]], aggregate: str, n: int) -> list[Ranked]:
    """The ``n`` series with the largest total over the range (ties by name, for a stable order)."""
    ranked = [Ranked(source, series_total(b, aggregate), sum(b.count)) for source, b in named]
    ranked.sort(key=lambda r: (-r.total, r.source))
    return ranked[:n]
