"""Every source with its metrics and when it last sent a point: what a dashboard lists, with a health word.

A user's source has no schedule upstat knows of, so its health is how recently it reported (rules in
:func:`freshness`); a monitored service's health is its status, added by the route from the uptime domain.
Three pipelined round trips whatever the number of sources: the source index, their metrics, their series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from upstat.timeseries import timemath as tm
from upstat.timeseries.engine import Engine

#: A source that sent a point within this is ``active`` (agents push every few minutes at most).
ACTIVE_MS = 15 * tm.MINUTE
#: Within this it is ``quiet`` (a daily job is still on time); beyond it ``silent``.
QUIET_MS = 26 * tm.HOUR


@dataclass(frozen=True, slots=True)
class SourceSummary:
    source: str
    metrics: list[str]
    last_seen: int | None


def freshness(last_seen: int | None, now: int) -> str:
    """``active`` (a point in the last 15 min), ``quiet`` (in the last 26 h: a daily job's cadence plus
    slack), ``silent`` (older), ``empty`` (no point at all)."""
    if last_seen is None:
        return "empty"
    age = now - last_seen
    if age <= ACTIVE_MS:
        return "active"
    return "quiet" if age <= QUIET_MS else "silent"


def summaries(engine: Engine, sources: Sequence[str] | None = None) -> list[SourceSummary]:
    """Every source (oldest first), or those of ``sources`` in their order, with its metrics and the time
    of its newest point."""
    sources = engine.sources() if sources is None else list(sources)
    metrics = engine.metrics_of_many(sources)
    pairs = [(s, m) for s, ms in zip(sources, metrics, strict=True) for m in ms]
    infos = dict(zip(pairs, engine.info_many(pairs), strict=True))
    out = []
    for source, ms in zip(sources, metrics, strict=True):
        times = [i.last_ts for m in ms if (i := infos[(source, m)]) is not None and i.last_ts is not None]
        out.append(SourceSummary(source, ms, max(times) if times else None))
    return out
