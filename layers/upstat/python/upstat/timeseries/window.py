"""Exact counter totals over a window, read from the coarsest tiers that nest in it.

A top-N over 30 days of many series need not read each series' 15-minute buckets of the whole month (60
chunks a series): the window is split into a head and a tail read at the finest tier its edges are
aligned to, and whole days between them read from the daily tier (two chunks). The increase of each part
counts the step from the value before it (the last value of the part before), so the parts add up to the
increase over the whole window, counter restarts included, exactly as one read of the whole window would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from upstat.timeseries import timemath as tm
from upstat.timeseries.engine import Query
from upstat.timeseries.render import counter_increase
from upstat.timeseries.timemath import Interval, RangeSpec, Tier


def split(start: int, end: int, tiers: Sequence[Tier]) -> list[tuple[int, int, Interval | str]]:
    """``[start, end)`` as consecutive parts, each with the resolution to read it at: the coarsest tier's
    whole buckets in the middle, the finest tier both edges align to around them (raw when none does)."""
    aligned = [t for t in tiers[1:] if start % t.ms == 0 and end % t.ms == 0]
    if not aligned:
        return [(start, end, "raw")]
    fine, coarse = aligned[-1], tiers[-1]
    first = -(-start // coarse.ms) * coarse.ms
    last = end // coarse.ms * coarse.ms
    fine_res = tm.parse_interval(fine.name)
    if coarse is fine or last - first < coarse.ms:
        return [(start, end, fine_res)]
    parts: list[tuple[int, int, Interval | str]] = []
    if start < first:
        parts.append((start, first, fine_res))
    parts.append((first, last, tm.parse_interval(coarse.name)))
    if last < end:
        parts.append((last, end, fine_res))
    return parts


def increases(
    engine: Any, series: Sequence[tuple[str, str]], start: int, end: int, *, now: int
) -> list[float]:
    """Each counter series' increase over ``[start, end)`` (0 for a series that does not exist), in one
    pipelined round trip per part (at most three)."""
    totals = [0.0] * len(series)
    for s, e, resolution in split(start, end, engine.tiers):
        query = Query(RangeSpec(start=s, end=e), resolution)
        for i, b in enumerate(engine.read_many(series, query, now=now)):
            if b is not None:
                totals[i] += counter_increase(b)
    return totals
