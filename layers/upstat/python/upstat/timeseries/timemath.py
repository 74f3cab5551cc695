"""Pure time math: interval grammar, ranges, resolutions, bucket grids and tier choice.

No I/O here; ``now`` is always passed in (epoch milliseconds). Every function is tested as a pure function
with hypothesis properties in tests/unit.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from upstat.errors import InvalidInput

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY

# The netflow document's interval grammar: an integer followed by one unit letter.
# As a range length, a month is 30 days and a year 365 days; as a bucket, d/w/M/y follow the calendar of
# the request's time zone (weeks start on Monday).
UNIT_MS = {"s": SECOND, "m": MINUTE, "h": HOUR, "d": DAY, "w": WEEK, "M": 30 * DAY, "y": 365 * DAY}
CALENDAR_UNITS = frozenset("dwMy")
_INTERVAL_RE = re.compile(r"^([1-9][0-9]{0,8})([smhdwMy])$")

# Aliases accepted where a resolution or granularity is asked for.
RESOLUTION_ALIASES = {
    "minute": "1m",
    "5min": "5m",
    "15min": "15m",
    "hour": "1h",
    "hourly": "1h",
    "6hour": "6h",
    "day": "1d",
    "daily": "1d",
    "week": "1w",
    "weekly": "1w",
    "month": "1M",
    "monthly": "1M",
}

PRESETS = ("1h", "3h", "6h", "12h", "24h", "7d", "30d", "90d", "1y")

# The OpenVPN "Dynamic Aggregation" table: range up to -> bucket.
AUTO_TABLE: tuple[tuple[int, str], ...] = (
    (HOUR, "30s"),
    (3 * HOUR, "1m"),
    (6 * HOUR, "2m"),
    (12 * HOUR, "5m"),
    (24 * HOUR, "15m"),
    (7 * DAY, "1h"),
    (30 * DAY, "6h"),
)

MAX_POINTS = 10_000
_AUTO_INTERVALS: tuple[tuple[int, Interval], ...] = ()
MAX_FUTURE_MS = 5 * MINUTE


@dataclass(frozen=True)
class Interval:
    """``count`` units, e.g. Interval(15, "m")."""

    count: int
    unit: str

    @property
    def ms(self) -> int:
        """Nominal length in milliseconds (a month is 30 days, a year 365 days)."""
        return self.count * UNIT_MS[self.unit]

    @property
    def calendar(self) -> bool:
        return self.unit in CALENDAR_UNITS

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


@lru_cache(maxsize=1024)
def _parse_interval(text: str) -> Interval | None:
    match = _INTERVAL_RE.match(text.strip())
    return Interval(int(match.group(1)), match.group(2)) if match else None


def parse_interval(text: str, *, field: str = "interval") -> Interval:
    """Parse ``<integer><s|m|h|d|w|M|y>``; anything else is an error naming ``field``."""
    interval = _parse_interval(text) if isinstance(text, str) else None
    if interval is None:
        raise InvalidInput(
            f"{field}: {text!r} is not an interval: use an integer followed by one of s, m, h, d, w, M, y "
            "(e.g. 15m, 24h, 7d)",
            field=field,
        )
    return interval


#: IANA zone names a time zone parameter takes (``Area/City`` and UTC), for the OpenAPI document.
TIME_ZONES = sorted(z for z in available_timezones() if "/" in z or z == "UTC")


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"tz: unknown time zone {name!r} (use an IANA name such as Europe/Rome)", field="tz"
        ) from exc


#: The date-times the API documents: a date from 1970, then optionally a time and an offset. The document's
#: pattern is this one (api/params.py), so the two cannot disagree; a date that matches but does not exist
#: (February 30) is refused naming it.
DATETIME_PATTERN = (
    r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"(?:[T ]([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9])(?:\.([0-9]{1,6}))?)?"
    r"(Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?)?$"
)
_DATETIME = re.compile(DATETIME_PATTERN)


def _documented_datetime(match: re.Match[str], text: str, field: str) -> datetime:
    """The datetime of a :data:`DATETIME_PATTERN` match (naive when it has no offset)."""
    y, mo, d, h, mi, sec, frac, offset = match.groups()
    try:
        value = datetime(
            int(y),
            int(mo),
            int(d),
            int(h or 0),
            int(mi or 0),
            int(sec or 0),
            int((frac or "0").ljust(6, "0")),
        )
    except ValueError as exc:
        raise InvalidInput(f"{field}: {text!r} is not a real date ({exc})", field=field) from exc
    if not offset:
        return value
    if offset == "Z":
        return value.replace(tzinfo=UTC)
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return value.replace(tzinfo=timezone(-delta if offset[0] == "-" else delta))


def parse_datetime(text: str, *, field: str, tz: str = "UTC") -> int:
    """Parse an ISO 8601 time, or 'YYYY-MM-DD H:M:S' as OpenWISP sends it, into epoch ms.

    A time without an offset is read in ``tz``. Numbers are refused here: callers that take epoch values
    say which unit they expect.
    """
    value = text.strip() if isinstance(text, str) else ""
    if not value:
        raise InvalidInput(f"{field}: a date-time is required", field=field)
    match = _DATETIME.match(value)
    parsed = _documented_datetime(match, text, field) if match is not None else _other_datetime(value)
    if parsed is None:
        raise InvalidInput(
            f"{field}: {text!r} is not a date-time: use ISO 8601 (2026-01-09T12:00:00Z) "
            "or 'YYYY-MM-DD H:M:S'",
            field=field,
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(tz))
    return int(parsed.timestamp() * 1000)


def _other_datetime(value: str) -> datetime | None:
    """Other ISO 8601 forms Python reads, and the forms agents send (OpenWISP's '%d-%m-%Y_%H:%M:%S.%f')."""
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d-%m-%Y_%H:%M:%S.%f"):
            try:
                parsed = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    return parsed


# ---------------------------------------------------------------------------------------------------------
# Grids: the bucket boundaries of one response.


@dataclass(frozen=True)
class Grid:
    """The buckets of a response: ``n`` buckets, bucket i spans [bounds[i], bounds[i+1]).

    ``step`` is the bucket length when every bucket has the same length (fixed grids), else 0.
    ``raw`` grids have no buckets: each stored point is returned as it is.
    """

    start: int
    end: int
    n: int
    step: int
    resolution: str
    bounds: tuple[int, ...] = ()
    raw: bool = False

    def boundaries(self) -> list[int]:
        if self.step:
            return list(range(self.start, self.start + (self.n + 1) * self.step, self.step))
        return list(self.bounds)

    def starts(self) -> tuple[int, ...]:
        """Each bucket's start time. Computed once per grid: fixed grids are shared by every request made
        within one bucket of time (see ``_fixed_grid``)."""
        cached: tuple[int, ...] | None = self.__dict__.get("_starts")
        if cached is None:
            if self.step:
                cached = tuple(range(self.start, self.start + self.n * self.step, self.step))
            else:
                cached = self.bounds[:-1]
            object.__setattr__(self, "_starts", cached)  # a cache, not a field: eq and hash ignore it
        return cached

    def index(self, ts: int) -> int:
        """Index of the bucket holding ``ts`` (may be outside 0..n-1 for times outside the grid)."""
        if self.step:
            return (ts - self.start) // self.step
        return bisect_right(self.bounds, ts) - 1

    def length(self, i: int) -> int:
        if self.step:
            return self.step
        return self.bounds[i + 1] - self.bounds[i]


def floor_to(ts: int, step: int) -> int:
    return ts - ts % step


def _local(ts: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts / 1000, UTC).astimezone(tz)


def _epoch_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def calendar_floor(ts: int, interval: Interval, tz: ZoneInfo) -> datetime:
    """Start (local, aware) of the calendar bucket of ``interval`` holding ``ts``."""
    local = _local(ts, tz)
    day = local.date()
    if interval.unit == "d":
        # n-day buckets are counted from 0001-01-01, so they do not depend on the window.
        ordinal = day.toordinal() - ((day.toordinal() - 1) % interval.count)
        start_day = type(day).fromordinal(ordinal)
    elif interval.unit == "w":
        monday = day.toordinal() - day.weekday()
        start_day = type(day).fromordinal(monday - ((monday - 1) // 7 % interval.count) * 7)
    elif interval.unit == "M":
        months = day.year * 12 + day.month - 1
        months -= months % interval.count
        start_day = day.replace(year=months // 12, month=months % 12 + 1, day=1)
    else:  # "y"
        start_day = day.replace(year=day.year - day.year % interval.count, month=1, day=1)
    return datetime(start_day.year, start_day.month, start_day.day, tzinfo=tz)


def calendar_next(start: datetime, interval: Interval) -> datetime:
    """The local start of the bucket after the one starting at ``start`` (wall-clock arithmetic)."""
    tz = start.tzinfo
    if interval.unit in "dw":
        days = interval.count * (7 if interval.unit == "w" else 1)
        nxt = (start.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=tz)
    elif interval.unit == "M":
        months = start.year * 12 + start.month - 1 + interval.count
        nxt = start.replace(year=months // 12, month=months % 12 + 1)
    else:
        nxt = start.replace(year=start.year + interval.count)
    return nxt


def _calendar_bounds(first: datetime, n: int, interval: Interval) -> tuple[int, ...]:
    bounds = [_epoch_ms(first)]
    cur = first
    for _ in range(n):
        cur = calendar_next(cur, interval)
        bounds.append(_epoch_ms(cur))
    return tuple(bounds)


def _uses_calendar(interval: Interval, tz: str) -> bool:
    """Day-or-longer buckets follow the calendar of ``tz``; in UTC, days and weeks are fixed lengths."""
    if not interval.calendar:
        return False
    return not (tz == "UTC" and interval.unit in "dw")


def _fixed_offset(interval: Interval) -> int:
    # Weeks start on Monday: the epoch (1970-01-01) was a Thursday, Monday 1970-01-05 is 4 days later.
    return 4 * DAY if interval.unit == "w" else 0


def check_points(n: int, *, field: str = "range") -> None:
    if n > MAX_POINTS:
        raise InvalidInput(
            f"{field}: this range at this resolution would return {n} points; the limit is {MAX_POINTS}: "
            "ask for a coarser resolution or a shorter range",
            field=field,
        )


@lru_cache(maxsize=256)
def _last_shape(last_ms: int, resolution: Interval | str, tz: str) -> tuple[int, int, int, str] | None:
    """(points, step, offset, label) of a fixed grid for "the last ``last_ms``", or None when the grid is a
    calendar one (days and longer outside UTC, months, years), which ``grid_for_last`` builds. Raises like
    ``grid_for_last`` for a bad zone or too many points (errors are not cached)."""
    zone(tz)
    res = auto_resolution(last_ms) if resolution == "auto" else resolution
    assert isinstance(res, Interval)
    if _uses_calendar(res, tz):
        return None
    ratio = last_ms / res.ms
    n = max(1, round(ratio) if res.calendar else math.ceil(ratio - 1e-9))
    check_points(n)
    return n, res.ms, _fixed_offset(res), str(res)


def grid_for_last(interval_ms: int, resolution: Interval, now: int, tz: str = "UTC") -> Grid:
    """Grid for "the last ``interval_ms``": the bucket holding ``now`` is the last one.

    The number of points is the range divided by the resolution (rounded up; calendar resolutions rounded
    to the nearest whole bucket), so 24h at 15m is 96 points and 30d at 6h is 120.
    """
    ratio = interval_ms / resolution.ms
    n = max(1, round(ratio) if resolution.calendar else math.ceil(ratio - 1e-9))
    check_points(n)
    if _uses_calendar(resolution, tz):
        zi = zone(tz)
        last = calendar_floor(now, resolution, zi)
        first = last
        for _ in range(n - 1):
            first = _calendar_step_back(first, resolution)
        bounds = _calendar_bounds(first, n, resolution)
        return Grid(bounds[0], bounds[-1], n, 0, str(resolution), bounds)
    step = resolution.ms
    offset = _fixed_offset(resolution)
    return _fixed_grid(n, step, floor_to(now - offset, step) + offset, str(resolution))


@lru_cache(maxsize=512)
def _fixed_grid(n: int, step: int, last_start: int, resolution: str) -> Grid:
    """The fixed grid ending with the bucket at ``last_start`` (cached: every request within one bucket of
    time asks for the same grid)."""
    start = last_start - (n - 1) * step
    return Grid(start, last_start + step, n, step, resolution)


def _calendar_step_back(start: datetime, interval: Interval) -> datetime:
    tz = start.tzinfo
    if interval.unit in "dw":
        days = interval.count * (7 if interval.unit == "w" else 1)
        return (start.replace(tzinfo=None) - timedelta(days=days)).replace(tzinfo=tz)
    if interval.unit == "M":
        months = start.year * 12 + start.month - 1 - interval.count
        return start.replace(year=months // 12, month=months % 12 + 1)
    return start.replace(year=start.year - interval.count)


def grid_between(start: int, end: int, resolution: Interval, tz: str = "UTC") -> Grid:
    """Grid covering [start, end): first bucket holds ``start``, last holds ``end - 1``."""
    if end <= start:
        raise InvalidInput("end: must be after start", field="end")
    if _uses_calendar(resolution, tz):
        zi = zone(tz)
        first = calendar_floor(start, resolution, zi)
        bounds = [_epoch_ms(first)]
        cur = first
        while bounds[-1] < end:
            cur = calendar_next(cur, resolution)
            bounds.append(_epoch_ms(cur))
            check_points(len(bounds) - 1)
        return Grid(bounds[0], bounds[-1], len(bounds) - 1, 0, str(resolution), tuple(bounds))
    step = resolution.ms
    offset = _fixed_offset(resolution)
    first_start = floor_to(start - offset, step) + offset
    last_start = floor_to(end - 1 - offset, step) + offset
    n = (last_start - first_start) // step + 1
    check_points(n)
    return Grid(first_start, last_start + step, n, step, str(resolution))


_AUTO_INTERVALS = tuple((limit, parse_interval(res)) for limit, res in AUTO_TABLE)


def auto_resolution(range_ms: int) -> Interval:
    """The OpenVPN table: 1h->30s (120 points) ... 30d->6h (120); beyond, daily (weekly/monthly past 10k)."""
    for limit, res in _AUTO_INTERVALS:
        if range_ms <= limit:
            return res
    if range_ms / DAY <= MAX_POINTS:
        return Interval(1, "d")
    if range_ms / WEEK <= MAX_POINTS:
        return Interval(1, "w")
    return Interval(1, "M")


def parse_resolution(text: str | None) -> Interval | str:
    """``auto`` and ``raw`` stay strings; aliases (hourly, 5min, daily...) and intervals become Intervals."""
    value = (text or "auto").strip()
    if value in ("auto", "raw"):
        return value
    value = RESOLUTION_ALIASES.get(value, value)
    return parse_interval(value, field="resolution")


@dataclass(frozen=True)
class RangeSpec:
    """A request's range: either the last ``last_ms`` before now, or [start, end)."""

    last_ms: int | None = None
    start: int | None = None
    end: int | None = None
    label: str = ""


def parse_range(
    range_text: str | None = None,
    start: str | int | None = None,
    end: str | int | None = None,
    *,
    now: int,
    tz: str = "UTC",
    default: str = "24h",
) -> RangeSpec:
    """A preset or interval (``range``), or ``start``/``end`` date-times (``end`` defaults to now); never
    both (which would win is a guess: refused naming both)."""
    if range_text is not None and (start is not None or end is not None):
        raise InvalidInput("range: give either range or start/end, not both", field="range")
    if start is not None or end is not None:
        if start is None:
            raise InvalidInput("start: required when end is given", field="start")
        s = start if isinstance(start, int) else parse_datetime(start, field="start", tz=tz)
        e = now if end is None else (end if isinstance(end, int) else parse_datetime(end, field="end", tz=tz))
        if e <= s:
            raise InvalidInput("end: must be after start", field="end")
        return RangeSpec(start=s, end=e, label="custom")
    text = range_text or default
    interval = parse_interval(text, field="range")
    return RangeSpec(last_ms=interval.ms, label=text)


def make_grid(rng: RangeSpec, resolution: Interval | str, *, now: int, tz: str = "UTC") -> Grid:
    """The response grid for a range and a resolution (``auto``, ``raw`` or an interval)."""
    if rng.last_ms is not None and resolution != "raw":
        shape = _last_shape(rng.last_ms, resolution, tz)
        if shape is not None:  # "the last N" on fixed buckets: the common chart, two cached lookups
            n, step, offset, label = shape
            return _fixed_grid(n, step, floor_to(now - offset, step) + offset, label)
    zone(tz)  # validate early
    span = rng.last_ms if rng.last_ms is not None else (rng.end or 0) - (rng.start or 0)
    if resolution == "raw":
        if rng.last_ms is not None:
            return Grid(now - rng.last_ms, now + 1, 0, 0, "raw", raw=True)
        assert rng.start is not None and rng.end is not None
        return Grid(rng.start, rng.end, 0, 0, "raw", raw=True)
    res = auto_resolution(span) if resolution == "auto" else resolution
    assert isinstance(res, Interval)
    if rng.last_ms is not None:
        return grid_for_last(rng.last_ms, res, now, tz)
    assert rng.start is not None and rng.end is not None
    return grid_between(rng.start, rng.end, res, tz)


# ---------------------------------------------------------------------------------------------------------
# Tiers


@dataclass(frozen=True)
class Tier:
    """A stored resolution: ``ms`` = 0 is the raw tier. ``retention_ms`` = 0 keeps data for ever."""

    name: str
    ms: int
    retention_ms: int
    chunk_ms: int


RAW_CHUNK_BUCKETS = 12  # a raw chunk spans 12 buckets of the finest tier (1 h for 5-minute buckets)
# A tier chunk spans 12 buckets of the next tier, so a parent bucket never straddles two chunks, and a
# query reads little more than it needs (24h at 15 min: three 12-hour chunks of 48 records).
TIER_CHUNK_PARENTS = 12
LAST_TIER_CHUNK_BUCKETS = 32


def build_tiers(tiers_text: str, retention_text: str) -> tuple[Tier, ...]:
    """Tiers from ``5m,15m,1h,6h,1d`` and ``raw=48h,5m=14d,...,1d=0``, raw first.

    Each tier's bucket must be a whole multiple of the finer tier's, and each retention at least the finer
    tier's plus one bucket, so a coarse bucket can always be rebuilt from the finer tier.
    """
    names = [t.strip() for t in tiers_text.split(",") if t.strip()]
    if not names:
        raise InvalidInput("tiers: at least one tier is required", field="tiers")
    intervals = [parse_interval(n, field="tiers") for n in names]
    for a, b in pairwise(intervals):
        if b.ms <= a.ms or b.ms % a.ms:
            raise InvalidInput(f"tiers: {b} is not a multiple of {a}", field="tiers")
    if intervals[-1].unit in "My":
        raise InvalidInput("tiers: month and year tiers are not supported; use days", field="tiers")
    retention = parse_retention(retention_text, ["raw", *names])
    chunks = []
    for i, iv in enumerate(intervals):
        nxt = (
            intervals[i + 1].ms
            if i + 1 < len(intervals)
            else iv.ms * LAST_TIER_CHUNK_BUCKETS // TIER_CHUNK_PARENTS
        )
        chunks.append(nxt * TIER_CHUNK_PARENTS)
    raw = Tier("raw", 0, retention["raw"], intervals[0].ms * RAW_CHUNK_BUCKETS)
    out = [raw] + [Tier(n, iv.ms, retention[n], c) for n, iv, c in zip(names, intervals, chunks, strict=True)]
    validate_retention(out)
    return tuple(out)


def parse_retention(text: str, names: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, _, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if name not in names:
            raise InvalidInput(
                f"retention: unknown tier {name!r} (tiers are {', '.join(names)})", field="retention"
            )
        out[name] = (
            0 if value in ("0", "unlimited", "") else parse_interval(value, field=f"retention.{name}").ms
        )
    missing = [n for n in names if n not in out]
    if missing:
        raise InvalidInput(f"retention: missing for {', '.join(missing)}", field="retention")
    return out


def validate_retention(tiers: tuple[Tier, ...] | list[Tier]) -> None:
    """Raw is kept at least an hour; each coarser tier at least as long as the finer one plus a bucket."""
    if tiers[0].retention_ms == 0:
        pass  # raw kept for ever is allowed
    elif tiers[0].retention_ms < HOUR:
        raise InvalidInput("retention.raw: must be at least 1h", field="retention.raw")
    for finer, coarser in pairwise(tiers):
        if coarser.retention_ms == 0:
            continue
        if finer.retention_ms == 0:
            raise InvalidInput(
                f"retention.{coarser.name}: {finer.name} is kept for ever (0), so {coarser.name} must be too "
                "(a coarse bucket is rebuilt from the finer tier)",
                field=f"retention.{coarser.name}",
            )
        if coarser.retention_ms < finer.retention_ms + coarser.ms:
            raise InvalidInput(
                f"retention.{coarser.name}: must be at least retention.{finer.name} plus {coarser.name} "
                "(a coarse bucket is rebuilt from the finer tier)",
                field=f"retention.{coarser.name}",
            )


def choose_tier(grid: Grid, tiers: tuple[Tier, ...]) -> Tier:
    """The coarsest tier whose buckets nest exactly in every bucket of ``grid`` (raw if none does)."""
    if grid.raw:
        return tiers[0]
    bounds = (grid.start, grid.step) if grid.step else grid.bounds
    for tier in reversed(tiers[1:]):
        if all(b % tier.ms == 0 for b in bounds):
            return tier
    return tiers[0]


# ---------------------------------------------------------------------------------------------------------
# Statistics


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100) of an ascending list, as numpy's default does."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac


TREND_THRESHOLD = 0.05


def trend(points: list[tuple[float, float]]) -> str:
    """``increasing``, ``decreasing`` or ``stable`` for (time, value) points.

    Rule (README "Trend"): fit a least-squares line through the points; the change it predicts from the
    first to the last point, relative to the mean absolute value, beyond +5% is increasing, below -5%
    decreasing, otherwise stable. Fewer than 2 points, or all values 0, is stable.
    """
    if len(points) < 2:
        return "stable"
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var_t = sum((t - mean_t) ** 2 for t, _ in points)
    if var_t == 0:
        return "stable"
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / var_t
    scale = sum(abs(v) for _, v in points) / n
    if scale == 0:
        return "stable"
    change = slope * (points[-1][0] - points[0][0]) / scale
    if change > TREND_THRESHOLD:
        return "increasing"
    if change < -TREND_THRESHOLD:
        return "decreasing"
    return "stable"
