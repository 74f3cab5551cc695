"""Rate limits in Redis: a GCRA token bucket per key id and per client address, one Lua script.

Why GCRA (the generic cell rate algorithm, as in redis-cell and ``throttled``): it is a token bucket held
in ONE number per bucket, the theoretical arrival time (TAT) of the next request. A limit of ``rate``
requests per ``window`` lets an idle caller send ``rate`` at once, then one every ``window / rate``; there is
no boundary burst as with fixed windows (2 x rate across a window edge) and no per-request list as with
sliding logs. The answer to a refused request is exact: how long until one more would be admitted, which
becomes ``Retry-After``. Time comes from the server (``TIME``), so Lambda instances' clocks do not matter.

What is charged, and the Redis cost (one round trip per admitted request):

- a request with a valid key whose record is cached in-process: the key's bucket, one EVALSHA;
- a request whose key record is not cached: its HGETALL, the key's bucket (charged only if the record
  exists: the script checks, so guessed key ids leave nothing behind) and a *look* at the client address's
  bucket, pipelined in one round trip. On Redis Cluster the key's record and bucket share the slot
  ``{<key id>}``; the address bucket is another slot, and redis-py's cluster pipeline sends each node its
  part at once, so it is still one round trip of latency. If the key turns out unknown, revoked or expired,
  the address is then charged: a second round trip, paid only by refused tokens (and not even by them once
  the look says the address is over its limit: they get 429 at once);
- a refused token found in the cache: the address's bucket, one EVALSHA;
- an anonymous request on a public route: the address's bucket, one EVALSHA.

Why authenticated requests are not charged to their address as well: many devices behind one NAT (an
office, a mobile carrier) each hold their own source key, and one address's limit would throttle all of
them although each key stays within its own. Keys are limited per key; what has no valid key (anonymous
reads, guessing) is limited per address. The two buckets are never in one script, so they never need a
common hash tag (which would put every address's bucket in one slot: a hot spot on a cluster).

Tokens that are malformed, fail the checksum or are not the bootstrap token are refused without a key
lookup, but still charged to the client address (one EVALSHA): every refused credential counts.

Push beats (``/v1/push/<token>``) carry no key: each is charged to its client address and to its token's
own bucket (``UPSTAT_RATE_LIMIT_PER_PUSH_TOKEN``), pipelined in one round trip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from upstat.errors import RateLimited
from upstat.store.scripts import Command, command, define

LAST_USED_EVERY_MS = 60_000
"""A key's ``last_used`` is refreshed by the script at most this often (a write per minute, not per call)."""

# KEYS[1]: the bucket (a string holding the TAT in microseconds); KEYS[2] (optional): the key record the
# bucket belongs to: when it does not exist nothing is charged (a guessed key id leaves no bucket behind),
# and its last_used field is refreshed when stale. ARGV: emission interval (µs), burst window (µs),
# last_used refresh interval (ms), mode ("charge" or "look": answer without charging).
# Replies {admitted 0/1, retry after ms, remaining}.
SCRIPT = """
if redis.replicate_commands then pcall(redis.replicate_commands) end
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 0 then return {1, 0, -1} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - window
if now < allow_at then
  return {0, math.ceil((allow_at - now) / 1000), 0}
end
if ARGV[4] == 'look' then return {1, 0, math.floor((now - allow_at) / interval)} end
-- pcall: with memory full (noeviction) the charge cannot be kept; the request goes on uncharged, so reads
-- and the status page keep answering while every write fails loudly on its own data.
redis.pcall('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
if KEYS[2] then
  local now_ms = math.floor(now / 1000)
  local last = tonumber(redis.call('HGET', KEYS[2], 'last_used') or 0)
  if now_ms - last >= tonumber(ARGV[3]) then
    redis.pcall('HSET', KEYS[2], 'last_used', string.format('%.0f', now_ms))
  end
end
return {1, 0, math.floor((now - allow_at) / interval)}
"""
LIMIT = define("auth.limit", SCRIPT)


@dataclass(frozen=True)
class Verdict:
    admitted: bool
    retry_after_ms: int
    remaining: int

    @property
    def retry_after_s(self) -> int:
        """Whole seconds for ``Retry-After`` (at least 1)."""
        return max(1, math.ceil(self.retry_after_ms / 1000))


def limit_command(
    bucket: str, rate: int, window_s: int, record: str | None = None, *, look: bool = False
) -> Command:
    """The EVALSHA that charges one request to ``bucket`` (``rate`` requests per ``window_s``).

    ``record``: the key record the bucket belongs to (nothing is charged if it does not exist). ``look``:
    answer whether a request would be admitted, without charging it.
    """
    window_us = window_s * 1_000_000
    interval_us = max(1, window_us // rate)
    keys = (bucket, record) if record else (bucket,)
    mode = "look" if look else "charge"
    return command(LIMIT, keys, (interval_us, window_us, LAST_USED_EVERY_MS, mode))


def verdict(reply: Any) -> Verdict:
    admitted, retry_ms, remaining = (int(v) for v in reply)
    return Verdict(bool(admitted), retry_ms, remaining)


def enforce(verdicts: Sequence[Verdict], what: str) -> None:
    """RateLimited (429 with Retry-After) if any bucket refused."""
    refused = [v for v in verdicts if not v.admitted]
    if refused:
        wait = max(v.retry_after_s for v in refused)
        raise RateLimited(f"rate limit reached for this {what}; retry in {wait} s", retry_after=wait)
