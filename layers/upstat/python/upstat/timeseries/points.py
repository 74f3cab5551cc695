"""Validation of incoming points: pure functions, no I/O.

A point is (time, value): time in epoch milliseconds (None = now), value a finite number. Anything else is
refused with an error naming the point, never coerced: NaN and infinities, booleans, strings, fractional
milliseconds, times that look like seconds, times older than the raw tier's retention or more than
5 minutes in the future.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

from upstat.errors import InvalidInput
from upstat.timeseries.timemath import MAX_FUTURE_MS

# Epoch ms below this (1973-03-03) are almost certainly seconds sent where milliseconds are expected.
SECONDS_LOOKALIKE = 100_000_000_000
# Epoch ms from these on are past the year 5138 (microseconds of today are ~1.8e15, nanoseconds ~1.8e18).
MICROSECONDS_LOOKALIKE = 100_000_000_000_000
NANOSECONDS_LOOKALIKE = 100_000_000_000_000_000
MAX_BATCH = 100_000


def _describe_age(ms: int) -> str:
    hours = ms / 3_600_000
    return f"{hours / 24:g}d" if hours >= 48 else f"{hours:g}h"


def shown(value: Any, limit: int = 40) -> str:
    """A value as JSON writes it (true, null, NaN, "text"), cut to ``limit`` characters, for messages."""
    if isinstance(value, float) and not math.isfinite(value):
        text = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**limit:
        text = f"an integer of {len(str(abs(value)))} digits"
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=True)
        except (TypeError, ValueError):
            text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unit_hint(value: int) -> str | None:
    """What a time that is not epoch milliseconds looks like it is, with its value in milliseconds."""
    if 0 < value < SECONDS_LOOKALIKE:
        return f"looks like epoch seconds; times are epoch milliseconds ({value * 1000})"
    if MICROSECONDS_LOOKALIKE <= value < NANOSECONDS_LOOKALIKE:
        return f"looks like epoch microseconds; times are epoch milliseconds ({value // 1000})"
    if value >= NANOSECONDS_LOOKALIKE:
        return f"looks like epoch nanoseconds; times are epoch milliseconds ({value // 1_000_000})"
    return None


def check_epoch_ms(value: Any, *, field: str) -> int:
    """An integer of epoch milliseconds (a whole float is taken as that integer), or an InvalidInput naming
    ``field``: other types are refused, and a value that looks like seconds, microseconds or nanoseconds
    gets a hint with its value in milliseconds (never a guess)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(
            f"{field}: time must be an integer of epoch milliseconds, got {shown(value)}", field=field
        )
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidInput(
                f"{field}: time must be a whole number of epoch milliseconds, got {shown(value)}",
                field=field,
            )
        value = int(value)
    hint = _unit_hint(value)
    if hint is not None:
        raise InvalidInput(f"{field}: {shown(value)} {hint}", field=field)
    return value


def check_time(value: Any, *, field: str, now: int, lowest: int | None) -> int:
    """A point's time in epoch ms, or an InvalidInput naming ``field``.

    Accepted: from the raw tier's retention ago (``lowest``) to 5 minutes ahead of ``now``. Times that look
    like seconds, microseconds or nanoseconds get a hint with the value in milliseconds."""
    if value is None:
        return now
    value = check_epoch_ms(value, field=field)
    if value > now + MAX_FUTURE_MS:
        raise InvalidInput(
            f"{field}: {value} is more than 5 minutes in the future (points may be at most 5 minutes ahead "
            "of the server's clock)",
            field=field,
        )
    if lowest is not None and value < lowest:
        raise InvalidInput(
            f"{field}: {value} is older than the raw tier's retention ({_describe_age(now - lowest)}); "
            "backfill reaches back as far as retention.raw: raise it to backfill further",
            field=field,
        )
    return value


def check_value(value: Any, *, field: str) -> float:
    """A finite number; booleans, strings, None, NaN, infinities and integers beyond 2^53 are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{field}: value must be a number, got {shown(value)}", field=field)
    if isinstance(value, int) and abs(value) > 2**53:
        # Checked before float(): an integer of hundreds of digits overflows a double.
        raise InvalidInput(
            f"{field}: integer {shown(value)} is too large to store exactly (limit 2^53)", field=field
        )
    result = float(value)
    if not math.isfinite(result):
        raise InvalidInput(f"{field}: value must be finite, got {shown(value)}", field=field)
    return result


def normalize(
    points: Iterable[tuple[Any, Any]], *, now: int, lowest: int | None, field: str = "points"
) -> list[tuple[int, float]]:
    """Validated points sorted by time, one per time (the last in the batch wins)."""
    pts = points if isinstance(points, list) else list(points)
    if len(pts) > MAX_BATCH:
        raise InvalidInput(f"{field}: at most {MAX_BATCH} points per series in one batch", field=field)
    checked = already_clean(pts, now, lowest)
    if checked is not None:
        return checked
    by_time: dict[int, float] = {}
    for i, (t, v) in enumerate(pts):
        # The messages' field names are built only for a point that is refused.
        if type(t) is not int or not _time_ok(t, now, lowest):
            t = check_time(t, field=_at(field, i, "time"), now=now, lowest=lowest)
        if type(v) is not float or not math.isfinite(v):
            v = check_value(v, field=_at(field, i, "value"))
        by_time[t] = v
    return sorted(by_time.items())


def _at(field: str, i: int, part: str) -> str:
    return f"{field}[{i}].{part}"


def _time_ok(t: int, now: int, lowest: int | None) -> bool:
    return (
        SECONDS_LOOKALIKE <= t <= now + MAX_FUTURE_MS
        and t < MICROSECONDS_LOOKALIKE
        and (lowest is None or t >= lowest)
    )


def _one_clean(p: Any, now: int, lowest: int | None) -> bool:
    if type(p) is not tuple or len(p) != 2:
        return False
    t, v = p
    return type(t) is int and type(v) is float and _time_ok(t, now, lowest) and math.isfinite(v)


def already_clean(points: Any, now: int, lowest: int | None) -> list[tuple[int, float]] | None:
    """``points`` themselves when they need no change (the common batch: a list of (int, float) pairs in
    strictly rising time, every one accepted), checked in a few passes without a message built per point;
    else None (``normalize`` then sorts them out or says which is refused)."""
    if type(points) is not list:
        return None
    pts = points
    if len(pts) == 1:  # one point per series: every live tick
        return pts if _one_clean(pts[0], now, lowest) else None
    if len(pts) > MAX_BATCH:
        return None
    try:
        times = [t for t, _ in pts]
        values = [v for _, v in pts]
    except (TypeError, ValueError):
        return None
    if not times:
        return []
    if {type(t) for t in times} != {int} or {type(v) for v in values} != {float}:
        return None
    if not (_time_ok(times[0], now, lowest) and _time_ok(times[-1], now, lowest)):
        return None
    if len(times) > 1 and not all(a < b for a, b in pairwise(times)):
        return None
    try:
        if not math.isfinite(math.fsum(values)):
            return None
    except OverflowError:
        return None
    return pts


def pack(points: Sequence[tuple[int, float]]) -> bytes:
    """Little-endian (time, value) double pairs, the write script's input."""
    if len(points) == 1:
        return _PAIR.pack(*points[0])
    flat = [x for p in points for x in p]
    return struct.pack(f"<{len(flat)}d", *flat)


_PAIR = struct.Struct("<dd")
