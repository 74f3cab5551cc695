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
    """What one pass did: ``series`` maintained; when not ``complete``, where the next pass starts (the
    registry shard and the SSCAN cursor inside it)."""

    series: int = 0
    full: int = 0  # series a retention pass skipped: nothing to delete, and memory full
    shard: int = 0
    cursor: int = 0
    complete: bool = True


def run_series_tick(
    engine: Engine,
    *,
    now: int,
    deadline: float,
    rebuild_from: int | None,
    trim: bool,
    start_shard: int = 0,
    start_cursor: int = 0,
) -> TickReport:
    """Maintain every registered series, shard by shard, from ``start_shard`` at ``start_cursor``, until done
    or ``deadline`` (time.monotonic()). A pass stopped by its deadline reports where it stopped, so the next
    one goes on from there instead of from the shard it started at (which, with a budget shorter than the
    whole pass, would never reach the last shards)."""
    report = TickReport()
    cursor = start_cursor
    for shard in range(start_shard, REGISTRY_SHARDS):
        while True:
            if time.monotonic() >= deadline:
                report.shard, report.cursor, report.complete = shard, cursor, False
                return report
            cursor, sids = engine.registered_series(shard, cursor, PAGE)
            done = engine.maintain(sids, now=now, rebuild_from=rebuild_from, trim=trim)
            report.series += done
            report.full += len(sids) - done
            if cursor == 0:
                break
    return report
