"""What a rule's aggregate is over its window, from tier buckets. Pure, no I/O.

The tiers keep, per bucket, count, sum, min, max, first, last and a counter's increase (timeseries.model),
so over a window of whole buckets these are exact: ``avg`` (sum / count), ``min``, ``max``, ``count`` (the
points), ``increase`` (a counter's increase, restarts counted from zero), ``rate`` (increase per second of
the window) and ``absent`` (1 when the window holds no point, else 0).

Percentiles are not kept by the tiers (a bucket's points are gone once the raw tier drops them), so
``p95``/``p99`` are estimated: the count-weighted percentile (nearest rank) of the averages of the finest
tier's buckets in the window (5-minute buckets by default: 3 of them over 15 minutes, 288 over a day). It
lies between the same percentile of the buckets' minima and of their maxima, so it can miss a spike that
moved no bucket's average: a rule on one slow request in a quiet bucket should use ``max``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from upstat.rules import state as st
from upstat.rules.model import Rule
from upstat.timeseries.model import Buckets
from upstat.timeseries.render import counter_increase

PERCENTILES = {"p95": 0.95, "p99": 0.99}


@dataclass
class Figures:
    """One series' figures over a window, added up from its buckets."""

    count: int = 0
    sum: float = 0.0
    min: float | None = None
    max: float | None = None
    increase: float = 0.0
    counter: bool = False
    means: list[tuple[float, int]] = field(default_factory=list)  # (bucket average, its count)


def fold(figures: Figures | None, b: Buckets) -> Figures:
    """``figures`` with the buckets of ``b`` added (a piece of the window, or the whole of it)."""
    out = figures if figures is not None else Figures()
    out.counter = out.counter or b.kind == "counter"
    for rec in b.records:
        if rec is None or not rec[1]:
            continue
        c, s, lo, hi = int(rec[1]), rec[2], rec[3], rec[4]
        out.count += c
        out.sum += s
        out.min = lo if out.min is None else min(out.min, lo)
        out.max = hi if out.max is None else max(out.max, hi)
        out.means.append((s / c, c))
    if b.kind == "counter":
        out.increase += counter_increase(b)
    return out


def one_point(value: float | None) -> Figures | None:
    """The figures of a window holding one point (None: an empty window): what a rule reads when it is
    judged on one report's value as it arrives, instead of on the tiers (a device's built-in rules)."""
    if value is None:
        return None
    return Figures(count=1, sum=value, min=value, max=value, means=[(value, 1)])


def judge(rule: Rule, figures: Figures | None, before: st.SeriesState, *, slot: int) -> st.SeriesState:
    """One evaluation of ``rule`` on one series: its value from ``figures``, whether it breaches, and the
    state it leads to (upstat.rules.state.step). The one evaluation every caller uses: the scheduled run
    over the tiers, and the built-in rules judged on a device's report or silence."""
    value = value_of(rule.aggregate, figures, rule.window_ms)
    return st.step(before, breached=rule.breached(value), value=value, for_n=rule.for_n, slot=slot)


def weighted_percentile(means: Sequence[tuple[float, int]], q: float) -> float | None:
    """The nearest-rank ``q`` percentile of values each standing for ``count`` points."""
    total = sum(c for _, c in means)
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for value, c in sorted(means):
        seen += c
        if seen >= rank:
            return value
    return sorted(means)[-1][0]


def value_of(aggregate: str, figures: Figures | None, window_ms: int) -> float | None:
    """The aggregate's value over the window (None: no data to judge, never a breach; ``figures`` None: the
    series does not exist, which ``absent`` counts as empty)."""
    if aggregate == "absent":
        return 1.0 if figures is None or figures.count == 0 else 0.0
    if figures is None:
        return None
    if aggregate == "count":
        return float(figures.count)
    if aggregate in ("increase", "rate"):
        if not figures.counter:
            return None  # a gauge has no increase (refused when the series existed as the rule was made)
        return figures.increase if aggregate == "increase" else figures.increase / (window_ms / 1000)
    if not figures.count:
        return None
    if aggregate == "avg":
        return figures.sum / figures.count
    if aggregate == "min":
        return figures.min
    if aggregate == "max":
        return figures.max
    return weighted_percentile(figures.means, PERCENTILES[aggregate])
