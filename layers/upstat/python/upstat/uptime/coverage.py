"""Coverage: the share of a window's expected checks that actually ran, beside uptime.

Uptime is computed from the checks that ran; when upstat itself stops checking (the ping job failing, the
account's Lambda throttled, a Redis outage), no check runs and no uptime point is written, so uptime alone
would still read 100 %. Coverage says how much of the window that figure stands for; a bucket with no check
reads unknown (uptime null, coverage 0), never up.

The rules (pure functions of plain values, tested as such):

- A service is expected to be checked once per *period* from its creation on: its interval, rounded up to
  whole runs of the ping schedule (once a minute: a 90 s service is checked every 2 minutes, a 30 s one
  every minute) for checked kinds; a push monitor's own interval (its job beats on its own clock, and a
  missed beat is written as a down check).
- Expected checks over a span = the whole periods in the part of the span after the service's creation and
  before now. Coverage = checks / expected, at most 100 %; None when no check was expected yet.
- Maintenance is not subtracted: a check during a window still runs and counts (a down one writes no
  uptime point, so it does not count, and lowers coverage, not uptime: that time was not measured). Paused
  time is not subtracted either: nobody was watching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The ping job's rate (upstat.jobs.SCHEDULES "ping"; a test keeps the two equal).
PING_SCHEDULE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Expectation:
    """When a service began to be checked and how often it is checked."""

    created_ms: int
    period_ms: int


def check_period_ms(kind: str, interval_s: int) -> int:
    """How often a service of this kind and interval is really checked (see the module's rules)."""
    interval = interval_s * 1000
    if kind == "push":
        return interval
    return -(-interval // PING_SCHEDULE_MS) * PING_SCHEDULE_MS


def expectation(kind: str, interval_s: int, created_ms: int) -> Expectation:
    return Expectation(created_ms, check_period_ms(kind, interval_s))


def expected_checks(start: int, end: int, expect: Expectation, *, now: int) -> int:
    """Whole periods in [start, end) after the service's creation and before ``now``."""
    span = min(end, now) - max(start, expect.created_ms)
    return max(0, span) // expect.period_ms


def ratio(checks: int, expected: int) -> float | None:
    """Coverage as a percentage with 2 decimals, at most 100; None when nothing was expected."""
    if expected <= 0:
        return None
    return round(min(1.0, checks / expected) * 100, 2)


def over(start: int, end: int, checks: int, expect: Expectation, *, now: int) -> float | None:
    """Coverage of [start, end) holding ``checks`` checks."""
    return ratio(checks, expected_checks(start, end, expect, now=now))


def per_bucket(
    starts: Sequence[int], end: int, checks: Sequence[int], expect: Expectation, *, now: int
) -> list[float | None]:
    """Coverage of each bucket: bucket i spans [starts[i], starts[i + 1]), the last one up to ``end``."""
    bounds = [*starts[1:], end]
    return [over(lo, hi, n, expect, now=now) for lo, hi, n in zip(starts, bounds, checks, strict=True)]
