-- Claim a batch's slots in one source's tally, once (upstat/timeseries/tally.py says why).
--
-- KEYS: 1 the day hash that holds the batch's claim (the day of its last minute), then the day hashes that
--       count the slots of its minutes (one per day the batch touches; KEYS[1] may be one of them). Every key
--       is under the source's hash tag, so the script touches one cluster slot.
-- ARGV: 1 claim field ('b:' .. the batch's key), 2 digest of the batch's content for this source,
--       3 slots per minute, 4 how long to keep the keys (ms from now, for PEXPIRE; 0 = for ever), 5 number of minutes n,
--       then n pairs: minute field ('m:' .. epoch ms of the minute), index of its day hash in KEYS.
--
-- Replies {0, 'slot,slot,...'} (claimed now; one slot per minute, in the order given), {1, 'slot,...'}
-- (claimed before with the same content: the same slots), {-2} (claimed before with other content) or
-- {-1, minute field} (that minute has no slot left; nothing was changed).

local claim = redis.call('HGET', KEYS[1], ARGV[1])
if claim then
  local sep = string.find(claim, '|', 1, true)
  if string.sub(claim, 1, sep - 1) ~= ARGV[2] then return {-2} end
  return {1, string.sub(claim, sep + 1)}
end

local limit = tonumber(ARGV[3])
local n = tonumber(ARGV[5])
for i = 0, n - 1 do
  local used = tonumber(redis.call('HGET', KEYS[tonumber(ARGV[7 + 2 * i])], ARGV[6 + 2 * i]) or '0')
  if used >= limit then return {-1, ARGV[6 + 2 * i]} end
end

local slots = {}
for i = 0, n - 1 do
  slots[i + 1] = redis.call('HINCRBY', KEYS[tonumber(ARGV[7 + 2 * i])], ARGV[6 + 2 * i], 1) - 1
end
local packed = table.concat(slots, ',')
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. packed)
local keep = tonumber(ARGV[4])
if keep > 0 then
  for j = 1, #KEYS do redis.call('PEXPIRE', KEYS[j], keep) end
end
return {0, packed}
