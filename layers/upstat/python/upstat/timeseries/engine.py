"""The time-series engine: writes, range queries, statistics, totals and top-N, over the Redis store.

A series is (source, metric), one Redis hash. Points go to a raw tier (hourly chunks) and each coarser tier
(5 min, 15 min, 1 h, 6 h, 1 day by default) keeps a record per bucket: count, sum, min, max, first, last,
increase. The write script (store/lua/ts_write.lua) appends a point newer than the series' last one and,
when it starts a new bucket, closes the buckets it leaves (one record appended per tier whose bucket ended);
the buckets still open are kept in the series' ``tail`` and folded in by every read, as RedisTimeSeries'
``LATEST`` does. Older points (backfill, retries) are merged and every bucket they touch recomputed. So a
chart read right after a write reflects it at every resolution, a retried write leaves the same state, and
a query reads the coarsest tier that nests in its buckets: a 1-year chart reads about 365 daily records.
Chunks whose buckets are all closed are sealed into columns of integers (chunks.py): 2 to 4 bytes a point
where the values are decimals.
"""

from __future__ import annotations

import struct
import weakref
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from upstat.clock import now_ms
from upstat.config import Settings, get_settings
from upstat.errors import InvalidInput, NotFound
from upstat.names import check_name, is_name
from upstat.store import scripts as _scripts
from upstat.store.keyspace import REGISTRY_SHARDS, Keys, registry_shard, series_id
from upstat.store.scripts import Scripts, command, define
from upstat.timeseries import chunks
from upstat.timeseries import timemath as tm
from upstat.timeseries.chunks import Record
from upstat.timeseries.model import (
    KINDS,
    Buckets,
    Query,
    merge,
)
from upstat.timeseries.points import already_clean, normalize, pack
from upstat.timeseries.timemath import Grid, Tier

# The write script's input per series: number of points, kind code, lengths of the names, the names, the
# points (points.pack); and its answer per series: inserted, replaced, unchanged, needs registry (or -1,
# index, time of a point older than the series' floor).
_BATCH_HEAD = struct.Struct("<IBHH")
_COUNT, _TAIL = struct.Struct("<I"), struct.Struct("<BHH")  # the head in two: the count varies per call
_KIND_CODES = {"": 0, "gauge": 1, "counter": 2}
_REPLY = struct.Struct("<dddd")
_NO_BATCH = _BATCH_HEAD.pack(0, 0, 0, 0)


# Memory full (noeviction at maxmemory): Redis refuses a write script's first write, so a batch split over
# several calls (over 1,000 series, over 4 MB, or several cluster slots) could be refused after its first
# call had stored part of it, and a new series' index entries after its points. So the first call decides:
# once Redis accepted it, the rest of the batch (its other calls, then its index entries) is written by these
# allow-oom twins, which may take memory past maxmemory by at most one batch. Nothing is half-written.
WRITE_REST = define("ts_write.rest", "#!lua flags=allow-oom\n" + _scripts.source("ts_write"))
INDEX = define(
    "ts_index",
    """#!lua flags=allow-oom
-- One index write of a series a batch just stored (SADD or ZADD NX; HSET of its 'reg' marker).
return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))
""",
)


class WriteResult(NamedTuple):
    """What one series' write did (a tuple: a thousand of them per live call cost little)."""

    source: str
    metric: str
    inserted: int
    replaced: int
    unchanged: int

    @property
    def stored(self) -> int:
        return self.inserted + self.replaced + self.unchanged


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


class Fetched(NamedTuple):
    """What :meth:`Engine.fetch_many` read: per series its key, the chunks skipped and the HMGET reply (the
    meta fields of READ_FIELDS, then the tier's chunks, then raw chunks for exact percentiles)."""

    series: list[tuple[str, str]]
    keys: list[str]
    grid: Grid
    tier: Tier
    chunk_ids: list[int]
    raw_ids: list[int]
    fields: tuple[str, ...]
    skips: list[int]
    replies: list[list[bytes | None]]
    query: Query
    now: int


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
        _ENGINES.add(self)
        self._tier_arg = ";".join(f"{t.ms},{t.chunk_ms},{t.retention_ms}" for t in tiers[1:])
        self._plans_by_id: dict[tuple[int, bool], tuple[Grid, Any]] = {}
        self._wire: dict[tuple[str, str, str | None], tuple[str, bytes]] = {}
        # (open field, tier bucket) -> that tier's open bucket: a series' open field is read by every chart
        # until its next write.
        self._open_cache: dict[tuple[bytes, int], tuple[int, Record] | None] = {}

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
        wire = self._wire
        items = []
        for source, metric, pts, kind in prepared:
            w = wire.get((source, metric, kind))
            if w is None:
                w = self._wire_of(source, metric, kind)
            items.append((w[0], _COUNT.pack(len(pts)) + w[1] + pack(pts)))  # type: ignore[arg-type]
        replies = self.scripts.run_keyed(
            "ts_write", self._head(now, lowest, None), items, reply_size=32, rest=WRITE_REST
        )
        results: list[WriteResult] = []
        refused: TrimmedPoint | None = None
        new: list[tuple[str, str]] = []
        for i, ((source, metric, _pts, _), (a, b, c, d)) in enumerate(
            zip(prepared, _REPLY.iter_unpack(b"".join(replies)), strict=True)
        ):
            if a == -1:
                refused = refused or TrimmedPoint(field_name, i, int(b), int(c), source, metric)
                continue
            if d:
                new.append((source, metric))
            results.append(WriteResult(source, metric, int(a), int(b), int(c)))
        if new:
            self._register(new)
        if refused is not None:
            raise refused
        return results

    def _wire_of(self, source: str, metric: str, kind: str | None) -> tuple[str, bytes]:
        """A series' key and the script input that follows its number of points (kind, names), kept: the
        same series come back with every tick."""
        if len(self._wire) > 100_000:
            self._wire.clear()
        sb, mb = source.encode(), metric.encode()
        tail = _TAIL.pack(_KIND_CODES[kind or ""], len(sb), len(mb)) + sb + mb
        w = self._wire[(source, metric, kind)] = (self.keys.series(series_id(source, metric)), tail)
        return w

    def _head(self, now: int, lowest: int | None, rebuild_from: int | None) -> list[Any]:
        """The write script's arguments before the per-series ones."""
        return [
            now,
            -1 if lowest is None else lowest,
            self.raw.chunk_ms,
            self.raw.retention_ms,
            self._tier_arg,
            -1 if rebuild_from is None else rebuild_from,
        ]

    def _prepare(
        self,
        batches: Sequence[tuple[str, str, Iterable[tuple[Any, Any]], str | None]],
        now: int,
        lowest: int | None,
        field_name: str,
    ) -> list[tuple[str, str, list[tuple[int, float]], str]]:
        prepared = []
        many = len(batches) > 1
        for i, (source, metric, points, kind) in enumerate(batches):
            clean = None if (kind is not None and kind not in KINDS) else already_clean(points, now, lowest)
            if clean is None or not (is_name(source) and is_name(metric)):
                # Something to refuse or to sort out: the field names are built only now.
                prefix = f"{field_name}[{i}]" if many else field_name
                check_name(source, f"{prefix}.source")
                check_name(metric, f"{prefix}.metric")
                if kind is not None and kind not in KINDS:
                    raise InvalidInput(
                        f"{prefix}.kind: must be one of {', '.join(KINDS)}", field=f"{prefix}.kind"
                    )
                field = f"{prefix}.points" if many else prefix
                clean = normalize(points, now=now, lowest=lowest, field=field)
            prepared.append((source, metric, clean, kind or ""))
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

    def _register(self, series: Sequence[tuple[str, str]]) -> None:
        """Index new series (idempotent; one command per index key, the markers written last), in two
        pipelined round trips however many there are; allowed when memory is full (see WRITE_REST)."""
        adds: dict[tuple[str, str], tuple[list[Any], list[Any]]] = {}  # (key, command) -> (head, arguments)
        for source, metric in series:
            sid = series_id(source, metric)
            adds.setdefault((self.keys.series_registry(registry_shard(sid)), "SADD"), ([], []))[1].append(sid)
            adds.setdefault((self.keys.source_metrics(source), "SADD"), ([], []))[1].append(metric)
            adds.setdefault((self.keys.metric_sources(metric), "SADD"), ([], []))[1].append(source)
            adds.setdefault((self.keys.sources(), "ZADD"), (["NX"], []))[1].extend((0, source))
        # At most _INDEX_ARGS arguments a call: Lua's unpack stops at about 8,000 values.
        self.scripts.execute(
            [
                command(INDEX, [key], [cmd, *head, *args[i : i + _INDEX_ARGS]])
                for (key, cmd), (head, args) in adds.items()
                for i in range(0, len(args), _INDEX_ARGS)
            ]
        )
        self.scripts.execute(
            [command(INDEX, [self.keys.series(series_id(s, m))], ["HSET", "reg", 1]) for s, m in series]
        )

    def maintain(self, sids: Sequence[str], *, now: int, rebuild_from: int | None, trim: bool = True) -> int:
        """Trim every tier of these series to its retention and rebuild their tiers from the raw data at or
        after ``rebuild_from`` (None: no rebuild), in one round trip. Every write trims its series too, so
        ``trim`` changes nothing (expired chunks are named, not scanned for, which is cheap): the retention
        job's pass reaches the series no longer written. Idempotent: figures are recomputed from the finer
        data and overwritten, so running it twice, or twice at once, stores the same figures.

        Returns how many series were maintained: when memory is full (noeviction) a retention pass (no
        ``rebuild_from``) deletes what expired and skips the series with nothing to delete, which a full
        Redis would refuse to write (store/lua/ts_write.lua); a rebuild is refused (OutOfMemoryError)."""
        lowest = self.lowest_accepted(now)
        replies = self.scripts.run_keyed(
            "ts_write",
            self._head(now, lowest, rebuild_from),
            [(self.keys.series(sid), _NO_BATCH) for sid in sids],
            reply_size=32,
        )
        return sum(1 for reply in replies if _REPLY.unpack(reply)[0] != -2)

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
        return _info(source, metric, raw, self.raw.chunk_ms)

    def metrics_of(self, source: str) -> list[str]:
        return sorted(m.decode() for m in self.redis.smembers(self.keys.source_metrics(source)))

    def sources_of(self, metric: str) -> list[str]:
        return sorted(s.decode() for s in self.redis.smembers(self.keys.metric_sources(metric)))

    def sources(self) -> list[str]:
        return [s.decode() for s in self.redis.zrange(self.keys.sources(), 0, -1)]

    def queue_counts(self, pipe: Any) -> None:
        """Queue the counts of sources and series on ``pipe`` (read back with :meth:`decode_counts`): one
        ZCARD and one SCARD per registry shard, so a caller reading more does it in the same round trip."""
        pipe.zcard(self.keys.sources())
        for shard in range(REGISTRY_SHARDS):
            pipe.scard(self.keys.series_registry(shard))

    @staticmethod
    def decode_counts(replies: Sequence[int]) -> tuple[int, int]:
        """(sources, series) from the replies of :meth:`queue_counts`."""
        return int(replies[0]), sum(int(n) for n in replies[1 : 1 + REGISTRY_SHARDS])

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
        replies = pipe.execute()
        return [_info(s, m, raw, self.raw.chunk_ms) for (s, m), raw in zip(series, replies, strict=True)]

    def read(self, source: str, metric: str, query: Query, *, now: int | None = None) -> Buckets:
        """Aggregates of one series over the query's grid (404 if the series does not exist)."""
        result = self.read_many([(source, metric)], query, now=now)[0]
        if result is None:
            raise NotFound(f"series {source}/{metric} not found", field="metric")
        return result

    def read_many(
        self, series: Sequence[tuple[str, str]], query: Query, *, now: int | None = None
    ) -> list[Buckets | None]:
        """The same grid for many series, in one round trip; ``None`` for unknown series."""
        fetched = self.fetch_many(series, query, now=now)
        return [self.decode(fetched, i) for i in range(len(series))]

    def fetch_many(
        self, series: Sequence[tuple[str, str]], query: Query, *, now: int | None = None
    ) -> Fetched:
        """What a read of many series over one grid fetches, in one round trip: decode each with
        :meth:`decode` (or add them up without decoding: upstat.timeseries.across)."""
        now = now_ms() if now is None else now
        grid = tm.make_grid(query.range, query.resolution, now=now, tz=query.tz)
        tier, chunk_ids, raw_ids, fields = self._plan_for(grid, query.percentiles)
        keys = [self.keys.series(series_id(source, metric)) for source, metric in series]
        if len(keys) > _MANY:
            # One call reading the same fields of every series (skipping nothing) costs far less than a
            # pipeline of one HMGET each.
            skips = [0] * len(keys)
            replies = self.scripts.run_per_key("ts_read", keys, fields)
        else:
            # Chunks wholly before a series' first point hold nothing: skip them (a 1-year chart of a
            # week-old series reads one chunk, not thirteen). The first time is remembered from earlier
            # reads and checked in :meth:`decode`; a backfill older than it is read again in full there.
            skips = [_skip(chunk_ids, tier, _FIRST_TS.get(key)) for key in keys]
            replies = self._fetch(keys, [_fields_from(fields, skip) for skip in skips])
        return Fetched(list(series), keys, grid, tier, chunk_ids, raw_ids, fields, skips, replies, query, now)

    def decode(self, fetched: Fetched, i: int) -> Buckets | None:
        """Series ``i`` of a fetch over its grid (None if the series does not exist)."""
        reply = fetched.replies[i]
        if reply[2] is None:  # no 'source' field: the series does not exist
            return None
        source, metric = fetched.series[i]
        grid, tier, chunk_ids, raw_ids = fetched.grid, fetched.tier, fetched.chunk_ids, fetched.raw_ids
        skip, reply = self.checked_reply(fetched, i)
        nm, nc = len(READ_FIELDS), len(chunk_ids)
        kind = reply[0].decode() if reply[0] else "gauge"
        data = reply[nm : nm + nc - skip]
        if tier.ms == 0:
            b = _from_raw(grid, tier, kind, chunk_ids[skip:], data, reply[4])
        else:
            b = _from_tier(grid, tier, kind, chunk_ids[skip:], data, self.open_bucket(tier, reply[4]))
        b.now = fetched.now
        if fetched.query.percentiles:
            info = _info(source, metric, [reply[0], None, None, reply[1], reply[2]], self.raw.chunk_ms)
            assert info is not None
            raw = reply[nm + nc - skip :] if raw_ids else None
            self._attach_percentiles(b, info, fetched.now, raw_ids, raw, reply[4])
        return b

    def checked_reply(self, fetched: Fetched, i: int) -> tuple[int, list[bytes | None]]:
        """Series ``i``'s reply and how many leading chunks it skipped: read again in full when a backfill
        older than the first point the skip relied on has arrived since."""
        reply, skip = fetched.replies[i], fetched.skips[i]
        first = int(float(reply[3])) if reply[3] else None
        if first is not None:
            _remember_first(fetched.keys[i], first)
            if skip and _skip(fetched.chunk_ids, fetched.tier, first) < skip:
                return 0, self.redis.hmget(fetched.keys[i], fetched.fields)
        return skip, reply

    def open_bucket(self, tier: Tier, open_field: bytes | None) -> tuple[int, Record] | None:
        """The open bucket of ``tier`` (its start and figures) from the series' open folds: the raw points
        after the watermark folded into the finest tier's, then into each coarser one's in turn."""
        if not open_field:
            return None
        hit = self._open_cache.get((open_field, tier.ms), _MISSING)
        if hit is _MISSING:
            if len(self._open_cache) > 4096:
                self._open_cache.clear()
            hit = self._open_cache[(open_field, tier.ms)] = _open_bucket(open_field, tier.ms, self.tiers)
        return hit  # type: ignore[return-value]

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
        open_field: bytes | None,
    ) -> None:
        """Exact percentiles from raw points when the raw tier covers the range; else approximate from the
        bucket averages (each weighted by its count), flagged ``percentiles_exact=False``."""
        covers = self.raw_covers(b.grid.start, info, now)
        if b.tier.ms == 0:
            b.percentile_values = sorted(b.raw_values)
            b.percentiles_exact = covers
        elif raw_chunks is not None and covers:
            values = _raw_values_in(self.raw, b.grid, raw_ids, raw_chunks, open_field)
            b.percentile_values = sorted(values)
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


def _info(source: str, metric: str, raw: list[bytes | None], raw_chunk_ms: int) -> SeriesInfo | None:
    kind, first, opened, floor, src = raw
    if src is None:
        return None
    last = chunks.last_point(opened, raw_chunk_ms) if opened else None
    return SeriesInfo(
        source,
        metric,
        kind.decode() if kind else "gauge",
        int(float(first)) if first else None,
        None if last is None else last[0],
        None if last is None else last[1],
        int(float(floor)) if floor else None,
    )


META_FIELDS = ("kind", "first_ts", "open", "floor", "source")
# What a chart needs from the meta fields (the watermark and the open buckets too).
READ_FIELDS = ("kind", "floor", "source", "first_ts", "open")


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


# Arguments of one index write (an even number: ZADD's score and member pairs stay together).
_INDEX_ARGS = 1000

# Above this many series a read fetches every series' fields in one script call (store/lua/ts_read.lua).
_MANY = 8

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


def _fields_from(fields: tuple[str, ...], skip: int) -> tuple[str, ...]:
    """The plan's fields without its first ``skip`` tier chunks (remembered by the plan's identity: hashing
    a tuple of a dozen names on every read cost more than the rest of the lookup)."""
    hit = _FIELDS_SKIPPED.get((id(fields), skip))
    if hit is not None and hit[0] is fields:
        return hit[1]
    n = len(READ_FIELDS)
    out = fields if not skip else (*fields[:n], *fields[n + skip :])
    if len(_FIELDS_SKIPPED) > 4096:
        _FIELDS_SKIPPED.clear()
    _FIELDS_SKIPPED[(id(fields), skip)] = (fields, out)  # holds the plan's tuple: its id stays its own
    return out


_FIELDS_SKIPPED: dict[tuple[int, int], tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _chunk_ids(tier: Tier, start: int, end: int) -> list[int]:
    return list(range(start // tier.chunk_ms, (end - 1) // tier.chunk_ms + 1))


def clear_decode_cache() -> None:
    """Forget every decoded chunk (the benchmark's cold-cache figures: what a chart costs when its data has
    just changed)."""
    chunks.clear_caches()
    for engine in list(_ENGINES):
        engine._open_cache.clear()


_MISSING = object()
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()  # whose caches clear_decode_cache empties


def _open_bucket(open_field: bytes, tier_ms: int, tiers: tuple[Tier, ...]) -> tuple[int, Record] | None:
    opened: Record | None = None
    folds = chunks.open_records(open_field, len(tiers) - 1, tiers[0].chunk_ms)
    for t, rec in zip(tiers[1:], folds, strict=True):
        if rec is not None:
            opened = rec if opened is None else merge(rec, opened)
        if t.ms == tier_ms:
            break
    if opened is None:
        return None
    start = chunks.watermark(open_field)
    return start - start % tier_ms, opened


def _from_tier(
    grid: Grid,
    tier: Tier,
    kind: str,
    chunk_ids: list[int],
    data_chunks: list[bytes | None],
    opened: tuple[int, Record] | None = None,
) -> Buckets:
    n, ms, step, start = grid.n, tier.ms, grid.step, grid.start
    records: list[Record | None] = [None] * n
    present: list[int] = []
    runs: list[tuple[int, int, int, bytes]] | None = [] if step == ms else None
    b = Buckets(grid, tier, kind, records, present=present, runs=runs)
    for cid, data in zip(chunk_ids, data_chunks, strict=True):
        if not data:
            continue
        recs, slots = chunks.tier_records(data)
        base = cid * tier.chunk_ms
        # Skip the records before the grid (keeping the last one: a counter's increase into bucket 0).
        first = bisect_left(slots, -(-(start - base) // ms)) if start > base else 0
        if first:
            b.prev_last = recs[first - 1][6]
        if step == ms:
            # One stored bucket per grid bucket: the chunk's slots laid over the grid's (the common chart).
            k0 = (base - start) // ms
            dense = chunks.tier_slots(data, tier.chunk_ms // ms)
            lo, hi = max(0, -k0), min(len(dense), n - k0)
            if lo < hi:
                assert runs is not None
                records[k0 + lo : k0 + hi] = dense[lo:hi]
                runs.append((k0, lo, hi, data))
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
    if runs is not None:
        b.present = None  # columns are sliced from each chunk's (render.column): no bucket list needed
    if opened is not None:
        _place_open(b, *opened)
    return b


def _place_open(b: Buckets, ts: int, rec: Record) -> None:
    """The open bucket (later than every stored record) into its grid bucket."""
    grid = b.grid
    if ts < grid.start:
        b.prev_last = rec[6]
        return
    if ts >= grid.end:
        return
    j = (ts - grid.start) // grid.step if grid.step else grid.index(ts)
    old = b.records[j]
    if old is None:
        b.records[j] = rec
        if b.present is not None:
            b.present.append(j)
    else:
        b.records[j] = merge(old, rec)
    b.open_index = j


def _raw_runs(
    raw: Tier, chunk_ids: list[int], data_chunks: list[bytes | None], open_field: bytes | None
) -> list[tuple[int, list[int], list[float]]]:
    """The raw points in these chunks then in the open bucket, by time: (base, offsets, values) runs."""
    runs = []
    for cid, data in zip(chunk_ids, data_chunks, strict=True):
        if data:
            runs.append((cid * raw.chunk_ms, *chunks.raw_points(data)))
    if open_field:
        runs.append((chunks.open_base(open_field, raw.chunk_ms), *chunks.open_points(open_field)))
    return runs


def _from_raw(
    grid: Grid,
    tier: Tier,
    kind: str,
    chunk_ids: list[int],
    data_chunks: list[bytes | None],
    open_field: bytes | None = None,
) -> Buckets:
    n = grid.n
    records: list[Record | None] = [None] * n
    b = Buckets(grid, tier, kind, records)
    for base, offs, vals in _raw_runs(tier, chunk_ids, data_chunks, open_field):
        for off, v in zip(offs, vals, strict=True):
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


def _raw_values_in(
    raw: Tier,
    grid: Grid,
    raw_ids: list[int],
    data_chunks: list[bytes | None],
    open_field: bytes | None,
) -> list[float]:
    out: list[float] = []
    for base, offs, vals in _raw_runs(raw, raw_ids, data_chunks, open_field):
        out.extend(v for off, v in zip(offs, vals, strict=True) if grid.start <= base + off < grid.end)
    return out
