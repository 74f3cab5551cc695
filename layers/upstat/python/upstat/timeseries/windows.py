"""Sums over an exact window ("the last 15 minutes", "the last 24 hours"), grouped at a step, for additive
series (counts, bytes): what a summary over an interval and its series grouped in time mean; and counters'
increases over a window, read the same way.

A chart's window is snapped to its bucket grid (README "Charts"); a summary is not: the last 24 hours
grouped by day is today so far plus the part of yesterday within the window. The window starts on a whole
second (``start``); the groups are the step's buckets, the first one clipped at the start (labelled with
its bucket's start, as SQL's ``date_trunc`` does). Its parts before the first boundary of the step are
read as whole aligned buckets of the coarsest tier that fits (seconds from the raw tier at the very edge,
then 5 minutes, 15 minutes, 1 hour ...), so a day's worth of head costs a handful of small reads, never a
day of raw points. The sums are exact while the raw tier still holds the window's start; a start older
than that is moved back to the start of the finest tier bucket still kept there (the finest tier whose
retention reaches it), which may add data from just before the window.

Every read goes through the engine (one pipelined round trip per piece for all the series at once).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from upstat.timeseries import timemath as tm
from upstat.timeseries.model import Query
from upstat.timeseries.render import counter_increase
from upstat.timeseries.timemath import Interval, RangeSpec, Tier


@dataclass(frozen=True)
class Piece:
    """Part of a window read as whole buckets of ``block`` ms (1,000: seconds, from the raw tier)."""

    start: int
    end: int
    block: int


@dataclass(frozen=True)
class Grouped:
    """Per step bucket sums of each series over a window. ``starts[j]`` is bucket j's start (the first may
    precede the window: its sum counts only what lies inside); ``sums[i][j]`` is series i's sum in bucket j,
    None where it has no point; ``sums[i]`` is None for a series that does not exist."""

    start: int
    end: int
    starts: list[int]
    sums: list[list[float | None] | None]

    def total(self, i: int) -> float | None:
        """Series i's sum over the whole window (None: no point in it)."""
        row = self.sums[i]
        values = [v for v in row or () if v is not None]
        return sum(values) if values else None


def window_start(start: int, tiers: Sequence[Tier], now: int) -> int:
    """``start`` on a whole second, moved back to the finest kept level's boundary when the raw tier no
    longer reaches it (pure)."""
    start -= start % tm.SECOND
    for tier in tiers:
        if tier.retention_ms == 0 or start >= now - tier.retention_ms:
            return start - start % max(tier.ms, tm.SECOND)
    return start - start % max(tiers[-1].ms, tm.SECOND)


def pieces(start: int, end: int, blocks: Sequence[int]) -> list[Piece]:
    """``[start, end)`` (whole seconds) as runs of whole aligned blocks, the coarsest that fit at each point:
    seconds up to the first boundary of the finest block, then coarser and coarser blocks, then finer ones
    again towards ``end``. Pure; ``blocks`` ascending, each a multiple of the previous."""
    out: list[Piece] = []
    cur = start
    while cur < end:
        size = next((b for b in reversed(blocks) if cur % b == 0 and cur + b <= end), 0)
        if size:
            nxt = cur + size
        else:
            size = tm.SECOND
            nxt = min(end, cur - cur % blocks[0] + blocks[0]) if blocks else end
        if out and out[-1].block == size and out[-1].end == cur:
            out[-1] = Piece(out[-1].start, nxt, size)
        else:
            out.append(Piece(cur, nxt, size))
        cur = nxt
    return out


def grouped_sums(
    engine: Any,
    series: Sequence[tuple[str, str]],
    *,
    start: int,
    end: int,
    step: Interval,
    now: int,
    tz: str = "UTC",
) -> Grouped:
    """The sums of each series over ``[start, end)`` grouped in ``step`` buckets (calendar ones in ``tz``)."""
    start = window_start(start, engine.tiers, now)
    first = tm.grid_between(start, start + 1, step, tz)
    boundary = start if first.start == start else min(first.end, end)
    starts: list[int] = [] if boundary == start else [first.start]
    body = tm.grid_between(boundary, end, step, tz) if boundary < end else None
    if body is not None:
        starts += list(body.starts())
    sums: list[list[float | None] | None] = [None] * len(series)
    for found in _piece_reads(engine, series, start, boundary, now):
        for i, b in enumerate(found):
            if b is not None:
                _add(sums, i, len(starts), 0, _sum(b.sum))
    if body is not None:
        found = engine.read_many(series, Query(RangeSpec(start=boundary, end=end), step, tz), now=now)
        offset = len(starts) - body.n
        for i, b in enumerate(found):
            if b is None:
                continue
            _add(sums, i, len(starts), None, None)
            row = sums[i]
            assert row is not None
            for j, v in enumerate(b.sum):
                if v is not None:
                    old = row[offset + j]
                    row[offset + j] = v if old is None else old + v
    return Grouped(start, end, starts, sums)


def window_totals(
    engine: Any, series: Sequence[tuple[str, str]], *, start: int, end: int, now: int
) -> list[float | None]:
    """Each series' sum over ``[start, end)`` (None: no point there, or no such series), the same sums as
    :func:`grouped_sums` adds up, read with fewer and coarser reads: nothing is grouped, so past the
    start's edge every piece is a whole bucket of the coarsest tier. ``end`` must be at or after the
    newest point the engine accepts (it is moved to the next boundary of the coarsest tier, where no point
    can lie yet)."""
    start = window_start(start, engine.tiers, now)
    blocks = [t.ms for t in engine.tiers[1:]]
    end = -(-end // blocks[-1]) * blocks[-1] if blocks else end
    out: list[float | None] = [None] * len(series)
    for found in _piece_reads(engine, series, start, end, now):
        for i, b in enumerate(found):
            value = None if b is None else _sum(b.sum)
            if value is not None:
                out[i] = value if out[i] is None else out[i] + value  # type: ignore[operator]
    return out


def window_increases(
    engine: Any, series: Sequence[tuple[str, str]], *, start: int, end: int, now: int
) -> list[float]:
    """Each counter series' increase over ``[start, end)`` (0 for a series that does not exist), read as
    :func:`window_totals` reads sums: whole buckets of the coarsest tier that fits in each piece. Each
    piece's increase counts the step from the value before it, so the pieces add up to the increase over
    the whole window, counter restarts included, exactly as one read of the whole window would (a top-N
    over 30 days reads a few daily chunks a series, not a month of 15-minute buckets)."""
    totals = [0.0] * len(series)
    for found in _piece_reads(engine, series, window_start(start, engine.tiers, now), end, now):
        for i, b in enumerate(found):
            if b is not None:
                totals[i] += counter_increase(b)
    return totals


def window_buckets(
    engine: Any, series: Sequence[tuple[str, str]], *, start: int, end: int, now: int
) -> Iterator[list[Any]]:
    """``[start, end)`` (start moved as :func:`window_totals` moves it) read as whole buckets of the
    coarsest tier that fits at each point, for every series at once: per piece, each series' Buckets (None
    for a series that does not exist). What callers folding their own figures over a window read
    (upstat.rules: count, sum, min, max and increase over a rule's window)."""
    return _piece_reads(engine, series, window_start(start, engine.tiers, now), end, now)


def _piece_reads(
    engine: Any, series: Sequence[tuple[str, str]], start: int, end: int, now: int
) -> Iterator[list[Any]]:
    """Each piece of ``[start, end)`` (:func:`pieces`, cut by :func:`_bounded`) read for every series at
    once: per piece, the series' Buckets at the piece's block (None for a series that does not exist)."""
    blocks = [t.ms for t in engine.tiers[1:]]
    for piece in _bounded(pieces(start, end, blocks)):
        query = Query(RangeSpec(start=piece.start, end=piece.end), Interval(piece.block // tm.SECOND, "s"))
        yield engine.read_many(series, query, now=now)


#: Buckets in one read: a window of decades is days since 1970 (about 20,000), read in a few reads.
_MAX_BLOCKS = tm.MAX_POINTS // 2


def _bounded(found: list[Piece]) -> list[Piece]:
    """The pieces cut so that none is read as more than :data:`_MAX_BLOCKS` buckets."""
    out = []
    for p in found:
        span = p.block * _MAX_BLOCKS
        out += [Piece(a, min(a + span, p.end), p.block) for a in range(p.start, p.end, span)]
    return out


def _sum(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _add(sums: list[list[float | None] | None], i: int, n: int, j: int | None, value: float | None) -> None:
    """Make series i's row (it exists) and add ``value`` to bucket j."""
    row = sums[i]
    if row is None:
        row = sums[i] = [None] * n
    if j is not None and value is not None:
        old = row[j]
        row[j] = value if old is None else old + value
