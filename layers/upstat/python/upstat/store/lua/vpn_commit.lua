-- Commit one VPN server's state after a status file, if nobody committed another meanwhile (compare-and-set
-- on the server's version), so two files of one server processed at once never interleave their sums.
--
-- KEYS: 1 the server hash (version, time, totals ...), 2 its clients hash (common name -> JSON); both under
--       the server's hash tag.
-- ARGV: 1 the version read ('' = the server was new), 2 the server's fields as a JSON object (the new
--       version included), 3.. common name, client JSON pairs to set.
-- Returns 1 committed, 0 the version changed since it was read (read again and recompute).

local current = redis.call('HGET', KEYS[1], 'version') or ''
if current ~= ARGV[1] then return 0 end
for name, value in pairs(cjson.decode(ARGV[2])) do
  redis.call('HSET', KEYS[1], name, tostring(value))
end
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 1
