"""Ingestion of one source's points: validated once, under the names the caller used, then written.

Every adapter (upstat's ``/v1/ingest``, and each dialect's agent format) hands plain values to
:func:`ingest`: a ``metrics`` map sampled at one ``time`` and/or ``points`` with their own times, and the
kinds it declares. Errors name the field as the caller sent it (``metrics.rx_bytes``, ``points[3].time``).

All or nothing: a 400 stores nothing. Every point is checked before anything is written, including, when
the batch spans several series and reaches back beyond the shortest raw retention allowed, each series'
floor (data already trimmed), which only a raised retention can put inside the accepted window.

Sources whose names start with one of :data:`RESERVED_PREFIXES` belong to upstat itself (the checks of
monitored services write ``service:<id>``): callers get 403 there, so nobody but the prober writes uptime.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from upstat.errors import Forbidden, InvalidInput
from upstat.names import check_name
from upstat.timeseries import timemath as tm
from upstat.timeseries.points import MAX_BATCH, check_time, check_value

#: Source names written only by upstat's own code: ``service:<id>`` holds each monitored service's checks.
RESERVED_PREFIXES = ("service:",)
KINDS = ("gauge", "counter")
#: The shortest raw retention the engine allows (timemath.validate_retention) minus a margin for clocks:
#: points newer than this never meet a series' floor, so a live batch needs no floor read.
_FLOOR_FREE_MS = tm.HOUR - 10 * tm.MINUTE


@dataclass(frozen=True)
class Point:
    """One point as the caller sent it: ``field`` is where it was (``points[3]``, ``metrics.rx``)."""

    metric: Any  # checked by the name rule in prepare()
    value: Any
    time: Any
    field: str
    time_field: str


@dataclass(frozen=True)
class Ingested:
    """What one ingest stored, in the engine's words."""

    source: str
    series: int
    points: int
    inserted: int
    replaced: int


def is_internal(source: str) -> bool:
    """True for sources upstat writes itself (a monitored service's checks)."""
    return source.startswith(RESERVED_PREFIXES)


def check_source(source: Any, field: str = "source") -> str:
    """A source name callers may write: the name rule, and not one of upstat's own (403)."""
    check_name(source, field)
    if source.startswith(RESERVED_PREFIXES):
        raise Forbidden(
            f"{field}: sources starting with {', '.join(RESERVED_PREFIXES)} are written only by upstat's "
            "own checks",
            field=field,
        )
    return source


def gather(
    time: Any = None,
    metrics: Mapping[str, Any] | None = None,
    points: Sequence[Mapping[str, Any]] = (),
    kinds: Mapping[str, str] | None = None,
) -> tuple[list[Point], dict[str, str]]:
    """The points of a ``metrics`` map at ``time`` and of a ``points`` list, each named by its field."""
    metrics = metrics or {}
    kinds = dict(kinds or {})
    out: list[Point] = []
    if not metrics and time is not None and not points:
        raise InvalidInput("metrics: time is given but there are no metrics", field="metrics")
    for name, value in metrics.items():
        out.append(Point(name, value, time, f"metrics.{name}", "time"))
    for i, p in enumerate(points):
        out.append(Point(p.get("metric"), p.get("value"), p.get("time"), f"points[{i}]", f"points[{i}].time"))
    for name, kind in kinds.items():
        check_name(name, f"kinds.{name}")
        if kind not in KINDS:
            raise InvalidInput(f"kinds.{name}: must be one of {', '.join(KINDS)}", field=f"kinds.{name}")
    if not out and not kinds:
        raise InvalidInput("metrics: send at least one metric or point", field="metrics")
    if len(out) > MAX_BATCH:
        raise InvalidInput(f"points: at most {MAX_BATCH} points in one request", field="points")
    return out, kinds


def _value_field(p: Point) -> str:
    return p.field if p.field.startswith("metrics.") else f"{p.field}.value"


def _metric_field(p: Point) -> str:
    return p.field if p.field.startswith("metrics.") else f"{p.field}.metric"


def prepare(
    points: Sequence[Point], *, now: int, lowest: int | None
) -> dict[str, dict[int, tuple[float, str]]]:
    """Every point checked (name, time, value), grouped per metric, one per time (the last sent wins),
    each with the field of its time (to name it if its series' floor refuses it)."""
    parsed_times: dict[str, int] = {}
    grouped: dict[str, dict[int, tuple[float, str]]] = {}
    for p in points:
        check_name(p.metric, _metric_field(p))
        t = parsed_times.get(p.time_field) if p.time_field == "time" else None
        if t is None:
            raw = tm.parse_datetime(p.time, field=p.time_field) if isinstance(p.time, str) else p.time
            t = check_time(raw, field=p.time_field, now=now, lowest=lowest)
            parsed_times[p.time_field] = t
        grouped.setdefault(p.metric, {})[t] = (check_value(p.value, field=_value_field(p)), p.time_field)
    return grouped


def _check_floors(
    engine: Any, source: str, grouped: dict[str, dict[int, tuple[float, str]]], now: int
) -> None:
    """Refuse the batch (nothing written) if a point is older than its series' trimmed data."""
    if len(grouped) < 2:
        return  # one series: the write script refuses it whole, atomically
    oldest = min((t for pts in grouped.values() for t in pts), default=now)
    if oldest >= now - _FLOOR_FREE_MS:
        return
    metrics = list(grouped)
    for metric, floor in zip(metrics, engine.floors([(source, m) for m in metrics]), strict=True):
        if floor is None:
            continue
        for t, (_, field) in sorted(grouped[metric].items()):
            if t < floor:
                raise InvalidInput(
                    f"{field}: {t} is older than data already trimmed from {source}/{metric} ({floor})",
                    field=field,
                )


def ingest(
    engine: Any,
    source: Any,
    points: Sequence[Point],
    kinds: Mapping[str, str],
    *,
    now: int,
) -> Ingested:
    """Validate every point, then store them all (one script call per series, one round trip)."""
    check_source(source)
    grouped = prepare(points, now=now, lowest=engine.lowest_accepted(now))
    for name in kinds:
        grouped.setdefault(name, {})
    _check_floors(engine, source, grouped, now)
    batches = [
        (source, metric, sorted((t, v) for t, (v, _) in pts.items()), kinds.get(metric))
        for metric, pts in grouped.items()
    ]
    try:
        results = engine.write_many(batches, now=now, field_name="points", checked=True)
    except InvalidInput as exc:
        # Only a floor raised between the check above and the write (a retention change at that instant)
        # gets here; the other series were stored and registered. Name the refused point the caller's way.
        batch = getattr(exc, "batch", None)
        if batch is None:
            raise
        metric = batches[batch][1]
        t = batches[batch][2][exc.index][0]  # type: ignore[attr-defined]
        field = grouped[metric][t][1]
        raise InvalidInput(
            f"{field}: {t} is older than data already trimmed from {source}/{metric}", field=field
        ) from exc
    return Ingested(
        source=source,
        series=len(results),
        points=sum(r.stored for r in results),
        inserted=sum(r.inserted for r in results),
        replaced=sum(r.replaced for r in results),
    )


@dataclass(frozen=True)
class Validated:
    """Points of several sources, every one checked (names, times, values, floors) and nothing written yet:
    what :func:`store_validated` writes. For adapters whose one message feeds many sources (a VPN server's
    status file: one source per client), so the whole message is refused or stored together."""

    batches: list[tuple[str, str, list[tuple[int, float]], str | None]]
    sources: int


def validate_many(
    engine: Any,
    sources: Sequence[tuple[str, Sequence[Point]]],
    kinds: Mapping[str, str],
    *,
    now: int,
) -> Validated:
    """Check every source's points as :func:`ingest` does, without writing anything."""
    lowest = engine.lowest_accepted(now)
    batches: list[tuple[str, str, list[tuple[int, float]], str | None]] = []
    checked: list[tuple[str, dict[str, dict[int, tuple[float, str]]]]] = []
    for source, points in sources:
        check_source(source)
        grouped = prepare(points, now=now, lowest=lowest)
        checked.append((source, grouped))
        batches.extend(
            (source, metric, sorted((t, v) for t, (v, _) in pts.items()), kinds.get(metric))
            for metric, pts in grouped.items()
        )
    _check_floors_many(engine, checked, now)
    if len(batches) > MAX_BATCH:
        raise InvalidInput(f"points: at most {MAX_BATCH} series in one request", field="points")
    return Validated(batches, len(sources))


def _check_floors_many(
    engine: Any, checked: list[tuple[str, dict[str, dict[int, tuple[float, str]]]]], now: int
) -> None:
    """:func:`_check_floors` of many sources, the floors read in one pipelined round trip (and only for the
    series with a point old enough to meet one)."""
    pairs = [
        (source, metric)
        for source, grouped in checked
        for metric, pts in grouped.items()
        if pts and min(pts) < now - _FLOOR_FREE_MS
    ]
    if not pairs:
        return
    found = dict(zip(pairs, engine.floors(pairs), strict=True))
    for source, grouped in checked:
        for metric, pts in grouped.items():
            floor = found.get((source, metric))
            if floor is None:
                continue
            for t, (_, field) in sorted(pts.items()):
                if t < floor:
                    raise InvalidInput(
                        f"{field}: {t} is older than data already trimmed from {source}/{metric} ({floor})",
                        field=field,
                    )


def store_validated(engine: Any, validated: Validated, *, now: int) -> int:
    """Write what :func:`validate_many` checked, every series in one pipelined round trip; returns the
    points stored."""
    results = engine.write_many(validated.batches, now=now, field_name="points", checked=True)
    return sum(r.stored for r in results)
