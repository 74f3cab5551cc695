"""AWS access the library needs at run time, with boto3 imported only when a value is really read.

Deployed stacks pass SSM parameter *names* in the environment (never values: serverless.yml holds no
``${ssm:...}``); the values are read here once and cached between warm invocations.

Every client has short timeouts and botocore's "standard" retry mode: a function in a VPC without a route
to an AWS endpoint (no NAT gateway, no VPC endpoint) then fails in seconds with an error naming the
endpoint, instead of hanging until Lambda reports "Task timed out" (botocore's defaults are a 60 s
connect and a 60 s read timeout, retried).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

#: Seconds to open a connection to an AWS endpoint, and to wait for its answer. SSM, SNS and SQS answer in
#: tens of milliseconds; these bound a missing route (dropped packets) to a few seconds per attempt.
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0
#: Attempts in all (the first and two retries), with the standard mode's backoff and throttling handling.
MAX_ATTEMPTS = 3

_lock = threading.Lock()
_cache: dict[str, tuple[float, str]] = {}
_clients: dict[str, Any] = {}


def client_config() -> Any:
    """The botocore configuration every upstat client is created with."""
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    )


def client(service: str) -> Any:
    """A boto3 client per service, created on first use and reused (boto3 costs ~0.25 s to import)."""
    found = _clients.get(service)
    if found is None:
        import boto3

        with _lock:
            found = _clients.get(service)
            if found is None:
                found = boto3.client(service, config=client_config())  # type: ignore[call-overload]
                _clients[service] = found
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


def cached_parameters() -> list[str]:
    """Names of the parameters read so far (and cached)."""
    return list(_cache)


def refresh_parameters(names: Iterable[str]) -> dict[str, str | None]:
    """Read ``names`` again now, whatever their cache age; returns each name's error type, or None.

    A parameter that cannot be read keeps no stale value: it is read again (and its error raised where it
    is used) on the next use. Once SSM cannot be reached at all, the other names are not tried: each would
    take its full timeouts again, and Lambda gives an after-restore hook 10 seconds. Used at init and
    after a SnapStart restore."""
    from botocore.exceptions import ConnectionError as EndpointUnreachable
    from botocore.exceptions import HTTPClientError

    outcome: dict[str, str | None] = {}
    unreachable: str | None = None
    for name in names:
        if unreachable:
            outcome[name] = unreachable
            continue
        try:
            get_ssm_parameter(name, max_age_s=0.0)
            outcome[name] = None
        except Exception as exc:  # botocore raises many types; the caller reports them
            with _lock:
                _cache.pop(name, None)
            outcome[name] = type(exc).__name__
            if isinstance(exc, EndpointUnreachable | HTTPClientError):
                unreachable = outcome[name]
    return outcome


def reset() -> None:
    """Forget cached clients and values (tests switch moto accounts)."""
    with _lock:
        _cache.clear()
        _clients.clear()
