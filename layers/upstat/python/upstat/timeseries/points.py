"""Validation of incoming points: pure functions, no I/O.

A point is (time, value): time in epoch milliseconds (None = now), value a finite number. Anything else is
refused with an error naming the point, never coerced: NaN and infinities, booleans, strings, fractional
milliseconds, times that look like seconds, times older than the raw tier's retention or more than
5 minutes in the future.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from typing import Any

from upstat.errors import InvalidInput
from upstat.timeseries.timemath import MAX_FUTURE_MS

# Epoch ms below this (1973-03-03) are almost certainly seconds sent where milliseconds are expected.
SECONDS_LOOKALIKE = 100_000_000_000
MAX_BATCH = 100_000


def _describe_age(ms: int) -> str:
    hours = ms / 3_600_000
    return f"{hours / 24:g}d" if hours >= 48 else f"{hours:g}h"


def check_time(value: Any, *, field: str, now: int, lowest: int | None) -> int:
    """A point's time in epoch ms, or an InvalidInput naming ``field``."""
    if value is None:
        return now
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(
            f"{field}: time must be an integer of epoch milliseconds, got {value!r}", field=field
        )
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidInput(
                f"{field}: time must be a whole number of epoch milliseconds, got {value!r}", field=field
            )
        value = int(value)
    if 0 < value < SECONDS_LOOKALIKE:
        raise InvalidInput(
            f"{field}: {value} looks like epoch seconds; times are epoch milliseconds ({value * 1000})",
            field=field,
        )
    if value > now + MAX_FUTURE_MS:
        raise InvalidInput(f"{field}: {value} is more than 5 minutes in the future", field=field)
    if lowest is not None and value < lowest:
        raise InvalidInput(
            f"{field}: {value} is older than the raw tier's retention ({_describe_age(now - lowest)}); "
            "raise retention.raw to backfill further",
            field=field,
        )
    return value


def check_value(value: Any, *, field: str) -> float:
    """A finite number; booleans, strings, None, NaN and infinities are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{field}: value must be a number, got {value!r}", field=field)
    result = float(value)
    if not math.isfinite(result):
        raise InvalidInput(f"{field}: value must be finite, got {value!r}", field=field)
    if isinstance(value, int) and abs(value) > 2**53:
        raise InvalidInput(
            f"{field}: integer {value} is too large to store exactly (limit 2^53)", field=field
        )
    return result


def normalize(
    points: Iterable[tuple[Any, Any]], *, now: int, lowest: int | None, field: str = "points"
) -> list[tuple[int, float]]:
    """Validated points sorted by time, one per time (the last in the batch wins)."""
    by_time: dict[int, float] = {}
    for i, (t, v) in enumerate(points):
        if i >= MAX_BATCH:
            raise InvalidInput(f"{field}: at most {MAX_BATCH} points per series in one batch", field=field)
        ts = check_time(t, field=f"{field}[{i}].time", now=now, lowest=lowest)
        by_time[ts] = check_value(v, field=f"{field}[{i}].value")
    return sorted(by_time.items())


def pack(points: Sequence[tuple[int, float]]) -> bytes:
    """Little-endian (time, value) double pairs, the write script's input."""
    flat = [x for p in points for x in p]
    return struct.pack(f"<{len(flat)}d", *flat)
