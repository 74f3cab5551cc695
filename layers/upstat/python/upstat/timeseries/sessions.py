"""Sessions from successive snapshots: who is connected, who came, who left, and what each moved.

An agent that reports the members of something (a VPN server's clients, an access point's Wi-Fi stations)
sends snapshots: each member with the time its session started (when known) and cumulative counters that
start from zero with each session. Pure functions over those snapshots, no I/O; ``now`` is the snapshot's
own time.

Rules:

- A member's session **restarted** when its start time changed, or when any counter went down (a counter
  only grows within a session, so a lower value began again from zero). A restart is never a negative
  increase: the new session's counters count whole.
- A member **first seen** counts whole when its session started inside the window the caller records
  (``counted_whole``: its start is a point the caller writes as zero), else from this snapshot on.
- A member of the previous snapshot missing from this one has **ended** (it is no longer active).
- Rates are per second between two snapshots of one session (after a restart: since its start).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Counters = tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Seen:
    """One member in one snapshot: its session's start (epoch ms, None when the agent does not say), its
    counters, and the snapshot's time."""

    since: int | None
    counters: Counters
    time: int


@dataclass
class Step:
    """What one snapshot changed, member by member, and the increases summed across members."""

    started: list[str] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    continued: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    increase: dict[str, Counters] = field(default_factory=dict)
    rate: dict[str, Counters] = field(default_factory=dict)
    total: Counters = ()


def is_restart(before: Seen, now: Seen) -> bool:
    """The session began again: another start time, or a counter lower than before."""
    if before.since is not None and now.since is not None and before.since != now.since:
        return True
    return any(c < p for c, p in zip(now.counters, before.counters, strict=True))


def increase(before: Seen | None, now: Seen, *, whole: bool) -> Counters:
    """What each counter moved since ``before`` (``whole``: a member first seen counts from zero)."""
    if before is None:
        return now.counters if whole else tuple(0.0 for _ in now.counters)
    if is_restart(before, now):
        return now.counters
    return tuple(c - p for c, p in zip(now.counters, before.counters, strict=True))


def rate(before: Seen | None, now: Seen) -> Counters:
    """Per second since the previous snapshot of the same session, or since the session's start; zero when
    neither is known (a first sight without a start time) or no time passed."""
    if before is not None and not is_restart(before, now) and now.time > before.time:
        elapsed = (now.time - before.time) / 1000
        return tuple((c - p) / elapsed for c, p in zip(now.counters, before.counters, strict=True))
    if now.since is not None and now.time > now.since:
        elapsed = (now.time - now.since) / 1000
        return tuple(c / elapsed for c in now.counters)
    return tuple(0.0 for _ in now.counters)


def step(
    previous: Mapping[str, Seen],
    current: Mapping[str, Seen],
    *,
    previous_time: int | None,
    counted_whole: Callable[[Seen], bool],
) -> Step:
    """Compare a snapshot with what was known of each member (``previous``: each member's last sight, which
    may be older than the previous snapshot at ``previous_time``)."""
    out = Step()
    width = len(next(iter(current.values())).counters) if current else 0
    total = [0.0] * width
    for key, now in current.items():
        before = previous.get(key)
        if before is None or before.time < (previous_time or 0):
            (out.started if before is None or is_restart(before, now) else out.continued).append(key)
        elif is_restart(before, now):
            out.restarted.append(key)
        else:
            out.continued.append(key)
        moved = increase(before, now, whole=counted_whole(now))
        out.increase[key] = moved
        out.rate[key] = rate(before, now)
        for i, v in enumerate(moved):
            total[i] += v
    out.ended = sorted(
        key for key, seen in previous.items() if key not in current and seen.time == previous_time
    )
    out.total = tuple(total)
    return out
