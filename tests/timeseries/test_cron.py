"""Cron schedules in a time zone (upstat.timeseries.cron): fields as Vixie cron reads them, daylight saving
changes, occurrences in a window; a bad expression is refused naming the field and what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upstat.errors import InvalidInput
from upstat.timeseries import cron


def ms(*args: int, tz: str = "UTC") -> int:
    from zoneinfo import ZoneInfo

    return int(datetime(*args, tzinfo=ZoneInfo(tz)).timestamp() * 1000)  # type: ignore[misc]


def utc(t: int | None) -> str:
    assert t is not None
    return datetime.fromtimestamp(t / 1000, UTC).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        ("0 2 * * *", ms(2026, 3, 10, 1, 0), "2026-03-10 02:00"),
        ("0 2 * * *", ms(2026, 3, 10, 2, 0), "2026-03-11 02:00"),  # strictly after
        ("*/15 * * * *", ms(2026, 3, 10, 1, 7), "2026-03-10 01:15"),
        ("30 3 * * 1-5", ms(2026, 3, 13, 4, 0), "2026-03-16 03:30"),  # Friday after -> Monday
        ("0 0 1 */3 *", ms(2026, 2, 10), "2026-04-01 00:00"),
        ("0 12 13 * 5", ms(2026, 3, 1), "2026-03-06 12:00"),  # both days restricted: either matches
        ("@weekly", ms(2026, 3, 10), "2026-03-15 00:00"),  # Sunday
        ("0 6 * jan,JUL sun", ms(2026, 3, 1), "2026-07-05 06:00"),
        ("5/20 * * * *", ms(2026, 3, 1, 0, 6), "2026-03-01 00:25"),
        ("0 0 29 2 *", ms(2026, 3, 1), "2028-02-29 00:00"),
    ],
)
def test_the_next_occurrence(expr: str, after: int, expected: str) -> None:
    assert utc(cron.next_after(cron.parse(expr), after)) == expected


def test_a_time_skipped_by_daylight_saving_is_skipped_and_a_repeated_one_counts_once() -> None:
    daily = cron.parse("30 2 * * *")
    # Europe/Rome: 2026-03-29 02:00 -> 03:00 (02:30 does not exist); 2026-10-25 03:00 -> 02:00 (twice).
    assert utc(cron.next_after(daily, ms(2026, 3, 28, 12), "Europe/Rome")) == "2026-03-30 00:30"
    assert utc(cron.next_after(daily, ms(2026, 10, 24, 12), "Europe/Rome")) == "2026-10-25 00:30"
    assert cron.count_between(daily, ms(2026, 3, 27), ms(2026, 4, 1), "Europe/Rome") == 4
    assert cron.count_between(daily, ms(2026, 10, 23), ms(2026, 10, 28), "Europe/Rome") == 5


def test_the_last_occurrence_at_or_before() -> None:
    daily = cron.parse("0 2 * * *")
    assert utc(cron.last_at_or_before(daily, ms(2026, 3, 10, 2, 0))) == "2026-03-10 02:00"
    assert utc(cron.last_at_or_before(daily, ms(2026, 3, 10, 1, 59))) == "2026-03-09 02:00"
    assert (
        utc(cron.last_at_or_before(daily, ms(2026, 3, 10, 1, 59), "America/New_York")) == "2026-03-09 06:00"
    )


def test_an_impossible_date_has_no_occurrence() -> None:
    assert cron.next_after(cron.parse("0 0 30 2 *"), ms(2026, 1, 1)) is None


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("61 * * * *", "61 is out of range for the minute field (0-59)"),
        ("0 24 * * *", "out of range for the hour field"),
        ("0 0 0 * *", "out of range for the day of month field"),
        ("0 0 * 13 *", "out of range for the month field"),
        ("0 0 * * 8", "out of range for the day of week field"),
        ("0 5-2 * * *", "the range 5-2 runs backwards"),
        ("*/0 * * * *", "a step must be at least 1"),
        ("0 0 * xyz *", "'xyz' is not a value of the month field"),
        ("0 0 * * *  ", "not a cron expression"),
        ("0 0 * *", "not a cron expression"),
        ("@reboot", "not a cron expression"),
    ],
)
def test_a_bad_expression_is_refused_saying_why(expr: str, words: str) -> None:
    with pytest.raises(InvalidInput) as err:
        cron.parse(expr, field="schedule")
    assert err.value.field == "schedule"
    assert err.value.message.startswith("schedule: ") and words in err.value.message


@settings(max_examples=60, deadline=None)
@given(
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    start=st.integers(ms(2025, 1, 1), ms(2027, 1, 1)),
    days=st.integers(1, 40),
    tz=st.sampled_from(["UTC", "Europe/Rome", "America/New_York", "Asia/Kolkata"]),
)
def test_counting_agrees_with_stepping_through_the_occurrences(
    minute: int, hour: int, start: int, days: int, tz: str
) -> None:
    expr = cron.parse(f"{minute} {hour} * * *")
    end = start + days * 86_400_000
    stepped, t = 0, cron.next_after(expr, start - 1, tz)
    while t is not None and t < end:
        stepped += 1
        assert cron.last_at_or_before(expr, t, tz) == t
        t = cron.next_after(expr, t, tz)
    assert cron.count_between(expr, start, end, tz) == stepped
    assert days - 1 <= stepped <= days + 1
