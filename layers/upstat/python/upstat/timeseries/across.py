"""Many series over one grid: which exist, the total per bucket across them and each one's total (a metric's
total, its top N sources).

Read with one round trip (Engine.fetch_many). Where the aggregate is a figure of each bucket's record (sum,
count, avg, min, max, first, last) and the grid's buckets are the tier's, the totals are added up straight
from the fetched chunks, a column at a time (each chunk's column is decoded once and cached by content), so
a hundred series cost about what one chart does, not a hundred charts; counters' increase and rate, and
calendar or coarser grids, go through each series' buckets (multi.py).
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from operator import add, or_

from upstat.timeseries import chunks, multi
from upstat.timeseries.engine import READ_FIELDS, Engine, Fetched, Record
from upstat.timeseries.model import Buckets, Query
from upstat.timeseries.multi import Ranked

_FIELD = {"sum": 2, "count": 1, "min": 3, "max": 4, "first": 5, "last": 6}
FAST = frozenset({*_FIELD, "avg"})


def _value(rec: Record, aggregate: str) -> float:
    return rec[2] / rec[1] if aggregate == "avg" else float(rec[_FIELD[aggregate]])


@lru_cache(maxsize=8192)
def dense(data: bytes, aggregate: str, slots: int) -> tuple[list[float], list[int]]:
    """A tier chunk as two columns of ``slots`` buckets: the aggregate (0 where empty) and the count."""
    values, counts = [0.0] * slots, [0] * slots
    for rec in chunks.tier_records(data)[0]:
        if rec[0] < slots:
            values[rec[0]] = _value(rec, aggregate)
            counts[rec[0]] = rec[1]
    return values, counts


class Across:
    """A fetch of many series (Engine.fetch_many) and what is added up across them."""

    def __init__(self, engine: Engine, fetched: Fetched) -> None:
        self.engine = engine
        self.fetched = fetched
        self._buckets: dict[int, Buckets | None] = {}

    @cached_property
    def found(self) -> list[int]:
        """Indices of the series that exist, in order."""
        return [i for i, reply in enumerate(self.fetched.replies) if reply[2] is not None]

    def source(self, i: int) -> str:
        return self.fetched.series[i][0]

    def kind(self, i: int) -> str:
        raw = self.fetched.replies[i][0]
        return raw.decode() if raw else "gauge"

    def buckets(self, i: int) -> Buckets | None:
        if i not in self._buckets:
            self._buckets[i] = self.engine.decode(self.fetched, i)
        return self._buckets[i]

    def _fast(self, aggregate: str) -> bool:
        f = self.fetched
        return aggregate in FAST and f.tier.ms > 0 and f.grid.step == f.tier.ms

    def _columns(self, i: int, aggregate: str) -> list[tuple[int, list[float], list[int]]]:
        """Series ``i`` as (first grid bucket, values, counts) runs, its open bucket last."""
        f = self.fetched
        grid, tier = f.grid, f.tier
        skip, reply = self.engine.checked_reply(f, i)
        slots = tier.chunk_ms // tier.ms
        nm = len(READ_FIELDS)
        runs = []
        for cid, data in zip(f.chunk_ids[skip:], reply[nm : nm + len(f.chunk_ids) - skip], strict=True):
            if data:
                values, counts = dense(data, aggregate, slots)
                runs.append(((cid * tier.chunk_ms - grid.start) // tier.ms, values, counts))
        opened = self.engine.open_bucket(tier, reply[4])
        if opened is not None:
            ts, rec = opened
            runs.append(((ts - grid.start) // tier.ms, [_value(rec, aggregate)], [int(rec[1])]))
        return runs

    def per_bucket(self, aggregate: str) -> list[float | None]:
        """The sum across the series of each bucket's aggregate; None where no series has data.

        Every series' chunk of one time starts at the same grid bucket, so the runs are grouped by that
        bucket and each group's columns added up at once (``zip`` then ``sum``, in C), not series by series:
        slicing and adding a hundred short lists one at a time cost three times as much."""
        n = self.fetched.grid.n
        if not self._fast(aggregate):
            return multi.total_per_bucket([self.buckets(i) for i in self.found], aggregate, n)  # type: ignore[misc]
        # Keyed by first bucket and length: an open bucket may start where a chunk does.
        groups: dict[tuple[int, int], tuple[list[list[float]], list[list[int]]]] = {}
        for i in self.found:
            for k0, values, counts in self._columns(i, aggregate):
                group = groups.get((k0, len(values)))
                if group is None:
                    group = groups[(k0, len(values))] = ([], [])
                group[0].append(values)
                group[1].append(counts)
        acc, seen = [0.0] * n, [False] * n
        for (k0, length), (values_of, counts_of) in groups.items():
            lo, hi = max(0, -k0), min(length, n - k0)
            if lo >= hi:
                continue
            j0, j1 = k0 + lo, k0 + hi
            columns = zip(*[v[lo:hi] for v in values_of], strict=True)
            acc[j0:j1] = map(add, acc[j0:j1], map(sum, columns))
            seen[j0:j1] = map(or_, seen[j0:j1], map(any, zip(*[c[lo:hi] for c in counts_of], strict=True)))
        return [v if c else None for v, c in zip(acc, seen, strict=True)]

    def totals(self, aggregate: str) -> list[Ranked]:
        """Each existing series' total over the range (multi.series_total) and count of measured values."""
        if not self._fast("sum" if aggregate not in ("increase", "rate") else aggregate):
            out = []
            for i in self.found:
                b = self.buckets(i)
                assert b is not None
                out.append(Ranked(self.source(i), multi.series_total(b, aggregate), sum(b.count)))
            return out
        n = self.fetched.grid.n
        out = []
        for i in self.found:
            total, count = 0.0, 0
            for k0, values, counts in self._columns(i, "sum"):
                lo, hi = max(0, -k0), min(len(values), n - k0)
                if lo < hi:
                    total += sum(values[lo:hi])
                    count += sum(counts[lo:hi])
            out.append(Ranked(self.source(i), total, count))
        return out

    def top(self, aggregate: str, n: int) -> list[Ranked]:
        """The ``n`` series with the largest total (ties by name, for a stable order)."""
        ranked = self.totals(aggregate)
        ranked.sort(key=lambda r: (-r.total, r.source))
        return ranked[:n]


def read_across(engine: Engine, series: list[tuple[str, str]], query: Query, *, now: int) -> Across:
    """Many series over the query's grid, in one round trip."""
    return Across(engine, engine.fetch_many(series, query, now=now))
