"""Incidents: a confirmed down opens one (start = the first failing check, cause = its error), recovery closes
it (end, duration). Written by the recorder in the same script as the check (one hash per service, under its
hash tag), then indexed in one global sorted set for listings across services.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from upstat.store.keyspace import keyspace
from upstat.uptime.keyspace import UptimeKeys


@dataclass(frozen=True, slots=True)
class Incident:
    """One down period. ``end``/``duration_ms`` are None while it is open."""

    id: str
    service_id: str
    start: int
    cause: str | None
    error_kind: str | None = None
    end: int | None = None
    duration_ms: int | None = None

    @property
    def open(self) -> bool:
        return self.end is None

    def as_dict(self) -> dict[str, Any]:
        """Wire form: id, serviceId, start, end, durationMs, cause, errorKind, open."""
        return {
            "id": self.id,
            "serviceId": self.service_id,
            "start": self.start,
            "end": self.end,
            "durationMs": self.duration_ms,
            "cause": self.cause,
            "errorKind": self.error_kind,
            "open": self.open,
        }


def open_incident(service_id: str, start_ms: int, cause: str | None, error_kind: str | None) -> Incident:
    """A new open incident; its id is its start time (one incident per service starts at a given ms)."""
    return Incident(str(start_ms), service_id, start_ms, cause, error_kind)


def close_incident(incident: Incident, end_ms: int) -> Incident:
    return Incident(
        incident.id,
        incident.service_id,
        incident.start,
        incident.cause,
        incident.error_kind,
        end_ms,
        max(0, end_ms - incident.start),
    )


def encode(incident: Incident) -> str:
    return json.dumps(asdict(incident), separators=(",", ":"))


def decode(raw: bytes | str) -> Incident:
    return Incident(**json.loads(raw))


def index_member(incident: Incident) -> str:
    return f"{incident.service_id}:{incident.id}"


def _keys() -> UptimeKeys:
    return keyspace(UptimeKeys)


def for_service(client: Any, service_id: str, *, limit: int | None = 100) -> list[Incident]:
    """The service's incidents, newest first."""
    found = sorted(
        (decode(x) for x in client.hvals(_keys().incidents(service_id))), key=lambda i: i.start, reverse=True
    )
    return found if limit is None else found[:limit]


def get(client: Any, service_id: str, incident_id: str) -> Incident | None:
    raw = client.hget(_keys().incidents(service_id), incident_id)
    return None if raw is None else decode(raw)


def across_services(
    client: Any,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    limit: int = 100,
    service_ids: Sequence[str] | None = None,
) -> list[Incident]:
    """Incidents of every service (or of ``service_ids``) that started in the range, newest first.

    Two round trips: the global index, then the incidents themselves (deleted services' ones are skipped).
    """
    keys = _keys()
    high: int | str = "+inf" if until_ms is None else until_ms
    low: int | str = "-inf" if since_ms is None else since_ms
    wanted = set(service_ids) if service_ids is not None else None
    fetch = limit if wanted is None else max(limit * 10, 1000)
    members = [
        m.decode() if isinstance(m, bytes) else m
        for m in client.zrevrangebyscore(keys.incident_index(), high, low, 0, fetch)
    ]
    pairs = [tuple(m.split(":", 1)) for m in members]
    pairs = [p for p in pairs if len(p) == 2 and (wanted is None or p[0] in wanted)][:limit]
    if not pairs:
        return []
    pipe = client.pipeline(transaction=False)
    for sid, iid in pairs:
        pipe.hget(keys.incidents(sid), iid)
    return [decode(raw) for raw in pipe.execute() if raw is not None]


def per_day(found: Sequence[Incident], starts: Sequence[int], now: int) -> list[tuple[int, int]]:
    """(incidents, downtime ms) of each day that starts at ``starts[i]`` (the last day ends at ``now``):
    an incident counts on every day it overlaps, an open one runs until ``now``. Pure."""
    ends = [*starts[1:], now]
    out = []
    for day_start, day_end in zip(starts, ends, strict=True):
        count = down = 0
        for i in found:
            overlap = min(day_end, now if i.end is None else i.end) - max(day_start, i.start)
            if overlap > 0 or (i.end is None and day_start <= i.start < day_end):
                count += 1
                down += max(0, overlap)
        out.append((count, down))
    return out


#: What a public page says caused an incident, by the check's error class. The check's own message can
#: name hosts, keywords or addresses of the target, so a public page never shows it.
PUBLIC_CAUSES = {
    "timeout": "Timed out",
    "dns": "DNS lookup failed",
    "tls": "TLS or certificate error",
    "refused": "Connection refused",
    "connection": "Connection failed",
    "status": "Unexpected HTTP status",
    "keyword": "Unexpected content",
    "blocked": "Target not allowed",
    "invalid": "Check misconfigured",
    "too_many_redirects": "Too many redirects",
}
_STATUS_CODE = re.compile(r"^(?:status|HTTP) (\d{3})\b")


def public_cause(incident: Incident) -> str:
    """The cause of an incident in words fit for a public page: the error class (and the HTTP status code
    for a status mismatch), never the check's message."""
    kind = incident.error_kind
    code = _STATUS_CODE.match(incident.cause or "") if kind in ("status", None) else None
    if code:
        return f"HTTP {code.group(1)}"
    return PUBLIC_CAUSES.get(kind or "", "Service down")
