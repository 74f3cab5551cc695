"""The service store: definitions in Redis, found through indexes (never KEYS or SCAN).

Layout (see keys.py): one hash per service under ``{svc:<id>}`` with ``doc`` (the Service as JSON) and
``version``; a name -> id hash; an ordered index of ids; a due schedule (id -> next check ms).

Consistency without multi-slot transactions (Redis Cluster):

- a definition changes only by compare-and-set on its version (a Lua script), retried on conflict after
  re-applying the patch to the fresh copy, so two concurrent updates never lose one another's change;
- a name belongs to a service only while the name index points at the id *and* the definition still holds
  that name. Create writes the definition before claiming the name; rename claims the new name, then
  changes the definition, then releases the old name; delete removes the definition first. A crash between
  steps leaves a claim that points nowhere (or at a service with another name): readers ignore it and the
  next create or rename of that name takes it over. :meth:`ServiceStore.repair` re-indexes live services.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import secrets
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from upstat import clock
from upstat.config import get_settings
from upstat.errors import Conflict, InvalidInput, NotFound
from upstat.store.keyspace import keyspace
from upstat.store.scripts import Scripts
from upstat.uptime import lua
from upstat.uptime.keyspace import UptimeKeys
from upstat.uptime.models import Service, ServiceIn, ServiceUpdate, validated

#: Compare-and-set attempts before an update gives up with a 409 (only under extreme contention).
MAX_CAS_ATTEMPTS = 50


def token_digest(token: str) -> str:
    """The push-token index stores digests, not tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def refuse_blocked_targets(fields: ServiceIn) -> None:
    """InvalidInput naming ``url`` (or the webhook) when it names an address the SSRF guard refuses
    (UPSTAT_ALLOWED_TARGETS lifts the refusal for the networks it lists)."""
    from upstat.uptime.ssrf import AddressPolicy, refused_target  # loads aiohttp: only when services change

    policy = AddressPolicy.from_text(get_settings().allowed_targets)
    targets = [("url", fields.url)] if fields.kind in ("http", "tls", "tcp") else []
    targets += [(f"webhooks[{i}]", url) for i, url in enumerate(fields.webhooks)]
    for field, url in targets:
        reason = refused_target(url, policy)
        if reason is not None:
            raise InvalidInput(
                f"{field}: target refused: {reason}; checks never contact it (UPSTAT_ALLOWED_TARGETS lists "
                "networks to allow)",
                field=field,
            )


def refuse_unknown_channels(client: Any, fields: ServiceIn) -> None:
    """InvalidInput naming ``channels[i]`` when it names no notification channel."""
    if not fields.channels:
        return
    from upstat.notify.store import ChannelStore

    ChannelStore(client).refuse_unknown(fields.channels)


def first_check_ms(service: Service, now_ms: int) -> int:
    """When a new (or resumed) service is first due: at once, or for push monitors when a beat is late."""
    if service.kind == "push":
        return now_ms + (service.interval + service.grace) * 1000
    return now_ms


class ServiceStore:
    """Services of one Redis (single or cluster). Cheap to build: make one per request or job."""

    def __init__(self, client: Any, keys: UptimeKeys | None = None) -> None:
        self.redis = client
        self.keys = keys or keyspace(UptimeKeys)
        self.scripts = Scripts(client)

    # ------------------------------------------------------------------------------------------------
    # Reads

    def get_by_id(self, service_id: str) -> Service | None:
        """The service with this id, or None."""
        return self._decode(self.redis.hget(self.keys.service(service_id), "doc"))

    def get_many(self, ids: Iterable[str]) -> list[Service]:
        """The services with these ids, in order, skipping those that no longer exist (one round trip)."""
        ids = list(ids)
        if not ids:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for service_id in ids:
            pipe.hget(self.keys.service(service_id), "doc")
        return [s for s in (self._decode(raw) for raw in pipe.execute()) if s is not None]

    def by_push_token(self, token: str) -> Service | None:
        """The service the push token index points at (by the token's digest), or None. The caller checks
        that the service is a push monitor still holding this token (the index may lag a rotation)."""
        raw = self.redis.hget(self.keys.push_tokens(), token_digest(token))
        return None if raw is None else self.get_by_id(_text(raw))

    def get(self, name: str) -> Service | None:
        """The service named ``name``, or None."""
        service_id = self._id_of(name)
        if service_id is None:
            return None
        service = self.get_by_id(service_id)
        return service if service is not None and service.name == name else None

    def require(self, name: str) -> Service:
        """The service named ``name``, or :class:`NotFound` (404)."""
        service = self.get(name)
        if service is None:
            raise NotFound(f"service {name!r} not found", field="name")
        return service

    def ids(self) -> list[str]:
        """Every service id, oldest first (from the index)."""
        return [_text(x) for x in self.redis.zrange(self.keys.index(), 0, -1)]

    def list(self) -> builtins.list[Service]:
        """Every service, oldest first (two round trips whatever the count)."""
        return self.get_many(self.ids())

    def count(self) -> int:
        return int(self.redis.zcard(self.keys.index()))

    # ------------------------------------------------------------------------------------------------
    # Writes

    def create(self, data: ServiceIn | dict[str, Any], *, now_ms: int | None = None) -> Service:
        """Store a new service; :class:`Conflict` (409) if the name is taken.

        ``data`` is a ServiceIn or wire-named data (validated here: pydantic ValidationError or
        InvalidInput naming the field on bad input).
        """
        now_ms = clock.now_ms() if now_ms is None else now_ms
        fields = validated(ServiceIn, data)
        refuse_blocked_targets(fields)
        refuse_unknown_channels(self.redis, fields)
        service = Service.model_validate(
            {
                **fields.model_dump(by_alias=True, mode="json"),
                "id": secrets.token_hex(8),
                "createdAt": now_ms,
                "updatedAt": now_ms,
                "version": 1,
                "pushToken": secrets.token_urlsafe(24) if fields.kind == "push" else None,
            }
        )
        key = self.keys.service(service.id)
        self.redis.hset(key, mapping={"doc": _encode(service), "version": "1"})
        try:
            self._claim_name(service.name, service.id)
        except Conflict:
            self.redis.delete(key)
            raise
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(self.keys.index(), {service.id: self._index_score(now_ms)})
        if not service.paused:
            pipe.zadd(self.keys.due(), {service.id: first_check_ms(service, now_ms)})
        if service.push_token:
            pipe.hset(self.keys.push_tokens(), token_digest(service.push_token), service.id)
        pipe.execute()
        return service

    def update(
        self, name: str, patch: ServiceUpdate | dict[str, Any], *, now_ms: int | None = None
    ) -> Service:
        """Apply a partial change to the service named ``name`` and return the stored result.

        Renames keep the id (and so the history). :class:`NotFound` if there is no such service,
        :class:`Conflict` if the new name is taken; validation errors name the field.
        """
        change = validated(ServiceUpdate, patch)
        current = self.require(name)
        new_name = change.changes().get("name")
        renaming = isinstance(new_name, str) and new_name.strip() != current.name
        if renaming:
            validated(ServiceIn, change.apply(current))  # validate before claiming the name
            self._claim_name(str(new_name).strip(), current.id)
        try:
            updated = self._cas_update(current, change, now_ms)
        except BaseException:
            if renaming:
                self._release_name(str(new_name).strip(), current.id)
            raise
        if renaming:
            if self._id_of(updated.name) != current.id:  # taken over between claim and update
                raise Conflict(f"service name {updated.name!r} was taken meanwhile", field="name")
            self._release_name(current.name, current.id)
        self._after_update(current, updated, now_ms)
        return updated

    def _cas_update(self, current: Service, change: ServiceUpdate, now_ms: int | None) -> Service:
        for _ in range(MAX_CAS_ATTEMPTS):
            merged = change.apply(current)
            checked = validated(ServiceIn, merged)
            refuse_blocked_targets(checked)
            refuse_unknown_channels(self.redis, checked)
            stamp = clock.now_ms() if now_ms is None else now_ms
            token = current.push_token
            if merged.get("kind") == "push" and not token:
                token = secrets.token_urlsafe(24)
            updated = Service.model_validate(
                {
                    **merged,
                    "id": current.id,
                    "createdAt": current.created_at,
                    "version": current.version + 1,
                    "updatedAt": stamp,
                    "pushToken": token,
                }
            )
            done = self.scripts.run(
                lua.SVC_CAS,
                [self.keys.service(current.id)],
                [current.version, _encode(updated), updated.version],
            )
            if done == 1:
                return updated
            if done == -1:
                raise NotFound(f"service {current.name!r} not found", field="name")
            fresh = self.get_by_id(current.id)
            if fresh is None:
                raise NotFound(f"service {current.name!r} not found", field="name")
            current = fresh
        raise Conflict(f"service {current.name!r} is being changed by others; try again")

    def _after_update(self, before: Service, after: Service, now_ms: int | None) -> None:
        """Keep the schedule and the push index in line with the new definition."""
        now = clock.now_ms() if now_ms is None else now_ms
        pipe = self.redis.pipeline(transaction=False)
        if after.paused:
            pipe.zrem(self.keys.due(), after.id)
        elif before.paused or before.kind != after.kind:
            pipe.zadd(self.keys.due(), {after.id: first_check_ms(after, now)})
        elif after.interval < before.interval:
            pipe.zadd(self.keys.due(), {after.id: now + after.interval * 1000}, lt=True)
        if after.push_token and after.push_token != before.push_token:
            pipe.hset(self.keys.push_tokens(), token_digest(after.push_token), after.id)
        pipe.execute()

    def set_push_token(self, name: str, token: str) -> Service:
        """Replace a push monitor's token (the old URL stops working)."""
        current = self.require(name)
        for _ in range(MAX_CAS_ATTEMPTS):
            updated = current.model_copy(update={"push_token": token, "version": current.version + 1})
            done = self.scripts.run(
                lua.SVC_CAS,
                [self.keys.service(current.id)],
                [current.version, _encode(updated), updated.version],
            )
            if done == 1:
                pipe = self.redis.pipeline(transaction=False)
                if current.push_token:
                    pipe.hdel(self.keys.push_tokens(), token_digest(current.push_token))
                pipe.hset(self.keys.push_tokens(), token_digest(token), current.id)
                pipe.execute()
                return updated
            fresh = self.get_by_id(current.id)
            if fresh is None or done == -1:
                raise NotFound(f"service {name!r} not found", field="name")
            current = fresh
        raise Conflict(f"service {name!r} is being changed by others; try again")

    def delete(self, name: str) -> Service:
        """Delete the service named ``name`` with its check log, state, incidents, windows, alerts and
        engine series (response time, up ...). Returns the deleted service; :class:`NotFound` if there is
        none."""
        service = self.require(name)
        incident_ids = [_text(x) for x in self.redis.hkeys(self.keys.incidents(service.id))]
        self.redis.delete(*self.keys.all_of(service.id))  # one slot: atomic; the definition goes first
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrem(self.keys.due(), service.id)
        pipe.zrem(self.keys.index(), service.id)
        if incident_ids:
            pipe.zrem(self.keys.incident_index(), *[f"{service.id}:{i}" for i in incident_ids])
        if service.push_token:
            pipe.hdel(self.keys.push_tokens(), token_digest(service.push_token))
        pipe.execute()
        self._release_name(service.name, service.id)
        from upstat.timeseries.retention import current_engine
        from upstat.uptime.keyspace import service_source

        current_engine(self.redis).delete_sources([service_source(service.id)])
        return service

    # ------------------------------------------------------------------------------------------------
    # Schedule

    def due(self, now_ms: int, limit: int = 10_000) -> builtins.list[str]:
        """Ids of the services due at ``now_ms`` (without claiming them)."""
        return [_text(x) for x in self.redis.zrangebyscore(self.keys.due(), "-inf", now_ms, 0, limit)]

    def claim_due(self, now_ms: int, limit: int, lease_ms: int) -> builtins.list[str]:
        """Ids due at ``now_ms``, each moved ``lease_ms`` ahead in the same script so an overlapping run does
        not check it too. Recording a check sets its real next time; a run that dies before recording
        leaves the lease, and the service is checked again when it ends."""
        reply = self.scripts.run(lua.CLAIM_DUE, [self.keys.due()], [now_ms, limit, now_ms + lease_ms])
        return [_text(x) for x in reply]

    def schedule(self, service_id: str, at_ms: int) -> None:
        """Set when the service is due next (only if it is scheduled at all: paused ones stay out)."""
        self.redis.zadd(self.keys.due(), {service_id: at_ms}, xx=True)

    def repair(self, now_ms: int | None = None) -> int:
        """Re-index services a crash left out of the index or schedule (reads the name index, no SCAN).

        Returns how many entries were added back."""
        now = clock.now_ms() if now_ms is None else now_ms
        names = {_text(k): _text(v) for k, v in self.redis.hgetall(self.keys.names()).items()}
        live = [s for s in self.get_many(list(names.values())) if names.get(s.name) == s.id]
        pipe = self.redis.pipeline(transaction=False)
        for service in live:
            pipe.zadd(self.keys.index(), {service.id: service.created_at * 1000 + 999}, nx=True)
            if not service.paused:
                pipe.zadd(self.keys.due(), {service.id: first_check_ms(service, now)}, nx=True)
        return sum(int(x) for x in pipe.execute())

    def _index_score(self, created_ms: int) -> int:
        """Creation order, also within one millisecond: ms * 1000 + a counter (exact in a double)."""
        return created_ms * 1000 + int(self.redis.incr(self.keys.index_seq())) % 1000

    # ------------------------------------------------------------------------------------------------
    # Names

    def _id_of(self, name: str) -> str | None:
        raw = self.redis.hget(self.keys.names(), name)
        return None if raw is None else _text(raw)

    def _claim_name(self, name: str, service_id: str) -> None:
        """Point ``name`` at ``service_id``, taking over a stale claim; Conflict if a live service has it."""
        for _ in range(5):
            if self.redis.hsetnx(self.keys.names(), name, service_id):
                return
            holder = self._id_of(name)
            if holder is None:
                continue
            if holder == service_id:
                return
            other = self.get_by_id(holder)
            if other is not None and other.name == name:
                raise Conflict(f"a service named {name!r} already exists", field="name")
            if self.scripts.run(lua.HASH_CAS, [self.keys.names()], [name, holder, service_id]):
                return
        raise Conflict(f"a service named {name!r} already exists", field="name")

    def _release_name(self, name: str, service_id: str) -> None:
        self.scripts.run(lua.HASH_CAS, [self.keys.names()], [name, service_id, ""])

    # ------------------------------------------------------------------------------------------------

    @staticmethod
    def _decode(raw: bytes | str | None) -> Service | None:
        return None if raw is None else _decode_doc(raw)


@lru_cache(maxsize=20_000)
def _decode_doc(raw: bytes | str) -> Service | None:
    """Parsed definitions, cached by their exact stored text (any change is a new text; Service is frozen),
    so listing 1,000 services on a warm process costs no validation."""
    try:
        return Service.model_validate_json(raw)
    except (ValidationError, InvalidInput):
        return None  # a definition older rules no longer accept: hidden rather than failing a listing


def _encode(service: Service) -> str:
    return json.dumps(service.model_dump(by_alias=True, mode="json"), separators=(",", ":"))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
