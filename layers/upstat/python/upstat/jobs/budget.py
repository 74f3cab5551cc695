"""A job's time budget, apart from the runner (which takes a Redis lock): the split layout's checker uses
it and must not import Redis."""

from __future__ import annotations

from typing import Any

from upstat.config import get_settings

#: Seconds kept between the end of a job's budget and the end of its Lambda invocation.
SAFETY_MARGIN_S = 5.0


def budget_seconds(context: Any) -> float:
    """The settings' budget, shortened to what the Lambda invocation has left (minus a margin)."""
    budget = get_settings().job_time_budget_s
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        budget = min(budget, remaining() / 1000 - SAFETY_MARGIN_S)
    return max(budget, 1.0)
