"""The scheduled rollup and retention ticks over every registered series.

Tiers are brought up to date by each write, so a chart always reflects the last write. The rollup tick
rebuilds, from the raw points, every tier bucket touched since its previous run and every coarser bucket above
them (a no-op in steady state; after a change of tiers it fills the new tier forward), and the retention tick
drops whole chunks older than each tier's retention, series that are no longer written included. Both are
idempotent: figures are recomputed and overwritten, never incremented.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from upstat.store.keyspace import REGISTRY_SHARDS
from upstat.timeseries.engine import Engine

PAGE = 200


@dataclass
class TickReport:
    series: int = 0
    shards_done: int = 0
    complete: bool = True


def run_series_tick(
    engine: Engine,
    *,
    now: int,
    deadline: float,
    rebuild_from: int | None,
    trim: bool,
    start_shard: int = 0,
) -> TickReport:
    """Maintain every registered series, shard by shard, until done or ``deadline`` (time.monotonic())."""
    report = TickReport()
    for shard in range(start_shard, REGISTRY_SHARDS):
        cursor = 0
        while True:
            if time.monotonic() >= deadline:
                report.complete = False
                return report
            cursor, sids = engine.registered_series(shard, cursor, PAGE)
            report.series += engine.maintain(sids, now=now, rebuild_from=rebuild_from, trim=trim)
            if cursor == 0:
                break
        report.shards_done += 1
    return report
