"""API keys: create, get, list and revoke records in Redis.

One key is one hash ``<prefix>key:{<key id>}`` with the fields below; ``<prefix>keys`` is the set of key ids
(listing reads it, never KEYS or SCAN). The token itself is never stored: only its SHA-256 (``digest``), and
nothing here returns that digest to a caller outside this package.

Fields: ``id``, ``name``, ``scopes`` (space-separated), ``source`` (a source key: limited to that source),
``organization`` (an organization-bound key: limited to that organization's sources), ``created_at``,
``expires_at``, ``revoked_at``, ``last_used`` (epoch milliseconds; the last refreshed by the rate-limit
script at most once a minute, so it costs no round trip), ``created_by`` (the key id that created it) and
``digest``. Records are kept after revocation, for the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from upstat.auth import SCOPES, Principal, cache
from upstat.auth import tokens as tk
from upstat.auth.keyspace import AuthKeys
from upstat.clock import now_ms
from upstat.config import Settings
from upstat.errors import InvalidInput, NotFound
from upstat.names import check_name

KeyState = Literal["active", "expired", "revoked"]
MAX_NAME = 200
#: The longest a key may be made to last (expiry at most this far ahead; no expiry at all is allowed).
MAX_LIFETIME_MS = 3650 * 86_400_000


def time_of(ms: int | None) -> datetime | None:
    """An epoch-ms field of a record as a UTC datetime; a value beyond what a datetime holds (a record
    written before expiry was bounded) reads as the latest datetime rather than failing the listing."""
    if ms is None:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class KeyRecord:
    """One stored API key (never the token; the digest is kept out of ``repr``)."""

    key_id: str
    name: str
    scopes: frozenset[str]
    source: str | None
    created_at: int
    expires_at: int | None = None
    revoked_at: int | None = None
    last_used: int | None = None
    created_by: str | None = None
    digest: str = field(default="", repr=False)
    organization: str | None = None

    def state(self, now: int) -> KeyState:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"

    def principal(self) -> Principal:
        return Principal(self.key_id, self.scopes, self.source, self.organization)

    def to_hash(self) -> dict[str, str]:
        values: dict[str, Any] = {
            "id": self.key_id,
            "name": self.name,
            "scopes": " ".join(sorted(self.scopes)),
            "source": self.source,
            "organization": self.organization,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "last_used": self.last_used,
            "created_by": self.created_by,
            "digest": self.digest,
        }
        return {name: str(value) for name, value in values.items() if value is not None and value != ""}

    @classmethod
    def from_hash(cls, raw: Mapping[Any, Any] | None) -> KeyRecord | None:
        """The record of an HGETALL reply (None for a missing or unreadable key)."""
        if not raw:
            return None
        values = {_text(k): _text(v) for k, v in raw.items()}
        if not values.get("id") or not values.get("digest") or not values.get("created_at"):
            return None
        return cls(
            key_id=values["id"],
            name=values.get("name", ""),
            scopes=frozenset(values.get("scopes", "").split()),
            source=values.get("source") or None,
            created_at=int(values["created_at"]),
            expires_at=_int(values.get("expires_at")),
            revoked_at=_int(values.get("revoked_at")),
            last_used=_int(values.get("last_used")),
            created_by=values.get("created_by") or None,
            digest=values["digest"],
            organization=values.get("organization") or None,
        )


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def check_scopes(
    scopes: Iterable[str], source: str | None, organization: str | None = None
) -> frozenset[str]:
    """The scopes as a set; InvalidInput naming the field for an unknown scope, an admin source key or an
    admin organization key (admin could make itself an unbound key), or a key bound to both."""
    chosen = frozenset(scopes)
    if not chosen:
        raise InvalidInput("scopes: give at least one of read, write, admin", field="scopes")
    unknown = sorted(chosen - set(SCOPES))
    if unknown:
        raise InvalidInput(f"scopes: unknown scope '{unknown[0]}' (read, write, admin)", field="scopes")
    if source is not None and "admin" in chosen:
        raise InvalidInput("source: a source key cannot hold the admin scope", field="source")
    if organization is not None and source is not None:
        raise InvalidInput(
            "organization: a key is bound to a source or to an organization, not both", field="organization"
        )
    if organization is not None and "admin" in chosen:
        raise InvalidInput(
            "organization: an organization key cannot hold the admin scope", field="organization"
        )
    return chosen


def create_key(
    client: Any,
    settings: Settings,
    *,
    name: str,
    scopes: Iterable[str],
    source: str | None = None,
    expires_at: int | None = None,
    created_by: str | None = None,
    now: int | None = None,
    organization: str | None = None,
) -> tuple[KeyRecord, str]:
    """Store a new key; returns its record and the token (the only time the token exists anywhere).

    ``organization`` (an organization's slug) binds the key to that organization's sources; that it exists
    is the registry's to say, so callers check it first (``upstat.sources.store.require_organization``)."""
    now = now_ms() if now is None else now
    chosen = check_scopes(scopes, source, organization)
    check_name(name, "name", max_len=MAX_NAME)
    if source is not None:
        check_name(source, "source")
    if organization is not None:
        check_name(organization, "organization")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("expires_at: must be in the future", field="expires_at")
    if expires_at is not None and expires_at > now + MAX_LIFETIME_MS:
        raise InvalidInput("expires_at: at most 3650 days (10 years) ahead", field="expires_at")
    names = AuthKeys(settings.key_prefix)
    for _ in range(5):
        token = tk.new_token()
        # HSETNX claims the id: a (2**-62-unlikely) clash with an existing key draws a new id.
        if client.hsetnx(names.record(token.key_id), "digest", token.digest()):
            break
    else:
        raise RuntimeError("could not draw an unused key id")
    record = KeyRecord(
        key_id=token.key_id,
        name=name,
        scopes=chosen,
        source=source,
        created_at=now,
        expires_at=expires_at,
        created_by=created_by,
        digest=token.digest(),
        organization=organization,
    )
    pipe = client.pipeline(transaction=False)
    pipe.hset(names.record(record.key_id), mapping=record.to_hash())
    pipe.sadd(names.index(), record.key_id)
    pipe.execute()
    return record, token.token


def get_key(client: Any, settings: Settings, key_id: str) -> KeyRecord | None:
    """The record of ``key_id`` (None if there is none; malformed ids are not looked up)."""
    if not tk.is_key_id(key_id):
        return None
    return KeyRecord.from_hash(client.hgetall(AuthKeys(settings.key_prefix).record(key_id)))


def list_keys(client: Any, settings: Settings) -> list[KeyRecord]:
    """Every key, oldest first: the index, then the records in one pipelined round trip."""
    names = AuthKeys(settings.key_prefix)
    ids = sorted(_text(i) for i in client.smembers(names.index()))
    if not ids:
        return []
    pipe = client.pipeline(transaction=False)
    for key_id in ids:
        pipe.hgetall(names.record(key_id))
    found = [KeyRecord.from_hash(raw) for raw in pipe.execute()]
    return sorted((r for r in found if r is not None), key=lambda r: (r.created_at, r.key_id))


def revoke_key(client: Any, settings: Settings, key_id: str, *, now: int | None = None) -> KeyRecord:
    """Mark ``key_id`` revoked (idempotent: the first revocation time stays) and forget it in this process.

    Other warm processes stop accepting it within ``key_cache_seconds``.
    """
    now = now_ms() if now is None else now
    names = AuthKeys(settings.key_prefix)
    if get_key(client, settings, key_id) is None:
        raise NotFound(f"key_id: no key '{key_id}'", field="key_id")
    client.hsetnx(names.record(key_id), "revoked_at", str(now))
    cache.forget(settings.key_prefix, key_id)
    record = get_key(client, settings, key_id)
    if record is None:  # deleted under our feet
        raise NotFound(f"key_id: no key '{key_id}'", field="key_id")
    return record


def revoke_source_keys(client: Any, settings: Settings, source: str, *, now: int | None = None) -> int:
    """Revoke every active key bound to ``source`` (its source is being deleted); how many were."""
    now = now_ms() if now is None else now
    bound = [r for r in list_keys(client, settings) if r.source == source and r.state(now) == "active"]
    for record in bound:
        revoke_key(client, settings, record.key_id, now=now)
    return len(bound)
