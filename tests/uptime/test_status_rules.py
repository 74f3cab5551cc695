"""The pure status rules (upstat/uptime/state.py) and maintenance windows: examples and properties."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from upstat.uptime.maintenance import MaintenanceIn, in_maintenance, is_active
from upstat.uptime.state import Outcome, ServiceState, incident_change, next_state, overall_status

T0 = 1_780_315_200_000


def run(statuses: list[str], **kw: Any) -> list[tuple[ServiceState, list[Any]]]:
    state = ServiceState()
    out = []
    for i, s in enumerate(statuses):
        state, transitions = next_state(state, Outcome(s, T0 + i * 60_000), **kw)  # type: ignore[arg-type]
        out.append((state, transitions))
    return out


def test_first_up_settles_at_once_without_an_alert() -> None:
    [(state, transitions)] = run(["up"], confirm_down=3, confirm_up=3)
    assert state.status == "up" and transitions == []


def test_down_needs_n_failures_and_is_pending_meanwhile() -> None:
    steps = run(["up", "down", "down", "down"], confirm_down=3)
    assert [s.status for s, _ in steps] == ["up", "pending", "pending", "down"]
    transitions = steps[-1][1]
    assert [(t.kind, t.previous, t.current) for t in transitions] == [("down", "up", "down")]
    assert steps[-1][0].fail_start_ms == T0 + 60_000


def test_recovery_needs_m_successes() -> None:
    steps = run(["down", "up", "up"], confirm_down=1, confirm_up=2)
    assert [s.status for s, _ in steps] == ["down", "pending", "up"]
    assert [t.kind for t in steps[2][1]] == ["up"]


def test_a_failure_between_successes_restarts_the_count() -> None:
    steps = run(["up", "down", "up", "down", "down"], confirm_down=2)
    assert [s.status for s, _ in steps] == ["up", "pending", "up", "pending", "down"]


def test_degraded_changes_at_once_both_ways() -> None:
    steps = run(["up", "degraded", "up"], confirm_up=3)
    assert [s.status for s, _ in steps] == ["up", "degraded", "up"]
    assert [t.kind for _, ts in steps for t in ts] == ["degraded", "up"]


def test_maintenance_downs_change_nothing() -> None:
    state, _ = next_state(ServiceState(), Outcome("up", T0))
    state, transitions = next_state(state, Outcome("down", T0 + 1), in_maintenance=True)
    assert state.status == "maintenance" and state.settled == "up" and transitions == []
    state, transitions = next_state(state, Outcome("up", T0 + 2), in_maintenance=True)
    assert state.status == "up" and transitions == []


def test_certificate_warning_fires_once_and_rearms_after_renewal() -> None:
    state = ServiceState()
    kinds = []
    for days in (30.0, 10.0, 9.0, 60.0, 5.0):
        state, ts = next_state(state, Outcome("up", T0, cert_days=days), cert_warning_days=14)
        kinds.append([t.kind for t in ts])
    assert kinds == [[], ["cert_expiring"], [], [], ["cert_expiring"]]


def test_incident_opens_on_down_and_closes_on_recovery() -> None:
    up, _ = next_state(ServiceState(), Outcome("up", T0))
    down, ts = next_state(up, Outcome("down", T0 + 1))
    assert incident_change(up, ts) == "open"
    from dataclasses import replace

    down = replace(down, incident_id="x")
    _, ts = next_state(down, Outcome("up", T0 + 2))
    assert incident_change(down, ts) == "close"


def test_overall_status() -> None:
    assert overall_status([]) == "unknown"
    assert overall_status(["up", "pending"]) == "up"
    assert overall_status(["up", "pending", "maintenance"]) == "maintenance"  # a window covers one
    assert overall_status(["maintenance", "degraded"]) == "degraded"
    assert overall_status(["pending", "pending"]) == "pending"  # nothing checked yet is not "up"
    assert overall_status(["up", "degraded"]) == "degraded"
    assert overall_status(["degraded", "down"]) == "down"


statuses = st.lists(st.sampled_from(["up", "degraded", "down"]), max_size=40)
confirm = st.integers(min_value=1, max_value=5)


@given(statuses, confirm, confirm)
def test_transition_sequence_numbers_increase_by_one(seq: list[str], n: int, m: int) -> None:
    seqs = [t.seq for _, ts in run(seq, confirm_down=n, confirm_up=m) for t in ts]
    assert seqs == list(range(1, len(seqs) + 1))


@given(statuses, confirm, confirm)
def test_down_only_after_n_consecutive_failures(seq: list[str], n: int, m: int) -> None:
    for i, (state, ts) in enumerate(run(seq, confirm_down=n, confirm_up=m)):
        if any(t.kind == "down" for t in ts):
            assert seq[max(0, i - n + 1) : i + 1] == ["down"] * n
        if state.status == "down":
            assert seq[i] == "down"


@given(statuses, confirm, confirm)
def test_settled_transitions_alternate_consistently(seq: list[str], n: int, m: int) -> None:
    transitions = [t for _, ts in run(seq, confirm_down=n, confirm_up=m) for t in ts]
    for a, b in itertools.pairwise(transitions):
        assert b.previous == a.current and b.current != a.current


@given(st.integers(min_value=0, max_value=6), st.integers(0, 23), st.integers(1, 600))
def test_recurring_window_is_active_exactly_for_its_duration(day: int, hour: int, minutes: int) -> None:
    window = MaintenanceIn.model_validate(
        {
            "recurring": {
                "days": [day],
                "start": f"{hour:02d}:00",
                "durationMinutes": minutes,
                "tz": "Europe/Paris",
            }
        }
    )
    base = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)  # a Monday
    local = dt.datetime(2026, 6, 1 + day, hour, 0, tzinfo=ZoneInfo("Europe/Paris"))
    start_ms = int(local.timestamp() * 1000)
    assert base.weekday() == 0
    assert is_active(window, start_ms)
    assert is_active(window, start_ms + minutes * 60_000 - 1)
    assert not is_active(window, start_ms + minutes * 60_000)
    assert not is_active(window, start_ms - 1) or minutes >= 7 * 24 * 60


def test_one_off_window() -> None:
    w = MaintenanceIn.model_validate({"start": T0, "end": T0 + 1000})
    assert in_maintenance([w], T0) and not in_maintenance([w], T0 + 1000) and not in_maintenance([], T0)


def test_a_change_within_the_dwell_is_held_as_pending_then_settles_after_it() -> None:
    """Half an interval of dwell: results faster than that (beats, checks by hand) cannot flap the status."""
    dwell = 30_000
    up, _ = next_state(ServiceState(), Outcome("up", T0), min_dwell_ms=dwell)
    held, ts = next_state(up, Outcome("down", T0 + 1_000), min_dwell_ms=dwell)
    assert held.status == "pending" and held.settled == "up" and ts == []
    still, ts = next_state(held, Outcome("up", T0 + 2_000), min_dwell_ms=dwell)
    assert still.status == "up" and ts == []
    late, ts = next_state(still, Outcome("down", T0 + dwell), min_dwell_ms=dwell)
    assert late.status == "down" and [t.kind for t in ts] == ["down"]


@given(st.lists(st.sampled_from(["up", "down", "degraded"]), min_size=1, max_size=200))
def test_a_flapping_source_changes_status_at_most_once_per_dwell(seq: list[str]) -> None:
    dwell, step = 30_000, 1_000  # a result every second against a 30 s dwell
    state, times = ServiceState(), []
    for i, s in enumerate(seq):
        state, ts = next_state(state, Outcome(s, T0 + i * step), min_dwell_ms=dwell)  # type: ignore[arg-type]
        times += [t.at_ms for t in ts if t.kind != "cert_expiring"]
    assert all(b - a >= dwell for a, b in itertools.pairwise(times))
