"""Recorded changes of state, delivered once: the one path from a change (a rule's series firing or
resolved, a device's health, a backup job's missed run) to the alert path.

A change is recorded first, numbered within its subject (``seq``) by whoever records it; then it is sent
as an :class:`upstat.uptime.alerts.Alert` through ``send_alerts``, which claims (subject, seq) before
sending, so overlapping or retried runs deliver each change once, and stores the outcome instead of
raising it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from upstat.config import Settings


@dataclass(frozen=True)
class Transition:
    """One recorded change of one subject: ``subject`` names it in alerts' ``service.id`` (claims and
    outcomes are kept under it), ``kind`` says what it is (``rule``, ``device``, ``backup``)."""

    kind: str
    subject: str
    name: str
    transition: str
    previous: str | None
    current: str
    at: int
    seq: int
    cause_kind: str | None = None
    cause: str | None = None
    channels: tuple[str, ...] = ()


def alert_of(t: Transition) -> Any:
    from upstat.uptime.alerts import Alert

    return Alert(
        service_id=t.subject,
        service_name=t.name,
        url="",
        transition=t.transition,
        previous=t.previous,
        current=t.current,
        at_ms=t.at,
        seq=t.seq,
        error_kind=t.cause_kind,
        error=t.cause,
        kind=t.kind,
        channels=t.channels,
    )


def deliver(
    client: Any,
    transitions: Sequence[Transition],
    *,
    deadline: float | None = None,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Send each change once (claimed per subject and seq); the outcomes of those this call sent."""
    if not transitions:
        return []
    from upstat.uptime.alerts import send_alerts

    deadline = deadline if deadline is not None else time.monotonic() + 20
    return send_alerts(client, [alert_of(t) for t in transitions], deadline=deadline, settings=settings)
