"""Every Lua script upstat runs, and the one way they are run.

A script has a name: the engine's are files beside this module (``store/lua/<name>.lua``); a domain's
storage module defines its own with :func:`define` (the uptime store's, the registry's, the job lock's, the
rate limiter's), so there is one table of scripts and one runner, :class:`Scripts`.

Calls are sent as ``EVALSHA`` without loading first (a warm server has every script, so a call costs one
round trip), many in one pipelined round trip on a single Redis and on Redis Cluster alike (redis-py's
cluster pipeline refuses its own ``evalsha`` helper, so the command is sent as is; SCRIPT LOAD reaches every
primary of a cluster). A NOSCRIPT answer (a new, restarted or failed-over node) loads that script and
re-sends only the calls that were refused: the others ran, so nothing runs twice, idempotent or not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from redis.exceptions import NoScriptError

Command = tuple[Any, ...]

_DEFINED: dict[str, str] = {}
_BY_DIGEST: dict[str, str] = {}


def define(name: str, text: str) -> str:
    """Register script ``name``; returns the name, to call it by. A second text under one name is a bug."""
    if _DEFINED.setdefault(name, text) != text:
        raise ValueError(f"two Lua scripts are named {name!r}")
    return name


@cache
def source(name: str) -> str:
    if name in _DEFINED:
        return _DEFINED[name]
    return resources.files("upstat.store").joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


@cache
def digest(name: str) -> str:
    """The script's SHA1 (what EVALSHA names it by), computed once per process: hashing a 12 kB script on
    every call cost ~9 µs."""
    sha = hashlib.sha1(source(name).encode(), usedforsecurity=False).hexdigest()
    _BY_DIGEST[sha] = name
    return sha


def command(name: str, keys: Sequence[str], args: Sequence[Any]) -> Command:
    """The EVALSHA of one call, to send among other commands with :meth:`Scripts.execute`."""
    return ("EVALSHA", digest(name), len(keys), *keys, *args)


class Scripts:
    """The one script runner, on one client (it keeps nothing else: make one wherever a client is)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def run(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """One call of script ``name``."""
        return self.execute([command(name, keys, args)])[0]

    def run_many(self, name: str, calls: Sequence[tuple[Sequence[str], Sequence[Any]]]) -> list[Any]:
        """Run script ``name`` once per (keys, args), pipelined; returns the replies in order."""
        return self.execute([command(name, keys, args) for keys, args in calls])

    def execute(self, commands: Sequence[Command]) -> list[Any]:
        """Send ``commands`` (script calls from :func:`command` and plain commands) in one pipelined round
        trip; replies in order. Refused script calls are re-sent once their scripts are loaded; any other
        error is raised."""
        if not commands:
            return []
        replies = self._send(commands)
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:
            for sha in {commands[i][1] for i in missing}:
                self._client.script_load(source(_BY_DIGEST[sha]))
            for i, reply in zip(missing, self._send([commands[i] for i in missing]), strict=True):
                replies[i] = reply
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    def _send(self, commands: Sequence[Command]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for cmd in commands:
            pipe.execute_command(*cmd)
        return list(pipe.execute(raise_on_error=False))

    def run_keyed(
        self,
        name: str,
        head: Sequence[Any],
        items: Sequence[tuple[str, bytes]],
        *,
        reply_size: int,
        per_call: int = 1000,
        bytes_per_call: int = 4 << 20,
        rest: str | None = None,
    ) -> list[bytes]:
        """Run script ``name`` over many keys with several keys per call: a call gets ``head`` then its
        items' bytes joined as one argument, and answers ``reply_size`` bytes per key, in order.

        Each EVALSHA, and each argument, costs the server and the client some microseconds whatever the
        script does, so a thousand one-point writes go as one call with one argument, not a thousand calls
        of four. A call holds at most ``per_call`` keys and about ``bytes_per_call`` bytes. On Redis Cluster
        the keys of one call share a slot (a script may not cross slots), so there it is usually one call
        per key; all calls still go in one pipelined round trip. Returns each item's answer, in order.

        ``rest``: a script that runs the calls after the first, in a second round trip once the first was
        accepted (a write's twin that Redis runs even when memory is full: a batch it began is finished,
        never left half-written by a refusal between two of its calls)."""
        if not items:
            return []
        groups = self._groups([key for key, _ in items], [len(b) for _, b in items], per_call, bytes_per_call)
        calls = [
            ([items[i][0] for i in group], [*head, b"".join([items[i][1] for i in group])])
            for group in groups
        ]
        if rest is None or len(calls) == 1:
            replies = self.run_many(name, calls)
        else:
            replies = self.run_many(name, calls[:1]) + self.run_many(rest, calls[1:])
        out: list[bytes] = [b""] * len(items)
        for group, reply in zip(groups, replies, strict=True):
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

    def run_looped(
        self,
        name: str,
        items: Sequence[tuple[Sequence[str], Sequence[Any]]],
        *,
        width: int = 1,
        per_call: int = 500,
    ) -> list[Any]:
        """Script ``name`` over many items (the same number of keys and of arguments each, the keys of an
        item under one hash tag) with several items per call: one slot per call on a cluster, all calls in
        one round trip. The script answers ``width`` values per item (one value, or a list of ``width``)."""
        if not items:
            return []
        groups = self._groups([keys[0] for keys, _ in items], None, per_call, 0)
        calls = [
            ([k for i in group for k in items[i][0]], [a for i in group for a in items[i][1]])
            for group in groups
        ]
        out: list[Any] = [None] * len(items)
        for group, reply in zip(groups, self.run_many(name, calls), strict=True):
            for j, i in enumerate(group):
                out[i] = reply[j] if width == 1 else reply[j * width : (j + 1) * width]
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
