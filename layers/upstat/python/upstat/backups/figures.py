"""Backup figures over a period: per-bucket values, statistics over the runs, and summaries. Plain values.

A **window** is the buckets of the asked granularity that hold the last ``period`` (the first holds
now - period, the last holds now). A granularity is used only when the engine still keeps it for the whole
period and the period has at most 10,000 such buckets; otherwise the next coarser one is used (minute,
hour, day, week) and the window says which. Everything below reads that one window, once, for every job
asked (one pipelined round trip), so the buckets, the statistics and the summaries agree:

- a bucket's value of a figure is the mean of the runs in it that reported the figure, with their count;
  its status is the worst status of its runs (fatal, error, unknown, warning, success);
- statistics (count, min, max, avg, total) are over the runs themselves, exact from any tier (buckets
  keep count, sum, min and max); the trend is upstat's rule over the bucket values, oldest first;
- a summary counts runs by status; successful runs are those that ended in success or warning.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from upstat.backups import schedule
from upstat.backups.runs import LISTED, STATUSES, SUCCESSFUL, job_source, status_metric
from upstat.backups.store import Job
from upstat.errors import InvalidInput
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import FIRST, LAST, MAX, MIN, Buckets, C, Query, S
from upstat.timeseries.render import column

PERIODS = {"1d": tm.DAY, "7d": 7 * tm.DAY, "30d": 30 * tm.DAY, "90d": 90 * tm.DAY, "1y": 365 * tm.DAY}
GRANULARITIES = {
    "minute": tm.Interval(1, "m"),
    "hour": tm.Interval(1, "h"),
    "day": tm.Interval(1, "d"),
    "week": tm.Interval(1, "w"),
}
#: The figures charts show (the others are stored and read through /v1/chart).
CHARTED = ("duration", "size", "files", "storage")
_READ = (*CHARTED, *(status_metric(s) for s in STATUSES))


@dataclass(frozen=True)
class Window:
    period: str
    granularity: str  # the one used (may be coarser than asked)
    query: Query
    start: int
    end: int
    starts: tuple[int, ...]


def window(engine: Any, period: str, granularity: str, now: int) -> Window:
    """The window of ``period`` at ``granularity``, or at the first coarser granularity the engine keeps
    for the whole period within 10,000 buckets."""
    if period not in PERIODS:
        raise InvalidInput(f"period: must be one of {', '.join(PERIODS)}", field="period")
    if granularity not in GRANULARITIES:
        raise InvalidInput(f"granularity: must be one of {', '.join(GRANULARITIES)}", field="granularity")
    span = PERIODS[period]
    names = list(GRANULARITIES)
    for name in names[names.index(granularity) :]:
        rng = tm.RangeSpec(start=now - span, end=now + 1, label=period)
        try:
            grid = tm.make_grid(rng, GRANULARITIES[name], now=now)
        except InvalidInput:  # more than 10,000 buckets
            continue
        tier = tm.choose_tier(grid, engine.tiers)
        if tier.retention_ms == 0 or tier.retention_ms >= span or name == names[-1]:
            return Window(period, name, Query(rng, GRANULARITIES[name]), grid.start, grid.end, grid.starts())
    raise AssertionError("weeks always fit")  # pragma: no cover


@dataclass
class JobRuns:
    """One job's buckets in a window (``None`` for a figure it never reported) and its first and last run
    ever (epoch ms of their start)."""

    job: Job
    buckets: dict[str, Buckets | None]
    first_run: int | None
    last_run: int | None
    _statuses: dict[str, list[float]] | None = field(default=None, repr=False)
    _measures: dict[str, tuple[int, float, float, float]] = field(default_factory=dict, repr=False)

    def measure(self, metric: str) -> tuple[int, float, float, float]:
        """(runs, sum, min, max) of the figure over the window: exact from any tier (buckets keep count,
        sum, min and max). Computed once per figure."""
        found = self._measures.get(metric)
        if found is None:
            b = self.buckets.get(metric)
            recs = [] if b is None else [r for r in b.records if r is not None]
            if recs:
                cols = list(zip(*recs, strict=True))
                found = (int(sum(cols[C])), float(sum(cols[S])), min(cols[MIN]), max(cols[MAX]))
            else:
                found = (0, 0.0, math.inf, -math.inf)
            self._measures[metric] = found
        return found

    def status_counts(self) -> dict[str, list[float]]:
        """Runs per bucket by status (an empty list for a status never written). Computed once."""
        if self._statuses is None:
            out = {}
            for status in LISTED:
                b = self.buckets.get(status_metric(status))
                out[status] = [] if b is None else [v or 0.0 for v in column(b, "sum")]
            self._statuses = out
        return self._statuses


def read_jobs(engine: Any, jobs: Sequence[Job], win: Window, *, now: int) -> list[JobRuns]:
    """Every job's buckets of the charted figures and statuses, and its first and last run: two pipelined
    round trips whatever the number of jobs."""
    pairs = [(job_source(j.server_id, j.id), m) for j in jobs for m in _READ]
    found = engine.read_many(pairs, win.query, now=now) if pairs else []
    infos = engine.info_many([(job_source(j.server_id, j.id), "duration") for j in jobs]) if jobs else []
    out = []
    for i, job in enumerate(jobs):
        chunk = found[i * len(_READ) : (i + 1) * len(_READ)]
        info = infos[i]
        out.append(
            JobRuns(
                job,
                dict(zip(_READ, chunk, strict=True)),
                info.first_ts if info is not None else None,
                info.last_ts if info is not None else None,
            )
        )
    return out


# ----------------------------------------------------------------------------------------------------
# Buckets


@dataclass(frozen=True)
class Point:
    """One bucket holding runs: its start, the mean of the figure over its runs, how many runs reported it,
    the runs of the bucket by status and the worst of them, and the means of other figures asked for."""

    start: int
    value: float
    count: int
    statuses: dict[str, int]
    status: str = "success"
    others: dict[str, float] = field(default_factory=dict)


def _sums(b: Buckets | None) -> tuple[list[float | None], list[float | None]]:
    if b is None:
        return [], []
    return column(b, "sum"), column(b, "count")


def _bucket_statuses(counts: dict[str, list[float]], j: int) -> dict[str, int]:
    return {s: int(col[j]) if col else 0 for s, col in counts.items()}


def worst_status(statuses: dict[str, int]) -> str:
    """The worst status with a run (``unknown`` when there is none)."""
    for status in STATUSES:
        if statuses.get(status):
            return status
    return "unknown"


def job_points(jr: JobRuns, metric: str, others: Sequence[str] = ()) -> list[Point]:
    """The job's buckets that hold runs reporting ``metric``, oldest first, each with its status and the
    means of ``others`` in the same bucket."""
    sums, counts = _sums(jr.buckets.get(metric))
    statuses = jr.status_counts()
    extra = {name: _sums(jr.buckets.get(name)) for name in others}
    b = jr.buckets.get(metric)
    starts = b.grid.starts() if b is not None else ()
    out = []
    for j, (s, c) in enumerate(zip(sums, counts, strict=True)):
        if not c:
            continue
        means = {}
        for name, (osums, ocounts) in extra.items():
            if osums and ocounts[j]:
                means[name] = osums[j] / ocounts[j]  # type: ignore[operator]
        counted = _bucket_statuses(statuses, j)
        out.append(Point(starts[j], s / c, int(c), counted, worst_status(counted), means))  # type: ignore[operator]
    return out


def group_statuses(jobs: Sequence[JobRuns]) -> dict[str, list[float]]:
    """Runs per bucket by status over a group of jobs."""
    out: dict[str, list[float]] = {s: [] for s in LISTED}
    for jr in jobs:
        for status, col in jr.status_counts().items():
            if col:
                acc = out[status]
                out[status] = list(col) if not acc else [a + c for a, c in zip(acc, col, strict=True)]
    return out


def group_points(
    jobs: Sequence[JobRuns], metric: str, statuses: dict[str, list[float]] | None = None
) -> list[Point]:
    """Buckets of a group of jobs: the mean of the figure over every run in the bucket, oldest first, with
    the group's runs by status (``statuses``: :func:`group_statuses`, computed once for every figure)."""
    statuses = group_statuses(jobs) if statuses is None else statuses
    total: list[float] = []
    runs: list[float] = []
    starts: tuple[int, ...] = ()
    for jr in jobs:
        b = jr.buckets.get(metric)
        if b is None:
            continue
        recs = b.records
        if not total:
            starts = b.grid.starts()
            total, runs = [0.0] * len(recs), [0.0] * len(recs)
        for j in b.present if b.present is not None else range(len(recs)):
            rec = recs[j]
            if rec is not None:
                total[j] += rec[S]
                runs[j] += rec[C]
    out = []
    for j, n in enumerate(runs):
        if n:
            counted = _bucket_statuses(statuses, j)
            out.append(Point(starts[j], total[j] / n, int(n), counted, worst_status(counted)))
    return out


# ----------------------------------------------------------------------------------------------------
# Statistics and summaries


@dataclass(frozen=True)
class Stats:
    count: int
    min: float
    max: float
    avg: float
    total: float
    trend: str


def stats(jobs: Sequence[JobRuns], metric: str, points: Sequence[Point]) -> Stats:
    """Over the runs of ``jobs`` that reported ``metric`` (0 everywhere when there is none); the trend of
    ``points`` (sorted by time here)."""
    count, total = 0, 0.0
    low, high = math.inf, -math.inf
    for jr in jobs:
        n, t, lo, hi = jr.measure(metric)
        count, total, low, high = count + n, total + t, min(low, lo), max(high, hi)
    ordered = sorted((float(p.start), p.value) for p in points)
    return Stats(
        count=count,
        min=low if count else 0.0,
        max=high if count else 0.0,
        avg=total / count if count else 0.0,
        total=total,
        trend=tm.trend(ordered),
    )


def first_and_last(b: Buckets | None) -> tuple[float | None, float | None]:
    """The value of the first and of the last run in the window (tiers keep each bucket's first and last)."""
    if b is None:
        return None, None
    recs = [r for r in b.records if r is not None]
    if not recs:
        return None, None
    return recs[0][FIRST], recs[-1][LAST]


@dataclass(frozen=True)
class Summary:
    runs: int
    by_status: dict[str, int]
    successful: int
    failed: int
    success_rate: float  # percent, 2 decimals; 0 without runs
    average_duration: float
    total_size: float  # sum over runs of the bytes examined
    storage: float  # each job's storage after its last run in the window, summed


def summary(jobs: Sequence[JobRuns]) -> Summary:
    by_status = dict.fromkeys(LISTED, 0)
    for jr in jobs:
        for status, col in jr.status_counts().items():
            by_status[status] += int(sum(col))
    runs = sum(by_status.values())
    successful = sum(n for s, n in by_status.items() if s in SUCCESSFUL)
    duration = stats(jobs, "duration", ())
    size = stats(jobs, "size", ())
    storage = sum(last or 0.0 for _, last in (first_and_last(jr.buckets.get("storage")) for jr in jobs))
    return Summary(
        runs=runs,
        by_status=by_status,
        successful=successful,
        failed=runs - successful,
        success_rate=percent(successful, runs),
        average_duration=duration.avg,
        total_size=size.total,
        storage=storage,
    )


def percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def growth_rate(jr: JobRuns, metric: str = "size") -> float:
    """Percent change of ``metric`` from the first run in the window to the last (0 with fewer than two
    runs, or a first value of 0)."""
    first, last = first_and_last(jr.buckets.get(metric))
    runs = jr.measure(metric)[0]
    if first is None or last is None or runs < 2 or first == 0:
        return 0.0
    return round(100.0 * (last - first) / first, 2)


def reliability(jr: JobRuns, win: Window, now: int, s: Summary) -> float:
    """Successful runs per expected run, in percent (at most 100), when the job has a schedule; its success
    rate otherwise (or when no run was expected yet)."""
    expected = schedule.expected_runs(jr.job, win.start, jr.first_run, jr.last_run, now)
    if not expected:
        return s.success_rate
    return min(100.0, percent(s.successful, expected))
