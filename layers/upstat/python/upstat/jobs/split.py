"""The split layout's two SQS consumers (README "Deployment"), called by functions/checker and
functions/writer: the checker probes outside the VPC and needs no Redis (this module imports none, and
neither does its job); the writer records inside it.
"""

from __future__ import annotations

import time
from typing import Any

from upstat.jobs.budget import budget_seconds


def checker(event: dict[str, Any], context: Any, *, ssl_context: Any = None) -> dict[str, Any]:
    """Probe the check requests of the SQS batch; send the results to the result queue
    (``ssl_context``: tests' local CA)."""
    from upstat.uptime.checker import run_checks

    deadline = time.monotonic() + budget_seconds(context)
    return run_checks(event.get("Records", []), deadline=deadline, ssl_context=ssl_context)


def writer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Record the checker's results of the SQS batch and send their alerts (each once)."""
    from upstat.store.client import get_redis
    from upstat.uptime.ticks import write_results

    deadline = time.monotonic() + budget_seconds(context)
    return write_results(get_redis(), event.get("Records", []), deadline=deadline)
