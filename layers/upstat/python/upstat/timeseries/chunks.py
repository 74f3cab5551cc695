"""A series' stored chunks decoded: the read side of the formats the write script (store/lua/ts_write.lua)
encodes. Pure functions over bytes, no I/O.

A chunk is open (byte 0, then fixed records, appended to while it can still grow) or sealed (byte 1, then
columns of integers) once every bucket it holds is closed:

* open raw: ``<Id`` records (offset ms in the chunk, value);
* open tier: ``<HIdddddd`` records (slot, count, sum, min, max, first, last, increase);
* sealed raw: n, the decimal scale of the values (255: doubles), the offsets (differences of differences),
  the values times 10^scale (differences);
* sealed tier: n, scale, slots, counts, then per record at that scale: first minus the previous record's
  last, last - first, min - min(first, last), max - max(first, last), and the sum (sum - count * first) and
  the increase (increase - (last - first)), each as integers or, when not exact at that scale, doubles.

A column of integers (``_ints``): its first ``lead`` values after the transform (0: as is, 1: differences,
2: differences of differences) as zigzag varints, then a width byte, the minimum of the rest and the rest
minus that minimum at that width (0: all equal; 1, 2, 3 or 4 bytes; 8: a double). Values come back bit for
bit: an integer n at scale s is the double n / 10^s, which is how the script chose it.

Decoding is cached by content: a chunk's bytes decode the same way every time, and charts re-read the same
closed chunks again and again.
"""

from __future__ import annotations

import struct
from bisect import bisect_left
from functools import lru_cache
from itertools import accumulate

RAW_RECORD = struct.Struct("<Id")
TIER_RECORD = struct.Struct("<HIdddddd")
TAIL_RECORD = "Idddddd"
SEALED = 1
RAW_SCALE = 255
_FORMATS = {1: "B", 2: "H", 4: "I", 8: "d"}

# A bucket's figures: (slot, count, sum, min, max, first, last, increase inside the bucket).
Record = tuple[int, int, float, float, float, float, float, float]


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    x = shift = 0
    while True:
        b = data[pos]
        pos += 1
        x |= (b & 127) << shift
        if b < 128:
            return x, pos
        shift += 7


def _signed(z: int) -> int:
    return (z >> 1) ^ -(z & 1)


def _ints(data: bytes, pos: int, n: int, order: int, lead: int) -> tuple[list[int], int]:
    """A column of ``n`` integers at ``pos`` (see the module's docstring) and the position after it."""
    y: list[int] = []
    for _ in range(min(lead, n)):
        z, pos = _varint(data, pos)
        y.append(_signed(z))
    m = n - lead
    if m > 0:
        width = data[pos]
        z, pos = _varint(data, pos + 1)
        lo = _signed(z)
        if width == 0:
            y.extend([lo] * m)
        elif width == 3:
            body = data[pos : pos + 3 * m]
            y.extend(lo + (body[i] | body[i + 1] << 8 | body[i + 2] << 16) for i in range(0, 3 * m, 3))
            pos += 3 * m
        else:
            vals = struct.unpack_from(f"<{m}{_FORMATS[width]}", data, pos)
            pos += width * m
            if width == 8:
                y.extend(lo + int(v) for v in vals)
            elif lo:
                y.extend(lo + v for v in vals)
            else:
                y.extend(vals)
    if order == 2 and n > 2:
        y = [y[0], *accumulate(y[1:])]
    if order >= 1 and n > 1:
        y = list(accumulate(y))
    return y, pos


def _doubles(data: bytes, pos: int, n: int) -> tuple[list[float], int]:
    return list(struct.unpack_from(f"<{n}d", data, pos)), pos + 8 * n


def _unscaled(xs: list[int], scale: int) -> list[float]:
    if scale == 0:
        return [float(x) for x in xs]
    p = 10**scale
    return [x / p for x in xs]  # int / int is correctly rounded: the double the script chose


@lru_cache(maxsize=4096)
def raw_points(data: bytes) -> tuple[list[int], list[float]]:
    """A raw chunk's points: offsets (ms in the chunk) and values, by time. The lists are shared between
    callers and must not be changed."""
    if data[0] != SEALED:
        flat = struct.unpack_from(f"<{'Id' * ((len(data) - 1) // 12)}", data, 1)
        return list(flat[0::2]), list(flat[1::2])
    n, pos = _varint(data, 1)
    scale = data[pos]
    offs, pos = _ints(data, pos + 1, n, 2, 2)
    if scale == RAW_SCALE:
        vals, _ = _doubles(data, pos, n)
    else:
        ints, _ = _ints(data, pos, n, 1, 1)
        vals = _unscaled(ints, scale)
    return offs, vals


@lru_cache(maxsize=4096)
def tier_records(data: bytes) -> tuple[tuple[Record, ...], list[int]]:
    """A tier chunk's records, with their slots for bisection (shared: not to be changed)."""
    if data[0] != SEALED:
        recs: tuple[Record, ...] = tuple(TIER_RECORD.iter_unpack(memoryview(data)[1:]))  # type: ignore[arg-type]
        return recs, [r[0] for r in recs]
    n, pos = _varint(data, 1)
    scale = data[pos]
    slots, pos = _ints(data, pos + 1, n, 2, 2)
    counts, pos = _ints(data, pos, n, 0, 0)
    if scale == RAW_SCALE:
        cols = []
        for _ in range(6):
            col, pos = _doubles(data, pos, n)
            cols.append(col)
        sums, mins, maxs, firsts, lasts, incs = cols
    else:
        sums, mins, maxs, firsts, lasts, incs = _scaled_columns(data, pos, n, scale, counts)
    recs = tuple(zip(slots, counts, sums, mins, maxs, firsts, lasts, incs, strict=True))
    return recs, slots


@lru_cache(maxsize=4096)
def tier_slots(data: bytes, slots: int) -> list[Record | None]:
    """A tier chunk laid out by slot, None where no record (shared: not to be changed): a chart whose
    buckets are the tier's copies slices of it."""
    dense: list[Record | None] = [None] * slots
    for rec in tier_records(data)[0]:
        if rec[0] < slots:
            dense[rec[0]] = rec
    return dense


_VALUE = {"sum": 2, "min": 3, "max": 4, "first": 5, "last": 6}
COLUMNS = frozenset({*_VALUE, "avg", "count"})


@lru_cache(maxsize=8192)
def tier_column(data: bytes, aggregate: str, slots: int) -> list[float | None]:
    """One aggregate of a tier chunk by slot (None where no record; shared: not to be changed)."""
    out: list[float | None] = [None] * slots
    i = _VALUE.get(aggregate)
    for rec in tier_records(data)[0]:
        if rec[0] < slots:
            out[rec[0]] = rec[i] if i else (rec[2] / rec[1] if aggregate == "avg" else float(rec[1]))
    return out


def _scaled_columns(data: bytes, pos: int, n: int, scale: int, counts: list[int]) -> tuple[list[float], ...]:
    r, pos = _ints(data, pos, n, 0, 1)
    d, pos = _ints(data, pos, n, 0, 0)
    a, pos = _ints(data, pos, n, 0, 0)
    b, pos = _ints(data, pos, n, 0, 0)
    firsts, lasts, mins, maxs = [0] * n, [0] * n, [0] * n, [0] * n
    prev = 0
    for i in range(n):
        f = r[i] + prev
        last = f + d[i]
        low, high = (f, last) if f <= last else (last, f)
        firsts[i], lasts[i], mins[i], maxs[i] = f, last, a[i] + low, b[i] + high
        prev = last
    out = []
    sum_guess = [c * f for c, f in zip(counts, firsts, strict=True)]
    inc_guess = [y - x for x, y in zip(firsts, lasts, strict=True)]
    for predicted in (sum_guess, inc_guess):
        mode = data[pos]
        if mode == 1:
            col, pos = _doubles(data, pos + 1, n)
            out.append(col)
        else:
            ints, pos = _ints(data, pos + 1, n, 0, 0)
            out.append(_unscaled([x + p for x, p in zip(ints, predicted, strict=True)], scale))
    sums, incs = out
    return (
        sums,
        _unscaled(mins, scale),
        _unscaled(maxs, scale),
        _unscaled(firsts, scale),
        _unscaled(lasts, scale),
        incs,
    )


# A series' ``open`` field: the watermark (start of the open finest bucket), the last point's time and value
# when no raw point is kept here (else zeros), a number naming the tier layout (a hash times 16 plus the
# number of folds that follow, so a field written with other tiers still reads right); for each tier above the
# finest, the fold of the closed records of the next finer tier inside its open bucket (``Idddddd``); then
# the raw points of the watermark's chunk not yet in the chunk's field (``<Id``: offset in the chunk,
# value): those of the open bucket and, until the chunk ends or they are many, those of buckets closed
# before it.
OPEN_HEAD = struct.Struct("<dddd")


def watermark(open_field: bytes) -> int:
    """The start of the open finest bucket: every bucket before it is closed and stored."""
    return int(struct.unpack_from("<d", open_field)[0])


def open_base(open_field: bytes, raw_chunk_ms: int) -> int:
    """Start of the raw chunk the kept points belong to (their offsets count from it)."""
    w = watermark(open_field)
    return w - w % raw_chunk_ms


def _folds(open_field: bytes) -> int:
    return int(OPEN_HEAD.unpack_from(open_field)[3]) % 16


def last_point(open_field: bytes, raw_chunk_ms: int) -> tuple[int, float] | None:
    """The time and value of a series' last point."""
    if len(open_field) < OPEN_HEAD.size:
        return None
    offs, values = open_points(open_field)
    if offs:
        return open_base(open_field, raw_chunk_ms) + offs[-1], values[-1]
    _, t, v, _ = OPEN_HEAD.unpack_from(open_field)
    return int(t), v


@lru_cache(maxsize=4096)
def open_points(open_field: bytes) -> tuple[list[int], list[float]]:
    """The raw points kept in ``open`` (not in their chunk's field yet): offsets in the chunk, values."""
    start = OPEN_HEAD.size + 52 * _folds(open_field)
    n = (len(open_field) - start) // 12
    flat = struct.unpack_from(f"<{'Id' * n}", open_field, start)
    return list(flat[0::2]), list(flat[1::2])


def fold(values: list[float]) -> Record | None:
    """The figures of consecutive values, as the write script folds them (slot 0)."""
    if not values:
        return None
    first = low = high = last = values[0]
    total, inc = first, 0.0
    for v in values[1:]:
        total += v
        if v < low:
            low = v
        if v > high:
            high = v
        inc += v - last if v >= last else v
        last = v
    return (0, len(values), total, low, high, first, last, inc)


@lru_cache(maxsize=4096)
def open_records(open_field: bytes, tiers: int, raw_chunk_ms: int) -> tuple[Record | None, ...]:
    """The open bucket of each tier as kept: the finest tier's (its raw points at or after the watermark),
    then for each coarser tier the fold of the closed records of the next finer one inside its open
    bucket; None where empty. Slots are 0."""
    offs, vals = open_points(open_field)
    lim = watermark(open_field) - open_base(open_field, raw_chunk_ms)
    out: list[Record | None] = [fold(vals[bisect_left(offs, lim) :])]
    if _folds(open_field) != tiers - 1:  # written with other tiers: the rollup job rebuilds them
        return (*out, *([None] * (tiers - 1)))
    flat = struct.unpack_from(f"<{TAIL_RECORD * (tiers - 1)}", open_field, OPEN_HEAD.size)
    for k in range(tiers - 1):
        c, s, lo, hi, f, last, inc = flat[7 * k : 7 * k + 7]
        out.append((0, int(c), s, lo, hi, f, last, inc) if c else None)
    return tuple(out)


def clear_caches() -> None:
    """Forget every decoded chunk (the benchmark's cold-cache figures)."""
    raw_points.cache_clear()
    open_points.cache_clear()
    tier_slots.cache_clear()
    tier_column.cache_clear()
    tier_records.cache_clear()
    open_records.cache_clear()
