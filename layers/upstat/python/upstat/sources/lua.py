"""The registry's Lua scripts. Every key they touch is under the one ``{registry}`` hash tag and is passed in
KEYS (see upstat.sources.keyspace), so each runs in one slot of a cluster.

Writes are compare-and-set on the record as it was read (``expected``: its JSON, '' for "absent"): the
caller computes the new record and index keys from what it read, and retries when the script answers that
the record changed meanwhile. Each is defined in the one table of scripts
(:func:`upstat.store.scripts.define`) and run by the one runner, :class:`upstat.store.scripts.Scripts`.
"""

from __future__ import annotations

from upstat.store.scripts import define

SOURCES: dict[str, str] = {
    # Store one source. KEYS: docs, order, geo, organization slugs, then the n_old index keys to leave and
    # the index keys to join. ARGV: id, expected JSON ('' = must be absent), new JSON, order score, lng and
    # lat ('' = no location), organization slug ('' = none; it must exist), n_old.
    # Replies {'ok'}, {'exists', current}, {'changed', current}, {'gone'} or {'no_org'}.
    "source_put": """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if cur then return {'exists', cur} end
elseif not cur then return {'gone'}
elseif cur ~= ARGV[2] then return {'changed', cur} end
if ARGV[7] ~= '' and redis.call('HEXISTS', KEYS[4], ARGV[7]) == 0 then return {'no_org'} end
local n_old = tonumber(ARGV[8])
for i = 5, 4 + n_old do redis.call('SREM', KEYS[i], ARGV[1]) end
for i = 5 + n_old, #KEYS do redis.call('SADD', KEYS[i], ARGV[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
if ARGV[5] == '' then redis.call('ZREM', KEYS[3], ARGV[1])
else redis.call('GEOADD', KEYS[3], ARGV[5], ARGV[6], ARGV[1]) end
return {'ok'}
""",
    # Delete one source. KEYS: docs, order, geo, then its index keys. ARGV: id, expected JSON.
    # Replies {'ok'}, {'changed', current} or {'gone'}.
    "source_delete": """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'gone'} end
if cur ~= ARGV[2] then return {'changed', cur} end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
for i = 4, #KEYS do redis.call('SREM', KEYS[i], ARGV[1]) end
return {'ok'}
""",
    # Create one organization unless its slug is taken. KEYS: organizations, slugs, order.
    # ARGV: id, slug, JSON, order score. Replies {'ok'} or {'exists', id of the slug's owner}.
    "org_create": """
local owner = redis.call('HGET', KEYS[2], ARGV[2])
if owner then return {'exists', owner} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return {'ok'}
""",
    # Replace one organization's JSON. KEYS: organizations. ARGV: id, expected JSON, new JSON.
    "org_update": """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'gone'} end
if cur ~= ARGV[2] then return {'changed', cur} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return {'ok'}
""",
    # Delete one organization that has no sources. KEYS: organizations, slugs, order, its sources' index.
    # ARGV: id, slug, expected JSON. Replies {'ok'}, {'busy', number of sources}, {'changed', current} or
    # {'gone'}.
    "org_delete": """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'gone'} end
if cur ~= ARGV[3] then return {'changed', cur} end
local n = redis.call('SCARD', KEYS[4])
if n > 0 then return {'busy', n} end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[2], ARGV[2]) end
redis.call('ZREM', KEYS[3], ARGV[1])
return {'ok'}
""",
}


SOURCE_PUT = define("sources.source_put", SOURCES["source_put"])
SOURCE_DELETE = define("sources.source_delete", SOURCES["source_delete"])
ORG_CREATE = define("sources.org_create", SOURCES["org_create"])
ORG_UPDATE = define("sources.org_update", SOURCES["org_update"])
ORG_DELETE = define("sources.org_delete", SOURCES["org_delete"])
