"""Who is calling: bearer tokens checked, callers admitted under the rate limits.

Order of the checks, cheapest first:

1. the token's shape (ASCII, printable, at most 512 characters);
2. a token that is not a well-formed API key is compared (in constant time) with the bootstrap admin token
   (UPSTAT_ADMIN_TOKEN, or the SSM SecureString named by UPSTAT_ADMIN_TOKEN_SSM_PARAMETER, read once and
   cached); an ``upk_`` token whose checksum fails is refused without looking its key up;
3. the key's record, from the in-process cache (upstat.auth.cache: at most ``key_cache_seconds`` old, so a
   revocation elsewhere takes effect within that time, and at once in the revoking process) or from Redis,
   pipelined with the rate-limit scripts (upstat.auth.ratelimit) in one round trip; its digest is compared
   in constant time, then its revocation and expiry.

Every refused credential (malformed, unknown, mistyped, revoked, expired, not the bootstrap token) is
charged to the client address's bucket before the 401, so guessing is limited per address whatever the
guess looks like.
"""

from __future__ import annotations

import hmac
from typing import Any, NoReturn

from upstat.auth import ANONYMOUS_READER, Principal, cache
from upstat.auth import ratelimit as rl
from upstat.auth import tokens as tk
from upstat.auth.keys import KeyRecord
from upstat.auth.keyspace import AuthKeys
from upstat.clock import now_ms
from upstat.config import Settings
from upstat.errors import StoreUnavailable, Unauthorized
from upstat.store.scripts import Scripts

ADMIN_ENV = Principal("admin-bootstrap", frozenset({"admin"}))


def bootstrap_admin_token(settings: Settings) -> str | None:
    """The admin token accepted as is: the environment's, else the SSM parameter's (cached)."""
    if settings.admin_token:
        return settings.admin_token
    if settings.admin_token_ssm_parameter:
        from upstat.aws import get_ssm_parameter

        try:
            return get_ssm_parameter(settings.admin_token_ssm_parameter) or None
        except Exception as exc:  # botocore raises many types; none of them may become a 500
            raise StoreUnavailable("the admin token parameter could not be read") from exc
    return None


def _is_bootstrap(token: str, settings: Settings) -> bool:
    admin = bootstrap_admin_token(settings)
    if not admin:
        return False
    # Digests of equal length, so the comparison's time does not even reveal the token's length.
    return hmac.compare_digest(tk.token_digest(token), tk.token_digest(admin))


def _malformed(token: str) -> bool:
    return len(token) > tk.MAX_TOKEN_LENGTH or not token.isascii() or not token.isprintable()


class _Gate:
    """One request's admission: which buckets to charge, and the round trip that does it."""

    def __init__(self, settings: Settings, client: Any, address: str | None) -> None:
        self.settings = settings
        self.client = client
        self.address = address  # None: authenticate without charging any bucket
        self.names = AuthKeys(settings.key_prefix)

    def key_bucket(self, key_id: str, *, touch: bool = True) -> list[rl.Command]:
        if self.address is None:
            return []
        record = self.names.record(key_id) if touch else None
        s = self.settings
        bucket = self.names.key_rate(key_id)
        return [rl.limit_command(bucket, s.rate_limit_per_key, s.rate_limit_window_s, record)]

    def address_bucket(self, *, look: bool = False) -> list[rl.Command]:
        if self.address is None:
            return []
        s = self.settings
        bucket = self.names.address_rate(self.address)
        return [rl.limit_command(bucket, s.rate_limit_per_ip, s.rate_limit_window_s, look=look)]

    def charge(self, commands: list[rl.Command], what: str) -> None:
        rl.enforce([rl.verdict(reply) for reply in Scripts(self.client).execute(commands)], what)

    def refuse(self, field: str, problem: str, look: rl.Verdict | None = None) -> NoReturn:
        """401 for a refused credential, charged to the client's address first (429 once the address is
        over its limit): guessing costs the guesser whatever the token looks like."""
        if look is not None:
            rl.enforce([look], "client address")  # already over the limit: 429 without charging again
        self.charge(self.address_bucket(), "client address")
        raise Unauthorized(f"{field}: {problem}", field=field)

    def lookup(self, parsed: tk.ParsedToken) -> tuple[KeyRecord | None, bool, rl.Verdict | None]:
        """The key's record, whether it came from Redis, and then a look at the address's bucket.

        On a cache miss the key's bucket is charged in the same round trip (the script charges nothing if
        the record does not exist) and enforced here if the token is good.
        """
        record = cache.get(self.settings.key_prefix, parsed.key_id)
        if record is not None:
            return record, False, None
        key, look = self.key_bucket(parsed.key_id), self.address_bucket(look=True)
        replies = Scripts(self.client).execute([("HGETALL", self.names.record(parsed.key_id)), *key, *look])
        record = KeyRecord.from_hash(replies[0])
        if record is not None:
            cache.put(self.settings.key_prefix, record, self.settings.key_cache_seconds)
            if _refusal(record, parsed) is None:
                rl.enforce([rl.verdict(reply) for reply in replies[1 : 1 + len(key)]], "key")
        return record, True, rl.verdict(replies[-1]) if look else None


def _refusal(record: KeyRecord, parsed: tk.ParsedToken) -> str | None:
    """Why a record does not admit this token (None: it does)."""
    if not tk.digests_match(record.digest, parsed.digest()):
        return "unknown token"
    state = record.state(now_ms())
    if state == "revoked":
        return f"key {record.key_id} was revoked"
    if state == "expired":
        return f"key {record.key_id} has expired"
    return None


def _admit(token: str, gate: _Gate, field: str) -> Principal:
    if _malformed(token):
        gate.refuse(field, "malformed token")
    parsed = tk.parse(token)
    if parsed is None:
        if _is_bootstrap(token, gate.settings):
            gate.charge(gate.key_bucket(ADMIN_ENV.key_id, touch=False), "key")
            return ADMIN_ENV
        gate.refuse(
            field,
            "malformed token (mistyped? its checksum does not match)"
            if tk.looks_like_key(token)
            else "unknown token",
        )
    record, fetched, look = gate.lookup(parsed)
    reason = "unknown token" if record is None else _refusal(record, parsed)
    if reason is None and record is not None:
        if not fetched:
            gate.charge(gate.key_bucket(record.key_id), "key")
        return record.principal()
    if _is_bootstrap(token, gate.settings):  # an operator may have chosen an upk_-shaped bootstrap token
        return ADMIN_ENV
    gate.refuse(field, reason or "unknown token", look)


def refuse(address: str, problem: str, *, settings: Settings, client: Any, field: str) -> NoReturn:
    """401 for a credential refused before it could be read (e.g. ``Authorization: Basic ...``), charged
    to the client's address like every refused credential."""
    _Gate(settings, client, address).refuse(field, problem)


def authenticate(token: str, *, settings: Settings, client: Any, field: str = "Authorization") -> Principal:
    """The principal a bearer token stands for, without charging a rate limit.

    Unauthorized (401) for a malformed, unknown, revoked or expired token. At most one Redis round trip
    (none for the bootstrap token, a malformed token or a cached key).
    """
    return _admit(token, _Gate(settings, client, None), field)


def admit(
    token: str | None,
    address: str,
    *,
    settings: Settings,
    client: Any,
    field: str = "Authorization",
) -> Principal:
    """Authenticate ``token`` (None: an anonymous reader) and charge the rate limits, in one round trip.

    Raises Unauthorized (401) or RateLimited (429 with ``retry_after``). ``address`` is the client's
    address, whose bucket anonymous requests and refused tokens are charged to.
    """
    gate = _Gate(settings, client, address)
    if token is None:
        gate.charge(gate.address_bucket(), "client address")
        return ANONYMOUS_READER
    return _admit(token, gate, field)


def admit_push(token: str, address: str, *, settings: Settings, client: Any) -> None:
    """Charge one push beat to its client address and to its token, in one round trip; RateLimited (429)
    when either is over its limit. A beat carries no key: the token is checked by the uptime domain."""
    gate = _Gate(settings, client, address)
    bucket = gate.names.push_rate(token)
    per_token = rl.limit_command(bucket, settings.rate_limit_per_push_token, settings.rate_limit_window_s)
    gate.charge([*gate.address_bucket(), per_token], "push token or client address")
