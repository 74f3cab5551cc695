"""Helpers of the auth tests: keys made through the library, Redis round trips and command counts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from redis.cluster import PipelineStrategy
from redis.connection import AbstractConnection

from tests.redis_helpers import command_stats
from upstat.auth import keys
from upstat.config import get_settings


def make_key(client: Any, scopes: tuple[str, ...], **fields: Any) -> str:
    """A new key's token, created through the library (as the CLI and the routes do)."""
    _, token = keys.create_key(
        client, get_settings(), name=fields.pop("name", "test"), scopes=scopes, **fields
    )
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def command_calls(client: Any) -> dict[str, int]:
    """Calls per command since the last CONFIG RESETSTAT (the INFO reading itself excluded)."""
    stats = command_stats(client)
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if not name.startswith(("cmdstat_info", "cmdstat_config"))
    }


class RoundTrips:
    """Counts round trips to Redis: one per single command, one per pipelined batch. On a cluster a batch
    writes to each node holding its keys at once, then reads the answers: one round trip of latency."""

    def __init__(self) -> None:
        self.count = 0
        self.enabled = False
        self.in_batch = False


@contextmanager
def counting_round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[RoundTrips]:
    trips = RoundTrips()
    original = AbstractConnection.send_packed_command

    def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        # redis-py's own health check (a PING on a connection idle for 30 s, sent with check_health=False)
        # is not a command of ours: counting it made these tests fail on a slow machine.
        if trips.enabled and check_health and not trips.in_batch:
            trips.count += 1
        original(self, command, check_health)

    def batch(self: PipelineStrategy, *args: Any, **kwargs: Any) -> Any:
        if trips.in_batch:  # a batch sent again (after MOVED or a retry) inside the first
            return cluster_batch(self, *args, **kwargs)
        if trips.enabled:
            trips.count += 1
        trips.in_batch = True
        try:
            return cluster_batch(self, *args, **kwargs)
        finally:
            trips.in_batch = False

    cluster_batch = PipelineStrategy._send_cluster_commands
    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    monkeypatch.setattr(PipelineStrategy, "_send_cluster_commands", batch)
    yield trips


def every_value(client: redis.Redis) -> bytes:
    """Every key name and value in the database, concatenated (to search for a leaked token)."""
    out = []
    for name in client.scan_iter(count=1000):
        out.append(name)
        kind = client.type(name)
        if kind == b"hash":
            for k, v in client.hgetall(name).items():
                out += [k, v]
        elif kind == b"set":
            out += list(client.smembers(name))
        elif kind == b"string":
            out.append(client.get(name) or b"")
    return b"\n".join(out)
