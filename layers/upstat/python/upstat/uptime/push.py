"""Push (heartbeat) monitors: a job calls the monitor's secret URL (``/v1/push/<token>``) to say it ran.

A beat is recorded like an up check (or down, when the caller says so). The monitor is due at
``last beat + interval + grace``; when the ping tick finds it due, no beat came in time and it records a down
check (then again every interval while the beats stay away). The token is a credential: the index keeps only
its SHA-256.
"""

from __future__ import annotations

import secrets
from typing import Literal

from upstat import clock
from upstat.errors import Conflict, InvalidInput, NotFound
from upstat.uptime.checks import CheckResult
from upstat.uptime.models import Service
from upstat.uptime.recorder import Recorded, record_results
from upstat.uptime.services import ServiceStore

#: Longest message a beat may carry into the check log.
MAX_MESSAGE = 500


def new_token() -> str:
    return secrets.token_urlsafe(24)


def service_for_token(store: ServiceStore, token: str) -> Service | None:
    """The push monitor whose token this is, or None (also for paused or non-push services)."""
    if not token or len(token) > 200:
        return None
    service = store.by_push_token(token)
    if service is None or service.kind != "push" or service.push_token != token:
        return None
    return service


def record_beat(
    store: ServiceStore,
    token: str,
    *,
    status: Literal["up", "down"] = "up",
    message: str | None = None,
    response_ms: float | None = None,
    now_ms: int | None = None,
) -> Recorded:
    """Record one beat of the monitor behind ``token``; :class:`NotFound` for an unknown token.

    A paused monitor's beats are accepted and ignored (``applied`` False).
    """
    service = service_for_token(store, token)
    if service is None:
        raise NotFound("unknown push token", field="token")
    if status not in ("up", "down"):
        raise InvalidInput("status must be up or down", field="status")
    if response_ms is not None and (isinstance(response_ms, bool) or not 0 <= response_ms < 86_400_000):
        raise InvalidInput("ping must be milliseconds between 0 and a day", field="ping")
    now = clock.now_ms() if now_ms is None else now_ms
    text = None if message is None else message[:MAX_MESSAGE]
    result = CheckResult(
        service.id,
        status,
        None,
        response_ms,
        None if status == "up" else "push",  # type: ignore[arg-type]
        text if status == "down" else None,
        None,
        now,
    )
    if service.paused:
        from upstat.uptime.checklog import read_state

        return Recorded(service, result, read_state(store.redis, service.id), (), False)
    return record_results(store.redis, [(service, result)])[0]


def overdue_result(service: Service, now_ms: int) -> CheckResult:
    """The down check a push monitor gets when the tick finds it due: no beat came within its interval +
    grace (since its last beat, or since it was created or resumed)."""
    error = f"no beat within {service.interval} s + {service.grace} s grace"
    return CheckResult(service.id, "down", None, None, "timeout", error, None, now_ms)


def rotate_token(store: ServiceStore, name: str) -> Service:
    """Give the push monitor ``name`` a new token; the old URL stops working at once."""
    service = store.require(name)
    if service.kind != "push":
        raise Conflict(
            f"name: service {name!r} is not a push monitor (its kind is {service.kind})", field="name"
        )
    return store.set_push_token(name, new_token())
