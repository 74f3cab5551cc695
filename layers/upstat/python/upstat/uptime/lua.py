"""The uptime store's Lua scripts, each touching the keys of one hash tag (one service, or one index key).

They run through :class:`upstat.store.scripts.Scripts` (EVALSHA, pipelined, reloaded on NOSCRIPT), which is
safe because every script here is idempotent or a compare-and-set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from upstat.store.scripts import Scripts

SOURCES: dict[str, str] = {
    # Compare-and-set of one field of one hash: set (or delete, when ARGV[3] is '') field ARGV[1] to ARGV[3]
    # only if it currently holds ARGV[2] ('' = absent). Used on the name index.
    "hash_cas": """
local cur = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if cur ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1])
else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return 1
""",
    # A service definition's compare-and-set on its version: -1 gone, 0 changed meanwhile, 1 stored.
    "svc_cas": """
local v = redis.call('HGET', KEYS[1], 'version')
if not v then return -1 end
if v ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'version', ARGV[3])
return 1
""",
    # Claim due services: those scored <= now get the lease's score, so an overlapping run skips them.
    "claim_due": """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], id) end
return ids
""",
    # Record one check of one service (all keys under its {svc:<id>} tag), once per checked_at:
    # KEYS: definition, state, check log, incidents.
    # ARGV: expected last checked_at, checked_at, state JSON, log member, log cutoff ('' = none), log cap,
    #       incident id ('' = no change), incident JSON.
    # Returns 1 recorded, -1 already recorded (or older than the last record), 0 the state changed since it
    # was read (recompute and retry), -2 the service is gone.
    "record": """
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
local cur = redis.call('HGET', KEYS[2], 't') or '0'
if tonumber(ARGV[2]) <= tonumber(cur) then return -1 end
if cur ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 't', ARGV[2], 's', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[4])
if ARGV[5] ~= '' then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[5]) end
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -tonumber(ARGV[6]) - 1)
if ARGV[7] ~= '' then redis.call('HSET', KEYS[4], ARGV[7], ARGV[8]) end
return 1
""",
    # "record" over many services in one call (a thousand EVALSHA cost the client and the server far more
    # than one looping): KEYS four per service as above, ARGV the eight of each in turn; one reply each.
    "record_many": """
local out = {}
for i = 0, #KEYS / 4 - 1 do
  local k, a = i * 4, i * 8
  local r
  if redis.call('EXISTS', KEYS[k + 1]) == 0 then r = -2
  else
    local cur = redis.call('HGET', KEYS[k + 2], 't') or '0'
    if tonumber(ARGV[a + 2]) <= tonumber(cur) then r = -1
    elseif cur ~= ARGV[a + 1] then r = 0
    else
      redis.call('HSET', KEYS[k + 2], 't', ARGV[a + 2], 's', ARGV[a + 3])
      redis.call('ZADD', KEYS[k + 3], ARGV[a + 2], ARGV[a + 4])
      if ARGV[a + 5] ~= '' then redis.call('ZREMRANGEBYSCORE', KEYS[k + 3], '-inf', '(' .. ARGV[a + 5]) end
      redis.call('ZREMRANGEBYRANK', KEYS[k + 3], 0, -tonumber(ARGV[a + 6]) - 1)
      if ARGV[a + 7] ~= '' then redis.call('HSET', KEYS[k + 4], ARGV[a + 7], ARGV[a + 8]) end
      r = 1
    end
  end
  out[i + 1] = r
end
return out
""",
    # The recorder's read of many services' states: KEYS their state hashes; replies t, s of each in turn.
    "states_read": """
local out = {}
for i = 1, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 't', 's')
  out[#out + 1] = v[1]
  out[#out + 1] = v[2]
end
return out
""",
    # Every service's definition version and state in one call (a single Redis: 2n keys in one command
    # instead of 2n pipelined commands; the client's per-command cost dominates at 1,000 services). KEYS:
    # definition, state, definition, state ... Replies version, state JSON, ... (false where absent).
    "status_read": """
local out = {}
for i = 1, #KEYS, 2 do
  out[#out + 1] = redis.call('HGET', KEYS[i], 'version') or false
  out[#out + 1] = redis.call('HGET', KEYS[i + 1], 's') or false
end
return out
""",
}


class UptimeScripts(Scripts):
    """Scripts from :data:`SOURCES` (instead of files) on one client."""

    def __init__(self, client: Any, sources: dict[str, str] | None = None) -> None:
        super().__init__(client)
        self._sources = SOURCES if sources is None else sources

    def sha(self, name: str) -> str:
        return _sha(self._sources[name])

    def load(self, name: str) -> None:
        self._client.script_load(self._sources[name])
        self._loaded.add(name)

    def run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """One call of script ``name``."""
        return self.run_many(name, [(keys, args)])[0]

    def run_looped(
        self, name: str, items: Sequence[tuple[Sequence[str], Sequence[Any]]], *, per_call: int = 500
    ) -> list[Any]:
        """Script ``name`` over many items (the same number of keys and of arguments each, the keys of an
        item under one hash tag) with several items per call: one slot per call on a cluster, all calls in
        one round trip. The script answers one value per item (``*_many`` / ``*_read`` scripts)."""
        if not items:
            return []
        groups = self._groups([keys[0] for keys, _ in items], None, per_call, 0)
        calls = [
            ([k for i in group for k in items[i][0]], [a for i in group for a in items[i][1]])
            for group in groups
        ]
        out: list[Any] = [None] * len(items)
        per = len(self._reply_width.get(name, (1,)))
        for group, reply in zip(groups, self.run_many(name, calls), strict=True):
            for j, i in enumerate(group):
                out[i] = reply[j] if per == 1 else reply[j * per : (j + 1) * per]
        return out

    # Values answered per item by the looped scripts that answer more than one.
    _reply_width: dict[str, tuple[str, ...]] = {"states_read": ("t", "s")}


@lru_cache(maxsize=64)
def _sha(source: str) -> str:
    return hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
