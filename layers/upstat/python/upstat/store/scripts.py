"""Lua scripts, loaded from files beside this module and run with EVALSHA.

Scripts are called through ``Scripts.run_many`` so that many calls go in one pipelined round trip on a single
Redis and on Redis Cluster alike (redis-py's cluster pipeline refuses its own ``evalsha`` helper, so the
command is sent as is; SCRIPT LOAD reaches every primary of a cluster). A NOSCRIPT answer (a restarted or
failed-over node) reloads the script and sends the batch again, which is safe because every script here is
idempotent.
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


class Scripts:
    """The scripts of one client."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._loaded: set[str] = set()

    def sha(self, name: str) -> str:
        return hashlib.sha1(source(name).encode(), usedforsecurity=False).hexdigest()

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
