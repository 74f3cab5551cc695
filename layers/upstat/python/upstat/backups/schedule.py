"""A job's expected runs: when the next is due, whether it is overdue, how many were expected. Pure rules,
and the tick that judges overdue jobs by a built-in alert rule and alerts them through the one path of
recorded changes (upstat.rules.transitions).

Rules (README "duplistatus"): a job with a schedule is expected at each occurrence of its cron expression
in its time zone. It is **overdue** when an occurrence more than ``tolerance`` in the past has no run that
began at or after that occurrence minus the tolerance (a run may start a little early, or wait in the
server's queue up to the tolerance): the built-in rule ``absent(duration, ...)`` on the job's series, its
window running from that occurrence less the tolerance to now, judged by the rules' one evaluation
(upstat.rules.evaluate.judge) with its state kept by upstat.rules.store. The runs **expected** over a
window are the occurrences from the window's start (or the job's first run, less the tolerance, if later)
until now, leaving out the occurrences of the last ``tolerance`` that have no run yet (not late yet).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from upstat.backups.runs import job_source
from upstat.backups.store import BackupStore, Job
from upstat.rules import store as rstore
from upstat.rules.evaluate import Figures, judge, one_point, value_of
from upstat.rules.model import BUILTIN, Rule, Selector
from upstat.rules.state import SeriesState
from upstat.rules.transitions import Transition, deliver
from upstat.sources import store as registry
from upstat.timeseries import cron

log = logging.getLogger("upstat.backups")


def next_run(job: Job, now: int) -> int | None:
    """The next occurrence of the job's schedule after ``now``; without a schedule, the next run its server
    announced in its last report (if any)."""
    if job.schedule:
        return cron.next_after(cron.parse(job.schedule), now, job.tz)
    return job.reported_next_ms


#: The built-in rule's id (its states: one per job, under the job's source).
OVERDUE_ID = f"{BUILTIN}backup-overdue"


def overdue_rule(job: Job) -> Rule:
    """``absent(duration, ...)`` on the job's series: no run since the occurrence due, less the tolerance
    (the window is the tolerance plus the time since that occurrence; it is shown as the tolerance)."""
    return Rule(
        id=OVERDUE_ID,
        name="backup overdue",
        selector=Selector("duration", source=job_source(job.server_id, job.id)),
        aggregate="absent",
        window_ms=job.tolerance_ms,
    )


def occurrence_due(job: Job, now: int) -> int | None:
    """The latest occurrence of the schedule more than the tolerance ago (None: none, or no schedule)."""
    if not job.schedule:
        return None
    return cron.last_at_or_before(cron.parse(job.schedule), now - job.tolerance_ms, job.tz)


def window_of(job: Job, due: int, last_run: int | None) -> Figures | None:
    """What the rule's window since ``due`` less the tolerance holds: the job's latest run, if it began in
    it (the series' latest point is its latest run's start)."""
    return one_point(1.0) if last_run is not None and last_run >= due - job.tolerance_ms else None


def missed_occurrence(job: Job, last_run: int | None, now: int) -> int | None:
    """The occurrence the job is overdue for (its built-in rule breached over the window since that
    occurrence), or None when it is not overdue (or has no schedule)."""
    due = occurrence_due(job, now)
    if due is None:
        return None
    rule = overdue_rule(job)
    breached = rule.breached(value_of(rule.aggregate, window_of(job, due, last_run), rule.window_ms))
    return due if breached else None


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
class Judged:
    """One job's overdue rule judged at a tick: the state before and the state to record."""

    job: Job
    before: SeriesState
    after: SeriesState
    breached: bool


def judge_jobs(
    jobs: Sequence[Job], lasts: Sequence[int | None], befores: Sequence[Any], now: int
) -> list[Judged]:
    """Each job's overdue rule judged at ``now`` (pure). Its slot is the occurrence due, one more once the
    job ran for it: a tick repeated within one occurrence judges nothing new, a late run resolves it, and
    the next missed occurrence fires again."""
    out = []
    for job, last, before in zip(jobs, lasts, befores, strict=True):
        due = occurrence_due(job, now)
        if due is None:
            continue
        figures = window_of(job, due, last)
        prev = before or SeriesState()
        after = judge(overdue_rule(job), figures, prev, slot=due if figures is None else due + 1)
        out.append(Judged(job, prev, after, figures is None))
    return out


def alert_overdue(client: Any, engine: Any, *, now: int, deadline: float | None = None) -> dict[str, int]:
    """Judge each scheduled job's overdue rule and record its state (compare-and-set: overlapping ticks
    record it once); send each job's change to ``firing`` once, as a transition of the job (upstat.rules.
    transitions, the path rules' changes take), claimed per (job, seq). A run again resolves the rule
    (recorded, not alerted); the next missed occurrence fires it again."""
    store = BackupStore(client)
    jobs = store.scheduled()
    if not jobs:
        return {"overdue": 0, "alerts_sent": 0}
    sources = [job_source(j.server_id, j.id) for j in jobs]
    infos = engine.info_many([(s, "duration") for s in sources])
    befores = rstore.states_many(client, [OVERDUE_ID], [sources])[0]
    lasts = [info.last_ts if info is not None else None for info in infos]
    judged = judge_jobs(jobs, lasts, befores, now)
    changed = [j for j in judged if j.after is not j.before]
    replies = (
        rstore.apply(client, [(OVERDUE_ID, [(_source(j.job), j.before.slot, j.after) for j in changed])])[0]
        if changed
        else []
    )
    ok = {id(j): r for j, r in zip(changed, replies, strict=True)}
    kept = [j.after if ok.get(id(j), True) else None for j in judged]
    unsent = [(j, k) for j, k in zip(judged, kept, strict=True) if k is not None and k.unsent]
    servers = store.servers()
    names = {s.id: s.alias or s.name for s in servers}
    # the channels the backup server's source names (empty: the default channels)
    channels = {
        s.id: s.channels for s in registry.get_sources(client, [s.id for s in servers]) if s is not None
    }
    transitions = [
        _transition(j.job, names.get(j.job.server_id, j.job.server_id), k, channels.get(j.job.server_id, ()))
        for j, k in unsent
        if k.alert is not None and k.alert.transition == "firing"
    ]
    sent = deliver(client, transitions, deadline=deadline if deadline is not None else time.monotonic() + 20)
    # Sent, or claimed by another tick that sends it; a resolved change is recorded, not alerted.
    rstore.mark_sent(client, [(OVERDUE_ID, _source(j.job), k.seq) for j, k in unsent])
    if sent:
        log.info("backup overdue alerts sent: %d", len(sent))
    return {"overdue": sum(1 for j in judged if j.breached), "alerts_sent": len(sent)}


def _source(job: Job) -> str:
    return job_source(job.server_id, job.id)


def _transition(job: Job, server_name: str, s: SeriesState, channels: tuple[str, ...] = ()) -> Transition:
    assert s.alert is not None
    due = s.alert.at
    return Transition(
        kind="backup",
        subject=f"backup-{job_digest(job)}",
        name=f"{server_name} / {job.name}",
        transition="overdue",
        previous=None,
        current="overdue",
        at=due,
        seq=s.seq,
        cause_kind="missed_schedule",
        cause=f"no run since the run due at {_iso(due)} ({job.schedule} {job.tz})",
        channels=channels,
    )


def job_digest(job: Job) -> str:
    from upstat.store.keyspace import name_id

    return name_id("backup-job", job_source(job.server_id, job.id))


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
