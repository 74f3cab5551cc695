"""The split layout's checker: probe the check requests of SQS messages and send the results on.

It runs outside the VPC, so no check can reach the cache or any other private host there, and it needs no
Redis at all: a request carries the CheckSpec (upstat.uptime.handoff), the results go to the result queue,
and the writer (inside the VPC) records them. Nothing here imports the store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import Any

from upstat.config import Settings, get_settings
from upstat.uptime import handoff
from upstat.uptime.checks import CheckResult, CheckSpec

log = logging.getLogger("upstat.uptime.checker")

#: Seconds kept free at the end of the budget for sending the results after the probes.
SEND_MARGIN_S = 3.0


@dataclasses.dataclass
class _Message:
    message_id: str
    at: int
    specs: list[CheckSpec]
    results: list[CheckResult] = dataclasses.field(default_factory=list)


def run_checks(
    records: Sequence[dict[str, Any]],
    *,
    deadline: float,
    settings: Settings | None = None,
    ssl_context: Any = None,
) -> dict[str, Any]:
    """Probe every check of these SQS records at once (each within its own timeout, capped by the budget
    left), then send each message's results to the result queue, stamped with its tick time. Answers
    ``{"batchItemFailures": [...]}`` naming the messages to retry: unreadable ones, and those whose results
    SQS refused (a retry probes again and the writer records the check once)."""
    settings = settings or get_settings()
    if not settings.result_queue_url:
        raise RuntimeError("UPSTAT_RESULT_QUEUE_URL is not set")
    failures: list[dict[str, str]] = []
    messages: list[_Message] = []
    for record in records:
        message_id = str(record.get("messageId", ""))
        try:
            at, items = handoff.decode(record["body"], "checks")
            messages.append(_Message(message_id, at, [handoff.spec_from_wire(item) for item in items]))
        except (KeyError, TypeError, ValueError) as exc:
            log.error("check batch %s is unreadable: %s", message_id, exc, extra={"messageId": message_id})
            failures.append({"itemIdentifier": message_id})
    _probe_all(messages, deadline=deadline, settings=settings, ssl_context=ssl_context)
    failures += _send_results(messages, settings)
    from upstat import metrics

    checked = sum(len(m.results) for m in messages)
    log.info("checker probed %d checks, %d batches failed", checked, len(failures))
    metrics.emit({"PingBatchesFailed": len(failures)})
    return {"batchItemFailures": failures}


def _probe_all(messages: list[_Message], *, deadline: float, settings: Settings, ssl_context: Any) -> None:
    """Probe every message's checks in one event loop (one probe run per tick time)."""
    from upstat.uptime.probe import policy_from_settings, probe_many

    cap = max(100, int((deadline - time.monotonic() - SEND_MARGIN_S) * 1000))
    extra = {} if ssl_context is None else {"ssl_context": ssl_context}
    policy = policy_from_settings(settings)

    async def run() -> list[list[CheckResult]]:
        runs = [
            probe_many(
                [dataclasses.replace(s, timeout_ms=max(100, min(s.timeout_ms, cap))) for s in m.specs],
                policy=policy,
                concurrency=settings.ping_concurrency,
                now_ms=m.at,
                **extra,
            )
            for m in messages
        ]
        return list(await asyncio.gather(*runs))

    if messages:
        for message, results in zip(messages, asyncio.run(run()), strict=True):
            message.results = results


def _send_results(messages: list[_Message], settings: Settings) -> list[dict[str, str]]:
    """Send each message's results as one or more result messages; the messages SQS refused fail."""
    from upstat.aws import client as aws_client

    sqs = aws_client("sqs")
    failures = []
    for message in messages:
        wire = [handoff.result_to_wire(r) for r in message.results]
        bodies, _ = handoff.pack(message.at, "results", wire, max_items=len(wire) or 1)
        try:
            handoff.send_batches(sqs, str(settings.result_queue_url), bodies)
        except Exception:
            ident = message.message_id
            log.exception("results of %s not sent", ident, extra={"messageId": ident})
            failures.append({"itemIdentifier": message.message_id})
    return failures
