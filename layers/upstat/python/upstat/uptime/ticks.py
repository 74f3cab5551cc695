"""The uptime ticks: the scheduled ping (with SQS fan-out past a threshold), its worker, the on-demand ping of
GET /api/ping, and check-log trimming for the retention job.

A tick claims the due services (moving them a lease ahead in one script, so an overlapping run skips them),
probes them concurrently with the prober, records the results (once per service and check time, see
recorder.py) and then sends the alerts of the recorded transitions (claimed once each, see alerts.py).
Running a tick twice, or two at once, records each check and sends each alert once.

In the split layout (``UPSTAT_CHECK_QUEUE_URL`` set) the tick probes nothing: :func:`hand_out` sends the
check requests to the checker function outside the VPC (upstat.uptime.checker), and :func:`write_results`
is the writer that records what it found.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from upstat import clock
from upstat.config import Settings, get_settings
from upstat.errors import Conflict
from upstat.uptime import handoff
from upstat.uptime.checks import CheckResult, CheckStatus
from upstat.uptime.models import Service
from upstat.uptime.push import overdue_result
from upstat.uptime.recorder import Recorded, record_results
from upstat.uptime.services import ServiceStore
from upstat.uptime.state import ServiceState

log = logging.getLogger("upstat.uptime.ticks")

#: Services claimed at most per tick (the rest stay due for the next one).
MAX_DUE_PER_TICK = 20_000
#: Seconds kept free at the end of the budget for recording and alerting after the probes.
RECORD_MARGIN_S = 3.0


def _store(client: Any = None) -> ServiceStore:
    if client is None:
        from upstat.store.client import get_redis

        client = get_redis()
    return ServiceStore(client)


def _probe(
    services: Sequence[Service], now_ms: int, deadline: float, settings: Settings, **kw: Any
) -> list[CheckResult]:
    """Probe the services (each within its own timeout, capped by what the budget has left)."""
    if not services:
        return []
    from upstat.uptime.probe import run_probes

    return run_probes(_specs(services, deadline), **_probe_options(settings, now_ms, kw))


def _probe_in_budget(
    services: Sequence[Service], now_ms: int, deadline: float, settings: Settings, **kw: Any
) -> list[CheckResult | None]:
    """:func:`_probe`, but a check that could not end before the budget's end is not started (None)."""
    if not services:
        return []
    import asyncio

    from upstat.uptime.probe import probe_until

    stop = deadline - RECORD_MARGIN_S
    return asyncio.run(probe_until(_specs(services, deadline), stop, **_probe_options(settings, now_ms, kw)))


def _specs(services: Sequence[Service], deadline: float) -> list[Any]:
    left_ms = int((deadline - time.monotonic() - RECORD_MARGIN_S) * 1000)
    cap = max(100, left_ms)
    return [s.spec(timeout_cap_ms=cap) for s in services]


def _probe_options(settings: Settings, now_ms: int, extra: dict[str, Any]) -> dict[str, Any]:
    from upstat.uptime.probe import policy_from_settings

    return {
        "policy": policy_from_settings(settings),
        "concurrency": settings.ping_concurrency,
        "now_ms": now_ms,
        **extra,
    }


def check_services(
    client: Any,
    services: Sequence[Service],
    *,
    now_ms: int,
    deadline: float,
    settings: Settings | None = None,
    ssl_context: Any = None,
) -> list[Recorded]:
    """Check these (claimed) services at ``now_ms``, record the results and send the alerts.

    Push monitors are not probed: being due means their beat is late, so they get a down check. Every result
    is stamped ``now_ms``, so checking the same services again for the same tick records nothing new.
    """
    settings = settings or get_settings()
    active = [s for s in services if not s.paused]
    probed = [s for s in active if s.kind != "push"]
    extra = {} if ssl_context is None else {"ssl_context": ssl_context}
    results = _probe_in_budget(probed, now_ms, deadline, settings, **extra)
    pairs = [(s, r) for s, r in zip(probed, results, strict=True) if r is not None]
    left = [s for s, r in zip(probed, results, strict=True) if r is None]
    if left:
        # Out of budget before their turn: due again now, for the next tick (claimed, they were leased).
        store = ServiceStore(client)
        for service in left:
            store.schedule(service.id, now_ms)
        log.warning("%d checks left for the next tick: the budget ran out", len(left))
    pairs += [(s, overdue_result(s, now_ms)) for s in active if s.kind == "push"]
    return record_and_alert(client, pairs, deadline=deadline, settings=settings)


def record_and_alert(
    client: Any, pairs: Sequence[tuple[Service, CheckResult]], *, deadline: float, settings: Settings
) -> list[Recorded]:
    """Record the results (each once per service and check time), count them, send their alerts."""
    recorded = record_results(client, pairs)
    _count_checks(recorded)
    _alert(client, recorded, deadline, settings)
    return recorded


def alert_recorded(client: Any, recorded: Sequence[Recorded], *, budget_s: float = 10.0) -> None:
    """Send the alerts of transitions recorded outside a tick (a push monitor's beat), within ``budget_s``."""
    _alert(client, recorded, time.monotonic() + budget_s, get_settings())


def _count_checks(recorded: Sequence[Recorded]) -> None:
    """ChecksRun / ChecksFailed of the checks recorded now (a retried tick's duplicates are not counted)."""
    from upstat import metrics

    applied = [r for r in recorded if r.applied]
    failed = sum(r.result.status == "down" for r in applied)
    metrics.emit({"ChecksRun": len(applied), "ChecksFailed": failed})


def _alert(client: Any, recorded: Sequence[Recorded], deadline: float, settings: Settings) -> None:
    """Send the alerts of the recorded transitions, if any."""
    if not any(rec.transitions for rec in recorded):
        return
    # Imported here: alerts load aiohttp, which a tick without state changes (most of them) and the
    # retention job's trim_check_logs never need.
    from upstat.uptime import alerts as alerting

    alerting.send_alerts(client, alerting.alerts_of(recorded), deadline=deadline, settings=settings)
    from upstat.uptime import subscribers

    subscribers.notify_recorded(client, recorded, settings=settings, deadline=deadline)


def run_flap_sweep(client: Any, *, now_ms: int, deadline: float, settings: Settings | None = None) -> int:
    """Send the "settled" summaries of subjects that stopped flapping (upstat.notify.flap); how many. One
    read when none is due (the alert path, and aiohttp, are loaded only when one is)."""
    settings = settings or get_settings()
    from upstat.notify.flap import any_due

    if not any_due(client, now_ms=now_ms, settings=settings):
        return 0
    from upstat.uptime import alerts as alerting

    return len(alerting.settle_flapping(client, now_ms=now_ms, deadline=deadline, settings=settings))


def _summary(recorded: Sequence[Recorded]) -> dict[str, Any]:
    return {
        "checked": len(recorded),
        "recorded": sum(r.applied for r in recorded),
        "down": sum(r.result.status == "down" for r in recorded),
        "transitions": sum(len(r.transitions) for r in recorded),
    }


def run_ping_tick(
    client: Any,
    *,
    now_ms: int,
    deadline: float,
    settings: Settings | None = None,
    ssl_context: Any = None,
) -> dict[str, Any]:
    """One scheduled tick: claim the due services, then fan them out to SQS (past the threshold, when a
    queue is configured) or check them here. Returns a summary."""
    settings = settings or get_settings()
    store = ServiceStore(client)
    lease_ms = int(max(deadline - time.monotonic(), 1.0) * 1000) + 60_000
    ids = store.claim_due(now_ms, MAX_DUE_PER_TICK, lease_ms)
    if not ids:
        return {"due": 0, "checked": 0}
    if settings.check_queue_url:
        handed = hand_out(client, store.get_many(ids), now_ms=now_ms, deadline=deadline, settings=settings)
        return {"due": len(ids), **handed}
    if len(ids) > settings.ping_fanout_threshold and settings.ping_queue_url:
        sent = fan_out(ids, now_ms=now_ms, settings=settings)
        return {"due": len(ids), "fanned_out": sent}
    services = store.get_many(ids)
    recorded = check_services(
        client, services, now_ms=now_ms, deadline=deadline, settings=settings, ssl_context=ssl_context
    )
    return {"due": len(ids), **_summary(recorded)}


def fan_out(ids: Sequence[str], *, now_ms: int, settings: Settings | None = None) -> int:
    """Send the ids to the ping queue in messages of ``ping_batch_size`` ids; returns the message count.

    A message body is ``{"ids": [...], "at": <tick ms>}``; the worker stamps its checks with ``at`` so a
    redelivered message records nothing twice.
    """
    settings = settings or get_settings()
    if not settings.ping_queue_url:
        raise RuntimeError("UPSTAT_PING_QUEUE_URL is not set")
    from upstat.aws import client as aws_client

    size = settings.ping_batch_size
    bodies = [json.dumps({"ids": list(ids[i : i + size]), "at": now_ms}) for i in range(0, len(ids), size)]
    return handoff.send_batches(aws_client("sqs"), settings.ping_queue_url, bodies)


def hand_out(
    client: Any, services: Sequence[Service], *, now_ms: int, deadline: float, settings: Settings
) -> dict[str, Any]:
    """The split layout's scheduler: send the check requests of these (claimed) services to the checker's
    queue, stamped ``now_ms``; probe nothing here. Push monitors need no probe: a due one is late and is
    recorded down here, as in :func:`check_services`. A check too large for one SQS message (headers and
    body near their limits) is recorded down with the reason instead of never running."""
    from upstat.aws import client as aws_client

    active = [s for s in services if not s.paused]
    probed = [s for s in active if s.kind != "push"]
    bodies, too_large = handoff.pack(
        now_ms, "checks", (handoff.spec_to_wire(s.spec()) for s in probed), max_items=settings.ping_batch_size
    )
    sent = handoff.send_batches(aws_client("sqs"), str(settings.check_queue_url), bodies) if bodies else 0
    refused = {item["service_id"] for item in too_large}
    pairs = [(s, overdue_result(s, now_ms)) for s in active if s.kind == "push"]
    pairs += [(s, _too_large(s, now_ms)) for s in probed if s.id in refused]
    recorded = record_and_alert(client, pairs, deadline=deadline, settings=settings)
    return {"handed_out": len(probed) - len(refused), "check_messages": sent, **_summary(recorded)}


def _too_large(service: Service, now_ms: int) -> CheckResult:
    limit = handoff.MAX_MESSAGE_BYTES // 1000
    error = f"check request larger than one SQS message ({limit} kB): shorten its headers or body"
    return CheckResult(service.id, "down", error_kind="invalid", error=error, checked_at_ms=now_ms)


def write_results(client: Any, records: Sequence[dict[str, Any]], *, deadline: float) -> dict[str, Any]:
    """The split layout's writer: record the checker's results of each SQS message (each once per service
    and check time, so a redelivered message records nothing twice) and send their alerts. Answers
    ``{"batchItemFailures": [...]}`` naming the messages to retry (SQS ReportBatchItemFailures); results of
    services deleted meanwhile are dropped."""
    settings = get_settings()
    store = ServiceStore(client)
    failures: list[dict[str, str]] = []
    written = 0
    for record in records:
        message_id = str(record.get("messageId", ""))
        try:
            _, items = handoff.decode(record["body"], "results")
            results = [handoff.result_from_wire(item) for item in items]
            found = {s.id: s for s in store.get_many(dict.fromkeys(r.service_id for r in results))}
            pairs = [(found[r.service_id], r) for r in results if r.service_id in found]
            recorded = record_and_alert(client, pairs, deadline=deadline, settings=settings)
            written += sum(r.applied for r in recorded)
        except Exception:
            log.exception("result batch %s failed", message_id, extra={"messageId": message_id})
            failures.append({"itemIdentifier": message_id})
    _report_batches("writer", len(records), written, failures)
    return {"batchItemFailures": failures}


def _report_batches(worker: str, batches: int, done: int, failures: list[dict[str, str]]) -> None:
    from upstat import metrics

    summary = {"batches": batches, "done": done, "failed_batches": len(failures)}
    log.info("%s: %d batches, %d failed", worker, batches, len(failures), extra=summary)
    # Failed batches are answered as batchItemFailures, never as a Lambda error: this metric (and its alarm)
    # is how they are seen.
    metrics.emit({"PingBatchesFailed": len(failures)})


def check_batches(
    client: Any, records: Sequence[dict[str, Any]], *, deadline: float, ssl_context: Any = None
) -> dict[str, Any]:
    """The SQS worker's body: check the services of each message; answers ``{"batchItemFailures": [...]}``
    naming the messages to retry (SQS ReportBatchItemFailures)."""
    settings = get_settings()
    store = ServiceStore(client)
    failures: list[dict[str, str]] = []
    checked = 0
    for record in records:
        message_id = str(record.get("messageId", ""))
        try:
            body = json.loads(record["body"])
            ids = [str(x) for x in body["ids"]]
            at = int(body.get("at") or clock.now_ms())
            recorded = check_services(
                client,
                store.get_many(ids),
                now_ms=at,
                deadline=deadline,
                settings=settings,
                ssl_context=ssl_context,
            )
            checked += len(recorded)
        except Exception:
            log.exception("ping batch %s failed", message_id, extra={"messageId": message_id})
            failures.append({"itemIdentifier": message_id})
    from upstat import metrics

    batches = len(records)
    summary = {"batches": batches, "checked": checked, "failed_batches": len(failures)}
    log.info("ping worker checked %d services, %d batches failed", checked, len(failures), extra=summary)
    # Failed batches are answered as batchItemFailures, never as a Lambda error: this metric (and its alarm)
    # is how they are seen.
    metrics.emit({"PingBatchesFailed": len(failures)})
    return {"batchItemFailures": failures}


def run_ping_now(
    client: Any,
    names: Sequence[str] | None = None,
    now: int | None = None,
    *,
    budget_s: float = 25.0,
    ssl_context: Any = None,
) -> list[tuple[Service, CheckResult, ServiceState]]:
    """Check services now (GET /api/ping): all unpaused ones, or those named (paused included).

    Results are recorded and alerted like the scheduled ones, and each service's next scheduled check moves
    one interval on. Push monitors are not probed: a late one is recorded down, the others report their
    current state. Unknown names are skipped. Returns (service, result, state after it) in listing order.
    Synchronous (runs an event loop): call it from a worker thread.
    """
    settings = get_settings()
    if settings.check_queue_url:
        raise Conflict(
            "checks on demand are off in the split layout: only the checker function, outside the VPC, "
            "probes targets; scheduled checks go on at each service's interval"
        )
    now_ms = clock.now_ms() if now is None else now
    store = ServiceStore(client)
    services = store.list()
    if names is not None:
        wanted = set(names)
        services = [s for s in services if s.name in wanted]
    else:
        services = [s for s in services if not s.paused]
    deadline = time.monotonic() + budget_s
    probed = [s for s in services if s.kind != "push"]
    extra = {} if ssl_context is None else {"ssl_context": ssl_context}
    results = dict(
        zip((s.id for s in probed), _probe(probed, now_ms, deadline, settings, **extra), strict=True)
    )
    pushes = [s for s in services if s.kind == "push"]
    late = set(store.due(now_ms)) if pushes else set()
    pairs = [(s, results[s.id]) for s in probed]
    pairs += [(s, overdue_result(s, now_ms)) for s in pushes if s.id in late]
    recorded = {r.service.id: r for r in record_results(client, pairs)}
    _count_checks(list(recorded.values()))
    _alert(client, list(recorded.values()), deadline, settings)
    out: list[tuple[Service, CheckResult, ServiceState]] = []
    from upstat.uptime.checklog import read_states

    others = read_states(client, [s.id for s in services if s.id not in recorded])
    for s in services:
        rec = recorded.get(s.id)
        if rec is not None:
            out.append((s, rec.result, rec.state))
        else:
            state = others[s.id]
            out.append((s, _from_state(s, state, now_ms), state))
    return out


def _from_state(service: Service, state: ServiceState, now_ms: int) -> CheckResult:
    """A push monitor's latest check as a result (nothing probed)."""
    status: CheckStatus = "down" if state.status == "down" else "up"
    return CheckResult(
        service.id,
        status,
        state.last_code,
        state.last_ms,
        None,
        state.last_error,
        state.cert_days,
        state.last_checked_ms or now_ms,
    )


def trim_check_logs(*, now_ms: int, deadline: float) -> dict[str, Any]:
    """The retention job's uptime part: trim every check log to the history TTL, then re-index services a
    crash left out. Returns a summary.

    Trimming deletes, so it runs first and works when memory is full (noeviction); re-indexing adds entries,
    which a full Redis refuses: then it waits for the next run (``"reindexed": "memory full"``)."""
    from redis.exceptions import OutOfMemoryError

    from upstat.store.client import get_redis
    from upstat.uptime.checklog import trim_all

    client = get_redis()
    report = trim_all(client, now_ms=now_ms, deadline=deadline)
    repaired: int | str
    try:
        repaired = ServiceStore(client).repair(now_ms=now_ms)
    except OutOfMemoryError:
        repaired = "memory full"
    return {"check_logs": report, "reindexed": repaired}
