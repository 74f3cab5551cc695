"""Helpers of the auth tests: keys made through the library, Redis round trips and command counts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from redis.connection import AbstractConnection

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
    stats = client.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if not name.startswith(("cmdstat_info", "cmdstat_config"))
    }


class RoundTrips:
    """Counts writes to Redis sockets: one per single command, one per pipelined batch."""

    def __init__(self) -> None:
        self.count = 0
        self.enabled = False


@contextmanager
def counting_round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[RoundTrips]:
    trips = RoundTrips()
    original = AbstractConnection.send_packed_command

    def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        # redis-py's own health check (a PING on a connection idle for 30 s, sent with check_health=False)
        # is not a command of ours: counting it made these tests fail on a slow machine.
        if trips.enabled and check_health:
            trips.count += 1
        original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
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
