"""Small stable numbers for sources: 1, 2, 3 ... per namespace, in the order sources are first seen.

Some documents name their sources by an integer (the Netflow collector's exporter devices have an ``ID``
that clients keep in URLs). A source's number is given once, in one Lua script
(``store/lua/number_sources.lua``), and never changes: two batches that see a new source at the same
moment get the same number, and numbers are never reused. Every key of a namespace shares one hash tag,
so the script runs in one cluster slot. With the number, the script keeps when the source was first seen.

Reads: the number of many sources in one HMGET (the script runs only for sources seen for the first time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from upstat.config import get_settings
from upstat.store.scripts import Scripts


@dataclass(frozen=True, order=True)
class Numbered:
    """A source with its number and the time (epoch ms) it was first seen."""

    number: int
    source: str
    first_seen: int


class NumberKeys:
    """Key names of one namespace's numbers, all under one hash tag ``{numbers:<namespace>}``."""

    def __init__(self, prefix: str, namespace: str) -> None:
        self._base = f"{prefix}numbers:{{numbers:{namespace}}}"

    def by_source(self) -> str:
        return f"{self._base}:by-source"

    def by_number(self) -> str:
        return f"{self._base}:by-number"

    def first_seen(self) -> str:
        return f"{self._base}:first-seen"

    def last(self) -> str:
        return f"{self._base}:last"

    def all(self) -> list[str]:
        return [self.by_source(), self.by_number(), self.first_seen(), self.last()]


def _keys(namespace: str) -> NumberKeys:
    return NumberKeys(get_settings().key_prefix, namespace)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def number(client: Any, namespace: str, sources: Sequence[str], *, now_ms: int) -> list[int]:
    """Each source's number, given now to the sources seen for the first time (in the order listed)."""
    if not sources:
        return []
    keys = _keys(namespace)
    found = client.hmget(keys.by_source(), list(sources))
    if all(n is not None for n in found):
        return [int(n) for n in found]
    new = list(dict.fromkeys(s for s, n in zip(sources, found, strict=True) if n is None))
    given = Scripts(client).run_many("number_sources", [(keys.all(), [now_ms, *new])])[0]
    numbers = dict(zip(new, (int(n) for n in given), strict=True))
    return [int(n) if n is not None else numbers[s] for s, n in zip(sources, found, strict=True)]


def lookup(client: Any, namespace: str, n: int) -> Numbered | None:
    """The source numbered ``n`` (None: no such number)."""
    keys = _keys(namespace)
    pipe = client.pipeline(transaction=False)
    pipe.hget(keys.by_number(), n)
    pipe.hget(keys.first_seen(), n)
    source, seen = pipe.execute()
    if source is None:
        return None
    return Numbered(n, _text(source), int(seen or 0))


def numbered(client: Any, namespace: str) -> list[Numbered]:
    """Every numbered source of the namespace, by number."""
    keys = _keys(namespace)
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(keys.by_number())
    pipe.hgetall(keys.first_seen())
    sources, seen = pipe.execute()
    times = {int(k): int(v) for k, v in seen.items()}
    return sorted(Numbered(int(k), _text(v), times.get(int(k), 0)) for k, v in sources.items())
