"""Status-page events: what the public page's readers are told of, as feed entries (``feed``) and as webhook
POSTs to subscribers (``subscribers``): an incident opened or resolved, a maintenance window scheduled,
started or ended.

An event names services by name and incidents by their public cause (``incidents.public_cause``: the error
class, never the check's message), since it goes where the public status page goes. Its ``key`` is unique
per event and stable (the same incident's opening always has the same key), so a retried or concurrent
run that finds it again delivers it once, and a feed reader sees it once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from upstat.uptime import incidents, maintenance
from upstat.uptime.incidents import Incident
from upstat.uptime.maintenance import Window

EVENT_KINDS = (
    "incident.opened",
    "incident.resolved",
    "maintenance.scheduled",
    "maintenance.started",
    "maintenance.ended",
)


@dataclass(frozen=True, slots=True)
class Event:
    """One status-page event. ``services`` are names; () for a window covering every service."""

    kind: str
    key: str
    at_ms: int
    title: str
    services: tuple[str, ...]
    start: int | None = None
    end: int | None = None
    cause: str | None = None

    def payload(self) -> dict[str, Any]:
        """The JSON body a subscriber gets."""
        return {
            "event": self.kind,
            "id": self.key,
            "at": self.at_ms,
            "title": self.title,
            "text": self.text(),
            "services": list(self.services) or None,
            "start": self.start,
            "end": self.end,
            "cause": self.cause,
        }

    def text(self) -> str:
        """One sentence for a feed reader or a chat message, times in UTC."""
        if self.kind == "incident.opened":
            return f"{self._names()} went down at {_utc(self.start)}: {self.cause}."
        if self.kind == "incident.resolved":
            lasted = _duration((self.end or 0) - (self.start or 0))
            return f"{self._names()} is up again since {_utc(self.end)}, after {lasted} down ({self.cause})."
        what = {
            "maintenance.scheduled": "Scheduled",
            "maintenance.started": "Started",
            "maintenance.ended": "Ended",
        }
        return (
            f"{what[self.kind]}: maintenance of {self._names()} from {_utc(self.start)} to {_utc(self.end)}."
        )

    def _names(self) -> str:
        return ", ".join(self.services) if self.services else "every service"


def _utc(ms: int | None) -> str:
    if ms is None:
        return "?"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(ms: int) -> str:
    minutes = max(0, round(ms / 60_000))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def incident_opened(incident: Incident, name: str) -> Event:
    return Event(
        "incident.opened",
        f"incident.opened:{incident.service_id}:{incident.id}",
        incident.start,
        f"{name} is down",
        (name,),
        incident.start,
        None,
        incidents.public_cause(incident),
    )


def incident_resolved(incident: Incident, name: str) -> Event:
    assert incident.end is not None
    return Event(
        "incident.resolved",
        f"incident.resolved:{incident.service_id}:{incident.id}",
        incident.end,
        f"{name} is up again",
        (name,),
        incident.start,
        incident.end,
        incidents.public_cause(incident),
    )


def of_incidents(found: Iterable[Incident], names: dict[str, str]) -> list[Event]:
    """The opening of each incident, and the resolution of each closed one."""
    out = []
    for i in found:
        out.append(incident_opened(i, names[i.service_id]))
        if i.end is not None:
            out.append(incident_resolved(i, names[i.service_id]))
    return out


def window_event(kind: str, window: Window, occurrence: tuple[int, int], names: dict[str, str]) -> Event:
    """An event of one occurrence of a window (a one-off window has one)."""
    services = () if window.service_id is None else (names[window.service_id],)
    start, end = occurrence
    at = {"maintenance.started": start, "maintenance.ended": end}.get(kind, start)
    title = f"Maintenance: {window.title}" if window.title else "Maintenance"
    return Event(kind, f"{kind}:{window.id}:{start}", at, title, services, start, end)


def unique_windows(windows: dict[str, list[Window]]) -> list[Window]:
    """Each window once (a global window is listed under every service)."""
    seen: dict[str, Window] = {}
    for ws in windows.values():
        for w in ws:
            seen.setdefault(w.id, w)
    return list(seen.values())


def shown_windows(windows: Sequence[Window], names: dict[str, str], *, now: int, since: int) -> list[Event]:
    """One ``maintenance.scheduled`` event per window in force or to come (a recurring one: its current or
    next occurrence), and per one-off window that ended after ``since``, dated at its start."""
    out = []
    for w in windows:
        occ = maintenance.occurrence(w, now)
        if occ is None and w.recurring is None and w.end is not None and w.end >= since:
            assert w.start is not None
            occ = (w.start, w.end)
        if occ is not None:
            out.append(window_event("maintenance.scheduled", w, occ, names))
    return out


def window_changes(windows: Sequence[Window], names: dict[str, str], *, now: int, since: int) -> list[Event]:
    """``maintenance.started`` for each occurrence that began in (since, now], ``maintenance.ended`` for each
    that ended in it. A run every minute looking back a few minutes finds each one several times: its key
    makes it one delivery."""
    out = []
    for w in windows:
        current = maintenance.occurrence(w, now)
        if current is not None and since < current[0] <= now:
            out.append(window_event("maintenance.started", w, current, names))
        earlier = maintenance.occurrence(w, since)
        if earlier is not None and since < earlier[1] <= now:
            out.append(window_event("maintenance.ended", w, earlier, names))
    return out
