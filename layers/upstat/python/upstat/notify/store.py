"""The channels in Redis: one hash, channel id -> the channel's JSON with its secrets sealed.

Each write validates the whole channel (and refuses user-given URLs the SSRF guard would refuse) before
one ``HSET``: nothing half-written. A change is a compare-and-set on the stored document, so two admins
changing one channel at once do not lose either's change silently (the second answers 409).
"""

from __future__ import annotations

import builtins
import json
import secrets as token_source
from collections.abc import Sequence
from typing import Any

from upstat import clock
from upstat.config import Settings, get_settings
from upstat.errors import Conflict, InvalidInput, NotFound, UpstatError
from upstat.notify import sealing
from upstat.notify.keyspace import NotifyKeys
from upstat.notify.models import (
    SECRETS,
    USER_URLS,
    Channel,
    ChannelIn,
    ChannelUpdate,
    channel_in,
    unmask_config,
)
from upstat.store.scripts import Scripts, define

#: Set field ARGV[1] of the hash to ARGV[3] only if it holds ARGV[2]: 1 stored, 0 changed meanwhile, -1 gone.
CHANNEL_CAS = define(
    "channel_cas",
    """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return -1 end
if cur ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
""",
)


def refuse_blocked_urls(data: ChannelIn, settings: Settings) -> None:
    """InvalidInput naming the config field when a user-given URL names an address the SSRF guard refuses
    (UPSTAT_ALLOWED_TARGETS lifts the refusal for the networks it lists)."""
    from upstat.uptime.ssrf import AddressPolicy, refused_target

    policy = AddressPolicy.from_text(settings.allowed_targets)
    for name in USER_URLS.get(data.kind, ()):
        url = data.config.get(name)
        reason = refused_target(url, policy) if url else None
        if reason is not None:
            raise InvalidInput(
                f"config.{name}: target refused: {reason}; alerts never go there (UPSTAT_ALLOWED_TARGETS "
                "lists networks to allow)",
                field=f"config.{name}",
            )


class ChannelStore:
    """Channels of one Redis (single or cluster). Cheap to build: make one per request or job."""

    def __init__(self, client: Any, settings: Settings | None = None) -> None:
        self.redis = client
        self.settings = settings or get_settings()
        self.keys = NotifyKeys(self.settings.key_prefix)

    # --- reads ---
    def list(self) -> builtins.list[Channel]:
        """Every channel, by name."""
        found = [self._decode(v) for v in self.redis.hgetall(self.keys.channels()).values()]
        return sorted(found, key=lambda c: (c.name.lower(), c.id))

    def for_delivery(self) -> tuple[dict[str, Channel], dict[str, tuple[str, bool]]]:
        """Every channel by id, and those that cannot be read (their secrets do not open with the key, the
        key cannot be read) as (why, whether it is in the default set): one broken channel must not stop
        the others' alerts, and must still show up in the outcomes of the alerts it should have had."""
        good: dict[str, Channel] = {}
        broken: dict[str, tuple[str, bool]] = {}
        for key, raw in self.redis.hgetall(self.keys.channels()).items():
            cid = key.decode() if isinstance(key, bytes) else str(key)
            try:
                good[cid] = self._decode(raw)
            except UpstatError as exc:
                broken[cid] = (exc.message, bool(json.loads(raw).get("default")))
        return good, broken

    def get(self, channel_id: str) -> Channel | None:
        raw = self.redis.hget(self.keys.channels(), channel_id)
        return None if raw is None else self._decode(raw)

    def require(self, channel_id: str) -> Channel:
        found = self.get(channel_id)
        if found is None:
            raise NotFound(f"id: no channel '{channel_id}'", field="id")
        return found

    def get_many(self, ids: Sequence[str]) -> dict[str, Channel]:
        """The channels of ``ids`` that exist, by id (one round trip)."""
        if not ids:
            return {}
        unique = list(dict.fromkeys(ids))
        raws = self.redis.hmget(self.keys.channels(), unique)
        return {i: self._decode(raw) for i, raw in zip(unique, raws, strict=True) if raw is not None}

    def missing(self, ids: Sequence[str]) -> builtins.list[str]:
        """The ids among ``ids`` that name no channel."""
        if not ids:
            return []
        unique = list(dict.fromkeys(ids))
        there = self.redis.hmget(self.keys.channels(), unique)
        return [i for i, raw in zip(unique, there, strict=True) if raw is None]

    def refuse_unknown(self, ids: Sequence[str], field: str = "channels") -> None:
        """InvalidInput naming ``channels[i]`` for the first id that names no channel: what services,
        rules and sources with health name is checked the same way."""
        missing = self.missing(ids)
        if missing:
            at = f"{field}[{list(ids).index(missing[0])}]"
            raise InvalidInput(f"{at}: no channel {missing[0]!r} (GET /v1/channels lists them)", field=at)

    # --- writes ---
    def create(self, data: ChannelIn | dict[str, Any], *, now_ms: int | None = None) -> Channel:
        fields = channel_in(data)
        unmask_config(fields.kind, fields.config, {})  # a masked secret stands for nothing stored yet
        refuse_blocked_urls(fields, self.settings)
        stamp = clock.now_ms() if now_ms is None else now_ms
        channel = Channel.model_validate(
            {
                **fields.model_dump(by_alias=True, mode="json"),
                "id": token_source.token_hex(6),
                "createdAt": stamp,
                "updatedAt": stamp,
            }
        )
        self.redis.hset(self.keys.channels(), channel.id, self._encode(channel))
        return channel

    def replace(self, channel_id: str, data: ChannelIn | dict[str, Any]) -> Channel:
        """PUT: every field anew; masked secrets sent back keep the stored ones (same kind only)."""
        current, raw = self._current(channel_id)
        sent = data.model_dump(by_alias=True, mode="json") if isinstance(data, ChannelIn) else dict(data)
        kind = sent.get("kind")
        if isinstance(sent.get("config"), dict) and kind in SECRETS:
            stored = current.config if kind == current.kind else {}
            sent["config"] = unmask_config(kind, sent["config"], stored)
        return self._write(current, raw, sent)

    def update(self, channel_id: str, change: ChannelUpdate | dict[str, Any]) -> Channel:
        """PATCH: the fields sent change, the rest are kept."""
        from upstat.uptime.models import validated

        patch = validated(ChannelUpdate, change)
        current, raw = self._current(channel_id)
        return self._write(current, raw, patch.apply(current))

    def delete(self, channel_id: str) -> Channel:
        channel = self.require(channel_id)
        self.redis.hdel(self.keys.channels(), channel_id)
        return channel

    # --- internals ---
    def _current(self, channel_id: str) -> tuple[Channel, bytes | str]:
        raw = self.redis.hget(self.keys.channels(), channel_id)
        if raw is None:
            raise NotFound(f"id: no channel '{channel_id}'", field="id")
        return self._decode(raw), raw

    def _write(self, current: Channel, raw: bytes | str, data: dict[str, Any]) -> Channel:
        fields = channel_in(data)
        refuse_blocked_urls(fields, self.settings)
        channel = Channel.model_validate(
            {
                **fields.model_dump(by_alias=True, mode="json"),
                "id": current.id,
                "createdAt": current.created_at,
                "updatedAt": max(clock.now_ms(), current.updated_at),
            }
        )
        done = Scripts(self.redis).run(
            CHANNEL_CAS, [self.keys.channels()], [current.id, raw, self._encode(channel)]
        )
        if done == -1:
            raise NotFound(f"id: no channel '{current.id}'", field="id")
        if done == 0:
            raise Conflict("the channel changed meanwhile: read it again and resend", field="id")
        return channel

    def _encode(self, channel: Channel) -> str:
        """The channel's JSON, the secret fields of its config replaced by one sealed token."""
        doc = channel.model_dump(by_alias=True, mode="json")
        names = SECRETS[channel.kind]
        hidden = {k: v for k, v in doc["config"].items() if k in names}
        doc["config"] = {k: v for k, v in doc["config"].items() if k not in names}
        doc["sealed"] = sealing.seal(hidden, self.settings)
        return json.dumps(doc, separators=(",", ":"))

    def _decode(self, raw: bytes | str) -> Channel:
        doc = json.loads(raw)
        sealed = doc.pop("sealed", "")
        doc["config"] = {**doc["config"], **sealing.unseal(sealed, self.settings)}
        return Channel.model_validate(doc)
