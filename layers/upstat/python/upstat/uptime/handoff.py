"""The messages of the split layout: check requests (scheduler -> checker) and results (checker -> writer).

Plain JSON of the prober's own values, so the checker needs nothing but this module and the prober: no
Redis, no service model. A check request carries only what probing needs (the CheckSpec: url, method,
headers and body, which may hold the target's credentials); never the service's webhooks, push token or
name. A message body is ``{"at": <tick ms>, "checks": [...]}`` or ``{"at": <tick ms>, "results": [...]}``;
every result is stamped ``at``, so a redelivered message records nothing twice (upstat.uptime.recorder
records a service's check once per check time).

Pure: no I/O. Decoding refuses what it does not understand with ValueError (the message is then reported
as a failed batch item, never half applied).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any, get_args

from upstat.uptime.checks import CheckKind, CheckResult, CheckSpec, CheckStatus, ErrorKind

#: Bytes of one SQS message body at most: SQS takes 262,144 bytes per message and per SendMessageBatch
#: call (body and attributes); a little is kept for the attributes and the batch's framing.
MAX_MESSAGE_BYTES = 250_000

_KINDS = frozenset(get_args(CheckKind))
_STATUSES = frozenset(get_args(CheckStatus))
_ERRORS = frozenset(get_args(ErrorKind))


def spec_to_wire(spec: CheckSpec) -> dict[str, Any]:
    """A CheckSpec as JSON data (tuples become lists)."""
    return asdict(spec)


def _pairs(value: Any, width: int, what: str) -> tuple[tuple[Any, ...], ...]:
    if not isinstance(value, list) or not all(isinstance(v, list) and len(v) == width for v in value):
        raise ValueError(f"{what}: expected a list of {width}-item lists")
    return tuple(tuple(v) for v in value)


def spec_from_wire(data: Mapping[str, Any]) -> CheckSpec:
    """The CheckSpec of :func:`spec_to_wire`'s data; ValueError on anything else."""
    if not isinstance(data, Mapping) or not isinstance(data.get("service_id"), str):
        raise ValueError("check: service_id must be a string")
    if data.get("kind") not in _KINDS or not isinstance(data.get("url"), str):
        raise ValueError(f"check {data['service_id']}: kind and url are required")
    headers = _pairs(data.get("headers", []), 2, "headers")
    ranges = _pairs(data.get("expected_status", [[200, 299]]), 2, "expected_status")
    return CheckSpec(
        service_id=data["service_id"],
        url=data["url"],
        kind=data["kind"],
        method=str(data.get("method", "GET")),
        headers=tuple((str(k), str(v)) for k, v in headers),
        body=data.get("body"),
        timeout_ms=int(data.get("timeout_ms", 10_000)),
        expected_status=tuple((int(lo), int(hi)) for lo, hi in ranges),
        keyword=data.get("keyword"),
        keyword_absent=bool(data.get("keyword_absent", False)),
        follow_redirects=bool(data.get("follow_redirects", True)),
        degraded_ms=data.get("degraded_ms"),
        dns_expected=tuple(str(x) for x in data.get("dns_expected", [])),
        dns_record_type=str(data.get("dns_record_type", "A")),
    )


def result_to_wire(result: CheckResult) -> dict[str, Any]:
    """A CheckResult as JSON data."""
    return asdict(result)


def result_from_wire(data: Mapping[str, Any]) -> CheckResult:
    """The CheckResult of :func:`result_to_wire`'s data; ValueError on anything else."""
    if not isinstance(data, Mapping) or not isinstance(data.get("service_id"), str):
        raise ValueError("result: service_id must be a string")
    if data.get("status") not in _STATUSES:
        raise ValueError(f"result {data['service_id']}: status must be one of {sorted(_STATUSES)}")
    kind = data.get("error_kind")
    if kind is not None and kind not in _ERRORS:
        raise ValueError(f"result {data['service_id']}: unknown error_kind {kind!r}")
    checked_at = data.get("checked_at_ms")
    if not isinstance(checked_at, int) or isinstance(checked_at, bool) or checked_at <= 0:
        raise ValueError(f"result {data['service_id']}: checked_at_ms must be a positive integer")
    return CheckResult(
        service_id=data["service_id"],
        status=data["status"],
        code=_optional_number(data.get("code"), int),
        response_ms=_optional_number(data.get("response_ms"), float),
        error_kind=kind,
        error=None if data.get("error") is None else str(data["error"]),
        cert_days=_optional_number(data.get("cert_days"), float),
        checked_at_ms=checked_at,
    )


def _optional_number(value: Any, kind: type) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"result: {value!r} is not a number")
    return kind(value)


def decode(body: str, key: str) -> tuple[int, list[Any]]:
    """(at, items) of a message body holding ``key`` ("checks" or "results"); ValueError otherwise."""
    try:
        data = json.loads(body)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"message is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise ValueError(f"message has no {key!r} list")
    at = data.get("at")
    if not isinstance(at, int) or isinstance(at, bool) or at <= 0:
        raise ValueError("message: 'at' must be the tick's time in milliseconds")
    return at, data[key]


def pack(
    at: int, key: str, items: Iterable[dict[str, Any]], *, max_items: int
) -> tuple[list[str], list[Any]]:
    """Message bodies of at most ``max_items`` items and :data:`MAX_MESSAGE_BYTES` each, in order, and the
    items too large to go in any message alone (returned, not sent: the caller records why)."""
    bodies: list[str] = []
    too_large: list[Any] = []
    chunk: list[str] = []
    frame = len(json.dumps({"at": at, key: []}))
    size = frame

    def flush() -> None:
        nonlocal chunk, size
        if chunk:
            bodies.append(f'{{"at": {at}, "{key}": [{", ".join(chunk)}]}}')
        chunk, size = [], frame

    for item in items:
        text = json.dumps(item, separators=(",", ":"))
        if frame + len(text.encode()) > MAX_MESSAGE_BYTES:
            too_large.append(item)
            continue
        if len(chunk) >= max_items or size + len(text.encode()) + 2 > MAX_MESSAGE_BYTES:
            flush()
        chunk.append(text)
        size += len(text.encode()) + 2
    flush()
    return bodies, too_large


def send_batches(sqs: Any, queue_url: str, bodies: Sequence[str]) -> int:
    """Send the bodies with SendMessageBatch: at most 10 entries and :data:`MAX_MESSAGE_BYTES` per call.
    Raises RuntimeError naming the first refused entry (the caller's message or tick then fails and is
    redone). Returns the number of messages sent."""
    start = 0
    while start < len(bodies):
        end, size = start, 0
        while end < len(bodies) and end - start < 10:
            size += len(bodies[end].encode())
            if size > MAX_MESSAGE_BYTES:
                break
            end += 1
        end = max(end, start + 1)
        reply = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(j), "MessageBody": body} for j, body in enumerate(bodies[start:end])],
        )
        if reply.get("Failed"):
            raise RuntimeError(f"SQS refused {len(reply['Failed'])} messages: {reply['Failed'][0]}")
        start = end
    return len(bodies)
