-- Write a batch of points into one series and bring every tier up to date, atomically.
--
-- KEYS: 1 the series hash: meta fields (kind, first_ts, last_ts, last_v, floor, source, metric, reg), raw
--       chunks in fields 'r:<chunk id>' and tier chunks in fields 't<bucket seconds>:<chunk id>'.
-- ARGV: 1 now (ms), 2 lowest accepted time (ms; -1 = none), 3 raw chunk span (ms), 4 raw retention (ms, 0 = for
--       ever), 5 tiers "bucket_ms,chunk_ms,retention_ms;..." (finest first), 6 points: little-endian pairs of
--       doubles (time ms, value), sorted by time, times unique, 7 source, 8 metric, 9 kind ("" keeps it),
--       10 rebuild from (ms; -1 = no rebuild): recompute every tier bucket holding raw data at or after this
--       time, and every coarser bucket above them, from the finer data (the rollup job), 11 "1" to trim
--       every tier to its retention now (the retention job; writes trim only when they start a chunk).
--
-- Raw chunk record:  '<Id'       (offset ms in the chunk, value)                          12 bytes
-- Tier record:       '<HIdddddd' (bucket slot in the chunk, count, sum, min, max, first, last,
--                                 increase within the bucket, counter resets read as restarts)  54 bytes
-- Both kinds of chunk are sorted by their first field and unique on it.
--
-- Every figure is recomputed from the finer data and overwritten, never incremented, so a retried batch
-- leaves the same state as one applied once. Returns {inserted, replaced, unchanged, needs_registry} or,
-- when a point is older than the series' floor (trimmed data), {-1, index (0-based), time}.

local RAW, RAW_SIZE = '<Id', 12
local REC, REC_SIZE = '<HIdddddd', 54

local now = tonumber(ARGV[1])
local lowest = tonumber(ARGV[2])
local raw_chunk = tonumber(ARGV[3])
local raw_ret = tonumber(ARGV[4])
local blob = ARGV[6]
local rebuild_from = tonumber(ARGV[10] or '-1')
local rebuild = rebuild_from >= 0

local tiers = {}
for ms, chunk, ret in string.gmatch(ARGV[5], '(%d+),(%d+),(%d+)') do
  tiers[#tiers + 1] = {ms = tonumber(ms), chunk = tonumber(chunk), ret = tonumber(ret),
                       prefix = 't' .. math.floor(tonumber(ms) / 1000) .. ':'}
end

local key = KEYS[1]
local RAWP = 'r:'
-- Maintenance of a series that no longer exists (a stale registry entry) must not recreate it.
if #blob == 0 and ARGV[9] == '' and redis.call('EXISTS', key) == 0 then return {0, 0, 0, 0} end
local floor_ms = tonumber(redis.call('HGET', key, 'floor') or '-1')
if floor_ms > lowest then lowest = floor_ms end

-- Decode the points, 128 at a time (one struct.unpack call each).
local T, V = {}, {}
local n = #blob / 16
local pos = 1
local i = 0
while i < n do
  local k = math.min(128, n - i)
  local vals = {struct.unpack('<' .. string.rep('d', 2 * k), blob, pos)}
  for j = 0, k - 1 do
    T[i + j + 1] = vals[2 * j + 1]
    V[i + j + 1] = vals[2 * j + 2]
  end
  pos = vals[2 * k + 1]
  i = i + k
end
for idx = 1, n do
  if T[idx] < lowest then return {-1, idx - 1, T[idx]} end
end

local function lower_bound(s, size, fmt, key)
  local lo, hi = 1, #s / size + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local k = struct.unpack(fmt, s, (mid - 1) * size + 1)
    if k < key then lo = mid + 1 else hi = mid end
  end
  return lo
end

local function delta(prev, v)
  if v >= prev then return v - prev end
  return v
end

-- ---- raw chunks -------------------------------------------------------------------------------------
local inserted, replaced, unchanged = 0, 0, 0
local raw_chunks = {}      -- chunk id -> chunk string after the write
local affected = {}        -- finest-tier bucket ids whose raw data changed (sorted, unique)
local created_chunk = false

local function merge_raw(old, c, from, to)
  local base = c * raw_chunk
  local parts = {}
  local changed = {}
  if (not old) or #old == 0 or struct.unpack('<I', old, #old - RAW_SIZE + 1) < T[from] - base then
    for idx = from, to do
      parts[#parts + 1] = struct.pack(RAW, T[idx] - base, V[idx])
      changed[#changed + 1] = idx
    end
    inserted = inserted + (to - from + 1)
    return (old or '') .. table.concat(parts), changed
  end
  local opos = 1
  local olen = #old
  local idx = from
  while idx <= to do
    local off = T[idx] - base
    local at = lower_bound(old, RAW_SIZE, '<I', off)
    local at_pos = (at - 1) * RAW_SIZE + 1
    if at_pos > opos then parts[#parts + 1] = string.sub(old, opos, at_pos - 1) end
    opos = at_pos
    local rec = struct.pack(RAW, off, V[idx])
    if at_pos <= olen and struct.unpack('<I', old, at_pos) == off then
      if string.sub(old, at_pos, at_pos + RAW_SIZE - 1) == rec then
        unchanged = unchanged + 1
      else
        replaced = replaced + 1
        changed[#changed + 1] = idx
      end
      opos = at_pos + RAW_SIZE
    else
      inserted = inserted + 1
      changed[#changed + 1] = idx
    end
    parts[#parts + 1] = rec
    idx = idx + 1
  end
  if opos <= olen then parts[#parts + 1] = string.sub(old, opos) end
  return table.concat(parts), changed
end

local first_ms = tiers[1].ms
local idx = 1
while idx <= n do
  local c = math.floor(T[idx] / raw_chunk)
  local last = idx
  while last < n and math.floor(T[last + 1] / raw_chunk) == c do last = last + 1 end
  local old = redis.call('HGET', key, RAWP .. c)
  if not old then created_chunk = true end
  local new, changed = merge_raw(old, c, idx, last)
  raw_chunks[c] = new
  if #changed > 0 then
    redis.call('HSET', key, RAWP .. c, new)
    for _, ci in ipairs(changed) do
      local b = math.floor(T[ci] / first_ms)
      if affected[#affected] ~= b then affected[#affected + 1] = b end
    end
  end
  idx = last + 1
end

-- ---- tiers ------------------------------------------------------------------------------------------
-- Aggregate one finest-tier bucket from the raw chunk that holds it.
local function from_raw(b)
  local bs = b * first_ms
  local c = math.floor(bs / raw_chunk)
  local s = raw_chunks[c] or redis.call('HGET', key, RAWP .. c) or ''
  local lo = bs - c * raw_chunk
  local hi = lo + first_ms
  local p = (lower_bound(s, RAW_SIZE, '<I', lo) - 1) * RAW_SIZE + 1
  local cnt, sum, mn, mx, first, last, inc = 0, 0, 0, 0, 0, 0, 0
  while p <= #s do
    local off, v = struct.unpack(RAW, s, p)
    if off >= hi then break end
    if cnt == 0 then
      mn, mx, first, inc = v, v, v, 0
    else
      if v < mn then mn = v end
      if v > mx then mx = v end
      inc = inc + delta(last, v)
    end
    cnt = cnt + 1
    sum = sum + v
    last = v
    p = p + RAW_SIZE
  end
  return cnt, sum, mn, mx, first, last, inc
end

local tier_chunks = {}  -- [tier index][chunk id] -> chunk string after the write

local function tier_chunk(t, c)
  local cache = tier_chunks[t]
  if not cache then cache = {}; tier_chunks[t] = cache end
  local s = cache[c]
  if s == nil then
    s = redis.call('HGET', key, tiers[t].prefix .. c)
    if not s then s = ''; created_chunk = true end
    cache[c] = s
  end
  return s
end

-- Aggregate bucket b of tier t from the records of tier t-1 (they nest in one chunk by construction).
local function from_finer(t, b)
  local fine = tiers[t - 1]
  local bs = b * tiers[t].ms
  local c = math.floor(bs / fine.chunk)
  local s = tier_chunk(t - 1, c)
  local lo = (bs - c * fine.chunk) / fine.ms
  local hi = lo + tiers[t].ms / fine.ms
  local p = (lower_bound(s, REC_SIZE, '<H', lo) - 1) * REC_SIZE + 1
  local cnt, sum, mn, mx, first, last, inc = 0, 0, 0, 0, 0, 0, 0
  while p <= #s do
    local slot, rc, rs, rmn, rmx, rf, rl, ri = struct.unpack(REC, s, p)
    if slot >= hi then break end
    if cnt == 0 then
      mn, mx, first, inc = rmn, rmx, rf, ri
    else
      if rmn < mn then mn = rmn end
      if rmx > mx then mx = rmx end
      inc = inc + ri + delta(last, rf)
    end
    cnt = cnt + rc
    sum = sum + rs
    last = rl
    p = p + REC_SIZE
  end
  return cnt, sum, mn, mx, first, last, inc
end

-- Write the recomputed buckets of tier t; return the sorted ids of tier t+1 buckets that changed.
local function update_tier(t, buckets)
  local tier = tiers[t]
  local parent_ms = tiers[t + 1] and tiers[t + 1].ms
  local changed_parents = {}
  local bi = 1
  while bi <= #buckets do
    local c = math.floor(buckets[bi] * tier.ms / tier.chunk)
    local old = tier_chunk(t, c)
    local parts = {}
    local opos = 1
    local changed = false
    while bi <= #buckets and math.floor(buckets[bi] * tier.ms / tier.chunk) == c do
      local b = buckets[bi]
      local cnt, sum, mn, mx, first, last, inc
      if t == 1 then cnt, sum, mn, mx, first, last, inc = from_raw(b)
      else cnt, sum, mn, mx, first, last, inc = from_finer(t, b) end
      local slot = (b * tier.ms - c * tier.chunk) / tier.ms
      local at_pos = (lower_bound(old, REC_SIZE, '<H', slot) - 1) * REC_SIZE + 1
      if at_pos > opos then parts[#parts + 1] = string.sub(old, opos, at_pos - 1) end
      opos = at_pos
      local same_slot = at_pos <= #old and struct.unpack('<H', old, at_pos) == slot
      local rec = ''
      if cnt > 0 then rec = struct.pack(REC, slot, cnt, sum, mn, mx, first, last, inc) end
      local rec_changed = false
      if same_slot then
        rec_changed = string.sub(old, at_pos, at_pos + REC_SIZE - 1) ~= rec
        opos = at_pos + REC_SIZE
      else
        rec_changed = cnt > 0
      end
      if rec_changed then changed = true end
      if cnt > 0 then parts[#parts + 1] = rec end
      if (rec_changed or rebuild) and parent_ms then
        local pb = math.floor(b * tier.ms / parent_ms)
        if changed_parents[#changed_parents] ~= pb then changed_parents[#changed_parents + 1] = pb end
      end
      bi = bi + 1
    end
    if changed then
      if opos <= #old then parts[#parts + 1] = string.sub(old, opos) end
      local new = table.concat(parts)
      tier_chunks[t][c] = new
      if #new > 0 then redis.call('HSET', key, tier.prefix .. c, new) else redis.call('HDEL', key, tier.prefix .. c) end
    end
  end
  return changed_parents
end

if rebuild then
  -- Every finest-tier bucket that holds raw data at or after rebuild_from (never older than the floor:
  -- older raw data was trimmed, and a bucket rebuilt from nothing would erase the tier's figures).
  if rebuild_from < lowest then rebuild_from = lowest end
  local ids = {}
  for _, f in ipairs(redis.call('HKEYS', key)) do
    local cid = string.match(f, '^r:(%-?%d+)$')
    if cid and (tonumber(cid) + 1) * raw_chunk > rebuild_from then ids[#ids + 1] = tonumber(cid) end
  end
  table.sort(ids)
  for _, c in ipairs(ids) do
    local s = redis.call('HGET', key, RAWP .. c)
    raw_chunks[c] = s
    for p = 1, #s, RAW_SIZE do
      local t = c * raw_chunk + struct.unpack('<I', s, p)
      if t >= rebuild_from then
        local b = math.floor(t / first_ms)
        if affected[#affected] ~= b then affected[#affected + 1] = b end
      end
    end
  end
end

local pending = affected
for t = 1, #tiers do
  if #pending == 0 then break end
  pending = update_tier(t, pending)
end

-- ---- retention: when a chunk was started, drop whole chunks that ended before their tier's cutoff -------
if created_chunk or ARGV[11] == '1' then
  local spans = {[RAWP] = {raw_chunk, raw_ret}}
  for _, tier in ipairs(tiers) do spans[tier.prefix] = {tier.chunk, tier.ret} end
  local dead = {}
  local newest = floor_ms
  for _, f in ipairs(redis.call('HKEYS', key)) do
    local prefix, cid = string.match(f, '^([rt]%d*:)(%-?%d+)$')
    local span = prefix and spans[prefix]
    if span and span[2] > 0 then
      local stop = (tonumber(cid) + 1) * span[1]
      if stop <= now - span[2] then
        dead[#dead + 1] = f
        if prefix == RAWP and stop > newest then newest = stop end
      end
    end
  end
  for j = 1, #dead, 1000 do redis.call('HDEL', key, unpack(dead, j, math.min(j + 999, #dead))) end
  if newest > floor_ms then redis.call('HSET', key, 'floor', newest) end
end

-- ---- meta -------------------------------------------------------------------------------------------
local m = redis.call('HMGET', key, 'last_ts', 'first_ts', 'reg')
if n > 0 then
  if (not m[1]) or T[n] >= tonumber(m[1]) then
    redis.call('HSET', key, 'last_ts', T[n], 'last_v', string.format('%.17g', V[n]))
  end
  if (not m[2]) or T[1] < tonumber(m[2]) then redis.call('HSET', key, 'first_ts', T[1]) end
end
if not m[3] then redis.call('HSET', key, 'source', ARGV[7], 'metric', ARGV[8]) end
if ARGV[9] ~= '' then redis.call('HSET', key, 'kind', ARGV[9]) end
return {inserted, replaced, unchanged, m[3] and 0 or 1}
