"""Run-time engine configuration: per-tier retention, changeable through the API without a deploy.

The environment (UPSTAT_TIERS, UPSTAT_RETENTION) gives the defaults; a retention set through the API is kept
in one Redis hash and wins. A process re-reads it at most every ``CACHE_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from upstat.config import get_settings
from upstat.errors import InvalidInput
from upstat.store.keyspace import Keys, keyspace
from upstat.timeseries import timemath as tm
from upstat.timeseries.engine import Engine

CACHE_SECONDS = 5.0
_lock = threading.Lock()
_cache: dict[int, tuple[float, str | None, Engine]] = {}


def _stored_retention(client: Any, keys: Keys) -> str | None:
    raw = client.hget(keys.engine_config(), "retention")
    return raw.decode() if raw else None


def current_engine(client: Any, *, fresh: bool = False) -> Engine:
    """The engine with the current retention (cached per client for a few seconds)."""
    settings = get_settings()
    keys = Keys(settings.key_prefix)
    entry = _cache.get(id(client))
    if entry and not fresh and time.monotonic() - entry[0] < CACHE_SECONDS and entry[2].redis is client:
        return entry[2]
    stored = _stored_retention(client, keys)
    engine = Engine.from_settings(client, settings, retention=stored)
    with _lock:
        _cache[id(client)] = (time.monotonic(), stored, engine)
    return engine


def retention_view(engine: Engine) -> dict[str, int]:
    """Retention per tier in seconds (0 = kept for ever)."""
    return {t.name: t.retention_ms // 1000 for t in engine.tiers}


def set_retention(client: Any, changes: dict[str, Any]) -> Engine:
    """Change some tiers' retention (values: seconds as int, or an interval like '14d'; 0 = for ever).

    The whole set is validated before anything is stored (each tier kept at least as long as the finer one
    plus a bucket); returns the engine with the new retention.
    """
    engine = current_engine(client, fresh=True)
    names = [t.name for t in engine.tiers]
    current = {t.name: t.retention_ms for t in engine.tiers}
    for name, value in changes.items():
        if name not in current:
            raise InvalidInput(
                f"retention.{name}: unknown tier (tiers are {', '.join(names)})", field=f"retention.{name}"
            )
        current[name] = _to_ms(value, f"retention.{name}")
    text = ",".join(f"{n}={current[n] // 1000}s" if current[n] else f"{n}=0" for n in names)
    tiers_text = ",".join(names[1:])
    tm.build_tiers(tiers_text, text)  # validates the whole set
    keys = keyspace(Keys)
    client.hset(keys.engine_config(), "retention", text)
    return current_engine(client, fresh=True)


#: The longest retention that is not "for ever" (0).
MAX_RETENTION_S = 100 * 365 * 86_400


def _to_ms(value: Any, field: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 86400.0: JSON Schema's integers include whole floats
    if isinstance(value, bool):
        raise InvalidInput(f"{field}: must be seconds (an integer) or an interval such as 14d", field=field)
    if isinstance(value, int):
        if value < 0:
            raise InvalidInput(f"{field}: must not be negative", field=field)
        if value > MAX_RETENTION_S:
            raise InvalidInput(
                f"{field}: at most 100 years ({MAX_RETENTION_S} s); 0 keeps data for ever", field=field
            )
        return value * 1000
    if isinstance(value, str):
        if value.strip() in ("0", "unlimited"):
            return 0
        ms = tm.parse_interval(value, field=field).ms
        if ms > MAX_RETENTION_S * 1000:
            raise InvalidInput(f"{field}: at most 100 years; 0 keeps data for ever", field=field)
        return ms
    raise InvalidInput(f"{field}: must be seconds (an integer) or an interval such as 14d", field=field)
