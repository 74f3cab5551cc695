"""Running a scheduled job: one at a time (a Redis lock with expiry), within a time budget.

EventBridge delivers at least once, so two invocations of a job may overlap: the second finds the lock held
and returns at once. The jobs themselves are idempotent too, so a lock lost to expiry does no harm.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from upstat import clock
from upstat.config import get_settings
from upstat.store.client import get_redis
from upstat.store.keys import Keys

log = logging.getLogger("upstat.jobs")

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

SAFETY_MARGIN_S = 5.0


@dataclass(frozen=True)
class JobContext:
    """What a job body gets: the wall-clock time it started, its deadline and its saved state."""

    name: str
    now_ms: int
    deadline: float  # time.monotonic() value
    state: dict[str, Any]


def budget_seconds(context: Any) -> float:
    """The settings' budget, shortened to what the Lambda invocation has left (minus a margin)."""
    budget = get_settings().job_time_budget_s
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        budget = min(budget, remaining() / 1000 - SAFETY_MARGIN_S)
    return max(budget, 1.0)


def run_job(name: str, context: Any, body: Callable[[JobContext], dict[str, Any]]) -> dict[str, Any]:
    """Run ``body`` under the job's lock; returns its summary, or ``{"skipped": ...}`` if already running."""
    settings = get_settings()
    client = get_redis()
    keys = Keys(settings.key_prefix)
    budget = budget_seconds(context)
    token = secrets.token_hex(16)
    lock = keys.job_lock(name)
    if not client.set(lock, token, nx=True, ex=int(budget + SAFETY_MARGIN_S) + 1):
        log.info("job %s skipped: another run holds the lock", name)
        return {"job": name, "skipped": "another run is in progress"}
    started = time.monotonic()
    try:
        raw_state = client.get(keys.job_state(name))
        state = json.loads(raw_state) if raw_state else {}
        ctx = JobContext(name, clock.now_ms(), started + budget, state)
        summary = body(ctx)
        client.set(keys.job_state(name), json.dumps(ctx.state))
        summary.setdefault("job", name)
        summary["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        log.info("job %s done: %s", name, summary)
        return summary
    finally:
        client.eval(_RELEASE, 1, lock, token)
