"""What upstat keeps of devices besides their series, in Redis: every command devices send is here.

- the latest report of each device (its NetJSON as received, for OpenWISP's ``status=true``), replaced only by
  a report with a later time (a backfilled one never hides a newer one);
- each device's health record (status, the sequence number of its changes, since when, the threshold
  metrics' health, the time of its last report), changed by compare-and-set scripts so each change is
  recorded, and alerted, once;
- the time of each device's last report in a sorted set, so the silence sweep reads only the silent ones;
- a claim per report (device, time, body digest), so a report repeated by the agent's retry stores once.

Every key lives under the one hash tag ``{devices}``: each script touches one cluster slot. Records are
small (a health record is ~150 bytes; a report is what the agent sent, bounded by the API's body limit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from upstat.store.keyspace import keyspace
from upstat.store.scripts import Scripts, define

#: How long a report's claim is kept: as long as a backfilled report may be accepted (the raw tier's default
#: retention), so the agent's retry of an old file is recognised too.
CLAIM_TTL_S = 48 * 3600

SCRIPTS: dict[str, str] = {
    # A report's state. KEYS: health, last, reports, report times. ARGV: id, report time, current (1/0),
    # status, metrics JSON, report JSON, now. Replies {changed 0/1, seq, previous status}.
    "device_report": """
local id, t, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[7])
local kept = tonumber(redis.call('HGET', KEYS[4], id) or '-1')
if t >= kept then
  redis.call('HSET', KEYS[3], id, ARGV[6])
  redis.call('HSET', KEYS[4], id, t)
end
local last = tonumber(redis.call('ZSCORE', KEYS[2], id) or '-1')
if t > last then redis.call('ZADD', KEYS[2], t, id); last = t end
local raw = redis.call('HGET', KEYS[1], id)
local rec = raw and cjson.decode(raw) or {status='unknown', seq=0, since=now, metrics={}}
local previous = rec.status
local changed = 0
if ARGV[3] == '1' then
  rec.metrics = cjson.decode(ARGV[5])
  if rec.status ~= ARGV[4] then
    rec.status = ARGV[4]; rec.seq = rec.seq + 1; rec.since = now; changed = 1
  end
end
rec.last = last
redis.call('HSET', KEYS[1], id, cjson.encode(rec))
return {changed, rec.seq, previous}
""",
    # Silent devices become critical. KEYS: health, last. ARGV: before (ms), now, limit.
    # Replies a flat list {id, seq, previous, ...} of the devices changed.
    "device_silence": """
local out = {}
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[1], id)
  if raw then
    local rec = cjson.decode(raw)
    if rec.status ~= 'critical' then
      local previous = rec.status
      rec.status = 'critical'; rec.seq = rec.seq + 1; rec.since = tonumber(ARGV[2])
      redis.call('HSET', KEYS[1], id, cjson.encode(rec))
      table.insert(out, id); table.insert(out, rec.seq); table.insert(out, previous)
    end
  end
end
return out
""",
}


DEVICE_REPORT = define("devices.report", SCRIPTS["device_report"])
DEVICE_SILENCE = define("devices.silence", SCRIPTS["device_silence"])


class DeviceKeys:
    """Key names, built in one place (every key under the ``{devices}`` hash tag)."""

    def __init__(self, prefix: str) -> None:
        self._base = f"{prefix}devices:{{devices}}"

    def health(self) -> str:
        """Hash: device id -> its health record (JSON)."""
        return f"{self._base}:health"

    def last(self) -> str:
        """Sorted set: device id scored by the time of its latest report (ms)."""
        return f"{self._base}:last"

    def reports(self) -> str:
        """Hash: device id -> its latest report (JSON: time and the NetJSON as received)."""
        return f"{self._base}:reports"

    def report_times(self) -> str:
        """Hash: device id -> the time of the report kept in ``reports``."""
        return f"{self._base}:report-times"

    def claim(self, device: str, digest: str) -> str:
        """String: a report already received (device, time and body digest)."""
        from upstat.store.keyspace import name_id

        return f"{self._base}:claim:{name_id(device, digest)}"

    def wifi_open(self, device: str) -> str:
        """Hash: (interface, MAC) -> the id of the device's open Wi-Fi session of that station."""
        from upstat.store.keyspace import name_id

        return f"{self._base}:wifi-open:{name_id('device', device)}"

    def wifi_sessions(self) -> str:
        """Hash: session id -> the session (JSON)."""
        return f"{self._base}:wifi-sessions"

    def wifi_order(self) -> str:
        """Sorted set: session id scored by its start time (ms): the listing order."""
        return f"{self._base}:wifi-order"

    def wifi_seen(self) -> str:
        """Hash: device id -> time of the latest report whose stations were compared (sessions)."""
        return f"{self._base}:wifi-seen"


def keys() -> DeviceKeys:
    return keyspace(DeviceKeys)


@dataclass(frozen=True)
class Health:
    """A device's health record as stored (``last``: time of its latest report; None: no report yet)."""

    status: str = "unknown"
    seq: int = 0
    since: int | None = None
    last: int | None = None
    metrics: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """One change of a device's health, recorded (``seq`` numbers the device's changes)."""

    device: str
    seq: int
    previous: str
    current: str
    at: int


def claim_report(client: Any, device: str, digest: str, *, ttl_s: int | None = None) -> bool:
    """True the first time this report (``digest``: its time and body) is seen within ``ttl_s`` (default
    :data:`CLAIM_TTL_S`); False for a repeat."""
    return bool(client.set(keys().claim(device, digest), "1", nx=True, ex=ttl_s or CLAIM_TTL_S))


def release_report(client: Any, device: str, digest: str) -> None:
    """Forget a claim (the report failed after being claimed: the agent's retry must be stored)."""
    client.delete(keys().claim(device, digest))


def record_report(
    client: Any,
    device: str,
    *,
    report_ms: int,
    current: bool,
    status: str,
    metrics: dict[str, bool],
    report: Any,
    now: int,
) -> Change | None:
    """Keep the report (if it is the latest), its time, and, for a current report, the health it gives; the
    change of health when there is one."""
    k = keys()
    body = json.dumps({"time": report_ms, "data": report}, separators=(",", ":"))
    changed, seq, previous = Scripts(client).run_many(
        DEVICE_REPORT,
        [
            (
                [k.health(), k.last(), k.reports(), k.report_times()],
                [device, report_ms, "1" if current else "0", status, json.dumps(metrics), body, now],
            )
        ],
    )[0]
    if not changed:
        return None
    return Change(device, int(seq), _text(previous), status, now)


def mark_silent(client: Any, *, before: int, now: int, limit: int = 500) -> list[Change]:
    """Devices whose latest report is older than ``before`` become critical (those already are stay as they
    are); at most ``limit`` per call."""
    k = keys()
    flat = Scripts(client).run_many(DEVICE_SILENCE, [([k.health(), k.last()], [before, now, limit])])[0]
    return [
        Change(_text(flat[i]), int(flat[i + 1]), _text(flat[i + 2]), "critical", now)
        for i in range(0, len(flat), 3)
    ]


def health_of(client: Any, devices: list[str]) -> list[Health]:
    """Each device's health record (the default, ``unknown``, for one that never reported), one command."""
    if not devices:
        return []
    out = []
    for raw in client.hmget(keys().health(), devices):
        if raw is None:
            out.append(Health())
            continue
        doc = json.loads(_text(raw))
        metrics = doc.get("metrics") or {}
        out.append(
            Health(
                status=doc["status"],
                seq=int(doc["seq"]),
                since=int(doc["since"]),
                last=None if doc.get("last") in (None, -1) else int(doc["last"]),
                metrics=dict(metrics) if isinstance(metrics, dict) else {},  # cjson writes {} as []
            )
        )
    return out


def latest_report(client: Any, device: str) -> tuple[int, Any] | None:
    """(time, NetJSON) of the device's latest report (None before the first)."""
    raw = client.hget(keys().reports(), device)
    if raw is None:
        return None
    doc = json.loads(_text(raw))
    return int(doc["time"]), doc["data"]


def latest_reports(client: Any, devices: list[str]) -> list[Any]:
    """The NetJSON of each device's latest report (None where there is none), one command."""
    if not devices:
        return []
    return [
        None if raw is None else json.loads(_text(raw))["data"]
        for raw in client.hmget(keys().reports(), devices)
    ]


def forget_device(client: Any, device: str) -> None:
    """Drop everything kept of a device (it was unregistered)."""
    k = keys()
    pipe = client.pipeline(transaction=False)
    for key in (k.health(), k.reports(), k.report_times(), k.wifi_seen()):
        pipe.hdel(key, device)
    pipe.zrem(k.last(), device)
    pipe.delete(k.wifi_open(device))
    pipe.execute()


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
