"""Cron schedules in a time zone: parse, the next and previous occurrence, occurrences in a window. Pure.

A job that runs on a schedule (a Duplicati backup at 02:00 every day) is expected at each occurrence; what
"late" means is decided by the caller. Five fields, as Vixie cron reads them: minute (0-59), hour (0-23),
day of month (1-31), month (1-12 or jan-dec), day of week (0-7 or sun-sat; 0 and 7 are Sunday). Each field
is a comma-separated list of ``*``, ``N`` or ``N-M``, each optionally ``/step`` (``*/15``, ``1-30/2``,
``5/15`` = from 5 to the end every 15). When both day fields are restricted, a day matching either one
matches (cron's rule). ``@hourly``, ``@daily`` (``@midnight``), ``@weekly``, ``@monthly``, ``@yearly``
(``@annually``) are accepted.

Times are wall-clock times of the zone: an occurrence that does not exist (skipped by a daylight saving
change) is skipped; one that happens twice counts once, at its first instant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from upstat.errors import InvalidInput
from upstat.timeseries import timemath as tm

MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_ITEM = r"(?:\*|(?:[0-9]{1,2}|[A-Za-z]{3})(?:-(?:[0-9]{1,2}|[A-Za-z]{3}))?)(?:/[0-9]{1,2})?"
_FIELD = rf"{_ITEM}(?:,{_ITEM})*"
#: The shape of an expression, for the OpenAPI document; values out of a field's range are refused apart.
PATTERN = rf"^(?:@(?:hourly|daily|midnight|weekly|monthly|yearly|annually)|{_FIELD}(?: {_FIELD}){{4}})$"
_SHAPE = re.compile(PATTERN)
#: How far ahead (or back) an occurrence is looked for: Feb 29 on a Monday comes back within 28 years.
SEARCH_DAYS = 366 * 29
_NAMES = ("minute", "hour", "day of month", "month", "day of week")
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


@dataclass(frozen=True)
class Cron:
    """A parsed expression: the allowed values of each field, and whether the day fields are restricted."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Monday ... 6 = Sunday (Python's weekday())
    any_day: bool
    any_weekday: bool

    def day_matches(self, d: date) -> bool:
        if d.month not in self.months:
            return False
        by_day, by_weekday = d.day in self.days, d.weekday() in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday


def _value(text: str, field: int, where: str) -> int:
    names = _MONTHS if field == 3 else _DAYS if field == 4 else ()
    if text.isdigit():
        value = int(text)
    elif text.lower() in names:
        value = names.index(text.lower()) + (1 if field == 3 else 0)
    else:
        raise InvalidInput(f"{where}: {text!r} is not a value of the {_NAMES[field]} field", field=where)
    low, high = _BOUNDS[field]
    if not low <= value <= high:
        raise InvalidInput(
            f"{where}: {value} is out of range for the {_NAMES[field]} field ({low}-{high})", field=where
        )
    return value


def _field(text: str, field: int, where: str) -> set[int]:
    low, high = _BOUNDS[field]
    out: set[int] = set()
    for item in text.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise InvalidInput(f"{where}: a step must be at least 1", field=where)
        if span == "*":
            first, last = low, high
        elif "-" in span:
            a, b = span.split("-", 1)
            first, last = _value(a, field, where), _value(b, field, where)
            if last < first:
                raise InvalidInput(f"{where}: the range {span} runs backwards", field=where)
        else:
            first = _value(span, field, where)
            last = high if step_text else first
        out.update(range(first, last + 1, step))
    return out


@lru_cache(maxsize=1024)
def parse(text: str, *, field: str = "schedule") -> Cron:
    """A cron expression, or InvalidInput naming ``field`` and what is wrong with it."""
    if not isinstance(text, str) or not _SHAPE.match(text):
        raise InvalidInput(
            f"{field}: not a cron expression: five fields (minute hour day-of-month month day-of-week), "
            "such as '0 2 * * *', or @daily",
            field=field,
        )
    parts = MACROS.get(text, text).split(" ")
    minute, hour, day, month, weekday = (_field(p, i, field) for i, p in enumerate(parts))
    weekdays = frozenset((d - 1) % 7 for d in weekday)  # cron 0/7 = Sunday -> Python 6
    return Cron(
        text=text,
        minutes=tuple(sorted(minute)),
        hours=tuple(sorted(hour)),
        days=frozenset(day),
        months=frozenset(month),
        weekdays=weekdays,
        any_day=parts[2].startswith("*"),
        any_weekday=parts[4].startswith("*"),
    )


def _day_times(cron: Cron, d: date, zone: ZoneInfo) -> list[int]:
    """The occurrences on local day ``d`` as epoch ms, ascending (nonexistent wall times left out)."""
    midnight = datetime(d.year, d.month, d.day, tzinfo=zone)
    start_utc = midnight.astimezone(UTC)
    next_day = (midnight.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=zone)
    base = int(start_utc.timestamp() * 1000)
    if midnight.utcoffset() == next_day.utcoffset():  # no offset change that day: plain arithmetic
        return [base + h * tm.HOUR + m * tm.MINUTE for h in cron.hours for m in cron.minutes]
    out = []
    for h in cron.hours:
        for m in cron.minutes:
            local = datetime(d.year, d.month, d.day, h, m, tzinfo=zone)
            back = local.astimezone(UTC).astimezone(zone)
            if back.replace(tzinfo=None) == local.replace(tzinfo=None):  # the wall time exists
                out.append(int(local.astimezone(UTC).timestamp() * 1000))
    return sorted(set(out))


def _local_date(ts: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(ts / 1000, UTC).astimezone(zone).date()


def _days(start: date, step: int) -> Iterator[date]:
    d = start
    for _ in range(SEARCH_DAYS):
        yield d
        d = d + timedelta(days=step)


def next_after(cron: Cron, ts: int, tz: str = "UTC") -> int | None:
    """The first occurrence strictly after ``ts`` (epoch ms); None if there is none within 29 years."""
    zone = tm.zone(tz)
    for d in _days(_local_date(ts, zone), 1):
        if cron.day_matches(d):
            for t in _day_times(cron, d, zone):
                if t > ts:
                    return t
    return None


def last_at_or_before(cron: Cron, ts: int, tz: str = "UTC") -> int | None:
    """The latest occurrence at or before ``ts``; None if there is none within 29 years."""
    zone = tm.zone(tz)
    for d in _days(_local_date(ts, zone), -1):
        if cron.day_matches(d):
            for t in reversed(_day_times(cron, d, zone)):
                if t <= ts:
                    return t
    return None


def count_between(cron: Cron, start: int, end: int, tz: str = "UTC") -> int:
    """How many occurrences fall in [start, end)."""
    if end <= start:
        return 0
    zone = tm.zone(tz)
    first, last = _local_date(start, zone), _local_date(end - 1, zone)
    count = 0
    d = first
    while d <= last:
        if cron.day_matches(d):
            count += sum(1 for t in _day_times(cron, d, zone) if start <= t < end)
        d = d + timedelta(days=1)
    return count
