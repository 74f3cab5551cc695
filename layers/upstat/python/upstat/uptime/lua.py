"""The uptime store's Lua scripts, each touching the keys of one hash tag (one service, or one index key).

They run through :class:`upstat.store.scripts.Scripts` (EVALSHA, pipelined, reloaded on NOSCRIPT), which is
safe because every script here is idempotent or a compare-and-set.
"""

from __future__ import annotations

import hashlib
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
        return hashlib.sha1(self._sources[name].encode(), usedforsecurity=False).hexdigest()

    def load(self, name: str) -> None:
        self._client.script_load(self._sources[name])
        self._loaded.add(name)

    def run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """One call of script ``name``."""
        return self.run_many(name, [(keys, args)])[0]
