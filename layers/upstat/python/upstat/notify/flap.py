"""Flap control, and how long a subject was down: one script per claimed alert, on the subject's flap record.

A subject (a service, a device, a backup job, a rule) that changes state more than ``UPSTAT_FLAP_CHANGES``
times within ``UPSTAT_FLAP_WINDOW_S`` sends one "flapping" message; its further changes are recorded (their
claims and outcomes, marked held) but not sent. Once it has not changed for a whole window, the sweep
(run by the ping job every minute) sends one "settled" message: how many changes, since when, and the
state it settled in. Warnings that are not state changes (a certificate expiring, an overdue backup) are
never held.

The same record keeps when the subject went bad (down, critical, problem ...), so a recovery message says
how long it was down. The script runs after the alert's claim, so a retried or concurrent tick counts each
change once; the settle script clears the flapping mark atomically, so two sweeps send one summary.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from upstat.config import Settings
from upstat.notify.keyspace import NotifyKeys
from upstat.notify.messages import BAD, GOOD
from upstat.store.scripts import Scripts, define

if TYPE_CHECKING:
    from upstat.uptime.alerts import Alert

#: Flap records outlive any window by far; a subject quiet for this long starts afresh.
RECORD_TTL_MS = 30 * 86400 * 1000
#: Transitions that are warnings, not state changes: never counted, never held.
NOT_CHANGES = frozenset({"cert_expiring", "overdue", "test"})

# KEYS: the subject's flap hash and change times. ARGV: at, seq, window ms, limit (0: off), current state,
# bad (1/0), good (1/0), the alert as JSON, ttl ms, a state change (1/0).
# Answers {action, down_for ms or '', changes in the window, first change's time}.
TRACK = define(
    "flap_track",
    """
local at = tonumber(ARGV[1])
local down_for = ''
local bad_since = redis.call('HGET', KEYS[1], 'bad_since')
if ARGV[6] == '1' then
  if not bad_since then redis.call('HSET', KEYS[1], 'bad_since', ARGV[1]) end
elseif ARGV[7] == '1' and bad_since then
  down_for = tostring(at - tonumber(bad_since))
  redis.call('HDEL', KEYS[1], 'bad_since')
end
redis.call('PEXPIRE', KEYS[1], ARGV[9])
if ARGV[10] ~= '1' then return {'send', down_for, 0, ''} end
redis.call('ZADD', KEYS[2], at, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. tostring(at - tonumber(ARGV[3])))
redis.call('PEXPIRE', KEYS[2], ARGV[9])
redis.call('HSET', KEYS[1], 'at', ARGV[1], 'state', ARGV[5], 'doc', ARGV[8])
local n = redis.call('ZCARD', KEYS[2])
if redis.call('HEXISTS', KEYS[1], 'flapping') == 1 then
  redis.call('HINCRBY', KEYS[1], 'changes', 1)
  return {'hold', down_for, n, ''}
end
local limit = tonumber(ARGV[4])
if limit > 0 and n > limit then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2]
  redis.call('HSET', KEYS[1], 'flapping', ARGV[1], 'changes', n, 'since', first)
  return {'flapping', down_for, n, first}
end
return {'send', down_for, n, ''}
""",
)

# KEYS: as TRACK's. ARGV: now ms, window ms. {'gone'} not flapping; {'wait', last change} changed within
# the window; {'settled', alert JSON, changes, since, state} cleared now (this caller sends the summary).
SETTLE = define(
    "flap_settle",
    """
if redis.call('HEXISTS', KEYS[1], 'flapping') == 0 then return {'gone'} end
local at = redis.call('HGET', KEYS[1], 'at') or '0'
if tonumber(at) > tonumber(ARGV[1]) - tonumber(ARGV[2]) then return {'wait', at} end
local f = redis.call('HMGET', KEYS[1], 'doc', 'changes', 'since', 'state')
redis.call('HDEL', KEYS[1], 'flapping', 'changes', 'since')
redis.call('DEL', KEYS[2])
return {'settled', f[1], f[2], f[3], f[4]}
""",
)


@dataclass(frozen=True)
class Decision:
    """What the alert path does with one claimed alert: ``send`` it (``alert`` may be the "flapping"
    message that stands for it) or ``hold`` it (recorded, not sent)."""

    action: str
    alert: Alert
    down_for_ms: int | None = None
    changes: int | None = None
    since_ms: int | None = None


def track(client: Any, alerts: Sequence[Alert], settings: Settings) -> list[Decision]:
    """Run the flap script of each claimed alert, in order, in one round trip; their decisions."""
    if not alerts:
        return []
    keys = NotifyKeys(settings.key_prefix)
    calls = []
    for a in alerts:
        change = a.transition not in NOT_CHANGES
        args = [
            a.at_ms,
            a.seq,
            settings.flap_window_s * 1000,
            settings.flap_changes,
            a.current,
            int(a.current in BAD),
            int(a.current in GOOD),
            json.dumps(_doc(a), separators=(",", ":")),
            RECORD_TTL_MS,
            int(change),
        ]
        calls.append(([keys.flap(a.service_id), keys.flap_times(a.service_id)], args))
    replies = Scripts(client).run_many(TRACK, calls)
    out = []
    flapping: dict[str, int] = {}
    for a, (action, down_for, count, first) in zip(alerts, replies, strict=True):
        action = _text(action)
        down = int(_text(down_for)) if _text(down_for) else None
        if action == "flapping":
            since = int(float(_text(first)))
            flap = replace(a, transition="flapping", seq=a.seq)
            out.append(Decision("send", flap, down, int(count), since))
        else:
            out.append(Decision(action, a, down, int(count) or None))
        if action in ("flapping", "hold"):
            flapping[a.service_id] = a.at_ms
    if flapping:
        client.zadd(keys.flapping(), flapping, gt=True)
    return out


def any_due(client: Any, *, now_ms: int, settings: Settings) -> bool:
    """Whether a flapping subject has been quiet for a window (one cheap read: most minutes, none)."""
    window = settings.flap_window_s * 1000
    keys = NotifyKeys(settings.key_prefix)
    return bool(client.zrangebyscore(keys.flapping(), "-inf", now_ms - window, start=0, num=1))


def settle_due(client: Any, *, now_ms: int, settings: Settings) -> list[Decision]:
    """The "settled" messages of subjects that stopped flapping (quiet for a whole window), each cleared
    once whoever else sweeps at the same time."""
    from upstat.uptime.alerts import Alert

    keys = NotifyKeys(settings.key_prefix)
    window = settings.flap_window_s * 1000
    due = [_text(x) for x in client.zrangebyscore(keys.flapping(), "-inf", now_ms - window, start=0, num=500)]
    if not due:
        return []
    calls = [([keys.flap(s), keys.flap_times(s)], [now_ms, window]) for s in due]
    replies = Scripts(client).run_many(SETTLE, calls)
    out: list[Decision] = []
    later: dict[str, int] = {}
    done: list[str] = []
    for subject, reply in zip(due, replies, strict=True):
        action = _text(reply[0])
        if action == "wait":
            later[subject] = int(_text(reply[1]))
            continue
        done.append(subject)
        if action != "settled":
            continue
        doc = json.loads(_text(reply[1]))
        doc.update(
            transition="settled", previous="flapping", current=_text(reply[4]), at_ms=now_ms, seq=now_ms
        )
        doc["channels"] = tuple(doc.get("channels", ()))
        doc["webhooks"] = tuple(doc.get("webhooks", ()))
        alert = Alert(**doc)
        out.append(Decision("send", alert, None, int(_text(reply[2])), int(float(_text(reply[3])))))
    if later:
        client.zadd(keys.flapping(), later)
    if done:
        client.zrem(keys.flapping(), *done)
    return out


def _doc(a: Alert) -> dict[str, Any]:
    """The alert's fields, to rebuild its subject's "settled" message from."""
    return {
        "service_id": a.service_id,
        "service_name": a.service_name,
        "url": a.url,
        "transition": a.transition,
        "previous": a.previous,
        "current": a.current,
        "at_ms": a.at_ms,
        "seq": a.seq,
        "kind": a.kind,
        "channels": list(a.channels),
        "webhooks": list(a.webhooks),
    }


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
