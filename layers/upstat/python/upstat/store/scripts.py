"""Lua scripts, loaded from files beside this module and run with EVALSHA (reloaded on NOSCRIPT)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any


@cache
def source(name: str) -> str:
    return resources.files("upstat.store").joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


class Scripts:
    """The registered scripts of one client (redis-py Script objects handle EVALSHA and NOSCRIPT)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._scripts: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        script = self._scripts.get(name)
        if script is None:
            script = self._client.register_script(source(name))
            self._scripts[name] = script
        return script
