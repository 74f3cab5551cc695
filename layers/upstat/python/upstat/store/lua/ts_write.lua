-- Write batches of points into series and keep every tier up to date, atomically per series.
--
-- KEYS: the series hashes, one per batch (on Redis Cluster every key of one call shares a slot).
-- ARGV: 1 now (ms), 2 lowest accepted time (ms; -1 = none), 3 raw chunk span (ms), 4 raw retention (ms, 0 =
--       for ever), 5 tiers "bucket_ms,chunk_ms,retention_ms;..." (finest first), 6 rebuild from (ms; -1 = no
--       rebuild): recompute every tier bucket holding raw data at or after this time, and every coarser
--       bucket above them, from the finer data (the rollup job), 7 the batches, one per key in order, each
--       '<IBHH' (number of points, kind: 0 keeps it, 1 gauge, 2 counter, length of source, length of
--       metric), source, metric, then the points: little-endian pairs of doubles (time ms, value), sorted
--       by time, times unique. (One argument, not four per key: each argument costs the server a string.)
--       Every call also deletes the chunks its series' retention has expired (cheap: the ids are computed,
--       not scanned).
--
-- A series is one hash. Meta fields: kind, first_ts, floor (data before it was trimmed), source, metric, reg,
-- open, cut (per tier: every chunk before this id is gone). Chunks: raw in 'r:<chunk id>', tier records in
-- 't<bucket seconds>:<chunk id>'.
--
-- The watermark w (a finest-tier bucket start): every bucket that ends at or before w is closed and stored
-- as a record of its tier; the buckets still open (at most one per tier, the ones holding w) are not. A
-- point newer than every stored one is appended; when it starts a new finest bucket the open buckets it
-- leaves are closed (a record appended to each tier whose bucket ended). Older points (backfill, duplicates,
-- retries) are merged into their raw chunk, and every bucket they touch is recomputed from the finer data,
-- closed or open. 'open' holds: w, the time and value of the last point when no point follows, a number
-- naming the tier layout ('<dddd'); for each tier above the finest the fold of the closed records of the
-- next finer tier inside its open bucket ('Idddddd' each); then the raw points of w's chunk not yet in the
-- chunk's field ('<Id', offsets in the chunk): those of the open bucket and, until the watermark leaves the
-- chunk or they pass OPEN_CAP, those of the buckets closed before it. So a point that stays in the open
-- bucket is appended to this one field and nothing else is read or written. A reader folds the open raw
-- points, then each tier's fold in turn, into the open bucket of the tier it reads, as RedisTimeSeries'
-- LATEST does.
--
-- Chunks are open (byte 0, then fixed records, appended to) while they can still grow, and sealed (byte 1,
-- then columns of integers, see encode_raw/encode_tier) once the watermark has passed their end:
-- Raw record:  '<Id'       (offset ms in the chunk, value)                                   12 bytes
-- Tier record: '<HIdddddd' (bucket slot in the chunk, count, sum, min, max, first, last,
--                           increase within the bucket, counter resets read as restarts)    54 bytes
-- Both kinds of chunk are sorted by their first field and unique on it.
--
-- Every figure is a fold of the finer data in time order, recomputed and overwritten, never incremented:
-- appending folds one more point into the open bucket (the same fold a recomputation does), so a retried
-- batch leaves the same state as one applied once. Returns a string of '<dddd' per key: inserted, replaced,
-- unchanged, needs_registry; or -1, index (0-based), time, 0 when a point is older than the series' floor
-- (trimmed data), that series then left as it was; or -2, 0, 0, 0 when a retention pass (no points, no
-- rebuild) found the series with nothing to delete while memory is full, that series then left as it was.
--
-- Memory full (maxmemory under noeviction): Redis refuses a script's first write that may grow memory (HSET)
-- unless the script has already written. Points and rebuilds are refused so, loudly. A retention pass
-- deletes first (HDEL of the expired chunks, which frees memory and lets the rest of the call write) and
-- skips the series that have nothing expired instead of failing the whole call: so retention can always run
-- and free memory.

local floor, min, max = math.floor, math.min, math.max
local spack, sunpack, srep, schar, sbyte, ssub = struct.pack, struct.unpack, string.rep, string.char,
  string.byte, string.sub
local call = redis.call

local RAWREC, RAWSZ = 'Id', 12
local REC, RECSZ = 'HIdddddd', 54
local RAWFMT, RECFMT = '<' .. RAWREC, '<' .. REC
local OPEN, SEALED = '\0', '\1'

local now = tonumber(ARGV[1])
local BATCHES = ARGV[7]
local KINDS = {[0] = '', 'gauge', 'counter'}
local lowest0 = tonumber(ARGV[2])
local raw_chunk = tonumber(ARGV[3])
local raw_ret = tonumber(ARGV[4])
local rebuild_arg = tonumber(ARGV[6])

-- tiers[0] is the raw tier; tiers[1..K] the bucketed ones, finest first.
local tiers = {[0] = {ms = 0, chunk = raw_chunk, ret = raw_ret, prefix = 'r:'}}
local sig_parts = {raw_chunk}
for ms, chunk, ret in string.gmatch(ARGV[5], '(%d+),(%d+),(%d+)') do
  tiers[#tiers + 1] = {ms = tonumber(ms), chunk = tonumber(chunk), ret = tonumber(ret),
                       prefix = 't' .. floor(tonumber(ms) / 1000) .. ':'}
  sig_parts[#sig_parts + 1] = ms .. '/' .. chunk
end
local K = #tiers
local MS1 = tiers[1].ms
local SIG = table.concat(sig_parts, ',')
local TAILFMT = '<' .. srep('Idddddd', K - 1)
local OPENFMT = '<dddd'
-- The tier layout as a number, kept in 'open': a hash of it, times 16, plus the number of folds kept there
-- (so a field written with other tiers is still read right, then rebuilt).
local SIGNUM = 0
for i = 1, #SIG do SIGNUM = (SIGNUM * 31 + string.byte(SIG, i)) % 134217728 end
SIGNUM = SIGNUM * 16 + (K - 1)

-- ---- numbers --------------------------------------------------------------------------------------------

local function delta(prev, v)
  if v >= prev then return v - prev end
  return v
end

local function same(a, b)  -- bit-exact equality of two numbers (0.0 and -0.0 differ)
  return a == b and (a ~= 0 or 1 / a == 1 / b)
end

local function empty() return {0, 0, 0, 0, 0, 0, 0} end  -- count, sum, min, max, first, last, increase

-- Fold one more value (later than every value folded so far) into record r.
local function fold_value(r, v)
  if r[1] == 0 then
    r[1], r[2], r[3], r[4], r[5], r[6], r[7] = 1, v, v, v, v, v, 0
    return
  end
  r[1] = r[1] + 1
  r[2] = r[2] + v
  if v < r[3] then r[3] = v end
  if v > r[4] then r[4] = v end
  r[7] = r[7] + delta(r[6], v)
  r[6] = v
end

-- Fold record b (later than everything in a) into a.
local function fold_record(a, c, s, mn, mx, f, l, inc)
  if c == 0 then return end
  if a[1] == 0 then
    a[1], a[2], a[3], a[4], a[5], a[6], a[7] = c, s, mn, mx, f, l, inc
    return
  end
  a[1] = a[1] + c
  a[2] = a[2] + s
  if mn < a[3] then a[3] = mn end
  if mx > a[4] then a[4] = mx end
  a[7] = a[7] + inc + delta(a[6], f)
  a[6] = l
end

-- ---- integer columns: the sealed form -------------------------------------------------------------------
-- A column of n integers is stored as: its first `lead` values after the transform (zigzag varints), then,
-- when n > lead, a width byte, the minimum of the rest (zigzag varint) and the rest minus that minimum at
-- that width (0: all equal; 1, 2, 3, 4 bytes unsigned; 8: a double). Transform 0 keeps the values, 1 takes
-- differences, 2 differences of differences (regular times cost no bytes).

local P10 = {[0] = 1, 10, 100, 1000, 10000, 100000, 1000000}
local MAXSCALE = 6
local LIM = 2 ^ 50
local WIDTH_FMT = {'B', 'H', 'I3', 'I4', [8] = 'd'}
local GROUP = 100

local function zz(x) if x >= 0 then return 2 * x end return -2 * x - 1 end
local function unzz(z) if z % 2 == 0 then return z / 2 end return -(z + 1) / 2 end

local function varint(out, x)
  while x >= 128 do
    out[#out + 1] = schar(x % 128 + 128)
    x = floor(x / 128)
  end
  out[#out + 1] = schar(x)
end

local function read_varint(s, pos)
  local x, mul = 0, 1
  while true do
    local b = sbyte(s, pos)
    pos = pos + 1
    if b < 128 then return x + b * mul, pos end
    x = x + (b - 128) * mul
    mul = mul * 128
  end
end

-- Pack vals[from..to] as records of format fmt (per values each), GROUP records a call.
local function pack_many(out, fmt, vals, from, to, per)
  per = per or 1
  local i = from
  while i <= to do
    local k = min(GROUP, floor((to - i + 1) / per))
    out[#out + 1] = spack('<' .. srep(fmt, k), unpack(vals, i, i + k * per - 1))
    i = i + k * per
  end
end

-- Unpack n records of format fmt (size bytes, per values each) from s at pos into `into` from index at.
local function unpack_many(s, pos, fmt, size, n, into, at, per)
  per = per or 1
  local i = 0
  while i < n do
    local k = min(GROUP, n - i)
    local vals = {sunpack('<' .. srep(fmt, k), s, pos)}
    local o = at + i * per - 1
    for j = 1, k * per do into[o + j] = vals[j] end
    pos = pos + k * size
    i = i + k
  end
  return pos
end

local function encode_ints(out, xs, n, order, lead)
  local y = xs
  if order == 1 then
    y = {xs[1]}
    for i = 2, n do y[i] = xs[i] - xs[i - 1] end
  elseif order == 2 then
    y = {xs[1], xs[2] and xs[2] - xs[1]}
    for i = 3, n do y[i] = (xs[i] - xs[i - 1]) - (xs[i - 1] - xs[i - 2]) end
  end
  for i = 1, min(lead, n) do varint(out, zz(y[i])) end
  if n <= lead then return end
  local lo, hi = y[lead + 1], y[lead + 1]
  for i = lead + 2, n do
    local v = y[i]
    if v < lo then lo = v elseif v > hi then hi = v end
  end
  local range = hi - lo
  local w = 8
  if range == 0 then w = 0 elseif range < 256 then w = 1 elseif range < 65536 then w = 2
  elseif range < 16777216 then w = 3 elseif range < 4294967296 then w = 4 end
  out[#out + 1] = schar(w)
  varint(out, zz(lo))
  if w == 0 then return end
  local rest = {}
  for i = lead + 1, n do rest[i - lead] = y[i] - lo end
  pack_many(out, WIDTH_FMT[w], rest, 1, n - lead)
end

local WIDTH_SIZE = {1, 2, 3, 4, [8] = 8}

local function decode_ints(s, pos, n, order, lead)
  local y = {}
  for i = 1, min(lead, n) do
    local z
    z, pos = read_varint(s, pos)
    y[i] = unzz(z)
  end
  if n > lead then
    local w = sbyte(s, pos)
    local z
    z, pos = read_varint(s, pos + 1)
    local lo = unzz(z)
    if w == 0 then
      for i = lead + 1, n do y[i] = lo end
    else
      pos = unpack_many(s, pos, WIDTH_FMT[w], WIDTH_SIZE[w], n - lead, y, lead + 1)
      for i = lead + 1, n do y[i] = y[i] + lo end
    end
  end
  if order >= 1 then
    if order == 2 then
      for i = 3, n do y[i] = y[i] + y[i - 1] end
    end
    for i = 2, n do y[i] = y[i] + y[i - 1] end
  end
  return y, pos
end

-- The smallest scale s (0..6) at which every value of the columns is an exact decimal (n / 10^s gives the
-- value back, bit for bit), or nil.
local function scale_of(cols, n)
  local s = 0
  for _, col in ipairs(cols) do
    for i = 1, n do
      local v = col[i]
      while true do
        local p = P10[s]
        local x = floor(v * p + 0.5)
        if x / p == v and x < LIM and x > -LIM and (v ~= 0 or 1 / v > 0) then break end
        if s == MAXSCALE or v ~= v then return nil end
        s = s + 1
      end
    end
  end
  return s
end

local function scaled(col, n, s)  -- the column as integers at scale s, or nil if one value is not exact
  local p, out = P10[s], {}
  for i = 1, n do
    local v = col[i]
    local x = floor(v * p + 0.5)
    if x / p ~= v or x >= LIM or x <= -LIM or (v == 0 and 1 / v < 0) then return nil end
    out[i] = x
  end
  return out
end

local function unscaled(xs, n, s)
  if s == 0 then return xs end
  local p = P10[s]
  for i = 1, n do xs[i] = xs[i] / p end
  return xs
end

-- Sealed raw chunk: 1, n (varint), scale (255: values as doubles), offsets (differences of differences),
-- values at that scale (differences).
local function encode_raw(offs, vals)
  local n = #offs
  local out = {SEALED}
  varint(out, n)
  local s = scale_of({vals}, n)
  out[#out + 1] = schar(s or 255)
  encode_ints(out, offs, n, 2, 2)
  if s then encode_ints(out, scaled(vals, n, s), n, 1, 1) else pack_many(out, 'd', vals, 1, n) end
  return table.concat(out)
end

local function decode_raw(s)
  local n, pos = read_varint(s, 2)
  local sc = sbyte(s, pos)
  local offs, vals
  offs, pos = decode_ints(s, pos + 1, n, 2, 2)
  if sc == 255 then
    vals = {}
    unpack_many(s, pos, 'd', 8, n, vals, 1)
  else
    vals = unscaled((decode_ints(s, pos, n, 1, 1)), n, sc)
  end
  return offs, vals
end

-- Sealed tier chunk: 1, n, scale of the values (255: six columns of doubles), slots (differences of
-- differences), counts; then, at that scale, each first minus the previous last, last - first,
-- min - min(first, last), max - max(first, last), and for the sum (sum - count * first) and the increase
-- (increase - (last - first)) a byte 0 then those, or 1 then doubles when not exact at that scale. Counters
-- cost almost nothing but their growth; gauges their noise.
local function encode_tier(c)
  local n = #c[1]
  local out = {SEALED}
  varint(out, n)
  local s = scale_of({c[4], c[5], c[6], c[7]}, n)
  out[#out + 1] = schar(s or 255)
  encode_ints(out, c[1], n, 2, 2)
  encode_ints(out, c[2], n, 0, 0)
  if not s then
    for j = 3, 8 do pack_many(out, 'd', c[j], 1, n) end
    return table.concat(out)
  end
  local F, L = scaled(c[6], n, s), scaled(c[7], n, s)
  local MN, MX = scaled(c[4], n, s), scaled(c[5], n, s)
  local r = {F[1]}
  for i = 2, n do r[i] = F[i] - L[i - 1] end
  encode_ints(out, r, n, 0, 1)
  for i = 1, n do r[i] = L[i] - F[i] end
  encode_ints(out, r, n, 0, 0)
  for i = 1, n do r[i] = MN[i] - min(F[i], L[i]) end
  encode_ints(out, r, n, 0, 0)
  for i = 1, n do r[i] = MX[i] - max(F[i], L[i]) end
  encode_ints(out, r, n, 0, 0)
  local S = scaled(c[3], n, s)
  if S then
    for i = 1, n do
      local cf = c[2][i] * F[i]
      if cf >= LIM or cf <= -LIM then S = nil break end
      r[i] = S[i] - cf
    end
  end
  if S then out[#out + 1] = schar(0) encode_ints(out, r, n, 0, 0)
  else out[#out + 1] = schar(1) pack_many(out, 'd', c[3], 1, n) end
  local I = scaled(c[8], n, s)
  if I then
    for i = 1, n do r[i] = I[i] - (L[i] - F[i]) end
    out[#out + 1] = schar(0)
    encode_ints(out, r, n, 0, 0)
  else
    out[#out + 1] = schar(1)
    pack_many(out, 'd', c[8], 1, n)
  end
  return table.concat(out)
end

local function decode_tier(s)
  local n, pos = read_varint(s, 2)
  local sc = sbyte(s, pos)
  local c = {}
  c[1], pos = decode_ints(s, pos + 1, n, 2, 2)
  c[2], pos = decode_ints(s, pos, n, 0, 0)
  if sc == 255 then
    for j = 3, 8 do
      c[j] = {}
      pos = unpack_many(s, pos, 'd', 8, n, c[j], 1)
    end
    return c
  end
  local r, d, a, b
  r, pos = decode_ints(s, pos, n, 0, 1)
  d, pos = decode_ints(s, pos, n, 0, 0)
  a, pos = decode_ints(s, pos, n, 0, 0)
  b, pos = decode_ints(s, pos, n, 0, 0)
  local F, L, MN, MX = {}, {}, {}, {}
  for i = 1, n do
    F[i] = r[i] + (i > 1 and L[i - 1] or 0)
    L[i] = F[i] + d[i]
    MN[i] = a[i] + min(F[i], L[i])
    MX[i] = b[i] + max(F[i], L[i])
  end
  local function tail_col()
    local mode = sbyte(s, pos)
    pos = pos + 1
    local col
    if mode == 1 then
      col = {}
      pos = unpack_many(s, pos, 'd', 8, n, col, 1)
      return col, false
    end
    col, pos = decode_ints(s, pos, n, 0, 0)
    return col, true
  end
  local S, s_int = tail_col()
  if s_int then for i = 1, n do S[i] = S[i] + c[2][i] * F[i] end end
  local I, i_int = tail_col()
  if i_int then for i = 1, n do I[i] = I[i] + (L[i] - F[i]) end end
  c[3] = s_int and unscaled(S, n, sc) or S
  c[8] = i_int and unscaled(I, n, sc) or I
  c[4], c[5] = unscaled(MN, n, sc), unscaled(MX, n, sc)
  c[6], c[7] = unscaled(F, n, sc), unscaled(L, n, sc)
  return c
end

-- ---- chunks held by this call ---------------------------------------------------------------------------
-- A holder is the chunk of tier k (0 = raw) with id c. Until it is `full` it is its stored `base` plus
-- `parts`, packed records appended (an append never decodes the chunk); once full, the columns hold every
-- record (raw: offsets, values; tier: slots, counts, sums, mins, maxes, firsts, lasts, increases).

local key, W, tail, tail_changed, held, tail_loaded, created, openfield
-- The open finest bucket's raw points ('<Id', offsets in W's raw chunk): as stored in 'open' (openrecs) and
-- appended by this call (ao, av). A call that merges older points or rebuilds holds them in the holder of
-- W's chunk instead (open_held), and parts them out again when it stores.
local openrecs, ao, av, open_held
local openstart  -- where the raw points start in the stored 'open' field (openfield)

-- The stored open points, cut out of the field when first needed (an append to the open bucket never is).
local function stored_open()
  if not openrecs then openrecs = openfield and ssub(openfield, openstart) or '' end
  return openrecs
end

-- The coarser tiers' open folds, read when first needed (a point that stays in the open finest bucket
-- never needs them).
local function need_tail()
  if tail_loaded then return end
  tail_loaded = true
  if K > 1 and openfield then
    local vals = {sunpack(TAILFMT, openfield, 33)}
    for k = 2, K do
      local o = (k - 2) * 7
      tail[k] = {vals[o + 1], vals[o + 2], vals[o + 3], vals[o + 4], vals[o + 5], vals[o + 6], vals[o + 7]}
    end
  else
    for k = 2, K do tail[k] = empty() end
  end
end

local function holder(k, c)
  local f = tiers[k].prefix .. c
  local h = held[f]
  if h then return h end
  local base = call('HGET', key, f) or ''
  h = {k = k, c = c, field = f, base = base, parts = {}, full = false, dirty = false}
  held[f] = h
  if base == '' then
    created = true
    local cols = {}
    for j = 1, (k == 0 and 2 or 8) do cols[j] = {} end
    h.cols, h.full = cols, true
  end
  return h
end

-- Open records (no leading byte) appended to the columns.
local function unpack_records(h, s)
  local width = h.k == 0 and 2 or 8
  local fmt, size = h.k == 0 and RAWREC or REC, h.k == 0 and RAWSZ or RECSZ
  local n = #s / size
  local flat = {}
  unpack_many(s, 1, fmt, size, n, flat, 1, width)
  local cols = h.cols
  for j = 1, width do
    local col = cols[j]
    local m = #col
    for i = 1, n do col[m + i] = flat[(i - 1) * width + j] end
  end
end

local function load_full(h)
  if h.full then return end
  local base = h.base
  if sbyte(base, 1) == 1 then
    if h.k == 0 then h.cols = {decode_raw(base)} else h.cols = decode_tier(base) end
  else
    local cols = {}
    for j = 1, (h.k == 0 and 2 or 8) do cols[j] = {} end
    h.cols = cols
    unpack_records(h, ssub(base, 2))
  end
  unpack_records(h, table.concat(h.parts))
  h.parts, h.full = {}, true
end

-- Packed open records appended to a holder.
local function add_records(h, s)
  if not h.full and sbyte(h.base, 1) == 1 then load_full(h) end
  if h.full then unpack_records(h, s) else h.parts[#h.parts + 1] = s end
  h.dirty = true
end

local function lower_bound(col, x)  -- first index i with col[i] >= x (#col + 1 if none)
  local lo, hi = 1, #col + 1
  while lo < hi do
    local mid = floor((lo + hi) / 2)
    if col[mid] < x then lo = mid + 1 else hi = mid end
  end
  return lo
end

-- The stored form of a holder: sealed once the watermark has passed its end, else open; nil when empty.
local function stored(h)
  local tier = tiers[h.k]
  if W and (h.c + 1) * tier.chunk <= W then
    load_full(h)
    if #h.cols[1] == 0 then return nil end
    if h.k == 0 then return encode_raw(h.cols[1], h.cols[2]) end
    return encode_tier(h.cols)
  end
  if not h.full then return (h.base == '' and OPEN or h.base) .. table.concat(h.parts) end
  local cols = h.cols
  local n = #cols[1]
  if n == 0 then return nil end
  local width = #cols
  local flat = {}
  for i = 1, n do
    for j = 1, width do flat[(i - 1) * width + j] = cols[j][i] end
  end
  local out = {OPEN}
  pack_many(out, h.k == 0 and RAWREC or REC, flat, 1, n * width, width)
  return table.concat(out)
end

-- ---- tier records ---------------------------------------------------------------------------------------

local function tier_place(k, b)  -- chunk id and slot of bucket b of tier k
  local tier = tiers[k]
  local start = b * tier.ms
  local c = floor(start / tier.chunk)
  return c, (start - c * tier.chunk) / tier.ms
end

local function append_record(k, b, r)
  local c, slot = tier_place(k, b)
  local h = holder(k, c)
  if not h.full and sbyte(h.base, 1) == 1 then load_full(h) end
  if not h.full then
    h.parts[#h.parts + 1] = spack(RECFMT, slot, r[1], r[2], r[3], r[4], r[5], r[6], r[7])
  else
    local cols = h.cols
    local i = #cols[1] + 1
    cols[1][i], cols[2][i], cols[3][i], cols[4][i] = slot, r[1], r[2], r[3]
    cols[5][i], cols[6][i], cols[7][i], cols[8][i] = r[4], r[5], r[6], r[7]
  end
  h.dirty = true
end

-- Replace (or insert, or with a count of 0 delete) the record of bucket b of tier k; true if it changed.
local function set_record(k, b, r)
  local c, slot = tier_place(k, b)
  local h = holder(k, c)
  load_full(h)
  local cols = h.cols
  local i = lower_bound(cols[1], slot)
  local here = cols[1][i] == slot
  if r[1] == 0 then
    if not here then return false end
    for j = 1, 8 do table.remove(cols[j], i) end
    h.dirty = true
    return true
  end
  if here then
    local unchanged = true
    for j = 2, 8 do
      if not same(cols[j][i], r[j - 1]) then unchanged = false break end
    end
    if unchanged then return false end
  else
    for j = 1, 8 do table.insert(cols[j], i, 0) end
    cols[1][i] = slot
  end
  for j = 2, 8 do cols[j][i] = r[j - 1] end
  h.dirty = true
  return true
end

-- The fold of the raw points in [lo, hi) (inside one raw chunk).
local function fold_raw(lo, hi)
  local r = empty()
  local c = floor(lo / raw_chunk)
  local h = holder(0, c)
  load_full(h)
  local offs, vals = h.cols[1], h.cols[2]
  local base = c * raw_chunk
  local i = lower_bound(offs, lo - base)
  local stop = hi - base
  while i <= #offs and offs[i] < stop do
    fold_value(r, vals[i])
    i = i + 1
  end
  return r
end

-- The fold of the records of tier k in [lo, hi) (inside one chunk of tier k).
local function fold_tier(k, lo, hi)
  local r = empty()
  if hi <= lo then return r end
  local tier = tiers[k]
  local c = floor(lo / tier.chunk)
  local h = holder(k, c)
  load_full(h)
  local cols = h.cols
  local base = c * tier.chunk
  local i = lower_bound(cols[1], (lo - base) / tier.ms)
  local stop = (hi - base) / tier.ms
  local s1, s2, s3, s4, s5, s6, s7, s8 = cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8]
  while i <= #s1 and s1[i] < stop do
    fold_record(r, s2[i], s3[i], s4[i], s5[i], s6[i], s7[i], s8[i])
    i = i + 1
  end
  return r
end

local function open_start(k)  -- start of the open bucket of tier k
  local ms = tiers[k].ms
  return floor(W / ms) * ms
end

-- The open bucket of tier k (k >= 2) recomputed from the finer data (the finest one's is its raw points).
local function recompute_tail(k)
  need_tail()
  tail[k] = fold_tier(k - 1, open_start(k), open_start(k - 1))
  tail_changed = true
end

-- ---- the open bucket's points ---------------------------------------------------------------------------

local function packed_appended()
  if #ao == 0 then return '' end
  if #ao == 1 then return spack(RAWFMT, ao[1], av[1]) end
  local flat = {}
  for i = 1, #ao do flat[2 * i - 1], flat[2 * i] = ao[i], av[i] end
  local out = {}
  pack_many(out, RAWREC, flat, 1, #flat, 2)
  return table.concat(out)
end

-- The open bucket's points into the holder of W's chunk, decoded: this call may merge into them.
local function hold_open()
  local h = holder(0, floor(W / raw_chunk))
  local s = stored_open() .. packed_appended()
  openrecs, ao, av = '', {}, {}
  load_full(h)
  if #s > 0 then add_records(h, s) end
  open_held = true
end

-- The fold of the open bucket's points (the bucket is closing, the watermark going to wn). 'open' keeps
-- the points of W's chunk not yet in its field: they move there when the watermark leaves the chunk, or
-- once there are more than OPEN_CAP of them, so most closings leave the chunk's field alone.
local OPEN_CAP = 64
local function close_open(wn)
  if open_held then return fold_raw(W, W + MS1) end
  local r = empty()
  local lim = W - floor(W / raw_chunk) * raw_chunk
  stored_open()
  local n = #openrecs / RAWSZ
  local first = n + 1
  while first > 1 and sunpack('<I', openrecs, (first - 2) * RAWSZ + 1) >= lim do first = first - 1 end
  if first <= n then
    local flat = {}
    unpack_many(openrecs, (first - 1) * RAWSZ + 1, RAWREC, RAWSZ, n - first + 1, flat, 1, 2)
    for i = 1, n - first + 1 do fold_value(r, flat[2 * i]) end
  end
  for i = 1, #ao do
    if ao[i] >= lim then fold_value(r, av[i]) end
  end
  if floor(wn / raw_chunk) ~= floor(W / raw_chunk) or n + #ao > OPEN_CAP then
    local s = openrecs .. packed_appended()
    openrecs, ao, av = '', {}, {}
    if #s > 0 then add_records(holder(0, floor(W / raw_chunk)), s) end
  end
  return r
end

-- Move the watermark forward to wn (a later finest bucket start): the open bucket of each tier that ends
-- at or before wn is closed, its record appended, and folded into the open bucket of the next tier.
local function advance(wn)
  need_tail()
  tail[1] = close_open(wn)
  local closed = nil
  for k = 1, K do
    local ms = tiers[k].ms
    if closed then
      local r = tail[k]
      fold_record(r, closed[1], closed[2], closed[3], closed[4], closed[5], closed[6], closed[7])
    end
    local bo = floor(W / ms)
    if floor(wn / ms) == bo then break end
    closed = nil
    if tail[k][1] > 0 then
      closed = tail[k]
      append_record(k, bo, closed)
    end
    tail[k] = empty()
  end
  W = wn
  tail_changed = true
  if open_held then hold_open() end
end

-- ---- one series -----------------------------------------------------------------------------------------

local T, V = {}, {}

local function decode_points(blob, pos, n)
  if n == 1 then
    T[1], V[1] = sunpack('<dd', blob, pos)
  else
    local i = 0
    while i < n do
      local k = min(64, n - i)
      local vals = {sunpack('<' .. srep('d', 2 * k), blob, pos)}
      for j = 0, k - 1 do
        T[i + j + 1] = vals[2 * j + 1]
        V[i + j + 1] = vals[2 * j + 2]
      end
      pos = vals[2 * k + 1]
      i = i + k
    end
  end
  for j = n + 1, #T do T[j] = nil V[j] = nil end
end

-- Points from..to, all newer than every stored point and at or after the watermark: appended to the open
-- bucket (closing it, and the buckets above, as they leave it).
local function append_points(from, to)
  if not W then W = floor(T[from] / MS1) * MS1 end
  local wend = W + MS1
  local base = floor(W / raw_chunk) * raw_chunk
  for i = from, to do
    local t, v = T[i], V[i]
    if t >= wend then
      advance(floor(t / MS1) * MS1)
      wend = W + MS1
      base = floor(W / raw_chunk) * raw_chunk
    end
    if open_held then
      local cols = held['r:' .. floor(W / raw_chunk)].cols
      local m = #cols[1] + 1
      cols[1][m], cols[2][m] = t - base, v
    else
      local m = #ao + 1
      ao[m], av[m] = t - base, v
    end
  end
  if open_held then held['r:' .. floor(W / raw_chunk)].dirty = true end
end

-- The open bucket's points, packed (parted out of the holder of W's chunk when it holds them).
local function open_points()
  if not open_held then return stored_open() .. packed_appended() end
  local h = held['r:' .. floor(W / raw_chunk)]
  local offs, vals = h.cols[1], h.cols[2]
  local lim = W - h.c * raw_chunk
  local i = #offs
  while i >= 1 and offs[i] >= lim do i = i - 1 end
  for j = i + 1, #offs do
    ao[#ao + 1], av[#av + 1] = offs[j], vals[j]
    offs[j], vals[j] = nil, nil
  end
  if #offs == 0 and h.base == '' then h.dirty = false end
  return packed_appended()
end

-- Points from..to merged into their raw chunks; returns inserted, replaced, unchanged and the sorted finest
-- buckets whose points changed.
local function merge_points(from, to)
  local ins, rep, unch = 0, 0, 0
  local buckets = {}
  local i = from
  while i <= to do
    local c = floor(T[i] / raw_chunk)
    local last = i
    while last < to and floor(T[last + 1] / raw_chunk) == c do last = last + 1 end
    local h = holder(0, c)
    load_full(h)
    local offs, vals = h.cols[1], h.cols[2]
    local base = c * raw_chunk
    local no, nv = {}, {}
    local a, n = 1, #offs
    for p = i, last do
      local off, v = T[p] - base, V[p]
      while a <= n and offs[a] < off do
        no[#no + 1], nv[#nv + 1] = offs[a], vals[a]
        a = a + 1
      end
      local changed = true
      if a <= n and offs[a] == off then
        if same(vals[a], v) then unch = unch + 1 changed = false else rep = rep + 1 end
        a = a + 1
      else
        ins = ins + 1
      end
      no[#no + 1], nv[#nv + 1] = off, v
      if changed then
        local b = floor(T[p] / MS1)
        if buckets[#buckets] ~= b then buckets[#buckets + 1] = b end
        h.dirty = true
      end
    end
    while a <= n do
      no[#no + 1], nv[#nv + 1] = offs[a], vals[a]
      a = a + 1
    end
    h.cols[1], h.cols[2] = no, nv
    i = last + 1
  end
  return ins, rep, unch, buckets
end

-- Recompute the given finest buckets (sorted) and every coarser bucket above them; with `all`, parents
-- are recomputed even when a child did not change (a rebuild).
local function cascade(buckets, all)
  local pending = buckets
  for k = 1, K do
    if #pending == 0 then return end
    local tier = tiers[k]
    local open_b = floor(W / tier.ms)
    local parent_ms = tiers[k + 1] and tiers[k + 1].ms
    local parents = {}
    for _, b in ipairs(pending) do
      if b >= open_b then
        if b == open_b and k > 1 then recompute_tail(k) end
      else
        local r
        if k == 1 then r = fold_raw(b * tier.ms, (b + 1) * tier.ms)
        else r = fold_tier(k - 1, b * tier.ms, (b + 1) * tier.ms) end
        if (set_record(k, b, r) or all) and parent_ms then
          local pb = floor(b * tier.ms / parent_ms)
          if parents[#parents] ~= pb then parents[#parents + 1] = pb end
        end
      end
    end
    pending = parents
  end
end

-- Every finest bucket holding raw data at or after `from`, sorted.
local function buckets_from(from)
  local seen, ids = {}, {}
  local function add(c)
    if (c + 1) * raw_chunk > from and not seen[c] then seen[c] = true ids[#ids + 1] = c end
  end
  for _, f in ipairs(call('HKEYS', key)) do
    local cid = string.match(f, '^r:(%-?%d+)$')
    if cid then add(tonumber(cid)) end
  end
  for _, h in pairs(held) do
    if h.k == 0 then add(h.c) end
  end
  add(floor(W / raw_chunk))  -- the open bucket's points may have no chunk field yet
  table.sort(ids)
  local out = {}
  for _, c in ipairs(ids) do
    local h = holder(0, c)
    load_full(h)
    local base = c * raw_chunk
    for _, off in ipairs(h.cols[1]) do
      local t = base + off
      if t >= from then
        local b = floor(t / MS1)
        if out[#out] ~= b then out[#out + 1] = b end
      end
    end
  end
  return out
end

-- Retention: every chunk of a tier that ends at or before now - retention is deleted. `cut` remembers per
-- tier the id below which nothing is left, so only the chunks that have expired since are named. A series
-- idle for longer than the raw retention has its open buckets closed first (their raw points go).
local function trim(cut, first_ts, floor_ms)
  local dead = {}
  local newest = floor_ms
  local changed = false
  local raw_upto = floor((now - raw_ret) / raw_chunk)
  if W and raw_ret > 0 and floor(W / raw_chunk) < raw_upto then
    -- Idle for longer than the raw retention: close every open bucket (at or past the new floor, so that
    -- a point newer than the last one is never older than the floor).
    local top = tiers[K].ms
    advance(max(floor(W / top) * top + top, raw_upto * raw_chunk))
  end
  for k = 0, K do
    local tier = tiers[k]
    local from = cut[k + 1] or (first_ts and floor(first_ts / tier.chunk))
    if tier.ret > 0 and from then
      local upto = floor((now - tier.ret) / tier.chunk)
      if upto > from then
        for c = from, upto - 1 do dead[#dead + 1] = tier.prefix .. c end
        if k == 0 then newest = max(newest, upto * raw_chunk) end
        cut[k + 1] = upto
        changed = true
      end
    end
  end
  return dead, newest, changed
end

local function write_tail()
  local flat = {}
  for k = 2, K do
    local r = tail[k]
    for j = 1, 7 do flat[(k - 2) * 7 + j] = r[j] end
  end
  return spack(TAILFMT, unpack(flat))
end

local function parse_cut(s)
  local cut = {}
  if s then
    local i = 1
    for x in string.gmatch(s, '([^,]*),?') do
      if i > K + 1 then break end
      cut[i] = tonumber(x)
      i = i + 1
    end
  end
  return cut
end

-- Delete what retention expired (when this call started a chunk, or maintains the series): returns the
-- fields to delete and the meta fields to set.
local function expire(floor_ms, first_ts, out)
  local m = call('HMGET', key, 'cut', 'first_ts')
  local cut = parse_cut(m[1])
  local dead, newest, changed = trim(cut, first_ts or tonumber(m[2]), floor_ms)
  if newest > floor_ms then out[#out + 1] = 'floor' out[#out + 1] = newest end
  if changed then
    local parts = {}
    for k = 1, K + 1 do parts[k] = cut[k] or '' end
    out[#out + 1] = 'cut' out[#out + 1] = table.concat(parts, ',')
  end
  return dead
end

-- Write the chunks this call changed (those retention expired deleted instead).
local function flush(dead, out)
  local deadset = {}
  for _, f in ipairs(dead) do deadset[f] = true end
  local gone = {}
  for f, h in pairs(held) do
    if h.dirty and not deadset[f] then
      local v = stored(h)
      if v then out[#out + 1] = f out[#out + 1] = v else gone[#gone + 1] = f end
    end
  end
  for _, f in ipairs(dead) do gone[#gone + 1] = f end
  for j = 1, #gone, 1000 do call('HDEL', key, unpack(gone, j, min(j + 999, #gone))) end
end

local function write_one(k_, pos)
  key = k_
  local n, kind_code, ls, lm = sunpack('<IBHH', BATCHES, pos)
  local kind = KINDS[kind_code]
  local names = pos + 9
  pos = names + ls + lm
  local m = call('HMGET', key, 'open', 'reg')
  if n == 0 and kind == '' and call('HEXISTS', key, 'source') == 0 then return 0, 0, 0, 0 end
  local last_ts, last_v, sig
  tail, W, openrecs, ao, av, openfield = {}, nil, nil, {}, {}, m[1] or nil
  local kept = 0  -- raw points kept in 'open'
  if openfield then
    W, last_ts, last_v, sig = sunpack(OPENFMT, openfield)
    openstart = 33 + 52 * (sig % 16)
    kept = (#openfield - openstart + 1) / RAWSZ
    if kept > 0 then
      local off, v = sunpack(RAWFMT, openfield, #openfield - RAWSZ + 1)
      last_ts, last_v = floor(W / raw_chunk) * raw_chunk + off, v
    end
  end
  decode_points(BATCHES, pos, n)
  if n > 0 and T[1] < lowest0 then return -1, 0, T[1], 0 end
  local split = 1  -- points before it are older than a stored point (merged), from it on appended
  if W then
    local newer = max(last_ts, W - 1)
    while split <= n and T[split] <= newer do split = split + 1 end
  end
  local stale = W and sig ~= SIGNUM  -- the tiers changed: rebuild them
  if stale then  -- (folds of other tiers: recomputed)
    stored_open()
    openfield = nil
  end
  local floor_ms = -1  -- appended points are never older than the floor (it is at or before W)
  if split > 1 or n == 0 or stale then
    floor_ms = tonumber(call('HGET', key, 'floor')) or -1
    if n > 0 and T[1] < floor_ms then return -1, 0, T[1], 0 end
  end
  local lowest = max(lowest0, floor_ms)

  held, tail_loaded, tail_changed, created, open_held = {}, false, false, false, false
  local w0 = W
  local rebuild_from = rebuild_arg
  if stale then rebuild_from = max(lowest, 0) end
  if W and (split > 1 or rebuild_from >= 0) then hold_open() end
  local ins, rep, unch = 0, 0, 0
  if split > 1 then
    local buckets
    ins, rep, unch, buckets = merge_points(1, split - 1)
    cascade(buckets, false)
  end
  if split <= n then
    append_points(split, n)
    ins = ins + (n - split + 1)
  end
  if rebuild_from >= 0 and W then
    cascade(buckets_from(max(rebuild_from, lowest)), true)
    for k = 2, K do recompute_tail(k) end
  end

  local out = {}
  local first_ts = nil
  if n > 0 and (split > 1 or not last_ts) then
    first_ts = tonumber(call('HGET', key, 'first_ts'))
    if (not first_ts) or T[1] < first_ts then
      first_ts = T[1]
      out[#out + 1] = 'first_ts' out[#out + 1] = first_ts
    end
  end
  local dead = {}
  if created or n == 0 then dead = expire(floor_ms, first_ts, out) end
  if n > 0 and ((not last_ts) or T[n] >= last_ts) then last_ts, last_v = T[n], V[n] end
  if W and W == w0 and not stale and not tail_changed and next(held) == nil and kept > 0 then
    -- Only appended to the open bucket: its points go after the others, nothing else changes.
    if #ao > 0 then out[#out + 1] = 'open' out[#out + 1] = m[1] .. packed_appended() end
  elseif W then
    local points = open_points()
    local empty_open = #points == 0  -- the last point's time and value are kept only then
    need_tail()
    out[#out + 1] = 'open'
    out[#out + 1] = spack(OPENFMT, W, empty_open and last_ts or 0, empty_open and last_v or 0, SIGNUM)
      .. write_tail() .. points
  end
  if next(held) ~= nil or #dead > 0 then flush(dead, out) end
  if not m[1] and n + #kind > 0 then
    out[#out + 1] = 'source' out[#out + 1] = ssub(BATCHES, names, names + ls - 1)
    out[#out + 1] = 'metric' out[#out + 1] = ssub(BATCHES, names + ls, names + ls + lm - 1)
  end
  if kind ~= '' then out[#out + 1] = 'kind' out[#out + 1] = kind end
  if n == 0 and rebuild_arg < 0 and #out > 0 then
    -- Retention: with nothing deleted before it, this write is refused when memory is full; skip the series.
    local reply = redis.pcall('HSET', key, unpack(out, 1, min(1000, #out)))
    if type(reply) == 'table' and reply.err then
      if string.find(reply.err, 'OOM', 1, true) then return -2, 0, 0, 0 end
      return redis.error_reply(reply.err)
    end
    for j = 1001, #out, 1000 do call('HSET', key, unpack(out, j, min(j + 999, #out))) end
    return ins, rep, unch, m[2] and 0 or 1
  end
  for j = 1, #out, 1000 do call('HSET', key, unpack(out, j, min(j + 999, #out))) end
  return ins, rep, unch, m[2] and 0 or 1
end

local replies = {}
local pos = 1
for i = 1, #KEYS do
  local n, _, ls, lm = sunpack('<IBHH', BATCHES, pos)
  replies[i] = spack('<dddd', write_one(KEYS[i], pos))
  pos = pos + 9 + ls + lm + 16 * n
end
return table.concat(replies)
