"""upstat's own time-series routes: ingestion, charts, totals and top-N across sources, retention."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from upstat import metrics
from upstat.api.deps import Admin, BoundReader, BoundWriter, EngineDep, OrganizationReader, Reader, RedisDep
from upstat.api.errors import ErrorBody
from upstat.api.params import (
    DATETIME_PATTERN,
    INTERVAL_PATTERN,
    Name,
    OptionalName,
    Params,
)
from upstat.api.schemas.series import ChartOut, RetentionOut, SeriesList, TopOut, TotalOut
from upstat.clock import now_ms
from upstat.errors import InvalidInput
from upstat.names import NAME_PATTERN
from upstat.sources.access import check_source as check_caller_source
from upstat.sources.access import visible
from upstat.timeseries import timemath as tm
from upstat.timeseries.across import Across, read_across
from upstat.timeseries.ingest import check_source, gather, is_internal
from upstat.timeseries.ingest import ingest as ingest_points
from upstat.timeseries.points import MAX_BATCH, MICROSECONDS_LOOKALIKE, SECONDS_LOOKALIKE
from upstat.timeseries.render import check_aggregate, default_fill, fill_gaps, statistics
from upstat.timeseries.retention import retention_view, set_retention
from upstat.timeseries.shapes import ChartParams, chart, chart_csv, default_aggregate
from upstat.wire import Name as NameText

router = APIRouter(prefix="/v1", tags=["series"])
CSV_NOTE = "JSON, or CSV with format=csv"


#: What a point's time may be in the document. Rules against the clock (stated here, answered 400 naming
#: the field): from the raw tier's retention ago (48 h by default) to 5 minutes ahead.
TIME_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": SECONDS_LOOKALIKE, "maximum": MICROSECONDS_LOOKALIKE - 1},
        {"type": "string", "pattern": DATETIME_PATTERN},
        {"type": "null"},
    ],
    "description": "Epoch milliseconds or ISO 8601; omitted or null = now. Accepted from the raw tier's "
    "retention ago (retention.raw) to 5 minutes ahead.",
}
VALUE_SCHEMA = {
    "type": "number",
    "description": "A finite number; an integer beyond 2^53 is refused (it cannot be stored exactly)",
}
Time = Annotated[Any, WithJsonSchema(TIME_SCHEMA)]
Value = Annotated[Any, WithJsonSchema(VALUE_SCHEMA)]


class PointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: Annotated[
        Any, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200, "pattern": NAME_PATTERN})
    ]
    value: Value
    time: Time = None


class IngestBody(BaseModel):
    """Points of one source: a ``metrics`` map sampled at ``time`` and/or ``points`` with their own times.
    Rules across fields: at least one metric, point or kind; ``time`` goes with ``metrics``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source": "alice",
                    "metrics": {"bytes_received": 123456, "latency_ms": 21.5},
                    "kinds": {"bytes_received": "counter"},
                },
                {"source": "backup-job", "points": [{"metric": "duration_s", "value": 312}]},
            ]
        },
    )

    source: Annotated[
        Any,
        WithJsonSchema(
            {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "pattern": NAME_PATTERN,
                "description": "The source; names starting with service: are upstat's own (403)",
            }
        ),
    ]
    time: Time = None
    metrics: Annotated[
        dict[str, Any],
        WithJsonSchema(
            {
                "type": "object",
                "propertyNames": {"maxLength": 200, "pattern": NAME_PATTERN},
                "additionalProperties": VALUE_SCHEMA,
                "description": "metric name -> value, sampled at `time`",
            }
        ),
    ] = Field(default_factory=dict)
    points: list[PointIn] = Field(default_factory=list, max_length=MAX_BATCH)
    kinds: Annotated[
        dict[str, Literal["gauge", "counter"]],
        WithJsonSchema(
            {
                "type": "object",
                "propertyNames": {"maxLength": 200, "pattern": NAME_PATTERN},
                "additionalProperties": {"enum": ["gauge", "counter"]},
                "description": "Declare metrics as counters (increase and rate on read)",
            }
        ),
    ] = Field(default_factory=dict)


class IngestResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"source": "alice", "series": 2, "points": 2, "inserted": 2, "replaced": 0}]
        }
    )

    source: str
    series: int
    points: int
    inserted: int
    replaced: int


@router.post(
    "/ingest",
    summary="Push points for one source (batch, optional backfill timestamps)",
    responses={
        403: {
            "model": ErrorBody,
            "description": "A key bound to another source or organization, or a reserved source "
            "(service:...)",
        }
    },
)
def ingest(body: IngestBody, engine: EngineDep, client: RedisDep, caller: BoundWriter) -> IngestResult:
    """All or nothing: a 400 stores nothing. Times reach back as far as the raw tier's retention
    (``retention.raw``, 48 h by default) and at most 5 minutes ahead. An organization key writes only the
    sources registered in its organization."""
    check_caller_source(client, caller, body.source)
    points, kinds = gather(body.time, body.metrics, [p.model_dump() for p in body.points], body.kinds)
    done = ingest_points(engine, body.source, points, kinds, now=now_ms())
    metrics.emit({"IngestPoints": done.points})
    return IngestResult(**asdict(done))


class KindBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"source": "alice", "metric": "bytes_received", "kind": "counter"}]},
    )
    source: NameText
    metric: NameText
    kind: Literal["gauge", "counter"]


@router.put(
    "/series/kind",
    summary="Declare a series a gauge or a counter",
    responses={403: {"model": ErrorBody, "description": "A key bound to another source or organization"}},
)
def declare(body: KindBody, engine: EngineDep, client: RedisDep, caller: BoundWriter) -> KindBody:
    check_caller_source(client, caller, body.source)
    check_source(body.source)
    engine.declare(body.source, body.metric, body.kind)
    return body


SERVICES_QUERY = Query(
    description="Also list upstat's own series of monitored services (source `service:<id>`), named by "
    "their service"
)


@router.get(
    "/series",
    summary="List sources, a source's metrics, or a metric's sources",
    response_model=SeriesList,
    response_model_exclude_none=True,
    responses={403: {"model": ErrorBody, "description": "A key bound to another source or organization"}},
)
def list_series(
    engine: EngineDep,
    client: RedisDep,
    caller: BoundReader,
    source: OptionalName = None,
    metric: OptionalName = None,
    services: Annotated[bool, SERVICES_QUERY] = False,
) -> dict[str, Any]:
    """Users' sources only, unless ``services=true``. A source key lists its own source's metrics (with or
    without ``?source=<its source>``); an organization key sees only its organization's sources."""
    if caller.source is not None and source is None and metric is None:
        source = caller.source  # a source key's listing is its own source's metrics
    if source is not None or caller.source is not None:
        check_caller_source(client, caller, source)
    if source is not None:
        return {"source": source, "metrics": engine.metrics_of(source)}
    found = visible(client, caller, engine.sources_of(metric) if metric is not None else engine.sources())
    body: dict[str, Any] = {"sources": [s for s in found if not is_internal(s)]}
    if metric is not None:
        body["metric"] = metric
    if services:
        body["services"] = _service_names(client, [s for s in found if is_internal(s)])
    return body


def _service_names(client: Any, sources: list[str]) -> list[dict[str, str]]:
    """The services behind internal sources, by name (sources of deleted services are left out)."""
    from upstat.uptime.keyspace import service_id_of
    from upstat.uptime.services import ServiceStore

    ids = {service_id_of(s): s for s in sources}
    return [{"name": sv.name, "source": ids[sv.id]} for sv in ServiceStore(client).get_many(list(ids))]


def _csv_or_json(body: dict[str, Any], params: ChartParams, rows: str | None = None) -> Any:
    if params.format == "csv":
        return Response(rows if rows is not None else chart_csv(body), media_type="text/csv; charset=utf-8")
    return body


@router.get(
    "/chart",
    summary="One series over a range: points per bucket, the fill used, statistics",
    responses={
        200: {"model": ChartOut, "content": {"text/csv": {}}, "description": CSV_NOTE},
        403: {"model": ErrorBody, "description": "A key bound to another source or organization"},
        404: {"model": ErrorBody, "description": "No such series (source and metric)"},
    },
)
def get_chart(
    source: Name,
    metric: Name,
    params: Params,
    engine: EngineDep,
    client: RedisDep,
    caller: BoundReader,
) -> Any:
    """404 when the series does not exist. A source key reads only its own source; an organization key only
    its organization's sources."""
    check_caller_source(client, caller, source)
    now = now_ms()
    b = engine.read(source, metric, params.query(now), now=now)
    return _csv_or_json(chart(b, params, source, metric), params)


def _many(metric: str, query: Any, engine: Any, now: int, services: bool, sources: list[str]) -> Across:
    """The series of ``metric`` among ``sources`` (users' sources; services' too with ``services``), in one
    round trip."""
    sources = [s for s in sources if services or not is_internal(s)]
    return read_across(engine, [(s, metric) for s in sources], query, now=now)


def _kind_of(many: Across) -> str:
    """Many series count as a counter when every one is (increase and rate then apply)."""
    return "counter" if many.found and all(many.kind(i) == "counter" for i in many.found) else "gauge"


def _total_aggregate(params: ChartParams, kind: str) -> str:
    """The asked aggregate, else the increase of counters, else the sum."""
    return params.aggregate or ("increase" if kind == "counter" else "sum")


@router.get(
    "/total",
    summary="A metric summed over every source, per bucket",
    responses={200: {"model": TotalOut, "content": {"text/csv": {}}, "description": CSV_NOTE}},
)
def get_total(
    metric: Name,
    params: Params,
    engine: EngineDep,
    client: RedisDep,
    caller: OrganizationReader,
    services: Annotated[bool, SERVICES_QUERY] = False,
) -> Any:
    """A metric no source has yet answers 200 with ``sources`` 0 and every bucket empty (0 or null, per
    the fill). An organization key sums its organization's sources only."""
    now = now_ms()
    query = params.query(now)
    grid = tm.make_grid(query.range, query.resolution, now=now, tz=query.tz)
    if grid.raw:
        raise InvalidInput(
            "resolution: totals need bucketed data; ask for a resolution, not raw", field="resolution"
        )
    many = _many(metric, query, engine, now, services, visible(client, caller, engine.sources_of(metric)))
    kind = _kind_of(many)
    aggregate = _total_aggregate(params, kind)
    check_aggregate(aggregate, kind)
    summed = many.per_bucket(aggregate)
    fill = params.fill or default_fill(aggregate)
    values = fill_gaps(summed, fill)
    body = {
        "metric": metric,
        "sources": len(many.found),
        "start": grid.start,
        "end": grid.end,
        "resolution": grid.resolution,
        "aggregate": aggregate,
        "fill": fill,
        "tz": params.tz,
        "count": len(values),
        "points": [[t, v] for t, v in zip(grid.starts(), values, strict=True)],
        "total": sum(v for v in summed if v is not None),
    }
    return _csv_or_json(body, params)


@router.get(
    "/top",
    summary="The N sources with the largest total of a metric over the range",
    responses={200: {"model": TopOut, "content": {"text/csv": {}}, "description": CSV_NOTE}},
)
def get_top(
    metric: Name,
    params: Params,
    engine: EngineDep,
    client: RedisDep,
    caller: OrganizationReader,
    n: Annotated[int, Query(ge=1, le=1000)] = 10,
    services: Annotated[bool, SERVICES_QUERY] = False,
) -> Any:
    """Users' sources only, unless ``services=true`` (then a service's row also has its ``service`` name).
    A metric no source has answers 200 with an empty ``top``. An organization key ranks its
    organization's sources only."""
    now = now_ms()
    sources = visible(client, caller, engine.sources_of(metric))
    many = _many(metric, params.query(now), engine, now, services, sources)
    aggregate = _total_aggregate(params, _kind_of(many))
    ranked = many.top(aggregate, n)
    index = {many.source(i): i for i in many.found}
    names = {
        x["source"]: x["name"]
        for x in _service_names(client, [r.source for r in ranked if is_internal(r.source)])
    }
    rows = []
    for r in ranked:
        row: dict[str, Any] = {"source": r.source, "total": r.total, "count": r.count}
        if r.source in names:
            row["service"] = names[r.source]
        if params.stats:
            b = many.buckets(index[r.source])
            assert b is not None
            row["stats"] = statistics(b, default_aggregate(b.kind))
        rows.append(row)
    body = {"metric": metric, "aggregate": aggregate, "n": n, "sources": len(many.found), "top": rows}
    if params.format == "csv":
        lines = ["rank,source,total,count"] + [
            f"{i + 1},{_csv_cell(r['source'])},{r['total']!r},{r['count']}" for i, r in enumerate(rows)
        ]
        return _csv_or_json(body, params, "\n".join(lines) + "\n")
    return body


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


@router.get("/retention", summary="Retention per tier in seconds (0 = kept for ever)")
def get_retention(engine: EngineDep, _: Reader) -> RetentionOut:
    return RetentionOut(retention=retention_view(engine))


class RetentionBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"retention": {"raw": "72h", "5m": 1209600}}]}
    )
    retention: Annotated[
        dict[str, Any],
        WithJsonSchema(
            {
                "type": "object",
                "propertyNames": {"pattern": f"^(raw|{INTERVAL_PATTERN[1:-1]})$"},
                "additionalProperties": {
                    "anyOf": [
                        {"type": "integer", "minimum": 0},
                        {"type": "string", "pattern": f"^(0|unlimited|{INTERVAL_PATTERN[1:-1]})$"},
                    ]
                },
                "description": "tier (raw or one of UPSTAT_TIERS, e.g. 5m) -> seconds or an interval such "
                "as 14d; 0 = for ever. Rules across tiers: only the configured tiers; raw at least 1h; each "
                "tier kept at least as long as the finer one plus one of its buckets.",
            }
        ),
    ]


@router.patch("/retention", summary="Change some tiers' retention (admin); applied by the next trim")
def patch_retention(body: RetentionBody, client: RedisDep, _: Admin) -> RetentionOut:
    return RetentionOut(retention=retention_view(set_retention(client, body.retention)))
