"""The uptime store's Lua scripts, each touching the keys of one hash tag (one service, or one index key).

Each is defined in the one table of scripts (:func:`upstat.store.scripts.define`, under the name it has
here) and run by the one runner, :class:`upstat.store.scripts.Scripts`.
"""

from __future__ import annotations

from upstat.store.scripts import define

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
    # Record one check of each of many services, once per checked_at, in one call (a thousand EVALSHA cost
    # the client and the server far more than one looping). KEYS four per service, all under its {svc:<id>}
    # tag: definition, state, check log, incidents. ARGV eight per service: expected last checked_at,
    # checked_at, state JSON, log member, log cutoff ('' = none), log cap, incident id ('' = no change),
    # incident JSON. One reply per service: 1 recorded, -1 already recorded (or older than the last record),
    # 0 the state changed since it was read (recompute and retry), -2 the service is gone.
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


HASH_CAS = define("uptime.hash_cas", SOURCES["hash_cas"])
SVC_CAS = define("uptime.svc_cas", SOURCES["svc_cas"])
CLAIM_DUE = define("uptime.claim_due", SOURCES["claim_due"])
RECORD_MANY = define("uptime.record_many", SOURCES["record_many"])
STATES_READ = define("uptime.states_read", SOURCES["states_read"])
STATUS_READ = define("uptime.status_read", SOURCES["status_read"])
