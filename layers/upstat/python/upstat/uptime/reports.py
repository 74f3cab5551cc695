"""What the uptime routes show: status rows of many services, uptime percentages, daily bars and response-time
statistics, read from the store and the engine in a fixed number of round trips whatever the fleet size.

Status rows read the service index once, then every definition and every state in one pipelined round trip.
Definitions are decoded as plain JSON here (only the fields a status shows), not as validated models: a
status page of 1,000 services must answer in milliseconds.

Uptime is the average of the ``up`` series (1 for up or degraded, 0 for down; nothing is written inside a
maintenance window) over a range, computed from the stored buckets' sums and counts, so it is exact at any
tier. "The last 24 hours" is the engine's grid of 24 hourly buckets whose last bucket holds now (the period
starts at the top of an hour); likewise 7 d in hours, 30 d in 6-hour buckets and 90 d in days. A range with
no check has no uptime (``None``), never 100 %. Beside uptime, coverage (``upstat.uptime.coverage``) says
what share of the expected checks ran, so a stretch when upstat itself did not check reads unknown.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from upstat import clock
from upstat.config import get_settings
from upstat.errors import InvalidInput
from upstat.store.keyspace import keyspace
from upstat.store.scripts import Scripts
from upstat.timeseries import timemath as tm
from upstat.timeseries.engine import Engine
from upstat.timeseries.model import Buckets, Query
from upstat.timeseries.render import measured
from upstat.uptime import coverage, lua, maintenance
from upstat.uptime.checklog import decode_state
from upstat.uptime.keyspace import UptimeKeys, service_source
from upstat.uptime.state import ServiceState, overall_status

#: The uptime windows of every status, with the bucket each is read in (the coarsest that keeps the window's
#: start within one bucket of the nominal start, read from a tier kept at least that long).
UPTIME_WINDOWS: dict[str, tuple[int, tm.Interval]] = {
    "24h": (tm.DAY, tm.Interval(1, "h")),
    "7d": (7 * tm.DAY, tm.Interval(1, "h")),
    "30d": (30 * tm.DAY, tm.Interval(6, "h")),
    "90d": (90 * tm.DAY, tm.Interval(6, "h")),
}
MAX_DAILY_DAYS = 400
#: Engine metrics of a service (written by the recorder).
METRICS = ("response_ms", "up", "degraded", "cert_days")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True, slots=True)
class Display:
    """The fields of a definition a status shows."""

    name: str
    description: str
    url: str
    kind: str
    group: str | None
    tags: tuple[str, ...]
    visible: bool
    paused: bool
    created_ms: int = 0
    interval_s: int = 60

    @property
    def expect(self) -> coverage.Expectation:
        """When the service began to be checked and how often (for coverage)."""
        return coverage.expectation(self.kind, self.interval_s, self.created_ms)


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One service as a status shows it: the definition's display fields and the current state."""

    id: str
    display: Display
    state: ServiceState
    in_window: bool = False  # a maintenance window covers it now

    @property
    def name(self) -> str:
        return self.display.name

    @property
    def description(self) -> str:
        return self.display.description

    @property
    def visible(self) -> bool:
        return self.display.visible

    @property
    def paused(self) -> bool:
        return self.display.paused

    @property
    def status(self) -> str:
        """pending, up, degraded, down, maintenance, or paused for a paused service. A service a window
        covers now reads ``maintenance``, unless it is down (a service down before its window began stays
        down until a check says otherwise): the one rule every status view shows."""
        if self.display.paused:
            return "paused"
        if self.in_window and self.state.status != "down":
            return "maintenance"
        return self.state.status

    @property
    def response_time(self) -> int | None:
        ms = self.state.last_ms
        return None if ms is None else round(ms)

    @property
    def last_checked(self) -> int | None:
        return self.state.last_checked_ms or None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Status rows and what they were built from: an equal ``version`` means equal rows (a cache key for
    whatever is rendered from them)."""

    rows: list[StatusRow]
    version: tuple[Any, ...]


# Per process: definitions by service id with the version they were read at, and decoded states by their
# stored bytes. A status page is read far more often than services change or are checked, so most reads
# decode nothing. Both are bounded (cleared when they outgrow any plausible fleet).
_displays: dict[str, tuple[bytes, Display]] = {}
_states: dict[bytes, ServiceState] = {}
CACHE_LIMIT = 200_000


def _versions_and_states(client: Any, keys: UptimeKeys, ids: Sequence[str]) -> list[Any]:
    names = [k for sid in ids for k in (keys.service(sid), keys.state(sid))]
    if get_settings().redis_cluster:
        pipe = client.pipeline(transaction=False)
        for i in range(0, len(names), 2):
            pipe.hget(names[i], "version")
            pipe.hget(names[i + 1], "s")
        return list(pipe.execute())
    # One script call on a single Redis; on Redis Cluster the keys span slots, so the reads are pipelined.
    return list(Scripts(client).run(lua.STATUS_READ, names, []))


def _display(doc: bytes | str) -> Display:
    d = json.loads(doc)
    return Display(
        d["name"],
        d.get("description") or "",
        d.get("url") or "",
        d.get("kind", "http"),
        d.get("group"),
        tuple(d.get("tags") or ()),
        bool(d.get("visible", True)),
        bool(d.get("paused", False)),
        int(d.get("createdAt") or 0),
        int(d.get("interval") or 60),
    )


def _refresh_displays(client: Any, keys: UptimeKeys, stale: Sequence[str]) -> None:
    """Read the definitions whose version changed (one pipelined round trip)."""
    if len(_displays) > CACHE_LIMIT:
        _displays.clear()
    pipe = client.pipeline(transaction=False)
    for sid in stale:
        pipe.hmget(keys.service(sid), "doc", "version")
    for sid, (doc, version) in zip(stale, pipe.execute(), strict=True):
        if doc is not None and version is not None:
            _displays[sid] = (version, _display(doc))


def _state(raw: bytes | None) -> ServiceState:
    if raw is None:
        return ServiceState()
    found = _states.get(raw)
    if found is None:
        if len(_states) > CACHE_LIMIT:
            _states.clear()
        found = _states[raw] = decode_state(raw)
    return found


def status_snapshot(client: Any, *, visible_only: bool = False, now: int | None = None) -> Snapshot:
    """Every service (oldest first) with its state and whether a maintenance window covers it now, in three
    round trips (four when definitions changed)."""
    keys = keyspace(UptimeKeys)
    ids = [_text(x) for x in client.zrange(keys.index(), 0, -1)]
    if not ids:
        return Snapshot([], (visible_only,))
    replies = _versions_and_states(client, keys, ids)
    versions, states = replies[0::2], replies[1::2]
    stale = [
        sid
        for sid, v in zip(ids, versions, strict=True)
        if v is not None and (sid not in _displays or _displays[sid][0] != v)
    ]
    if stale:
        _refresh_displays(client, keys, stale)
    windows = maintenance.windows_for(client, ids)
    at = clock.now_ms() if now is None else now
    covered = {sid: maintenance.in_maintenance(ws, at) for sid, ws in windows.items()}
    rows = []
    for sid, version, raw in zip(ids, versions, states, strict=True):
        cached = _displays.get(sid)
        if version is None or cached is None:
            continue  # deleted meanwhile
        if visible_only and not cached[1].visible:
            continue
        rows.append(StatusRow(sid, cached[1], _state(raw), covered.get(sid, False)))
    marks = tuple(covered.get(sid, False) for sid in ids)
    return Snapshot(rows, (visible_only, tuple(ids), tuple(versions), tuple(states), marks))


def status_rows(client: Any, *, visible_only: bool = False, now: int | None = None) -> list[StatusRow]:
    """Every service (oldest first) with its state (see :func:`status_snapshot`)."""
    return status_snapshot(client, visible_only=visible_only, now=now).rows


def overall(rows: Sequence[StatusRow]) -> str:
    """The overall status of these services (paused ones do not count): see ``state.overall_status``."""
    return overall_status([r.status for r in rows if not r.paused])  # type: ignore[misc]


# ----------------------------------------------------------------------------------------------------
# Uptime


def ratio(b: Buckets | None) -> tuple[float | None, int, int]:
    """(uptime 0..1 or None without checks, checks, down checks) over the buckets of an ``up`` series."""
    return (None, 0, 0) if b is None else _ratio_of(b.records)


def _tail_ratio(b: Buckets, n: int) -> tuple[float | None, int]:
    """(uptime 0..1, checks) over the last ``n`` buckets, visiting only the buckets that hold checks when the
    read tracked them (a service checked for a week has 28 of 360 six-hour buckets of 90 days)."""
    if b.present is None:
        return _ratio_of(b.records[-n:])[:2]
    recs = b.records
    first = bisect_left(b.present, len(recs) - n)
    return _ratio_of([recs[j] for j in b.present[first:]])[:2]


def _ratio_of(records: Sequence[Any]) -> tuple[float | None, int, int]:
    count = 0
    ups = 0.0
    for rec in records:
        if rec is not None:
            count += rec[1]
            ups += rec[2]
    if not count:
        return None, 0, 0
    return min(1.0, max(0.0, ups / count)), count, count - round(ups)


def percent(value: float | None) -> float | None:
    """A ratio as a percentage with 4 decimals (99.9861), None stays None."""
    return None if value is None else round(value * 100, 4)


def read_series(engine: Engine, service_id: str, metric: str, query: Query, *, now: int) -> Buckets | None:
    """One of a service's engine series (``METRICS``) over the query; None before its first point."""
    return engine.read_many([(service_source(service_id), metric)], query, now=now)[0]


def _grid(b: Buckets | None, query: Query, now: int) -> tm.Grid:
    """The grid a read was answered on, or for a series without data the grid it would have had (so an
    empty answer still names its range and resolution)."""
    return b.grid if b is not None else tm.make_grid(query.range, query.resolution, now=now, tz=query.tz)


def _up_buckets(b: Buckets) -> Iterator[tuple[int, int, float, int]]:
    """(index, start, share of checks up, checks) of each bucket of an ``up`` read that holds checks."""
    for i, (start, rec) in enumerate(zip(b.grid.starts(), b.records, strict=True)):
        if rec is not None:
            yield i, start, rec[2] / rec[1], rec[1]


@dataclass(frozen=True, slots=True)
class WindowFigure:
    """Uptime over one window: the percentage (None without checks), the checks, and the window's start."""

    uptime: float | None
    checks: int
    start: int


def uptime_windows(
    engine: Engine, service_ids: Sequence[str], *, now: int, windows: Sequence[str] = tuple(UPTIME_WINDOWS)
) -> dict[str, dict[str, float | None]]:
    """Uptime percentage of each service over each window: one pipelined engine read per bucket size.

    Returns ``{service id: {"24h": 99.95, "7d": ..., ...}}`` (None where the window holds no check).
    """
    figures = window_figures(engine, service_ids, now=now, windows=windows)
    return {sid: {label: f.uptime for label, f in per.items()} for sid, per in figures.items()}


def coverage_windows(
    rows: Sequence[StatusRow], figures: dict[str, dict[str, WindowFigure]], *, now: int
) -> dict[str, dict[str, float | None]]:
    """Coverage percentage of each service over each window of ``figures`` (see ``coverage``)."""
    return {
        r.id: {
            label: coverage.over(f.start, now + 1, f.checks, r.display.expect, now=now)
            for label, f in figures[r.id].items()
        }
        for r in rows
    }


def window_figures(
    engine: Engine, service_ids: Sequence[str], *, now: int, windows: Sequence[str] = tuple(UPTIME_WINDOWS)
) -> dict[str, dict[str, WindowFigure]]:
    """:func:`uptime_windows` with each window's checks and start."""
    out: dict[str, dict[str, WindowFigure]] = {sid: {} for sid in service_ids}
    if not service_ids:
        return out
    series = [(service_source(sid), "up") for sid in service_ids]
    # Windows read in the same bucket share one read: the longest, whose last buckets are exactly the
    # shorter window's grid (24 h is the last 24 hourly buckets of 7 d; 30 d the last 120 of 90 d).
    by_step: dict[tm.Interval, list[str]] = {}
    for label in windows:
        by_step.setdefault(UPTIME_WINDOWS[label][1], []).append(label)
    for step, labels in by_step.items():
        longest = max(labels, key=lambda lb: UPTIME_WINDOWS[lb][0])
        query = Query(tm.RangeSpec(last_ms=UPTIME_WINDOWS[longest][0], label=longest), step)
        grid = tm.make_grid(query.range, step, now=now)
        found = engine.read_many(series, query, now=now)
        for label in labels:
            n = -(-UPTIME_WINDOWS[label][0] // step.ms)
            start = grid.start + (grid.n - n) * step.ms
            for sid, b in zip(service_ids, found, strict=True):
                value, checks = (None, 0) if b is None else _tail_ratio(b, n)
                out[sid][label] = WindowFigure(percent(value), checks, start)
    return out


@dataclass(frozen=True, slots=True)
class UptimeBucket:
    start: int
    uptime: float | None  # percent; None: no check ran (unknown)
    checks: int
    coverage: float | None = None  # percent of the expected checks that ran


@dataclass(frozen=True, slots=True)
class UptimeSpan:
    """Uptime over a range: overall and per bucket (every bucket since the service existed, those without
    checks unknown), with the coverage of each."""

    start: int
    end: int
    resolution: str
    uptime: float | None  # percent; None without checks
    checks: int
    down_checks: int
    buckets: list[UptimeBucket]
    coverage: float | None = None


@dataclass(frozen=True, slots=True)
class HistoryBucket:
    """One bucket of checks: its start, status (up when every check was up, down when none was, degraded
    between), average response time, uptime % and number of checks."""

    start: int
    status: str
    response_ms: float | None
    uptime: float | None
    checks: int


@dataclass(frozen=True, slots=True)
class DayBar:
    """One calendar day: its date in the zone asked for, its start, uptime % (None without checks), and
    the coverage of its expected checks (None before the service existed)."""

    date: str
    start: int
    uptime: float | None
    checks: int
    down_checks: int
    coverage: float | None = None


@dataclass(frozen=True, slots=True)
class ResponseTimeStats:
    """Response times over a range; percentiles exact while the raw tier covers it (``exact``)."""

    start: int
    end: int
    resolution: str
    tier: str | None
    count: int
    avg: float | None
    min: float | None
    max: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    exact: bool


def uptime_over(
    engine: Engine, service_id: str, query: Query, *, now: int, expect: coverage.Expectation
) -> UptimeSpan:
    """Uptime over any range, overall and per bucket of the query's resolution: every bucket from the
    service's creation to now, one without checks unknown (uptime None, coverage 0)."""
    if query.resolution == "raw":  # uptime is per bucket: raw points are bucketed automatically
        query = Query(query.range, "auto", query.tz)
    b = read_series(engine, service_id, "up", query, now=now)
    grid = _grid(b, query, now)
    value, checks, downs = ratio(b)
    starts = list(grid.starts())
    records = b.records if b is not None else [None] * len(starts)
    counts = [0 if rec is None else rec[1] for rec in records]
    covered = coverage.per_bucket(starts, grid.end, counts, expect, now=now)
    buckets = [
        UptimeBucket(start, None if rec is None else percent(rec[2] / rec[1]), n, cov)
        for start, rec, n, cov in zip(starts, records, counts, covered, strict=True)
        if rec is not None or cov is not None
    ]
    whole = coverage.over(grid.start, grid.end, checks, expect, now=now)
    return UptimeSpan(grid.start, grid.end, grid.resolution, percent(value), checks, downs, buckets, whole)


def bucket_history(
    engine: Engine, service_id: str, query: Query, *, now: int
) -> tuple[str, list[HistoryBucket]]:
    """The resolution, and one item per bucket holding checks. Both series in one engine read."""
    source = service_source(service_id)
    up, ms = engine.read_many([(source, "up"), (source, "response_ms")], query, now=now)
    items = []
    if up is not None:
        times = ms.records if ms is not None else [None] * len(up.records)
        for i, start, share, checks in _up_buckets(up):
            rt = times[i]
            status = "up" if share >= 1 else "down" if share <= 0 else "degraded"
            average = None if rt is None else _round(rt[2] / rt[1])
            items.append(HistoryBucket(start, status, average, percent(share), checks))
    return _grid(up, query, now).resolution, items


def daily(
    engine: Engine, service_id: str, *, days: int, tz: str, now: int, expect: coverage.Expectation
) -> list[DayBar]:
    """One bar per calendar day in ``tz`` for the last ``days`` days (today last)."""
    return daily_many(engine, {service_id: expect}, days=days, tz=tz, now=now)[service_id]


def daily_many(
    engine: Engine, services: dict[str, coverage.Expectation], *, days: int, tz: str, now: int
) -> dict[str, list[DayBar]]:
    """:func:`daily` of many services (id -> its expectation) on the same days, in one pipelined read."""
    ids = list(services)
    query = _days_query(days, tz)
    found = engine.read_many([(service_source(sid), "up") for sid in ids], query, now=now)
    dates = calendar_days(days=days, tz=tz, now=now)
    starts = [start for _, start in dates]
    out: dict[str, list[DayBar]] = {}
    for sid, b in zip(ids, found, strict=True):
        records = b.records if b is not None else [None] * len(dates)
        counts = [0 if rec is None else rec[1] for rec in records]
        covered = coverage.per_bucket(starts, now + 1, counts, services[sid], now=now)
        out[sid] = [
            _bar(date, start, rec, cov)
            for (date, start), rec, cov in zip(dates, records, covered, strict=True)
        ]
    return out


def _days_query(days: int, tz: str) -> Query:
    return Query(tm.RangeSpec(last_ms=days * tm.DAY, label=f"{days}d"), tm.Interval(1, "d"), tz)


def calendar_days(*, days: int, tz: str, now: int) -> list[tuple[str, int]]:
    """(YYYY-MM-DD, start in epoch ms) of the last ``days`` calendar days in ``tz``, today last: the days
    of :func:`daily`'s bars."""
    zone = tm.zone(tz)
    query = _days_query(days, tz)
    grid = tm.make_grid(query.range, query.resolution, now=now, tz=tz)
    return [
        (datetime.fromtimestamp(start / 1000, UTC).astimezone(zone).date().isoformat(), start)
        for start in grid.starts()
    ]


def _bar(date: str, start: int, rec: Any, covered: float | None) -> DayBar:
    if rec is None:
        return DayBar(date, start, None, 0, 0, covered)
    count, ups = rec[1], rec[2]
    return DayBar(date, start, percent(ups / count), count, count - round(ups), covered)


def response_times(engine: Engine, service_id: str, query: Query, *, now: int) -> ResponseTimeStats:
    """avg, min, max, p50, p95, p99 of response times over the query's range.

    avg, min, max and count are exact at every tier (buckets keep count, sum, min and max). Percentiles are
    exact when the raw tier still covers the range (``exact``); beyond it they are computed from the
    bucket averages weighted by their counts (an approximation that smooths out spikes).
    """
    q = Query(query.range, query.resolution, query.tz, percentiles=True)
    b = read_series(engine, service_id, "response_ms", q, now=now)
    grid = _grid(b, q, now)
    if b is None:
        return _response_stats(grid, None, [], True)
    return _response_stats(grid, b, b.percentile_values or [], b.percentiles_exact)


def _response_stats(
    grid: tm.Grid, b: Buckets | None, sorted_values: list[float], exact: bool
) -> ResponseTimeStats:
    """The statistics of one read over ``grid`` and its sorted values."""
    if b is None:
        return ResponseTimeStats(
            grid.start, grid.end, grid.resolution, None, 0, None, None, None, None, None, None, True
        )
    stats = measured(b)
    return ResponseTimeStats(
        grid.start,
        grid.end,
        grid.resolution,
        b.tier.name,
        stats["count"],
        _round(stats["avg"]),
        _round(stats["min"]),
        _round(stats["max"]),
        _round(tm.percentile(sorted_values, 50)),
        _round(tm.percentile(sorted_values, 95)),
        _round(tm.percentile(sorted_values, 99)),
        exact or not stats["count"],
    )


@dataclass(frozen=True, slots=True)
class ResponseSeries:
    """Response times of many services on one grid (a status page's charts): per service, the average
    of each bucket, its p50 and p95 (None where the raw points no longer cover the range: only the
    raw tier keeps single checks) and the range's statistics (as :func:`response_times`)."""

    grid: tm.Grid
    per_bucket_percentiles: bool
    avg: dict[str, list[float | None]]
    p50: dict[str, list[float | None]]
    p95: dict[str, list[float | None]]
    stats: dict[str, ResponseTimeStats]


def response_series(engine: Engine, service_ids: Sequence[str], *, last: str, now: int) -> ResponseSeries:
    """Bucketed response times of every service over the last ``last`` (``24h``, ``7d`` ...) at the
    automatic resolution, in one pipelined read, plus one read of the raw points when the raw tier covers
    the range (for each bucket's p50 and p95, and exact percentiles over the range)."""
    rng = tm.RangeSpec(last_ms=tm.parse_interval(last, field="range").ms, label=last)
    grid = tm.make_grid(rng, "auto", now=now)
    lowest = engine.lowest_accepted(now)
    covered = lowest is None or grid.start >= lowest
    series = [(service_source(sid), "response_ms") for sid in service_ids]
    found = engine.read_many(series, Query(rng, "auto", percentiles=not covered), now=now)
    raw = _raw_reads(engine, series, grid, now) if covered else [None] * len(series)
    out = ResponseSeries(grid, covered, {}, {}, {}, {})
    for sid, b, r in zip(service_ids, found, raw, strict=True):
        out.avg[sid] = [None] * grid.n if b is None else [_avg(rec) for rec in b.records]
        if r is not None:
            p50, p95 = _bucket_percentiles(grid, r.raw_times, r.raw_values)
            out.stats[sid] = _response_stats(grid, b, sorted(r.raw_values), True)
        else:
            p50 = p95 = [None] * grid.n
            pv = b.percentile_values if b is not None else None
            out.stats[sid] = _response_stats(grid, b, pv or [], b is None or b.percentiles_exact)
        out.p50[sid], out.p95[sid] = p50, p95
    return out


def _raw_reads(
    engine: Engine, series: list[tuple[str, str]], grid: tm.Grid, now: int
) -> list[Buckets | None]:
    """Raw points of each series over the grid's span. A series over the point cap of one read (a push
    monitor beating every few seconds) gets None (no per-bucket percentiles), not an error for all."""
    query = Query(tm.RangeSpec(start=grid.start, end=grid.end, label="custom"), "raw")
    try:
        return engine.read_many(series, query, now=now)
    except InvalidInput:
        out: list[Buckets | None] = []
        for one in series:
            try:
                out.append(engine.read_many([one], query, now=now)[0])
            except InvalidInput:
                out.append(None)
        return out


def _avg(rec: Any) -> float | None:
    return None if rec is None else _round(rec[2] / rec[1])


def _bucket_percentiles(
    grid: tm.Grid, times: Sequence[int], values: Sequence[float]
) -> tuple[list[float | None], list[float | None]]:
    """p50 and p95 of the raw values in each bucket of the grid."""
    per: list[list[float]] = [[] for _ in range(grid.n)]
    for t, v in zip(times, values, strict=True):
        j = grid.index(t)
        if 0 <= j < grid.n:
            per[j].append(v)
    p50: list[float | None] = []
    p95: list[float | None] = []
    for vals in per:
        vals.sort()
        p50.append(_round(tm.percentile(vals, 50)))
        p95.append(_round(tm.percentile(vals, 95)))
    return p50, p95


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
