"""The status page's own rules, as tables: its overall state, incidents per day, public causes, the
occurrence of a maintenance window it announces, and a source's freshness on the dashboard."""

from __future__ import annotations

import datetime as dt

import pytest

from upstat.timeseries.catalog import freshness
from upstat.uptime.incidents import Incident, per_day, public_cause
from upstat.uptime.maintenance import MaintenanceIn, is_active, occurrence
from upstat.uptime.status_page import page_state

MIN = 60_000
DAY = 1440 * MIN


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], "pending"),
        (["pending", "pending"], "pending"),
        (["paused"], "pending"),
        (["up", "pending"], "operational"),
        (["up", "paused"], "operational"),
        (["up", "degraded"], "degraded"),
        (["up", "maintenance", "degraded"], "maintenance"),
        (["up", "down"], "partial_outage"),
        (["down", "maintenance"], "partial_outage"),
        (["down", "down", "pending"], "major_outage"),
        (["down"], "major_outage"),
    ],
)
def test_the_page_state_of_its_services(states: list[str], expected: str) -> None:
    assert page_state(states) == expected


def test_incidents_count_on_each_day_they_overlap_with_their_downtime() -> None:
    starts = [0, DAY, 2 * DAY]
    now = 2 * DAY + 600 * MIN
    found = [
        Incident("a", "s", DAY - 30 * MIN, "HTTP 500", "status", DAY + 10 * MIN, 40 * MIN),  # across midnight
        Incident("b", "s", 2 * DAY + 60 * MIN, "timeout", "timeout"),  # open: runs until now
    ]
    assert per_day(found, starts, now) == [(1, 30 * MIN), (1, 10 * MIN), (1, 540 * MIN)]
    assert per_day([], starts, now) == [(0, 0)] * 3


@pytest.mark.parametrize(
    ("kind", "cause", "shown"),
    [
        ("status", "status 503, expected 200-299", "HTTP 503"),
        ("status", "HTTP 500", "HTTP 500"),
        ("keyword", "keyword 'secret-token-123' not found", "Unexpected content"),
        ("timeout", "no beat since 1700000000000 (expected every 60 s)", "Timed out"),
        ("refused", "Cannot connect to host db.internal:5432", "Connection refused"),
        (None, None, "Service down"),
    ],
)
def test_a_public_cause_is_the_error_class_never_the_message(
    kind: str | None, cause: str | None, shown: str
) -> None:
    assert public_cause(Incident("1", "s", 0, cause, kind)) == shown


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


def test_a_recurring_window_announces_its_next_occurrence_and_the_one_in_force() -> None:
    nightly = MaintenanceIn.model_validate(
        {"recurring": {"days": [6], "start": "03:00", "durationMinutes": 30, "tz": "Europe/Paris"}}
    )
    thursday = _ms("2026-12-03T12:00:00+01:00")
    assert occurrence(nightly, thursday) == (
        _ms("2026-12-06T03:00:00+01:00"),
        _ms("2026-12-06T03:30:00+01:00"),
    )
    during = _ms("2026-12-06T03:10:00+01:00")
    assert occurrence(nightly, during) == (_ms("2026-12-06T03:00:00+01:00"), _ms("2026-12-06T03:30:00+01:00"))
    assert is_active(nightly, during) and not is_active(nightly, thursday)
    after = _ms("2026-12-06T03:30:00+01:00")
    assert occurrence(nightly, after) == (_ms("2026-12-13T03:00:00+01:00"), _ms("2026-12-13T03:30:00+01:00"))


def test_a_one_off_window_is_announced_until_it_ends() -> None:
    t0 = _ms("2026-12-06T03:00:00+01:00")
    window = MaintenanceIn(start=t0 + 1000, end=t0 + 2000)
    span = (t0 + 1000, t0 + 2000)
    assert occurrence(window, t0) == span and occurrence(window, t0 + 1999) == span
    assert occurrence(window, t0 + 2000) is None


@pytest.mark.parametrize(
    ("age_min", "word"),
    [
        (None, "empty"),
        (0, "active"),
        (15, "active"),
        (16, "quiet"),
        (26 * 60, "quiet"),
        (26 * 60 + 1, "silent"),
    ],
)
def test_a_sources_freshness(age_min: int | None, word: str) -> None:
    now = 100 * DAY
    assert freshness(None if age_min is None else now - age_min * MIN, now) == word
