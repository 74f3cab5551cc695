"""Lua scripts, loaded from files beside this module and run with EVALSHA.

Scripts are called through ``Scripts.run_many`` (or ``run_keyed``, which gives one call many keys) so that
many calls go in one pipelined round trip on a single Redis and on Redis Cluster alike (redis-py's cluster
pipeline refuses its own ``evalsha`` helper, so the command is sent as is; SCRIPT LOAD reaches every
primary of a cluster). A NOSCRIPT answer (a restarted or failed-over node) reloads the script and sends the
batch again, which is safe because every script here is idempotent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from redis.exceptions import NoScriptError


@cache
def source(name: str) -> str:
    return resources.files("upstat.store").joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


@cache
def digest(name: str) -> str:
    """The script's SHA1 (what EVALSHA names it by), computed once per process: hashing a 12 kB script on
    every call cost ~9 µs."""
    return hashlib.sha1(source(name).encode(), usedforsecurity=False).hexdigest()


class Scripts:
    """The scripts of one client."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._loaded: set[str] = set()

    def sha(self, name: str) -> str:
        return digest(name)

    def load(self, name: str) -> None:
        self._client.script_load(source(name))
        self._loaded.add(name)

    def run_many(self, name: str, calls: Sequence[tuple[Sequence[str], Sequence[Any]]]) -> list[Any]:
        """Run script ``name`` once per (keys, args), pipelined; returns the replies in order."""
        if not calls:
            return []
        if name not in self._loaded:
            self.load(name)
        sha = self.sha(name)
        for attempt in range(2):
            pipe = self._client.pipeline(transaction=False)
            for keys, args in calls:
                pipe.execute_command("EVALSHA", sha, len(keys), *keys, *args)
            try:
                return list(pipe.execute())
            except NoScriptError:
                if attempt:
                    raise
                self.load(name)
        raise AssertionError("unreachable")

    def run_keyed(
        self,
        name: str,
        head: Sequence[Any],
        items: Sequence[tuple[str, bytes]],
        *,
        reply_size: int,
        per_call: int = 1000,
        bytes_per_call: int = 4 << 20,
    ) -> list[bytes]:
        """Run script ``name`` over many keys with several keys per call: a call gets ``head`` then its
        items' bytes joined as one argument, and answers ``reply_size`` bytes per key, in order.

        Each EVALSHA, and each argument, costs the server and the client some microseconds whatever the
        script does, so a thousand one-point writes go as one call with one argument, not a thousand calls
        of four. A call holds at most ``per_call`` keys and about ``bytes_per_call`` bytes. On Redis Cluster
        the keys of one call share a slot (a script may not cross slots), so there it is usually one call
        per key; all calls still go in one pipelined round trip. Returns each item's answer, in order."""
        if not items:
            return []
        groups = self._groups([key for key, _ in items], [len(b) for _, b in items], per_call, bytes_per_call)
        calls = [
            ([items[i][0] for i in group], [*head, b"".join([items[i][1] for i in group])])
            for group in groups
        ]
        out: list[bytes] = [b""] * len(items)
        for group, reply in zip(groups, self.run_many(name, calls), strict=True):
            for j, i in enumerate(group):
                out[i] = reply[j * reply_size : (j + 1) * reply_size]
        return out

    def run_per_key(
        self, name: str, keys: Sequence[str], args: Sequence[Any], *, per_call: int = 1000
    ) -> list[Any]:
        """Run script ``name`` over ``keys`` with the same ``args``, several keys per call (one slot per call
        on a cluster), for scripts that answer one value per key; returns them in the order of ``keys``."""
        if not keys:
            return []
        groups = self._groups(list(keys), None, per_call, 0)
        out: list[Any] = [None] * len(keys)
        for group, reply in zip(
            groups, self.run_many(name, [([keys[i] for i in g], args) for g in groups]), strict=True
        ):
            for i, value in zip(group, reply, strict=True):
                out[i] = value
        return out

    def _groups(
        self, keys: list[str], sizes: Sequence[int] | None, per_call: int, bytes_per_call: int
    ) -> list[list[int]]:
        """Indices of the keys per call: by slot on a cluster, at most ``per_call`` and about
        ``bytes_per_call`` each."""
        keyslot = getattr(self._client, "keyslot", None)
        if keyslot is None:
            by_slot = [list(range(len(keys)))]
        else:
            slots: dict[int, list[int]] = {}
            for i, key in enumerate(keys):
                slots.setdefault(keyslot(key), []).append(i)
            by_slot = list(slots.values())
        groups: list[list[int]] = []
        for indices in by_slot:
            if sizes is None or sum(sizes[i] for i in indices) <= bytes_per_call:
                groups.extend(indices[j : j + per_call] for j in range(0, len(indices), per_call))
                continue
            group: list[int] = []
            size = 0
            for i in indices:
                if group and (len(group) >= per_call or size + sizes[i] > bytes_per_call):
                    groups.append(group)
                    group, size = [], 0
                group.append(i)
                size += sizes[i]
            groups.append(group)
        return groups
