"""Check logs (one sorted set per service, bounded in age by the history TTL) and service states: the reads
the API serves, and the TTL and clearing operations of /api/ping-history.

A check-log member is compact JSON ``{"t": ms, "status": "up"|"degraded"|"down", "code": int|null,
"ms": float|null, "error": str|null}`` (plus ``"maint": true`` for a down inside a maintenance window),
scored by ``t``. The TTL (seconds, 0 = unlimited) is a run-time setting kept in Redis; the recorder trims a
log on every write, :func:`set_ttl` trims every existing log at once and the retention job trims them all
periodically, so no entry older than the TTL is ever served (reads filter by age as well).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from upstat import clock
from upstat.config import get_settings
from upstat.errors import InvalidInput
from upstat.store.keyspace import keyspace
from upstat.uptime.keyspace import UptimeKeys, service_source
from upstat.uptime.state import ServiceState

#: At most this many logs per pipelined round trip when trimming or clearing all of them.
BATCH = 500
MAX_TTL_S = 10 * 365 * 86400
#: The engine metrics of a service (see recorder.py); cleared with the logs only when asked.
SERVICE_METRICS = ("response_ms", "up", "degraded", "cert_days")


@dataclass(frozen=True, slots=True)
class CheckEntry:
    """One check as logged."""

    timestamp: int
    status: str
    code: int | None
    response_ms: float | None
    error: str | None
    maintenance: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def encode_entry(
    t: int, status: str, code: int | None, ms: float | None, error: str | None, maint: bool = False
) -> str:
    """The check-log member of one check (unique per time: ``t`` is part of it)."""
    data: dict[str, Any] = {"t": t, "status": status, "code": code, "ms": ms, "error": error}
    if maint:
        data["maint"] = True
    return json.dumps(data, separators=(",", ":"))


def decode_entry(raw: bytes | str) -> CheckEntry:
    d = json.loads(raw)
    return CheckEntry(
        int(d["t"]), d["status"], d.get("code"), d.get("ms"), d.get("error"), bool(d.get("maint"))
    )


def _keys() -> UptimeKeys:
    return keyspace(UptimeKeys)


# ----------------------------------------------------------------------------------------------------
# Reads


def history(
    client: Any,
    service_id: str,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    limit: int | None = None,
    now_ms: int | None = None,
) -> list[CheckEntry]:
    """The service's checks within the TTL (and ``since_ms``..``until_ms`` inclusive), oldest first.

    With ``limit``, the newest ``limit`` of them (still oldest first). One round trip plus the TTL read.
    """
    now = clock.now_ms() if now_ms is None else now_ms
    ttl = get_ttl(client)
    low = since_ms if since_ms is not None else 0
    if ttl:
        low = max(low, now - ttl * 1000)
    high: int | str = "+inf" if until_ms is None else until_ms
    key = _keys().checklog(service_id)
    if limit is not None:
        raw = client.zrevrangebyscore(key, high, low, 0, max(0, int(limit)))
        raw.reverse()
    else:
        raw = client.zrangebyscore(key, low, high)
    return [decode_entry(x) for x in raw]


def latest(client: Any, service_ids: Sequence[str]) -> dict[str, CheckEntry]:
    """The newest logged check of each service that has one (one round trip)."""
    keys = _keys()
    pipe = client.pipeline(transaction=False)
    for service_id in service_ids:
        pipe.zrange(keys.checklog(service_id), -1, -1)
    out: dict[str, CheckEntry] = {}
    for service_id, raw in zip(service_ids, pipe.execute(), strict=True):
        if raw:
            out[service_id] = decode_entry(raw[0])
    return out


def read_state(client: Any, service_id: str) -> ServiceState:
    """The service's status state (``ServiceState()``, i.e. pending, if it was never checked)."""
    return read_states(client, [service_id])[service_id]


def read_states(client: Any, service_ids: Sequence[str]) -> dict[str, ServiceState]:
    """The status state of each service (one pipelined round trip; pending for never-checked ones).

    ``state.status`` is what a status page shows: pending, up, degraded, down or maintenance;
    ``last_checked_ms``, ``last_ms`` (response time), ``last_code`` and ``last_error`` describe the last
    check; ``since_ms`` is when the settled status began.
    """
    keys = _keys()
    pipe = client.pipeline(transaction=False)
    for service_id in service_ids:
        pipe.hget(keys.state(service_id), "s")
    return {sid: decode_state(raw) for sid, raw in zip(service_ids, pipe.execute(), strict=True)}


_STATE_FIELDS = tuple(ServiceState.__dataclass_fields__)


def encode_state(state: ServiceState) -> str:
    return json.dumps({f: getattr(state, f) for f in _STATE_FIELDS}, separators=(",", ":"))


def decode_state(raw: bytes | str | None) -> ServiceState:
    if not raw:
        return ServiceState()
    data = json.loads(raw)
    known = ServiceState.__dataclass_fields__
    return ServiceState(**{k: v for k, v in data.items() if k in known})


# ----------------------------------------------------------------------------------------------------
# TTL


def default_ttl() -> int:
    return get_settings().history_ttl_s


def get_ttl(client: Any) -> int:
    """The history TTL in seconds (0 = unlimited): the value set at run time, else UPSTAT_HISTORY_TTL_S."""
    raw = client.hget(_keys().config(), "history_ttl_s")
    return default_ttl() if raw is None else int(raw)


def validate_ttl(value: Any, *, field: str = "ttl") -> int:
    """A TTL as sent by a client: whole seconds, 0 (unlimited) up to ten years; never a boolean or text."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InvalidInput(f"{field} must be a whole number of seconds (0 = unlimited)", field=field)
    if not 0 <= value <= MAX_TTL_S:
        raise InvalidInput(f"{field} must be between 0 (unlimited) and {MAX_TTL_S} seconds", field=field)
    return int(value)


def set_ttl(client: Any, value: Any, *, now_ms: int | None = None, deadline: float | None = None) -> int:
    """Store a new TTL and apply it to every existing log at once; returns the TTL in seconds.

    Bad values raise :class:`InvalidInput` naming ``ttl``.
    """
    ttl = validate_ttl(value)
    client.hset(_keys().config(), "history_ttl_s", ttl)
    trim_all(client, now_ms=now_ms, deadline=deadline)
    return ttl


def _service_ids(client: Any, keys: UptimeKeys) -> list[str]:
    return [x.decode() if isinstance(x, bytes) else x for x in client.zrange(keys.index(), 0, -1)]


def _batches(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), BATCH):
        yield items[i : i + BATCH]


def trim_all(
    client: Any,
    *,
    now_ms: int | None = None,
    deadline: float | None = None,
    service_ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Drop log entries older than the TTL (and beyond the per-service cap) in every service's log.

    Goes through the service index, ``BATCH`` logs per round trip; stops early at ``deadline``
    (a ``time.monotonic()`` value). Returns ``{"logs": n, "removed": n, "complete": bool}``.
    """
    now = clock.now_ms() if now_ms is None else now_ms
    keys = _keys()
    ttl = get_ttl(client)
    cap = get_settings().check_log_max_entries
    ids = list(service_ids) if service_ids is not None else _service_ids(client, keys)
    removed = done = 0
    for chunk in _batches(ids):
        if deadline is not None and time.monotonic() > deadline:
            return {"logs": done, "removed": removed, "complete": False}
        pipe = client.pipeline(transaction=False)
        for service_id in chunk:
            if ttl:
                pipe.zremrangebyscore(keys.checklog(service_id), "-inf", f"({now - ttl * 1000}")
            pipe.zremrangebyrank(keys.checklog(service_id), 0, -cap - 1)
        removed += sum(int(x) for x in pipe.execute())
        done += len(chunk)
    return {"logs": done, "removed": removed, "complete": True}


# ----------------------------------------------------------------------------------------------------
# Clearing


def clear(client: Any, *, service_ids: Sequence[str] | None = None, series: bool = False) -> int:
    """Delete the check logs (of every service, or of ``service_ids``); returns how many logs existed.

    Service definitions, states and incidents stay. With ``series=True`` the services' engine series
    (response time, up, degraded, cert days: every tier) are deleted as well.
    """
    keys = _keys()
    ids = list(service_ids) if service_ids is not None else _service_ids(client, keys)
    deleted = 0
    for chunk in _batches(ids):
        pipe = client.pipeline(transaction=False)
        for service_id in chunk:
            pipe.delete(keys.checklog(service_id))
        deleted += sum(int(x) for x in pipe.execute())
        if series:
            _clear_series(client, chunk)
    return deleted


def _clear_series(client: Any, service_ids: Sequence[str]) -> None:
    from upstat.timeseries.retention import current_engine

    current_engine(client).delete_sources([service_source(i) for i in service_ids])
