"""A warm process's short memory of API key records (``UPSTAT_KEY_CACHE_SECONDS``, default 5 s).

An entry lives at most ``key_cache_seconds``: a key revoked through another process (the CLI, another Lambda
instance) stops working here within that time. A revocation through this process forgets the entry at once,
so there the key fails on the very next request. Expiry is checked on every use, cached or not. Only records
that exist are kept (unknown key ids are not remembered), and the cache is bounded.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from upstat.auth.keys import KeyRecord

MAX_ENTRIES = 10_000

_lock = threading.Lock()
_entries: dict[tuple[str, str], tuple[float, KeyRecord]] = {}


def get(prefix: str, key_id: str) -> KeyRecord | None:
    """The cached record, if one is younger than its lifetime."""
    hit = _entries.get((prefix, key_id))
    if hit is None:
        return None
    if time.monotonic() >= hit[0]:
        _entries.pop((prefix, key_id), None)
        return None
    return hit[1]


def put(prefix: str, record: KeyRecord, lifetime_s: float) -> None:
    if lifetime_s <= 0:
        return
    now = time.monotonic()
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            for name in [n for n, (deadline, _) in _entries.items() if deadline <= now]:
                del _entries[name]
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
        _entries[(prefix, record.key_id)] = (now + lifetime_s, record)


def forget(prefix: str, key_id: str) -> None:
    """Drop one key's entry (after a revocation through this process)."""
    _entries.pop((prefix, key_id), None)


def clear() -> None:
    with _lock:
        _entries.clear()
