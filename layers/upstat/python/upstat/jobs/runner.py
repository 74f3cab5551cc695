"""Running a scheduled job: one at a time (a Redis lock with expiry), within a time budget.

EventBridge delivers at least once, so two invocations of a job may overlap: the second finds the lock held
and returns at once. The jobs themselves are idempotent too, so a lock lost to expiry does no harm.

Each run logs its summary as structured fields (``job``, ``summary``: one JSON log line under Lambda's JSON
log format), writes its metrics (upstat.metrics: JobRunsSkipped, JobRunsOverBudget, JobDuration), and a
completed run records when it started, which ``GET /healthz`` reports (:func:`last_runs`). Every run that
got the lock, completed or failed, also counts in the job's stats hash (:func:`job_stats`: runs, failures,
the latest run's start and duration), which ``GET /metrics`` exposes.

A run the data store fails (Redis gone, paused, out of memory) logs one line naming the job and the cause,
counts ``JobRunsFailed`` and raises :class:`JobFailed` with a short traceback, so the function's Errors
alarm fires. What it did is kept: the next run redoes the rest (every job is idempotent).
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import OutOfMemoryError, RedisError

from upstat import clock, metrics
from upstat.config import get_settings
from upstat.jobs.budget import SAFETY_MARGIN_S, budget_seconds
from upstat.store import health
from upstat.store.client import get_redis
from upstat.store.keyspace import Keys, keyspace
from upstat.store.scripts import Scripts, define

log = logging.getLogger("upstat.jobs")

# Release the job's lock only if this run still holds it (its token): a run that outlived its lock must
# not free the next run's.
RELEASE = define(
    "jobs.release",
    """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
""",
)

# Take the job's lock: SET NX PX, answering 1 when this run's token holds it, also when an earlier attempt of
# the same call took it and its reply was lost (a retried timeout must not skip the run that holds the lock).
# allow-oom: the lock is a few bytes, and under noeviction a full Redis refuses every other write, so without
# it no job, retention included, could run to free memory.
ACQUIRE = define(
    "jobs.acquire",
    """#!lua flags=allow-oom
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then return 1 end
if held then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
""",
)

# A finished run's state and last-run record (a few hundred bytes, written even when memory is full: the
# retention run that freed memory, or found nothing to free, must still record where it stopped), then the
# lock released if this run still holds it.
FINISH = define(
    "jobs.finish",
    """#!lua flags=allow-oom
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
if redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
return 1
""",
)


class JobFailed(Exception):
    """A scheduled run the data store failed; its message names the job and the cause (one line)."""


@dataclass(frozen=True)
class JobContext:
    """What a job body gets: the wall-clock time it started, its deadline and its saved state."""

    name: str
    now_ms: int
    deadline: float  # time.monotonic() value
    state: dict[str, Any]


@dataclass(frozen=True)
class LastRun:
    """The latest completed run of a job: when it started and ended (epoch ms), and whether it finished
    its work (False: it stopped at its budget and the next run goes on)."""

    started_ms: int
    finished_ms: int
    complete: bool


def lock_seconds(budget: float) -> int:
    """How long a run's lock lives: its budget and a margin. Shorter than the job's period (a test checks it
    for every job), so the lock of a run that could not release it (Redis gone) never skips the next run."""
    return int(budget + SAFETY_MARGIN_S) + 1


_warned: set[int] = set()


def _warn_once(client: Any) -> None:
    """A Redis that evicts when full loses services and keys without a word: said once per process."""
    if id(client) not in _warned:
        _warned.add(id(client))
        health.warn_if_evicting(client)


def run_job(name: str, context: Any, body: Callable[[JobContext], dict[str, Any]]) -> dict[str, Any]:
    """Run ``body`` under the job's lock; returns its summary, or ``{"skipped": ...}`` if already running.

    Raises :class:`JobFailed` (after one log line and the ``JobRunsFailed`` metric) when Redis fails."""
    try:
        return _run_locked(name, context, body)
    except RedisError as exc:
        error = "store_full" if isinstance(exc, OutOfMemoryError) else "store_unavailable"
        cause = f"{type(exc).__name__}: {exc}"
        log.error("job %s failed: %s (%s)", name, error, cause, extra={"job": name, "error": error})
        metrics.emit({"JobRunsFailed": 1}, properties={"job": name})
        # from None: the cause is in the message; Lambda logs this short traceback once, not redis-py's.
        raise JobFailed(f"job {name} failed: {error} ({cause}); the next run redoes the rest") from None


def _run_locked(name: str, context: Any, body: Callable[[JobContext], dict[str, Any]]) -> dict[str, Any]:
    settings = get_settings()
    client = get_redis()
    _warn_once(client)
    keys = Keys(settings.key_prefix)
    budget = budget_seconds(context)
    token = secrets.token_hex(16)
    lock = keys.job_lock(name)
    scripts = Scripts(client)
    ttl_ms = lock_seconds(budget) * 1000
    if not scripts.run(ACQUIRE, [lock], [token, ttl_ms]):
        log.info("job %s skipped: another run holds the lock", name, extra={"job": name, "skipped": True})
        metrics.emit({"JobRunsSkipped": 1}, properties={"job": name})
        return {"job": name, "skipped": "another run is in progress"}
    started = time.monotonic()
    started_ms = clock.now_ms()
    try:
        raw_state = client.get(keys.job_state(name))
        state = json.loads(raw_state) if raw_state else {}
        ctx = JobContext(name, started_ms, started + budget, state)
        try:
            summary = body(ctx)
        except Exception:
            _count_run(client, keys, name, started_ms, time.monotonic() - started, failed=True)
            raise
        elapsed = time.monotonic() - started
        _count_run(client, keys, name, started_ms, elapsed, failed=False)
        summary.setdefault("job", name)
        summary["duration_ms"] = round(elapsed * 1000, 1)
        last = LastRun(ctx.now_ms, clock.now_ms(), summary.get("complete") is not False)
        record = [json.dumps(ctx.state), json.dumps(last.__dict__), token]
        scripts.run(FINISH, [keys.job_state(name), keys.job_last_run(name), lock], record)
    except BaseException:
        _release(scripts, lock, token)
        raise
    _report(name, summary, over_budget=elapsed > budget or not last.complete)
    return summary


def _release(scripts: Scripts, lock: str, token: str) -> None:
    """Free the lock after a failed run; if Redis is what failed, the lock expires by itself."""
    with contextlib.suppress(RedisError):
        scripts.run(RELEASE, [lock], [token])


def _count_run(
    client: Any, keys: Keys, name: str, started_ms: int, elapsed_s: float, *, failed: bool
) -> None:
    """Count a run in the job's stats hash (one round trip). A failure to count is logged, never raised:
    it must neither fail a good run nor hide a failed run's own exception."""
    key = keys.job_stats(name)
    fields: dict[str, Any] = {"last_started_ms": started_ms, "last_duration_ms": round(elapsed_s * 1000, 1)}
    fields["last_failure_ms" if failed else "last_success_ms"] = clock.now_ms()
    try:
        pipe = client.pipeline(transaction=False)
        pipe.hset(key, mapping=fields)
        pipe.hincrby(key, "runs", 1)
        pipe.hincrby(key, "failures", int(failed))
        pipe.execute()
    except Exception as exc:  # the store failing here is reported by the run itself
        log.warning("job %s: run not counted (%s)", name, type(exc).__name__)


@dataclass(frozen=True)
class JobStats:
    """A job's runs so far (completed or failed), failures among them, and its latest run: when it
    started and how long it took (ms), when a run last succeeded and last failed (epoch ms; None: never)."""

    runs: int
    failures: int
    last_started_ms: int | None
    last_duration_ms: float | None
    last_success_ms: int | None
    last_failure_ms: int | None


def job_stats_pipelined(pipe: Any, names: Iterable[str]) -> None:
    """Queue the reads of :func:`job_stats` on a pipeline (read back with :func:`decode_job_stats`), so a
    caller reading more can do it in the same round trip."""
    keys = keyspace(Keys)
    for name in names:
        pipe.hgetall(keys.job_stats(name))


def decode_job_stats(raw: dict[Any, Any]) -> JobStats | None:
    """A job's stats from its hash (None: it never ran)."""
    if not raw:
        return None
    get = {_text(k): _text(v) for k, v in raw.items()}

    def num(field: str) -> int | None:
        return int(get[field]) if field in get else None

    duration = get.get("last_duration_ms")
    return JobStats(
        int(get.get("runs", 0)),
        int(get.get("failures", 0)),
        num("last_started_ms"),
        None if duration is None else float(duration),
        num("last_success_ms"),
        num("last_failure_ms"),
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def job_stats(client: Any, names: Iterable[str]) -> dict[str, JobStats | None]:
    """Each job's stats (None: it never ran), in one round trip."""
    names = list(names)
    pipe = client.pipeline(transaction=False)
    job_stats_pipelined(pipe, names)
    return {name: decode_job_stats(raw) for name, raw in zip(names, pipe.execute(), strict=True)}


def _report(name: str, summary: dict[str, Any], *, over_budget: bool) -> None:
    # The summary twice: in the text for a terminal (`make run`), as a field for Logs Insights (Lambda's
    # JSON log format puts every `extra` key on the line).
    extra = {"job": name, "summary": summary, "over_budget": over_budget}
    log.info("job %s done: %s", name, summary, extra=extra)
    metrics.emit(
        {"JobRunsSkipped": 0, "JobRunsOverBudget": int(over_budget), "JobDuration": summary["duration_ms"]},
        properties={"job": name},
    )


def last_runs(client: Any, names: Iterable[str]) -> dict[str, LastRun | None]:
    """The latest completed run of each job (None: none recorded), in one round trip."""
    names = list(names)
    keys = keyspace(Keys)
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.get(keys.job_last_run(name))
    found: dict[str, LastRun | None] = {}
    for name, raw in zip(names, pipe.execute(), strict=True):
        found[name] = LastRun(**json.loads(raw)) if raw else None
    return found


def ran_in_last_period(last: LastRun | None, period_s: int, now_ms: int) -> bool:
    """Whether the latest completed run started less than two periods ago.

    One period would flag a healthy job whose current run has not finished yet: a run starts every period
    and takes up to its budget, which is below the period (a test checks it for every job), so a healthy
    job's latest completed run always started less than two periods ago."""
    return last is not None and now_ms - last.started_ms < 2 * period_s * 1000
