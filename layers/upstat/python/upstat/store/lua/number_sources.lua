-- Give each source of a namespace a small number (1, 2, 3 ... in the order first seen), once.
--
-- KEYS: 1 hash source -> number, 2 hash number -> source, 3 the namespace's last number given (a string).
--       All under the namespace's hash tag: one slot.
-- ARGV: the sources.
-- Replies one number per source, in order: the one it had, or a new one. A number is never given twice and
-- never changes, so two batches that see a new source at the same moment get the same number.

local out = {}
for i = 1, #ARGV do
  local n = redis.call('HGET', KEYS[1], ARGV[i])
  if not n then
    n = redis.call('INCR', KEYS[3])
    redis.call('HSET', KEYS[1], ARGV[i], n)
    redis.call('HSET', KEYS[2], n, ARGV[i])
  end
  out[#out + 1] = tonumber(n)
end
return out
