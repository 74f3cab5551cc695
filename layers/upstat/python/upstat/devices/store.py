"""What upstat keeps of devices besides their series, in Redis: every command devices send is here.

- the latest report of each device (its NetJSON as received, for OpenWISP's ``status=true``), replaced only by
  a report with a later time (a backfilled one never hides a newer one);
- each device's health as its built-in rules last gave it (status, the sequence number of its changes,
  since when), changed by a script that numbers each change once, so it is alerted once (the rules'
  states themselves are kept by upstat.rules.store);
- the time of each device's last report in a sorted set, so the silence sweep reads only the silent ones;
- a claim per report (device, time, body digest), so a report repeated by the agent's retry stores once.

Every key lives under the one hash tag ``{devices}``: each script touches one cluster slot. Records are
small (a health record is ~60 bytes; a report is what the agent sent, bounded by the API's body limit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from upstat.store.keyspace import keyspace
from upstat.store.scripts import Scripts, define

#: How long a report's claim is kept: as long as a backfilled report may be accepted (the raw tier's default
#: retention), so the agent's retry of an old file is recognised too.
CLAIM_TTL_S = 48 * 3600

SCRIPTS: dict[str, str] = {
    # A report's time and body. KEYS: last, reports, report times. ARGV: id, report time, report JSON.
    "device_report": """
local id, t = ARGV[1], tonumber(ARGV[2])
local kept = tonumber(redis.call('HGET', KEYS[3], id) or '-1')
if t >= kept then
  redis.call('HSET', KEYS[2], id, ARGV[3])
  redis.call('HSET', KEYS[3], id, t)
end
local last = tonumber(redis.call('ZSCORE', KEYS[1], id) or '-1')
if t > last then redis.call('ZADD', KEYS[1], t, id) end
return 1
""",
    # The health the device's rules give, numbered when it changes. KEYS: health. ARGV: id, status, now.
    # Replies {changed 0/1, seq, previous status}.
    "device_status": """
local id = ARGV[1]
local raw = redis.call('HGET', KEYS[1], id)
local rec = raw and cjson.decode(raw) or {status='unknown', seq=0, since=tonumber(ARGV[3])}
local previous = rec.status
if rec.status == ARGV[2] then return {0, rec.seq, previous} end
rec.status = ARGV[2]; rec.seq = rec.seq + 1; rec.since = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], id, cjson.encode(rec))
return {1, rec.seq, previous}
""",
}


DEVICE_REPORT = define("devices.report", SCRIPTS["device_report"])
DEVICE_STATUS = define("devices.status", SCRIPTS["device_status"])


class DeviceKeys:
    """Key names, built in one place (every key under the ``{devices}`` hash tag)."""

    def __init__(self, prefix: str) -> None:
        self._base = f"{prefix}devices:{{devices}}"

    def health(self) -> str:
        """Hash: device id -> the health its rules last gave, numbered per change (JSON; alerts' seq)."""
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


def record_report(client: Any, device: str, *, report_ms: int, report: Any) -> None:
    """Keep the report (if it is the latest) and its time (the silence rule reads the latest)."""
    k = keys()
    body = json.dumps({"time": report_ms, "data": report}, separators=(",", ":"))
    Scripts(client).run_many(
        DEVICE_REPORT, [([k.last(), k.reports(), k.report_times()], [device, report_ms, body])]
    )


def record_status(client: Any, device: str, status: str, *, now: int) -> Change | None:
    """Keep the health the device's rules give; the change, numbered, when it is one."""
    changed, seq, previous = Scripts(client).run_many(
        DEVICE_STATUS, [([keys().health()], [device, status, now])]
    )[0]
    if not changed:
        return None
    return Change(device, int(seq), _text(previous), status, now)


def silent(client: Any, *, before: int, offset: int = 0, limit: int = 500) -> list[str]:
    """Devices whose latest report is older than ``before``, oldest first, ``limit`` from ``offset``."""
    found = client.zrangebyscore(keys().last(), "-inf", f"({before}", start=offset, num=limit)
    return [_text(x) for x in found]


def last_reports(client: Any, devices: list[str]) -> list[int | None]:
    """The time of each device's latest report (None: none yet), one command."""
    if not devices:
        return []
    return [None if x is None else int(float(x)) for x in client.zmscore(keys().last(), devices)]


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
