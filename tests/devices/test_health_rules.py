"""A device's health derived from the states of its built-in rules (pure), as a table."""

from __future__ import annotations

import pytest

from upstat.devices.health import RULE_IDS, SILENCE_ID, Thresholds, metrics_from, status_from
from upstat.rules.state import SeriesState

OK = SeriesState(state="ok", slot=1, value=10.0)
FIRING = SeriesState(state="firing", slot=1, value=99.0)
RESOLVED = SeriesState(state="resolved", slot=2, value=10.0)


@pytest.mark.parametrize(
    ("states", "silent_now", "status"),
    [
        ({}, False, "unknown"),  # never judged on a current report
        ({}, True, "critical"),  # only backfilled reports, and silent since
        ({SILENCE_ID: OK}, False, "ok"),
        ({SILENCE_ID: OK, RULE_IDS["cpu"]: FIRING}, False, "problem"),
        ({SILENCE_ID: OK, RULE_IDS["cpu"]: RESOLVED, RULE_IDS["disk"]: OK}, False, "ok"),
        ({SILENCE_ID: FIRING, RULE_IDS["cpu"]: FIRING}, False, "critical"),  # silence outranks a threshold
        ({SILENCE_ID: RESOLVED, RULE_IDS["memory"]: FIRING}, False, "problem"),
        ({SILENCE_ID: OK}, True, "critical"),  # silent when read, before the sweep judged it
    ],
)
def test_status_is_derived_from_the_rules_states(
    states: dict[str, SeriesState], silent_now: bool, status: str
) -> None:
    assert status_from(states, silent_now=silent_now) == status


def test_related_metrics_are_the_threshold_rules_that_had_a_value() -> None:
    states = {RULE_IDS["cpu"]: FIRING, RULE_IDS["memory"]: OK, RULE_IDS["disk"]: SeriesState(slot=1)}
    assert metrics_from(states) == {"cpu": False, "memory": True}


def test_the_built_in_rules_are_the_settings_as_expressions() -> None:
    rules = Thresholds(memory=95, cpu=90, disk=80, silence_ms=2 * 3600_000).rules()
    assert [(r.id, r.expression(), r.builtin) for r in rules] == [
        ("builtin:device-memory", "max(memory.percent_used, 5m) > 95", True),
        ("builtin:device-cpu", "max(cpu.cpu_usage, 5m) > 90", True),
        ("builtin:device-disk", "max(disk.used_disk, 5m) > 80", True),
        ("builtin:device-silence", "absent(report, 2h)", True),
    ]
