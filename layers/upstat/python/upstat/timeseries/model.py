"""The time model every part of the series code shares: what a query asks (``Query``), per-bucket figures
over a grid (``Buckets``, records laid out as in ``chunks.Record``), how two consecutive records merge, and
the kinds, aggregates and fills there are.

It sits beneath both the engine (which fills ``Buckets`` from Redis) and the pure renderers (``render``,
``shapes``, ``multi``, ``across``), so those never import the engine, the store or the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from upstat.timeseries.chunks import Record
from upstat.timeseries.timemath import Grid, Interval, RangeSpec, Tier

KINDS = ("gauge", "counter")
AGGREGATES = ("avg", "sum", "min", "max", "count", "first", "last", "increase", "rate")
ADDITIVE = frozenset({"sum", "count", "increase"})
FILLS = ("zero", "null", "previous")


@dataclass(frozen=True)
class Query:
    """What to read: a range, a resolution (``auto``, ``raw`` or an Interval) and a time zone."""

    range: RangeSpec
    resolution: Interval | str = "auto"
    tz: str = "UTC"
    percentiles: bool = False


C, S, MIN, MAX, FIRST, LAST, INC = range(1, 8)


@dataclass
class Buckets:
    """Per-bucket figures of one series over a grid: ``records[j]`` is None where bucket j has no data."""

    grid: Grid
    tier: Tier
    kind: str
    records: list[Record | None]
    prev_last: float | None = None  # last value before the grid (counters: increase into bucket 0)
    raw_times: list[int] = field(default_factory=list)
    raw_values: list[float] = field(default_factory=list)
    percentile_values: list[float] | None = None
    percentiles_exact: bool = False
    # Indices of the non-empty buckets, ascending, when the reader tracked them (sparse charts: a year of
    # a week-old series is 8 of 365 buckets) so columns need not scan every bucket.
    present: list[int] | None = None
    # Where the grid's buckets are the tier's: the chunks laid over the grid, (first grid bucket, first and
    # end slot, chunk bytes) each, and the grid bucket of the open one; a column is then sliced from each
    # chunk's cached column (render.column) instead of built a record at a time.
    runs: list[tuple[int, int, int, bytes]] | None = None
    open_index: int | None = None
    # The time of the read: the bucket holding it is still filling (rates divide by the time elapsed in it).
    now: int | None = None

    def _col(self, i: int) -> list[Any]:
        return [None if r is None else r[i] for r in self.records]

    @property
    def count(self) -> list[int]:
        return [0 if r is None else int(r[C]) for r in self.records]

    @property
    def sum(self) -> list[float | None]:
        return self._col(S)

    @property
    def min(self) -> list[float | None]:
        return self._col(MIN)

    @property
    def max(self) -> list[float | None]:
        return self._col(MAX)

    @property
    def first(self) -> list[float | None]:
        return self._col(FIRST)

    @property
    def last(self) -> list[float | None]:
        return self._col(LAST)

    @property
    def inc(self) -> list[float | None]:
        return self._col(INC)


def _delta(prev: float, v: float) -> float:
    return v - prev if v >= prev else v


def merge(a: Record, b: Record) -> Record:
    """Two consecutive records as one (``b`` later than ``a``): additive, so tiers merge by addition."""
    return (
        a[0],
        a[1] + b[1],
        a[2] + b[2],
        min(a[3], b[3]),
        max(a[4], b[4]),
        a[5],
        b[6],
        a[7] + b[7] + _delta(a[6], b[5]),
    )
