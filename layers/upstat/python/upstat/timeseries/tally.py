"""Additive counts that many batches add to, each batch counted once however often it is sent.

The engine keeps the last value written at a given millisecond of a series: a retried write stores the same
state, which is what makes its writes safe to repeat, but two batches that both report second S of a
source would overwrite each other. Counts that several batches add to (the flows, bytes and packets of a
flow exporter, summed per second) therefore go in at distinct milliseconds: each batch claims, once per
(source, minute), a slot number from 0 to 999, and writes its per-second sums at ``second + slot``. Every
tier sums the points, so a bucket's sum is the sum of every batch's counts.

The claim is the batch's idempotency: it is kept under the batch's key (the caller's, or a digest of what
it sent) in one Lua script per source (``store/lua/tally_claim.lua``), so a batch sent again finds its
slots and rewrites the same points at the same milliseconds: nothing is added, even when the first attempt
stopped halfway (claimed, not written) or wrote some sources and not others. No lock, no read-modify-write:
two batches arriving at once get different slots and both count.

A claim is kept as long as its points can still be written (the raw tier's retention after its last
day), so a retry is recognised for as long as the engine would accept its points. 1,000 batches per
source and minute is the limit (a collector sending one batch a second uses 60).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from upstat.errors import Conflict, InvalidInput
from upstat.names import check_name
from upstat.timeseries import timemath as tm
from upstat.timeseries.points import check_value

#: A batch key's length: a caller's key (200 characters) with a few characters of namespace before it.
MAX_KEY = 256
#: Slots per (source, minute): a point's millisecond within its second.
SLOTS_PER_MINUTE = 1000
#: Points newer than this are never older than a series' floor (see timeseries/ingest.py).
_FLOOR_FREE_MS = tm.HOUR - 10 * tm.MINUTE
#: Claims outlive the raw tier's retention after their last day by this margin (clocks, slow retries).
_CLAIM_MARGIN_MS = tm.HOUR

#: source -> second (epoch ms, a whole second) -> metric -> the batch's count
Counts = Mapping[str, Mapping[int, Mapping[str, float]]]


@dataclass(frozen=True)
class Added:
    """What one batch did: ``replayed`` when every source had it already (nothing was added)."""

    sources: int
    seconds: int
    points: int
    replayed: bool


@dataclass(frozen=True)
class Prepared:
    """A batch's counts, checked: per source, per second (sorted), the values in the order of ``metrics``."""

    metrics: tuple[str, ...]
    rows: dict[str, dict[int, list[float]]]


#: source -> (claimed by an earlier attempt, slot per minute)
Claims = dict[str, tuple[bool, dict[int, int]]]


def add(
    engine: Any,
    batch: str,
    counts: Counts,
    *,
    metrics: Sequence[str],
    now: int,
    key_field: str = "batch",
) -> Added:
    """Add ``counts`` once: :func:`prepare`, :func:`claim`, then :func:`write`. A caller with work to do
    between them (registering the sources once the batch is known to be good) calls the three itself."""
    prepared = prepare(engine, counts, metrics=metrics, now=now)
    return write(engine, prepared, claim(engine, batch, prepared, now=now, key_field=key_field), now=now)


def prepare(engine: Any, counts: Counts, *, metrics: Sequence[str], now: int) -> Prepared:
    """Every check, before anything is claimed or written: names, whole seconds within the raw tier's
    retention and not older than a series' trimmed data, values a double holds exactly (a metric a
    second lacks is 0). InvalidInput naming the source and second."""
    for metric in metrics:
        check_name(metric, "metric")
    rows = {source: _checked(engine, source, seconds, metrics, now) for source, seconds in counts.items()}
    _check_floors(engine, rows, metrics, now)
    return Prepared(tuple(metrics), rows)


def claim(engine: Any, batch: str, prepared: Prepared, *, now: int, key_field: str = "batch") -> Claims:
    """Each source's slot per minute for ``batch`` (1 to 256 characters), claimed now or found from an
    earlier attempt, in one round trip. Conflict (409) when the key was used for other counts, or a minute
    has no slot left (then nothing of this source was claimed)."""
    check_name(batch, key_field, max_len=MAX_KEY)
    return _claim(engine, batch, prepared.rows, key_field, now)


def write(engine: Any, prepared: Prepared, claims: Claims, *, now: int) -> Added:
    """Write every point at its second plus its minute's slot (one script call per series, one round
    trip). Written again with the same claims, the same points land on the same milliseconds."""
    rows = prepared.rows
    return Added(
        sources=len(rows),
        seconds=sum(len(r) for r in rows.values()),
        points=_write(engine, rows, prepared.metrics, claims, now),
        replayed=bool(claims) and all(replay for replay, _ in claims.values()),
    )


def _checked(
    engine: Any, source: str, seconds: Mapping[int, Mapping[str, float]], metrics: Sequence[str], now: int
) -> dict[int, list[float]]:
    """One source's counts as second -> values in the order of ``metrics``, each checked."""
    check_name(source, "source")
    lowest = engine.lowest_accepted(now)
    out: dict[int, list[float]] = {}
    for second in sorted(seconds):
        where = f"{source} at {second}"
        if second % tm.SECOND:
            raise InvalidInput(f"{where}: counts are kept per whole second", field="time")
        if lowest is not None and second < lowest:
            raise InvalidInput(
                f"{where}: older than the raw tier's retention (counts reach back as far as retention.raw)",
                field="time",
            )
        values = seconds[second]
        unknown = sorted(set(values) - set(metrics))
        if unknown:
            raise InvalidInput(f"{where}: unknown metric {unknown[0]!r}", field="metric")
        out[second] = [check_value(values.get(m, 0), field=f"{where}.{m}") for m in metrics]
    return out


def _check_floors(
    engine: Any, rows: dict[str, dict[int, list[float]]], metrics: Sequence[str], now: int
) -> None:
    """Refuse the batch before anything is written if a second is older than its series' trimmed data."""
    old = [(s, min(r)) for s, r in rows.items() if r and min(r) < now - _FLOOR_FREE_MS]
    if not old:
        return
    series = [(s, m) for s, _ in old for m in metrics]
    floors = engine.floors(series)
    for (source, metric), floor in zip(series, floors, strict=True):
        oldest = dict(old)[source]
        if floor is not None and oldest < floor:
            raise InvalidInput(
                f"{source} at {oldest}: older than data already trimmed from {source}/{metric} ({floor})",
                field="time",
            )


def _digest(row: dict[int, list[float]]) -> str:
    h = hashlib.sha256()
    for second, values in sorted(row.items()):
        h.update(f"{second}:{','.join(repr(v) for v in values)};".encode())
    return h.hexdigest()[:32]


def _claim(
    engine: Any, batch: str, rows: dict[str, dict[int, list[float]]], key_field: str, now: int
) -> Claims:
    """Each source's slot per minute (claimed now, or found from an earlier attempt), in one round trip."""
    raw_ms = engine.raw.retention_ms
    calls, order = [], []
    for source, row in rows.items():
        if not row:
            continue
        minutes = sorted({s - s % tm.MINUTE for s in row})
        days = sorted({m // tm.DAY for m in minutes})
        keys = [engine.keys.tally(source, days[-1])] + [engine.keys.tally(source, d) for d in days[:-1]]
        index = {days[-1]: 1} | {d: i + 2 for i, d in enumerate(days[:-1])}
        keep = max(1, (days[-1] + 1) * tm.DAY + raw_ms + _CLAIM_MARGIN_MS - now) if raw_ms else 0
        args: list[Any] = [f"b:{batch}", _digest(row), SLOTS_PER_MINUTE, keep, len(minutes)]
        for m in minutes:
            args += [f"m:{m}", index[m // tm.DAY]]
        calls.append((keys, args))
        order.append((source, minutes))
    replies = engine.scripts.run_many("tally_claim", calls)
    out: Claims = {}
    for (source, minutes), reply in zip(order, replies, strict=True):
        status = int(reply[0])
        if status == -2:
            raise Conflict(
                f"{key_field}: {batch!r} was already used for other records of {source}", field=key_field
            )
        if status == -1:
            minute = int(_text(reply[1]).removeprefix("m:"))
            raise Conflict(
                f"{source}: the minute at {minute} already holds {SLOTS_PER_MINUTE} batches; send fewer, "
                "larger batches",
                field="time",
            )
        slots = [int(x) for x in _text(reply[1]).split(",")]
        out[source] = (status == 1, dict(zip(minutes, slots, strict=True)))
    return out


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _write(
    engine: Any,
    rows: dict[str, dict[int, list[float]]],
    metrics: Sequence[str],
    claims: Claims,
    now: int,
) -> int:
    batches = []
    for source, row in rows.items():
        if not row:
            continue
        slot = claims[source][1]
        times = [s + slot[s - s % tm.MINUTE] for s in row]  # rows are sorted by second
        for i, metric in enumerate(metrics):
            points = [(t, values[i]) for t, values in zip(times, row.values(), strict=True)]
            batches.append((source, metric, points, None))
    try:
        results = engine.write_many(batches, now=now, field_name="counts", checked=True)
    except InvalidInput as exc:
        # Only a floor raised between the check and the write (a retention change at that instant) gets
        # here. The claims stay: sending the batch again writes the same points, never twice.
        raise InvalidInput(f"counts: {exc.message}", field="time") from exc
    return sum(r.stored for r in results)
