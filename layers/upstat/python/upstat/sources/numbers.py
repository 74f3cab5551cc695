"""Small stable numbers for sources: 1, 2, 3 ... per namespace, in the order sources are first seen.

Some documents name their sources by an integer (the Netflow collector's exporter devices have an ``ID``
that clients keep in URLs). A source's number is given once, in one Lua script
(``store/lua/number_sources.lua``), and never changes: two batches that see a new source at the same
moment get the same number, and numbers are never reused. Every key of a namespace shares one hash tag,
so the script runs in one cluster slot. A number is all this keeps: what the source is, when it was
registered and changed, and whose it is are the registry's (upstat.sources.store).

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
    """A source with its number."""

    number: int
    source: str


class NumberKeys:
    """Key names of one namespace's numbers, all under one hash tag ``{numbers:<namespace>}``."""

    def __init__(self, prefix: str, namespace: str) -> None:
        self._base = f"{prefix}numbers:{{numbers:{namespace}}}"

    def by_source(self) -> str:
        return f"{self._base}:by-source"

    def by_number(self) -> str:
        return f"{self._base}:by-number"

    def last(self) -> str:
        return f"{self._base}:last"

    def all(self) -> list[str]:
        return [self.by_source(), self.by_number(), self.last()]


def _keys(namespace: str) -> NumberKeys:
    return NumberKeys(get_settings().key_prefix, namespace)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def number(client: Any, namespace: str, sources: Sequence[str]) -> list[int]:
    """Each source's number, given now to the sources seen for the first time (in the order listed)."""
    if not sources:
        return []
    keys = _keys(namespace)
    found = client.hmget(keys.by_source(), list(sources))
    if all(n is not None for n in found):
        return [int(n) for n in found]
    new = list(dict.fromkeys(s for s, n in zip(sources, found, strict=True) if n is None))
    given = Scripts(client).run_many("number_sources", [(keys.all(), new)])[0]
    numbers = dict(zip(new, (int(n) for n in given), strict=True))
    return [int(n) if n is not None else numbers[s] for s, n in zip(sources, found, strict=True)]


def lookup(client: Any, namespace: str, n: int) -> Numbered | None:
    """The source numbered ``n`` (None: no such number)."""
    source = client.hget(_keys(namespace).by_number(), n)
    return None if source is None else Numbered(n, _text(source))


def numbered(client: Any, namespace: str) -> list[Numbered]:
    """Every numbered source of the namespace, by number."""
    sources = client.hgetall(_keys(namespace).by_number())
    return sorted(Numbered(int(k), _text(v)) for k, v in sources.items())
