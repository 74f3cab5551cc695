-- The same fields of many series hashes, in one call: a chart across many series (a total, a top-N) costs
-- the client one command to send and one reply to parse instead of one of each per series.
-- KEYS: the series hashes (on Redis Cluster, of one slot). ARGV: the fields. Returns one HMGET reply per key.
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HMGET', KEYS[i], unpack(ARGV)) end
return out
