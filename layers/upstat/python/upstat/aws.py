"""AWS access the library needs at run time, with boto3 imported only when a value is really read.

Deployed stacks pass SSM parameter *names* in the environment (never values: serverless.yml holds no
``${ssm:...}``); the values are read here once and cached between warm invocations.
"""

from __future__ import annotations

import threading
import time
from typing import Any

_lock = threading.Lock()
_cache: dict[str, tuple[float, str]] = {}
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """A boto3 client per service, created on first use and reused (boto3 costs ~0.25 s to import)."""
    found = _clients.get(service)
    if found is None:
        import boto3

        with _lock:
            found = _clients.setdefault(service, boto3.client(service))  # type: ignore[call-overload]
    return found


def get_ssm_parameter(name: str, *, max_age_s: float = 300.0) -> str:
    """The decrypted value of an SSM parameter (String or SecureString), cached for ``max_age_s``."""
    hit = _cache.get(name)
    if hit is not None and time.monotonic() - hit[0] < max_age_s:
        return hit[1]
    answer = client("ssm").get_parameter(Name=name, WithDecryption=True)
    value = str(answer["Parameter"]["Value"])
    with _lock:
        _cache[name] = (time.monotonic(), value)
    return value


def reset() -> None:
    """Forget cached clients and values (tests switch moto accounts)."""
    with _lock:
        _cache.clear()
        _clients.clear()
