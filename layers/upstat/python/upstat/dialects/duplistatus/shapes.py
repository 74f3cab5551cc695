"""The backup domain's figures in the document's fields (camelCase, ISO times, labels and units)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from upstat.backups import figures, schedule
from upstat.backups.figures import JobRuns, Point, Window
from upstat.backups.runs import LISTED
from upstat.backups.store import Job, Server
from upstat.timeseries.shapes import iso

LABELS = {
    "duration": ("Backup Duration (seconds)", "seconds"),
    "size": ("Backup Size (bytes)", "bytes"),
    "files": ("File Count", "files"),
    "storage": ("Storage Usage (bytes)", "bytes"),
}
METRICS = (*LABELS, "all")


def num(value: float) -> float | int:
    """Whole numbers as integers (the document writes 5400, not 5400.0); others to 6 decimals (a mean of
    seconds summed in floating point is 83.456789, not 83.45678900000003)."""
    return int(value) if float(value).is_integer() else round(value, 6)


def asked(metric: str) -> tuple[str, ...]:
    return tuple(LABELS) if metric == "all" else (metric,)


def _iso(ms: int | None) -> str | None:
    return None if ms is None else iso(ms)


def window_fields(win: Window) -> dict[str, Any]:
    return {
        "period": win.period,
        "granularity": win.granularity,
        "start": iso(win.start),
        "end": iso(win.end),
    }


def _statuses(counts: dict[str, int]) -> dict[str, int]:
    return {s: int(counts.get(s, 0)) for s in LISTED}


@lru_cache(maxsize=65536)
def _bucket_time(ms: int) -> str:
    """A bucket's start as the document writes it (the same few hundred starts, again and again)."""
    return iso(ms)


def _point(p: Point, **more: Any) -> dict[str, Any]:
    return {
        "timestamp": _bucket_time(p.start),
        "value": num(p.value),
        "count": p.count,
        "statuses": p.statuses,
        **more,
    }


def _metric(name: str, data: list[dict[str, Any]], stats: figures.Stats) -> dict[str, Any]:
    label, unit = LABELS[name]
    statistics = {
        "min": num(stats.min),
        "max": num(stats.max),
        "avg": num(stats.avg),
        "total": num(stats.total),
        "trend": stats.trend,
        "count": stats.count,
    }
    return {"label": label, "unit": unit, "data": data, "statistics": statistics}


def group_metrics(jobs: Sequence[JobRuns], metric: str) -> dict[str, Any]:
    """Aggregated route: one point per bucket over every job, oldest first."""
    out = {}
    statuses = figures.group_statuses(jobs)
    for name in asked(metric):
        points = figures.group_points(jobs, name, statuses)
        out[name] = _metric(name, [_point(p) for p in points], figures.stats(jobs, name, points))
    return out


def server_metrics(jobs: Sequence[JobRuns], metric: str) -> dict[str, Any]:
    """Server route: one point per bucket and job, oldest first, then by job name."""
    out = {}
    for name in asked(metric):
        pairs = [(p, jr.job.name) for jr in jobs for p in figures.job_points(jr, name)]
        pairs.sort(key=lambda pair: (pair[0].start, pair[1]))
        data = [_point(p, backupName=job, status=p.status) for p, job in pairs]
        out[name] = _metric(name, data, figures.stats(jobs, name, [p for p, _ in pairs]))
    return out


_OTHERS = {
    "duration": ("files", "size"),
    "size": ("duration", "files"),
    "files": ("duration", "size"),
    "storage": ("duration", "files", "size"),
}


def backup_metrics(jr: JobRuns, metric: str) -> dict[str, Any]:
    """Backup route: one point per bucket, newest first (as the document's example), with the means of the
    job's other figures in that bucket."""
    out = {}
    for name in asked(metric):
        points = figures.job_points(jr, name, _OTHERS[name])
        data = [
            _point(p, status=p.status, **{k: num(v) for k, v in p.others.items()}) for p in reversed(points)
        ]
        out[name] = _metric(name, data, figures.stats([jr], name, points))
    return out


def summary(s: figures.Summary) -> dict[str, Any]:
    return {
        "totalBackups": s.runs,
        "successfulBackups": s.successful,
        "failedBackups": s.failed,
        "successRate": s.success_rate,
        "averageDuration": num(s.average_duration),
        "totalData": num(s.total_size),
        "totalStorage": num(s.storage),
        "statusCounts": _statuses(s.by_status),
    }


def server(s: Server) -> dict[str, Any]:
    return {"id": s.number, "name": s.name, "alias": s.alias, "machineId": s.id}


def overdue(jr: JobRuns, now: int) -> bool:
    return schedule.missed_occurrence(jr.job, jr.last_run, now) is not None


def backup_item(jr: JobRuns, now: int) -> dict[str, Any]:
    s = figures.summary([jr])
    return {
        "name": jr.job.name,
        "id": jr.job.id,
        "count": s.runs,
        "successRate": s.success_rate,
        "averageDuration": num(s.average_duration),
        "totalSize": num(s.total_size),
        "lastRun": _iso(jr.last_run),
        "nextRun": _iso(schedule.next_run(jr.job, now)),
        "overdue": overdue(jr, now),
    }


def backup_job(jr: JobRuns, now: int) -> dict[str, Any]:
    job: Job = jr.job
    return {
        "name": job.name,
        "id": job.id,
        "schedule": job.schedule,
        "tz": job.tz,
        "lastRun": _iso(jr.last_run),
        "nextRun": _iso(schedule.next_run(job, now)),
        "overdue": overdue(jr, now),
    }


def backup_summary(jr: JobRuns, win: Window, now: int) -> dict[str, Any]:
    s = figures.summary([jr])
    return {
        **summary(s),
        "growthRate": figures.growth_rate(jr),
        "reliability": figures.reliability(jr, win, now, s),
        "overdue": overdue(jr, now),
    }
