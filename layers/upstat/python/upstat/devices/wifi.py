"""Wi-Fi sessions from successive reports: a station that appears on an access point's interface opens a
session (its start is that report's time); one missing from a later report closes it (its stop is the time
of the first report without it), by the rule every dialect shares for members of successive snapshots
(:func:`upstat.timeseries.sessions.step`, as OpenVPN's clients). Reports are compared in time order: a
report older than the last one compared (part of a backlog already passed) changes no session.

Sessions are kept under the devices' hash tag: each session a JSON field of one hash, the open ones per
device (interface and MAC -> session id), the listing order in a sorted set by start time. Closed sessions
older than :data:`RETENTION_MS` are dropped by the devices' sweep (OpenWISP keeps them 180 days too).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from upstat.devices import store as dstore
from upstat.devices.netjson import WifiClient
from upstat.sources.models import Source
from upstat.timeseries.sessions import Seen, Step, step

RETENTION_MS = 180 * 24 * 3600 * 1000


@dataclass(frozen=True)
class Session:
    """One station's stay on one interface of one device (``stop`` None while it is open)."""

    id: str
    device: str
    interface: str
    ssid: str
    mac: str
    vendor: str | None
    ht: bool
    vht: bool
    he: bool
    wmm: bool
    wds: bool
    wps: bool
    start: int
    stop: int | None
    modified: int


def _member(c: WifiClient) -> str:
    return f"{c.interface}|{c.mac}"


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def decode(raw: Any) -> Session:
    return Session(**json.loads(_text(raw)))


def _compare(open_now: dict[str, str], current: dict[str, WifiClient], *, seen: int | None, at: int) -> Step:
    """Which stations arrived and which left: the shared rule for members of successive snapshots
    (:func:`upstat.timeseries.sessions.step`), with no counters and no start times (a station's session
    starts when a report first shows it)."""
    previous = {key: Seen(None, (), seen or at) for key in open_now}
    now = {key: Seen(None, (), at) for key in current}
    return step(previous, now, previous_time=seen, counted_whole=lambda _: True)


def observe(client: Any, device: Source, clients: Sequence[WifiClient], *, at: int) -> tuple[int, int]:
    """Compare the stations of a report at ``at`` with the device's open sessions: open one per new station,
    close those gone. Returns (opened, closed); (0, 0) for a report older than the last one compared."""
    k = dstore.keys()
    seen = client.hget(k.wifi_seen(), device.id)
    if seen is not None and at <= int(seen):
        return 0, 0
    open_now = {_text(f): _text(v) for f, v in client.hgetall(k.wifi_open(device.id)).items()}
    current = {_member(c): c for c in clients}
    change = _compare(open_now, current, seen=None if seen is None else int(seen), at=at)
    started = [current[key] for key in change.started]
    ended = [open_now[key] for key in change.ended]
    closing = [decode(raw) for raw in client.hmget(k.wifi_sessions(), ended)] if ended else []
    pipe = client.pipeline(transaction=True)
    for c in started:
        session = Session(
            str(uuid.uuid4()),
            device.id,
            c.interface,
            c.ssid,
            c.mac,
            c.vendor,
            c.ht,
            c.vht,
            c.he,
            c.wmm,
            c.wds,
            c.wps,
            at,
            None,
            at,
        )
        pipe.hset(k.wifi_sessions(), session.id, json.dumps(asdict(session), separators=(",", ":")))
        pipe.zadd(k.wifi_order(), {session.id: at})
        pipe.hset(k.wifi_open(device.id), _member(c), session.id)
    for key, session in zip(change.ended, closing, strict=True):
        closed = Session(**{**asdict(session), "stop": at, "modified": at})
        pipe.hset(k.wifi_sessions(), closed.id, json.dumps(asdict(closed), separators=(",", ":")))
        pipe.hdel(k.wifi_open(device.id), key)
    pipe.hset(k.wifi_seen(), device.id, at)
    pipe.execute()
    return len(started), len(ended)


def get_session(client: Any, session_id: str) -> Session | None:
    raw = client.hget(dstore.keys().wifi_sessions(), session_id)
    return None if raw is None else decode(raw)


def list_sessions(client: Any) -> list[Session]:
    """Every kept session, newest start first (two commands)."""
    k = dstore.keys()
    ids = [_text(x) for x in client.zrevrange(k.wifi_order(), 0, -1)]
    if not ids:
        return []
    return [decode(raw) for raw in client.hmget(k.wifi_sessions(), ids) if raw is not None]


def trim(client: Any, *, before: int, limit: int = 1000) -> int:
    """Drop closed sessions that started before ``before`` (at most ``limit``); open ones stay."""
    k = dstore.keys()
    ids = [_text(x) for x in client.zrangebyscore(k.wifi_order(), "-inf", f"({before}", start=0, num=limit)]
    if not ids:
        return 0
    raws = client.hmget(k.wifi_sessions(), ids)
    drop = [sid for sid, raw in zip(ids, raws, strict=True) if raw is None or decode(raw).stop is not None]
    if drop:
        pipe = client.pipeline(transaction=True)
        pipe.hdel(k.wifi_sessions(), *drop)
        pipe.zrem(k.wifi_order(), *drop)
        pipe.execute()
    return len(drop)


def forget_device(client: Any, device: str) -> int:
    """Drop every session of ``device`` (it was unregistered); reads every kept session."""
    k = dstore.keys()
    ids = [s.id for s in list_sessions(client) if s.device == device]
    if ids:
        pipe = client.pipeline(transaction=True)
        pipe.hdel(k.wifi_sessions(), *ids)
        pipe.zrem(k.wifi_order(), *ids)
        pipe.execute()
    return len(ids)
