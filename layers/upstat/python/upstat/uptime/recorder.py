"""Recording check results: state, check log, incidents and engine points, once per (service, checked_at).

For a batch of results: one round trip reads the states, the pure rules (state.py) compute the next states,
and one pipelined round trip runs a Lua script per service (all its keys under one hash tag) that writes
state + log entry + incident only if the state is still the one read and this ``checked_at`` is newer than
the last recorded one. So a retried or overlapping tick records a check once; a lost race is recomputed
from the fresh state. Then (only for what was recorded) the engine points, the global incident index and the
next due time are written, each idempotent.

Engine series (source ``service:<id>``): ``response_ms`` (gauge; non-down checks), ``up`` (1 for up or
degraded, 0 for down; not written for a down inside a maintenance window), ``degraded`` (1/0, same rule),
``cert_days`` (gauge, when the check saw a certificate). Uptime over a range = the average of ``up``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from upstat.config import get_settings
from upstat.errors import InvalidInput
from upstat.store.keyspace import keyspace
from upstat.store.scripts import Scripts
from upstat.uptime import incidents as inc
from upstat.uptime import lua
from upstat.uptime.checklog import decode_state, encode_entry, encode_state, get_ttl
from upstat.uptime.checks import CheckResult
from upstat.uptime.keyspace import UptimeKeys, service_source
from upstat.uptime.maintenance import Window, in_maintenance, windows_for
from upstat.uptime.models import Service
from upstat.uptime.state import Outcome, ServiceState, Transition, incident_change, next_state

log = logging.getLogger("upstat.uptime")

#: Recompute-and-retry rounds when another writer recorded the same service meanwhile.
MAX_ROUNDS = 5


@dataclass(frozen=True)
class Recorded:
    """What recording one result did. ``applied`` is False when this check was already recorded (a retried
    tick), is older than the last record, or its service was deleted meanwhile."""

    service: Service
    result: CheckResult
    state: ServiceState
    transitions: tuple[Transition, ...]
    applied: bool
    in_maintenance: bool = False


@dataclass
class _Plan:
    service: Service
    result: CheckResult
    expected_t: str
    state: ServiceState
    transitions: list[Transition]
    maint: bool
    incident: inc.Incident | None


def outcome_of(result: CheckResult) -> Outcome:
    return Outcome(
        result.status,
        result.checked_at_ms,
        result.code,
        result.response_ms,
        result.error_kind,
        result.error,
        result.cert_days,
    )


def plan_one(service: Service, result: CheckResult, prev: ServiceState, maint: bool) -> _Plan:
    """The next state of one service after ``result`` (pure), with the incident it opens or closes."""
    warn = service.cert_warning_days if service.watches_certificate else 0
    state, transitions = next_state(
        prev,
        outcome_of(result),
        confirm_down=service.confirmations.down,
        confirm_up=service.confirmations.up,
        cert_warning_days=warn,
        in_maintenance=maint,
        min_dwell_ms=service.interval * 500,
    )
    incident = None
    change = incident_change(prev, transitions)
    if change == "open":
        start = prev.fail_start_ms or result.checked_at_ms
        incident = inc.open_incident(service.id, start, result.error, result.error_kind)
        state = replace(
            state,
            incident_id=incident.id,
            incident_start_ms=incident.start,
            incident_cause=result.error,
            incident_kind=result.error_kind,
        )
    elif change == "close" and prev.incident_id is not None:
        opened = inc.Incident(
            prev.incident_id, service.id, prev.incident_start_ms or 0, prev.incident_cause, prev.incident_kind
        )
        incident = inc.close_incident(opened, result.checked_at_ms)
        state = replace(
            state, incident_id=None, incident_start_ms=None, incident_cause=None, incident_kind=None
        )
    return _Plan(service, result, "0", state, transitions, maint, incident)


def record_results(
    client: Any,
    pairs: Sequence[tuple[Service, CheckResult]],
    *,
    windows: dict[str, list[Window]] | None = None,
    engine: Any = None,
    schedule: bool = True,
) -> list[Recorded]:
    """Record each (service, result) once; returns what happened to each, in input order.

    ``windows`` (service id -> maintenance windows) is read from Redis when not given; ``engine`` defaults to
    the process engine. With ``schedule``, each recorded service is due again one interval after its check
    (push monitors: interval + grace after a beat). Results of one service must have distinct checked_at.
    """
    if not pairs:
        return []
    keys = keyspace(UptimeKeys)
    scripts = Scripts(client)
    ids = list(dict.fromkeys(s.id for s, _ in pairs))
    windows = windows if windows is not None else windows_for(client, ids)
    ttl_s = get_ttl(client)
    cap = get_settings().check_log_max_entries
    done: dict[int, Recorded] = {}
    pending = list(range(len(pairs)))
    for _ in range(MAX_ROUNDS):
        if not pending:
            break
        states = _read_states(scripts, keys, [pairs[i][0].id for i in pending])
        plans = {}
        for i, (t, prev) in zip(pending, states, strict=True):
            service, result = pairs[i]
            maint = in_maintenance(windows.get(service.id, []), result.checked_at_ms)
            plan = plan_one(service, result, prev, maint)
            plan.expected_t = t
            plans[i] = plan
        replies = scripts.run_looped(lua.RECORD_MANY, [_call(keys, plans[i], ttl_s, cap) for i in pending])
        retry = []
        for i, reply in zip(pending, replies, strict=True):
            plan = plans[i]
            if int(reply) == 0:
                retry.append(i)
                continue
            applied = int(reply) == 1
            done[i] = Recorded(
                plan.service,
                plan.result,
                plan.state,
                tuple(plan.transitions) if applied else (),
                applied,
                plan.maint,
            )
        pending = retry
    if pending:
        raise RuntimeError(f"could not record {len(pending)} checks: their state kept changing")
    recorded = [done[i] for i in range(len(pairs))]
    _after(client, keys, recorded, [plans_incident(r) for r in recorded], engine, schedule)
    return recorded


def plans_incident(rec: Recorded) -> inc.Incident | None:
    """The incident a recorded result opened (for the global index), if any."""
    if not rec.applied or rec.state.incident_id is None or rec.state.incident_start_ms is None:
        return None
    if not any(t.kind == "down" for t in rec.transitions):
        return None
    return inc.Incident(rec.state.incident_id, rec.service.id, rec.state.incident_start_ms, None)


def _read_states(scripts: Scripts, keys: UptimeKeys, ids: Sequence[str]) -> list[tuple[str, ServiceState]]:
    out = []
    for t, s in scripts.run_looped(lua.STATES_READ, [([keys.state(sid)], ()) for sid in ids], width=2):
        out.append((t.decode() if isinstance(t, bytes) else (t or "0"), decode_state(s)))
    return out


def _call(keys: UptimeKeys, plan: _Plan, ttl_s: int, cap: int) -> tuple[list[str], list[Any]]:
    r = plan.result
    sid = plan.service.id
    maint_down = plan.maint and r.status == "down"
    entry = encode_entry(r.checked_at_ms, r.status, r.code, r.response_ms, r.error, maint_down)
    cutoff = "" if not ttl_s else str(r.checked_at_ms - ttl_s * 1000)
    incident = plan.incident
    return (
        [keys.service(sid), keys.state(sid), keys.checklog(sid), keys.incidents(sid)],
        [
            plan.expected_t,
            r.checked_at_ms,
            encode_state(plan.state),
            entry,
            cutoff,
            cap,
            "" if incident is None else incident.id,
            "" if incident is None else inc.encode(incident),
        ],
    )


def engine_points(rec: Recorded) -> list[tuple[str, str, list[tuple[int, float]], str | None]]:
    """The engine batches of one recorded check (see the module docstring for the series)."""
    r = rec.result
    source = service_source(rec.service.id)
    t = r.checked_at_ms
    out: list[tuple[str, str, list[tuple[int, float]], str | None]] = []
    if r.status != "down" and r.response_ms is not None:
        out.append((source, "response_ms", [(t, float(r.response_ms))], "gauge"))
    if not (rec.in_maintenance and r.status == "down"):
        out.append((source, "up", [(t, 0.0 if r.status == "down" else 1.0)], "gauge"))
        out.append((source, "degraded", [(t, 1.0 if r.status == "degraded" else 0.0)], "gauge"))
    if r.cert_days is not None:
        out.append((source, "cert_days", [(t, float(r.cert_days))], "gauge"))
    return out


#: A checked service is due again this much before its interval is up: the schedule fires once a minute,
#: and a tick that fires a few milliseconds before a service's exact due time would otherwise leave a 60 s
#: service for the next tick, 120 s after its last check. Well under the shortest interval (30 s).
DUE_SLACK_MS = 5_000


def next_due_ms(service: Service, result: CheckResult) -> int:
    """When a service is due after this check: one interval later (less :data:`DUE_SLACK_MS`, so the tick
    of that minute takes it); a push monitor's beat moves its deadline to exactly interval + grace after the
    beat (a late beat is late by its own rule, never early)."""
    if service.kind == "push":
        if result.status != "down":
            return result.checked_at_ms + (service.interval + service.grace) * 1000
        return result.checked_at_ms + service.interval * 1000
    return result.checked_at_ms + service.interval * 1000 - DUE_SLACK_MS


def _after(
    client: Any,
    keys: UptimeKeys,
    recorded: Sequence[Recorded],
    opened: Sequence[inc.Incident | None],
    engine: Any,
    schedule: bool,
) -> None:
    applied = [r for r in recorded if r.applied]
    if not applied:
        return
    # Two index keys, one command each whatever the number of services.
    incidents = {inc.index_member(i): i.start for i in opened if i is not None}
    due = {r.service.id: next_due_ms(r.service, r.result) for r in recorded if r.applied and schedule}
    pipe = client.pipeline(transaction=False)
    if incidents:
        pipe.zadd(keys.incident_index(), incidents)  # type: ignore[arg-type]
    if due:
        pipe.zadd(keys.due(), due, xx=True)  # type: ignore[arg-type]
    pipe.execute()
    if engine is None:
        from upstat.timeseries.retention import current_engine

        engine = current_engine(client)
    batches = [b for rec in applied for b in engine_points(rec)]
    try:
        # "now" of the checks themselves: the engine refuses points far from it (tests replay fixed times).
        engine.write_many(batches, now=max(r.result.checked_at_ms for r in applied))
    except InvalidInput as exc:  # a check time outside what the engine accepts: the log still has it
        log.warning("uptime points not written: %s", exc.message)
