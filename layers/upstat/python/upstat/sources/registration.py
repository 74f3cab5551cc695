"""Registering a source with its source key, and removing one with its series and keys: the registry's
steps that span the engine and API keys, for upstat's routes and any dialect that registers devices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upstat.auth import keys as api_keys
from upstat.config import Settings
from upstat.sources import store
from upstat.sources.models import Source
from upstat.timeseries.engine import Engine


@dataclass(frozen=True)
class Registered:
    """A new source and its source key (``token`` exists only here: give it to the agent)."""

    source: Source
    key_id: str
    token: str


@dataclass(frozen=True)
class Removed:
    source: Source
    series: int
    keys_revoked: int


def register(
    client: Any,
    settings: Settings,
    source_id: str | None,
    *,
    kind: str,
    now_ms: int,
    created_by: str | None = None,
    **fields: Any,
) -> Registered:
    """Register a source (Conflict when its id is taken) and make its source key: read and write, this
    source only, like OpenWISP's device key. A source that already sent data keeps its series."""
    source = store.create_source(client, source_id, kind=kind, now_ms=now_ms, **fields)
    record, token = api_keys.create_key(
        client,
        settings,
        name=f"source key of {source.id}"[: api_keys.MAX_NAME],
        scopes=("read", "write"),
        source=source.id,
        created_by=created_by,
        now=now_ms,
    )
    return Registered(source, record.key_id, token)


def remove(client: Any, settings: Settings, engine: Engine, source_id: str, *, now_ms: int) -> Removed:
    """Revoke the keys bound to a registered source (its agent stops writing), delete its series, then
    unregister it. NotFound when it is not registered. Run again after a failure, it finishes the job."""
    source = store.get_source(client, source_id)
    if source is None:
        raise store.not_registered(source_id)
    revoked = api_keys.revoke_source_keys(client, settings, source_id, now=now_ms)
    series = engine.delete_sources([source_id])
    store.delete_source(client, source_id)
    return Removed(source, series, revoked)
