"""The status rules: from the previous state and one check's outcome to the next state. Pure, no I/O.

Statuses a service shows:

- ``pending``: no settled status yet, or a change is being confirmed (e.g. the first of 3 failures);
- ``up`` / ``degraded`` / ``down``: the settled status;
- ``maintenance``: a down check inside a maintenance window (it changes nothing: no down, no incident, no
  alert, and no ``up`` point in the engine).

Rules (the service's ``confirmations`` are ``down`` = N failures, ``up`` = M successes):

- a settled status changes to ``down`` after N consecutive down checks;
- from ``down`` (or from nothing) it changes to up/degraded after M consecutive non-down checks; the first
  ever non-down check settles at once (nothing was lost, nothing to confirm);
- between ``up`` and ``degraded`` it changes at once (both answer; degraded is a warning);
- a certificate with ``cert_days <= cert_warning_days`` raises one ``cert_expiring`` transition, re-armed
  once a check sees the certificate renewed;
- debounce: a settled status holds for at least ``min_dwell_ms`` (half the service's interval) before the
  next change. Scheduled checks are an interval apart, so this only holds back results that come faster
  (push beats, checks run by hand): while it holds, a result that would change the status counts toward
  its confirmations and the status reads ``pending``; the first result after it settles the change. A
  flapping source thus makes at most one transition, one incident and one alert per half interval.

Every transition gets the next sequence number of the service: the pair (service id, seq) names it, so an
alert is claimed and sent once per transition.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

Status = Literal["pending", "up", "degraded", "down", "maintenance"]
Settled = Literal["up", "degraded", "down"]
TransitionKind = Literal["down", "up", "degraded", "cert_expiring"]


@dataclass(frozen=True, slots=True)
class ServiceState:
    """What the store keeps about a service between checks (its ``state`` hash, see recorder.py)."""

    status: Status = "pending"
    settled: Settled | None = None
    since_ms: int | None = None  # when ``settled`` last changed
    fails: int = 0  # consecutive down checks (outside maintenance)
    fail_start_ms: int | None = None  # the first of those (an incident starts there)
    oks: int = 0  # consecutive non-down checks
    last_checked_ms: int = 0
    last_code: int | None = None
    last_ms: float | None = None
    last_error: str | None = None
    last_error_kind: str | None = None
    cert_days: float | None = None
    cert_warned: bool = False
    seq: int = 0  # transitions so far
    incident_id: str | None = None  # the open incident, if any
    incident_start_ms: int | None = None
    incident_cause: str | None = None
    incident_kind: str | None = None  # the error class that opened it (kept for the closed incident)


@dataclass(frozen=True, slots=True)
class Transition:
    """One change worth an alert. ``seq`` is unique per service."""

    kind: TransitionKind
    previous: Settled | None
    current: Settled
    at_ms: int
    seq: int
    error_kind: str | None = None
    error: str | None = None
    cert_days: float | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One check as the rules see it."""

    status: Settled  # the check's own verdict: up, degraded or down
    checked_at_ms: int
    code: int | None = None
    response_ms: float | None = None
    error_kind: str | None = None
    error: str | None = None
    cert_days: float | None = None


def _settle(
    prev: ServiceState, raw: Settled, confirm_down: int, confirm_up: int, held: bool = False
) -> Settled | None:
    """The settled status after counting this check, or None while the change is being confirmed (or
    ``held`` back by the debounce)."""
    if held and prev.settled is not None and raw != prev.settled:
        return None
    if raw == "down":
        return "down" if prev.settled == "down" or prev.fails + 1 >= confirm_down else None
    if prev.settled is None:
        return raw
    if prev.settled == "down":
        return raw if prev.oks + 1 >= confirm_up else None
    return raw  # up <-> degraded: at once


def next_state(
    prev: ServiceState,
    outcome: Outcome,
    *,
    confirm_down: int = 1,
    confirm_up: int = 1,
    cert_warning_days: int = 0,
    in_maintenance: bool = False,
    min_dwell_ms: int = 0,
) -> tuple[ServiceState, list[Transition]]:
    """The state after ``outcome`` and the transitions it caused (in order: status first, then cert)."""
    last: dict[str, Any] = {
        "last_checked_ms": outcome.checked_at_ms,
        "last_code": outcome.code,
        "last_ms": outcome.response_ms,
        "last_error": outcome.error,
        "last_error_kind": outcome.error_kind,
        "cert_days": outcome.cert_days if outcome.cert_days is not None else prev.cert_days,
    }
    if outcome.status == "down" and in_maintenance:
        # Downs inside a window change nothing: counting restarts after it.
        return replace(prev, status="maintenance", fails=0, oks=0, fail_start_ms=None, **last), []
    down = outcome.status == "down"
    held = prev.since_ms is not None and outcome.checked_at_ms - prev.since_ms < min_dwell_ms
    settled = _settle(prev, outcome.status, confirm_down, confirm_up, held)
    transitions: list[Transition] = []
    seq = prev.seq
    # One replace for every change (a ping run computes a thousand of these).
    changes = dict(
        last,
        fails=prev.fails + 1 if down else 0,
        fail_start_ms=(prev.fail_start_ms or outcome.checked_at_ms) if down else None,
        oks=0 if down else prev.oks + 1,
        status="pending" if settled is None else settled,
    )
    if settled is not None and settled != prev.settled:
        first_up = prev.settled is None and settled != "down"
        changes.update(settled=settled, since_ms=outcome.checked_at_ms)
        if not first_up:
            seq += 1
            transitions.append(
                Transition(
                    settled,
                    prev.settled,
                    settled,
                    outcome.checked_at_ms,
                    seq,
                    outcome.error_kind,
                    outcome.error,
                    outcome.cert_days,
                )
            )
    state, seq = _cert(replace(prev, **changes), outcome, cert_warning_days, seq, transitions)
    return (state if seq == state.seq else replace(state, seq=seq)), transitions


def _cert(
    state: ServiceState, outcome: Outcome, warning_days: int, seq: int, transitions: list[Transition]
) -> tuple[ServiceState, int]:
    days = outcome.cert_days
    if days is None or warning_days <= 0:
        return state, seq
    if days > warning_days:
        return replace(state, cert_warned=False), seq
    if state.cert_warned:
        return state, seq
    seq += 1
    transitions.append(
        Transition(
            "cert_expiring",
            state.settled,
            state.settled or outcome.status,
            outcome.checked_at_ms,
            seq,
            None,
            f"certificate expires in {days:.1f} days",
            days,
        )
    )
    return replace(state, cert_warned=True), seq


def incident_change(prev: ServiceState, transitions: list[Transition]) -> Literal["open", "close"] | None:
    """Whether these transitions open an incident (to down) or close the open one (from down)."""
    for t in transitions:
        if t.kind == "down" and prev.incident_id is None:
            return "open"
        if t.previous == "down" and t.current != "down" and prev.incident_id is not None:
            return "close"
    return None


#: The overall rule in words, for the documents that describe it (one rule, written once).
OVERALL_RULE = (
    "down when any service is down; else degraded when any is degraded; else maintenance when any is in a "
    "maintenance window; else up; pending while no service has been checked yet; unknown with no service "
    "(paused services do not count)"
)


def overall_status(statuses: list[Status]) -> str:
    """One word for many services: ``down`` if any is down, else ``degraded`` if any is degraded, else
    ``up`` (a pending service among settled ones counts as up); ``pending`` while no service has a settled
    status yet (just created, never checked); ``unknown`` with no service at all."""
    if not statuses:
        return "unknown"
    if all(s == "pending" for s in statuses):
        return "pending"
    if "down" in statuses:
        return "down"
    if "degraded" in statuses:
        return "degraded"
    if "maintenance" in statuses:
        return "maintenance"
    return "up"
