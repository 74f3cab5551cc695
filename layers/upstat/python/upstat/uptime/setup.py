"""Whether the first-run setup was completed (the OpenUptimes setup routes): one field of the uptime config
hash, written once (the first completion time stays)."""

from __future__ import annotations

from typing import Any

from upstat.store.keyspace import keyspace
from upstat.uptime.keyspace import UptimeKeys

FIELD = "setup_completed_at"


def is_complete(client: Any) -> bool:
    return bool(client.hexists(keyspace(UptimeKeys).config(), FIELD))


def complete(client: Any, now_ms: int) -> None:
    """Mark the setup complete (idempotent: the first time is kept)."""
    client.hsetnx(keyspace(UptimeKeys).config(), FIELD, now_ms)
