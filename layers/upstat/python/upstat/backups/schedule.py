"""A job's expected runs: when the next is due, whether it is overdue, how many were expected. Pure rules,
and the tick that alerts overdue jobs through the one path of recorded changes (upstat.rules.transitions).

Rules (README "duplistatus"): a job with a schedule is expected at each occurrence of its cron expression
in its time zone. It is **overdue** when an occurrence more than ``tolerance`` in the past has no run that
began at or after that occurrence minus the tolerance (a run may start a little early, or wait in the
server's queue up to the tolerance). The runs **expected** over a window are the occurrences from the
window's start (or the job's first run, less the tolerance, if later) until now, leaving out the
occurrences of the last ``tolerance`` that have no run yet (they are not late yet).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from upstat.backups.runs import job_source
from upstat.backups.store import BackupStore, Job
from upstat.timeseries import cron

log = logging.getLogger("upstat.backups")


def next_run(job: Job, now: int) -> int | None:
    """The next occurrence of the job's schedule after ``now``; without a schedule, the next run its server
    announced in its last report (if any)."""
    if job.schedule:
        return cron.next_after(cron.parse(job.schedule), now, job.tz)
    return job.reported_next_ms


def missed_occurrence(job: Job, last_run: int | None, now: int) -> int | None:
    """The occurrence the job is overdue for (the latest one more than the tolerance ago that has no run),
    or None when it is not overdue (or has no schedule)."""
    if not job.schedule:
        return None
    due = cron.last_at_or_before(cron.parse(job.schedule), now - job.tolerance_ms, job.tz)
    if due is None:
        return None
    if last_run is not None and last_run >= due - job.tolerance_ms:
        return None
    return due


def expected_runs(job: Job, start: int, first_run: int | None, last_run: int | None, now: int) -> int | None:
    """How many runs the schedule expected in [start, now] (rule above); None without a schedule."""
    if not job.schedule:
        return None
    expr = cron.parse(job.schedule)
    if first_run is not None:
        start = max(start, first_run - job.tolerance_ms)
    total = cron.count_between(expr, start, now + 1, job.tz)
    pending_from = max(start, now - job.tolerance_ms + 1)
    if last_run is not None:
        pending_from = max(pending_from, last_run + job.tolerance_ms + 1)  # those have a run
    pending = cron.count_between(expr, pending_from, now + 1, job.tz)
    return total - pending


@dataclass(frozen=True)
class Overdue:
    job: Job
    server_name: str
    due_ms: int
    last_run_ms: int | None


def overdue_jobs(client: Any, engine: Any, now: int) -> list[Overdue]:
    """Every scheduled job overdue at ``now`` (three round trips whatever their number)."""
    store = BackupStore(client)
    jobs = store.scheduled()
    if not jobs:
        return []
    infos = engine.info_many([(job_source(j.server_id, j.id), "duration") for j in jobs])
    names = {s.id: s.alias or s.name for s in store.servers()}
    out = []
    for job, info in zip(jobs, infos, strict=True):
        last = info.last_ts if info is not None else None
        due = missed_occurrence(job, last, now)
        if due is not None:
            out.append(Overdue(job, names.get(job.server_id, job.server_id), due, last))
    return out


def alert_overdue(client: Any, engine: Any, *, now: int, deadline: float | None = None) -> dict[str, int]:
    """Send one alert per missed occurrence of each overdue job: each a transition of the job numbered by
    its occurrence (upstat.rules.transitions, the path rules' changes take), claimed once, so overlapping
    or repeated ticks send it once."""
    from upstat.rules.transitions import Transition, deliver

    late = overdue_jobs(client, engine, now)
    transitions = [
        Transition(
            kind="backup",
            subject=f"backup-{job_digest(o.job)}",
            name=f"{o.server_name} / {o.job.name}",
            transition="overdue",
            previous=None,
            current="overdue",
            at=o.due_ms,
            seq=o.due_ms,
            cause_kind="missed_schedule",
            cause=f"no run since the run due at {_iso(o.due_ms)} ({o.job.schedule} {o.job.tz})",
        )
        for o in late
    ]
    sent = deliver(client, transitions, deadline=deadline if deadline is not None else time.monotonic() + 20)
    if sent:
        log.info("backup overdue alerts sent: %d", len(sent))
    return {"overdue": len(late), "alerts_sent": len(sent)}


def job_digest(job: Job) -> str:
    from upstat.store.keyspace import name_id

    return name_id("backup-job", job_source(job.server_id, job.id))


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
