"""The time-series engine: writes, range queries, statistics, totals and top-N, over the Redis store.

A series is (source, metric). Points go to a raw tier (packed 12-byte records in hourly chunks) and every
write recomputes, in the same Lua script, the buckets it touched in each coarser tier (5 min, 15 min, 1 h,
6 h, 1 day by default; 54-byte records of count, sum, min, max, first, last, increase). So a chart read
right after a write reflects it at every resolution, a retried write leaves the same state, and a query
reads the coarsest tier that nests in its buckets: a 1-year chart reads about 365 daily records.
"""

from __future__ import annotations

import struct
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from upstat.clock import now_ms
from upstat.config import Settings, get_settings
from upstat.errors import InvalidInput, NotFound
from upstat.names import check_name
from upstat.store.keys import Keys, registry_shard, series_id
from upstat.store.scripts import Scripts
from upstat.timeseries import timemath as tm
from upstat.timeseries.points import normalize, pack
from upstat.timeseries.timemath import Grid, Interval, RangeSpec, Tier

RAW_RECORD = struct.Struct("<Id")
TIER_RECORD = struct.Struct("<HIdddddd")

KINDS = ("gauge", "counter")
AGGREGATES = ("avg", "sum", "min", "max", "count", "first", "last", "increase", "rate")
ADDITIVE = frozenset({"sum", "count", "increase"})
FILLS = ("zero", "null", "previous")


@dataclass(frozen=True)
class WriteResult:
    source: str
    metric: str
    inserted: int
    replaced: int
    unchanged: int

    @property
    def stored(self) -> int:
        return self.inserted + self.replaced + self.unchanged


@dataclass(frozen=True)
class Query:
    """What to read: a range, a resolution (``auto``, ``raw`` or an Interval) and a time zone."""

    range: RangeSpec
    resolution: Interval | str = "auto"
    tz: str = "UTC"
    percentiles: bool = False


# A bucket's figures as decoded: (slot, count, sum, min, max, first, last, increase inside the bucket).
Record = tuple[int, int, float, float, float, float, float, float]
C, S, MIN, MAX, FIRST, LAST, INC = range(1, 8)


@dataclass
class Buckets:
    """Per-bucket figures of one series over a grid: ``records[j]`` is None where bucket j has no data."""

    grid: Grid
    tier: Tier
    kind: str
    records: list[Record | None]
    prev_last: float | None = None  # last value before the grid (counters: increase into bucket 0)
    raw_times: list[int] = field(default_factory=list)
    raw_values: list[float] = field(default_factory=list)
    percentile_values: list[float] | None = None
    percentiles_exact: bool = False
    # Indices of the non-empty buckets, ascending, when the reader tracked them (sparse charts: a year of
    # a week-old series is 8 of 365 buckets) so columns need not scan every bucket.
    present: list[int] | None = None
    # The time of the read: the bucket holding it is still filling (rates divide by the time elapsed in it).
    now: int | None = None

    def _col(self, i: int) -> list[Any]:
        return [None if r is None else r[i] for r in self.records]

    @property
    def count(self) -> list[int]:
        return [0 if r is None else int(r[C]) for r in self.records]

    @property
    def sum(self) -> list[float | None]:
        return self._col(S)

    @property
    def min(self) -> list[float | None]:
        return self._col(MIN)

    @property
    def max(self) -> list[float | None]:
        return self._col(MAX)

    @property
    def first(self) -> list[float | None]:
        return self._col(FIRST)

    @property
    def last(self) -> list[float | None]:
        return self._col(LAST)

    @property
    def inc(self) -> list[float | None]:
        return self._col(INC)


class TrimmedPoint(InvalidInput):
    """A point older than data already trimmed from its series (its floor). ``batch`` and ``index`` locate
    it in the write; the series written before and after it in the same call were stored."""

    def __init__(self, field_name: str, batch: int, index: int, time: int, source: str, metric: str) -> None:
        field = f"{field_name}[{index}].time"
        super().__init__(
            f"{field_name}: point at {time} of {source}/{metric} is older than data already trimmed from "
            "this series",
            field=field,
        )
        self.batch, self.index, self.time = batch, index, time


@dataclass(frozen=True)
class SeriesInfo:
    source: str
    metric: str
    kind: str
    first_ts: int | None
    last_ts: int | None
    last_value: float | None
    floor: int | None


class Engine:
    """Writes and reads series in one Redis; tiers and retention come from settings (or run-time config)."""

    def __init__(self, client: Any, keys: Keys, tiers: tuple[Tier, ...]) -> None:
        self.redis = client
        self.keys = keys
        self.tiers = tiers
        self.scripts = Scripts(client)
        self._tier_arg = ";".join(f"{t.ms},{t.chunk_ms},{t.retention_ms}" for t in tiers[1:])
        self._plans_by_id: dict[tuple[int, bool], tuple[Grid, Any]] = {}

    @classmethod
    def from_settings(
        cls, client: Any, settings: Settings | None = None, retention: str | None = None
    ) -> Engine:
        s = settings or get_settings()
        return cls(client, Keys(s.key_prefix), tm.build_tiers(s.tiers, retention or s.retention))

    @property
    def raw(self) -> Tier:
        return self.tiers[0]

    def lowest_accepted(self, now: int) -> int | None:
        return now - self.raw.retention_ms if self.raw.retention_ms else None

    # ------------------------------------------------------------------------------------------------
    # Writes

    def write(
        self,
        source: str,
        metric: str,
        points: Iterable[tuple[Any, Any]],
        *,
        now: int | None = None,
        kind: str | None = None,
        field_name: str = "points",
    ) -> WriteResult:
        """Store points of one series atomically: all of them, or none (with an error naming the point)."""
        return self.write_many([(source, metric, points, kind)], now=now, field_name=field_name)[0]

    def write_many(
        self,
        batches: Sequence[tuple[str, str, Iterable[tuple[Any, Any]], str | None]],
        *,
        now: int | None = None,
        field_name: str = "series",
        checked: bool = False,
    ) -> list[WriteResult]:
        """Validate every batch first (nothing is written if any point is bad), then write each series in
        one script call, all in one pipelined round trip. Atomic per series.

        ``checked``: the batches were validated by the caller (``upstat.timeseries.ingest``): names checked,
        points sorted, unique per time and within the accepted window. A point older than a series' floor
        (data already trimmed) is refused per series by the script: the other series are still written
        and registered, then :class:`TrimmedPoint` says which was refused (callers that must store all or
        nothing check :meth:`floors` first)."""
        now = now_ms() if now is None else now
        lowest = self.lowest_accepted(now)
        prepared = batches if checked else self._prepare(batches, now, lowest, field_name)
        replies = self.scripts.run_many(
            "ts_write",
            [
                (
                    [self.keys.series(series_id(source, metric))],
                    [
                        now,
                        -1 if lowest is None else lowest,
                        self.raw.chunk_ms,
                        self.raw.retention_ms,
                        self._tier_arg,
                        pack(pts),  # type: ignore[arg-type]
                        source,
                        metric,
                        kind or "",
                        -1,
                        "0",
                    ],
                )
                for source, metric, pts, kind in prepared
            ],
        )
        results: list[WriteResult] = []
        refused: TrimmedPoint | None = None
        for i, ((source, metric, _pts, _), reply) in enumerate(zip(prepared, replies, strict=True)):
            if reply[0] == -1:
                refused = refused or TrimmedPoint(field_name, i, int(reply[1]), int(reply[2]), source, metric)
                continue
            if reply[3]:
                self._register(source, metric)
            results.append(WriteResult(source, metric, reply[0], reply[1], reply[2]))
        if refused is not None:
            raise refused
        return results

    def _prepare(
        self,
        batches: Sequence[tuple[str, str, Iterable[tuple[Any, Any]], str | None]],
        now: int,
        lowest: int | None,
        field_name: str,
    ) -> list[tuple[str, str, list[tuple[int, float]], str]]:
        prepared = []
        for i, (source, metric, points, kind) in enumerate(batches):
            prefix = f"{field_name}[{i}]" if len(batches) > 1 else field_name
            check_name(source, f"{prefix}.source")
            check_name(metric, f"{prefix}.metric")
            if kind is not None and kind not in KINDS:
                raise InvalidInput(
                    f"{prefix}.kind: must be one of {', '.join(KINDS)}", field=f"{prefix}.kind"
                )
            pts = normalize(
                points, now=now, lowest=lowest, field=f"{prefix}.points" if len(batches) > 1 else prefix
            )
            prepared.append((source, metric, pts, kind or ""))
        return prepared

    def delete_sources(self, sources: Sequence[str]) -> int:
        """Delete every series of these sources, with their index entries (two round trips). Returns how
        many series were deleted. A write racing with it may recreate a series it just removed."""
        if not sources:
            return 0
        pipe = self.redis.pipeline(transaction=False)
        for source in sources:
            pipe.smembers(self.keys.source_metrics(source))
        metrics = [[m.decode() if isinstance(m, bytes) else m for m in found] for found in pipe.execute()]
        pipe = self.redis.pipeline(transaction=False)
        count = 0
        for source, names in zip(sources, metrics, strict=True):
            for metric in names:
                sid = series_id(source, metric)
                pipe.delete(self.keys.series(sid))
                pipe.srem(self.keys.series_registry(registry_shard(sid)), sid)
                pipe.srem(self.keys.metric_sources(metric), source)
                count += 1
            pipe.delete(self.keys.source_metrics(source))
            pipe.zrem(self.keys.sources(), source)
        pipe.execute()
        return count

    def floors(self, series: Sequence[tuple[str, str]]) -> list[int | None]:
        """Each series' floor (epoch ms before which its data was trimmed; None: nothing trimmed yet), in one
        pipelined round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for source, metric in series:
            pipe.hget(self.keys.series(series_id(source, metric)), "floor")
        return [int(float(raw)) if raw else None for raw in pipe.execute()]

    def _register(self, source: str, metric: str) -> None:
        """Index a new series (idempotent; each command its own slot, the marker written last)."""
        sid = series_id(source, metric)
        pipe = self.redis.pipeline(transaction=False)
        pipe.sadd(self.keys.series_registry(registry_shard(sid)), sid)
        pipe.sadd(self.keys.source_metrics(source), metric)
        pipe.sadd(self.keys.metric_sources(metric), source)
        pipe.zadd(self.keys.sources(), {source: 0}, nx=True)
        pipe.execute()
        self.redis.hset(self.keys.series(sid), "reg", 1)

    def maintain(self, sids: Sequence[str], *, now: int, rebuild_from: int | None, trim: bool) -> int:
        """Trim every tier of these series to its retention and/or rebuild their tiers from the raw data at or
        after ``rebuild_from``, in one pipelined round trip. Idempotent: figures are recomputed from the finer
        data and overwritten, so running it twice, or twice at once, stores the same figures."""
        lowest = self.lowest_accepted(now)
        replies = self.scripts.run_many(
            "ts_write",
            [
                (
                    [self.keys.series(sid)],
                    [
                        now,
                        -1 if lowest is None else lowest,
                        self.raw.chunk_ms,
                        self.raw.retention_ms,
                        self._tier_arg,
                        b"",
                        "",
                        "",
                        "",
                        -1 if rebuild_from is None else rebuild_from,
                        "1" if trim else "0",
                    ],
                )
                for sid in sids
            ],
        )
        return len(replies)

    def registered_series(self, shard: int, cursor: int = 0, count: int = 500) -> tuple[int, list[str]]:
        """One SSCAN page of a registry shard (series ids), for the scheduled jobs."""
        cur, members = self.redis.sscan(self.keys.series_registry(shard), cursor, count=count)
        return int(cur), [m.decode() for m in members]

    def declare(self, source: str, metric: str, kind: str) -> None:
        """Declare a series' kind (``counter`` enables increase and rate) before or after writing it."""
        check_name(source, "source")
        check_name(metric, "metric")
        if kind not in KINDS:
            raise InvalidInput(f"kind: must be one of {', '.join(KINDS)}", field="kind")
        self.write(source, metric, [], kind=kind)

    # ------------------------------------------------------------------------------------------------
    # Reads

    def info(self, source: str, metric: str) -> SeriesInfo | None:
        raw = self.redis.hmget(self.keys.series(series_id(source, metric)), *META_FIELDS)
        return _info(source, metric, raw)

    def metrics_of(self, source: str) -> list[str]:
        return sorted(m.decode() for m in self.redis.smembers(self.keys.source_metrics(source)))

    def sources_of(self, metric: str) -> list[str]:
        return sorted(s.decode() for s in self.redis.smembers(self.keys.metric_sources(metric)))

    def sources(self) -> list[str]:
        return [s.decode() for s in self.redis.zrange(self.keys.sources(), 0, -1)]

    def metrics_of_many(self, sources: Sequence[str]) -> list[list[str]]:
        """:meth:`metrics_of` of many sources, in one pipelined round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for source in sources:
            pipe.smembers(self.keys.source_metrics(source))
        return [sorted(m.decode() for m in found) for found in pipe.execute()]

    def info_many(self, series: Sequence[tuple[str, str]]) -> list[SeriesInfo | None]:
        """:meth:`info` of many series, in one pipelined round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for source, metric in series:
            pipe.hmget(self.keys.series(series_id(source, metric)), *META_FIELDS)
        return [_info(s, m, raw) for (s, m), raw in zip(series, pipe.execute(), strict=True)]

    def read(self, source: str, metric: str, query: Query, *, now: int | None = None) -> Buckets:
        """Aggregates of one series over the query's grid (404 if the series does not exist)."""
        result = self.read_many([(source, metric)], query, now=now)[0]
        if result is None:
            raise NotFound(f"series {source}/{metric} not found", field="metric")
        return result

    def read_many(
        self, series: Sequence[tuple[str, str]], query: Query, *, now: int | None = None
    ) -> list[Buckets | None]:
        """The same grid for many series, in one pipelined round trip; ``None`` for unknown series."""
        now = now_ms() if now is None else now
        grid = tm.make_grid(query.range, query.resolution, now=now, tz=query.tz)
        tier, chunk_ids, raw_ids, fields = self._plan_for(grid, query.percentiles)
        keys = [self.keys.series(series_id(source, metric)) for source, metric in series]
        # Chunks wholly before a series' first point hold nothing: skip them (a 1-year chart of a week-old
        # series reads one chunk, not thirteen). The first time is remembered from earlier reads and checked
        # in this one; a backfill older than it is caught below and that series read again in full.
        skips = [_skip(chunk_ids, tier, _FIRST_TS.get(key)) for key in keys]
        replies = self._fetch(keys, [_fields_from(fields, skip) for skip in skips])
        nm, nc = len(READ_FIELDS), len(chunk_ids)
        decode = _from_raw if tier.ms == 0 else _from_tier
        out: list[Buckets | None] = []
        for i, ((source, metric), reply) in enumerate(zip(series, replies, strict=True)):
            if reply[2] is None:  # no 'source' field: the series does not exist
                out.append(None)
                continue
            skip = skips[i]
            first = int(float(reply[3])) if reply[3] else None
            if first is not None:
                _remember_first(keys[i], first)
                if skip and _skip(chunk_ids, tier, first) < skip:  # backfilled since: read it all
                    skip, reply = 0, self.redis.hmget(keys[i], fields)
            kind = reply[0].decode() if reply[0] else "gauge"
            b = decode(grid, tier, kind, chunk_ids[skip:], reply[nm : nm + nc - skip])
            b.now = now
            if query.percentiles:
                info = _info(source, metric, [reply[0], None, None, None, reply[1], reply[2]])
                assert info is not None
                raw = reply[nm + nc - skip :] if raw_ids else None
                self._attach_percentiles(b, info, now, raw_ids, raw)
            out.append(b)
        return out

    def _plan_for(self, grid: Grid, percentiles: bool) -> tuple[Tier, list[int], list[int], tuple[str, ...]]:
        """The read plan of ``grid``. Grids of "the last N" are shared objects (cached per bucket of time), so
        the plan is found by identity first, without hashing the grid's fields and the tiers."""
        hit = self._plans_by_id.get((id(grid), percentiles))
        if hit is not None and hit[0] is grid:
            return hit[1]
        plan = _plan(grid, self.tiers, percentiles)
        if len(self._plans_by_id) > 1024:  # grids of start/end ranges are new objects each time
            self._plans_by_id.clear()
        self._plans_by_id[(id(grid), percentiles)] = (grid, plan)  # holds the grid: its id stays its own
        return plan

    def _fetch(self, keys: list[str], fields: list[tuple[str, ...]]) -> list[list[bytes | None]]:
        """HMGET of each key's fields, in one round trip."""
        if len(keys) == 1:
            return [self.redis.hmget(keys[0], fields[0])]
        pipe = self.redis.pipeline(transaction=False)
        for key, f in zip(keys, fields, strict=True):
            pipe.hmget(key, f)
        return list(pipe.execute())

    def _attach_percentiles(
        self,
        b: Buckets,
        info: SeriesInfo,
        now: int,
        raw_ids: list[int],
        raw_chunks: list[bytes | None] | None,
    ) -> None:
        """Exact percentiles from raw points when the raw tier covers the range; else approximate from the
        bucket averages (each weighted by its count), flagged ``percentiles_exact=False``."""
        covers = self.raw_covers(b.grid.start, info, now)
        if b.tier.ms == 0:
            b.percentile_values = sorted(b.raw_values)
            b.percentiles_exact = covers
        elif raw_chunks is not None and covers:
            b.percentile_values = sorted(_raw_values_in(self.raw, b.grid, raw_ids, raw_chunks))
            b.percentiles_exact = True
        else:
            approx: list[float] = []
            for c, s in zip(b.count, b.sum, strict=True):
                if c and s is not None:
                    approx.extend([s / c] * min(c, 1000))
            b.percentile_values = sorted(approx)
            b.percentiles_exact = False

    def raw_covers(self, start: int, info: SeriesInfo, now: int) -> bool:
        lowest = self.lowest_accepted(now)
        floor = info.floor or 0
        return (lowest is None or start >= lowest) and start >= floor


def _info(source: str, metric: str, raw: list[bytes | None]) -> SeriesInfo | None:
    kind, first, last, last_v, floor, src = raw
    if src is None:
        return None
    return SeriesInfo(
        source,
        metric,
        kind.decode() if kind else "gauge",
        int(float(first)) if first else None,
        int(float(last)) if last else None,
        float(last_v) if last_v else None,
        int(float(floor)) if floor else None,
    )


META_FIELDS = ("kind", "first_ts", "last_ts", "last_v", "floor", "source")
READ_FIELDS = ("kind", "floor", "source", "first_ts")  # what a chart needs from the meta fields


def _prefix(tier: Tier) -> str:
    """Field prefix of a tier's chunks in the series hash (the chunk id follows)."""
    return f"t{tier.ms // 1000}:" if tier.ms else "r:"


@lru_cache(maxsize=512)
def _plan(
    grid: Grid, tiers: tuple[Tier, ...], percentiles: bool
) -> tuple[Tier, list[int], list[int], tuple[str, ...]]:
    """What a read of ``grid`` fetches: the tier, its chunk ids, raw chunk ids (for exact percentiles) and
    the hash fields. Pure, so cached: a dashboard asks for the same grid again and again.

    The lists are shared between callers and must not be changed."""
    tier = tm.choose_tier(grid, tiers)
    chunk_ids = _chunk_ids(tier, grid.start - max(tier.ms, 1), grid.end)
    raw_ids = _chunk_ids(tiers[0], grid.start, grid.end) if percentiles and tier.ms else []
    tp, rp = _prefix(tier), _prefix(tiers[0])
    fields = (*READ_FIELDS, *(f"{tp}{c}" for c in chunk_ids), *(f"{rp}{c}" for c in raw_ids))
    return tier, chunk_ids, raw_ids, fields


# Series key -> time of its first point, as last read (bounded; a stale entry is detected and corrected).
_FIRST_TS: dict[str, int] = {}
_FIRST_TS_MAX = 100_000


def _remember_first(key: str, first: int) -> None:
    if len(_FIRST_TS) >= _FIRST_TS_MAX and key not in _FIRST_TS:
        _FIRST_TS.clear()
    _FIRST_TS[key] = first


def _skip(chunk_ids: list[int], tier: Tier, first: int | None) -> int:
    """How many leading chunks end before ``first`` (and so hold no data)."""
    if first is None or not chunk_ids:
        return 0
    return max(0, min(len(chunk_ids), first // tier.chunk_ms - chunk_ids[0]))


@lru_cache(maxsize=1024)
def _fields_from(fields: tuple[str, ...], skip: int) -> tuple[str, ...]:
    """The plan's fields without its first ``skip`` tier chunks."""
    n = len(READ_FIELDS)
    return fields if not skip else (*fields[:n], *fields[n + skip :])


def _chunk_ids(tier: Tier, start: int, end: int) -> list[int]:
    return list(range(start // tier.chunk_ms, (end - 1) // tier.chunk_ms + 1))


def _delta(prev: float, v: float) -> float:
    return v - prev if v >= prev else v


def merge(a: Record, b: Record) -> Record:
    """Two consecutive records as one (``b`` later than ``a``): additive, so tiers merge by addition."""
    return (
        a[0],
        a[1] + b[1],
        a[2] + b[2],
        min(a[3], b[3]),
        max(a[4], b[4]),
        a[5],
        b[6],
        a[7] + b[7] + _delta(a[6], b[5]),
    )


@lru_cache(maxsize=4096)
def _tier_records(data: bytes) -> tuple[tuple[Record, ...], list[int]]:
    """A tier chunk decoded, with its slots for bisection. Cached by content: a chunk's bytes decode the
    same way every time, and a chunk that changes is a new key (so the cache is never stale); charts
    re-read the same closed chunks again and again."""
    recs: tuple[Record, ...] = tuple(TIER_RECORD.iter_unpack(data))  # type: ignore[arg-type]
    return recs, [r[0] for r in recs]


def clear_decode_cache() -> None:
    """Forget every decoded chunk (the benchmark's cold-cache figures: what a chart costs when its data has
    just changed)."""
    _tier_records.cache_clear()


def _from_tier(
    grid: Grid, tier: Tier, kind: str, chunk_ids: list[int], chunks: list[bytes | None]
) -> Buckets:
    n, ms, step, start = grid.n, tier.ms, grid.step, grid.start
    records: list[Record | None] = [None] * n
    present: list[int] = []
    b = Buckets(grid, tier, kind, records, present=present)
    for cid, data in zip(chunk_ids, chunks, strict=True):
        if not data:
            continue
        recs, slots = _tier_records(data)
        base = cid * tier.chunk_ms
        # Skip the records before the grid (keeping the last one: a counter's increase into bucket 0).
        first = bisect_left(slots, -(-(start - base) // ms)) if start > base else 0
        if first:
            b.prev_last = recs[first - 1][6]
        if step == ms:
            # One stored bucket per grid bucket: place the records straight in (the common chart).
            k0 = (base - start) // ms
            for rec in recs[first : bisect_left(slots, n - k0)]:
                records[k0 + rec[0]] = rec
                present.append(k0 + rec[0])
            continue
        for rec in recs[first:]:
            ts = base + rec[0] * ms
            j = (ts - start) // step if step else grid.index(ts)
            if j >= n:
                break
            old = records[j]
            if old is None:
                records[j] = rec
                present.append(j)
            else:
                records[j] = merge(old, rec)
    return b


def _from_raw(grid: Grid, tier: Tier, kind: str, chunk_ids: list[int], chunks: list[bytes | None]) -> Buckets:
    n = grid.n
    records: list[Record | None] = [None] * n
    b = Buckets(grid, tier, kind, records)
    for cid, data in zip(chunk_ids, chunks, strict=True):
        if not data:
            continue
        base = cid * tier.chunk_ms
        for off, v in RAW_RECORD.iter_unpack(data):
            ts = base + off
            if grid.raw:
                if grid.start <= ts < grid.end:
                    b.raw_times.append(ts)
                    b.raw_values.append(v)
                elif ts < grid.start:
                    b.prev_last = v
                continue
            j = grid.index(ts)
            if j < 0:
                b.prev_last = v
            elif j < n:
                b.raw_values.append(v)
                old = records[j]
                records[j] = (
                    (0, 1, v, v, v, v, v, 0.0) if old is None else merge(old, (0, 1, v, v, v, v, v, 0.0))
                )
    if grid.raw and len(b.raw_times) > tm.MAX_POINTS:
        tm.check_points(len(b.raw_times))
    return b


def _raw_values_in(raw: Tier, grid: Grid, raw_ids: list[int], chunks: list[bytes | None]) -> list[float]:
    out: list[float] = []
    for cid, data in zip(raw_ids, chunks, strict=True):
        if not data:
            continue
        base = cid * raw.chunk_ms
        out.extend(v for off, v in RAW_RECORD.iter_unpack(data) if grid.start <= base + off < grid.end)
    return out
