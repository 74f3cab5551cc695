"""The Netflow Collector API (its published document; README "Compatible APIs") at ``/v1/api``.

The document's routes with its field names and types: exporter devices (``ID``, ``CreatedAt``, ...,
``Device``, ``Name``, ``Info``), their summary over an interval and their series grouped in time
(``device_id``, ``flow_count``, ``total_bytes``, ``total_packets``, ``_time``), every route answering
OPTIONS as well. Its collector takes NetFlow over UDP; upstat takes what collectors write instead:
``POST /v1/api/flows`` with goflow2's JSON or nfdump's CSV (``flows.py``), counted per device and second
exactly once per batch (``upstat.timeseries.tally``), then read back through the engine as exact sums over
the interval (``upstat.timeseries.windows``).

Errors answer in the shape of the document's collector, ``{"error": true, "message": "..."}``, the message
naming the field (a line of the batch, a header, a parameter). Keys: the device routes need the read scope
(public with ``UPSTAT_PUBLIC_READ``), ``POST /v1/api/flows`` the write scope; ``/v1/api/`` and every
OPTIONS need none. Source keys are refused: a collector reports many exporters at once.

An exporter device is a source of the registry (``upstat.sources``), kind ``exporter``, registered on its
first record (its id is its address; ``Name`` and ``Info`` are its extra fields); its ``ID`` is a number
given once (``upstat.sources.numbers``). An organization-bound key reads and writes only the devices of its
organization (``upstat.sources.access``): a device it brings is registered in its organization, one
registered elsewhere or in none is refused (403) and not listed.
"""

from __future__ import annotations

import hashlib
import zlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from upstat.api.deps import EngineDep, OrganizationReader, OrganizationWriter, RedisDep
from upstat.api.errors import register_error_format
from upstat.api.params import UTC, Tz
from upstat.auth import Principal
from upstat.clock import now_ms
from upstat.config import get_settings
from upstat.dialects.netflow import flows as flow_formats
from upstat.errors import Forbidden, InvalidInput, NotFound, UpstatError
from upstat.names import NAME_PATTERN
from upstat.sources import access, numbers
from upstat.sources import store as registry
from upstat.sources.models import Source
from upstat.timeseries import tally, windows
from upstat.timeseries import timemath as tm

PREFIX = "/v1/api"
FLOWS_PATH = f"{PREFIX}/flows"
#: The numbers of exporter devices (their ``ID``) are counted in this namespace.
NAMESPACE = "netflow"
#: Registered in the sources registry as this kind; ``Name`` and ``Info`` live in the source's extra fields.
KIND = "exporter"
EXTRA_NAME, EXTRA_INFO = "Name", "Info"
#: Engine metrics of an exporter (the source is its address).
FLOWS, BYTES, PACKETS = flow_formats.METRICS
DEFAULT_INTERVAL = "15m"
#: Interval length up to -> the step its series are grouped by (README "Netflow Collector API").
STEPS: tuple[tuple[int, str], ...] = (
    (tm.MINUTE, "1s"),
    (tm.HOUR, "1m"),
    (tm.DAY - 1, "1h"),
    (100 * tm.DAY, "1d"),
    (730 * tm.DAY, "1w"),
    (7300 * tm.DAY, "1M"),
)
BODY_LIMITS = {FLOWS_PATH: "max_flow_body_bytes"}
JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines")
CSV_TYPES = ("text/csv",)


def netflow_error(status: int, error: str, message: str, field: str | None) -> dict[str, Any]:
    """The collector's error body."""
    return {"error": True, "message": message}


register_error_format(f"{PREFIX}/", netflow_error)


class ErrorOut(BaseModel):
    """The Netflow collector's error body."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"error": True, "message": "line 3: sampler_address: is required"}]}
    )
    error: bool = True
    message: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in (
        (400, "Bad input: the message names the line, header or parameter"),
        (401, "Missing or unknown bearer token"),
        (
            403,
            "The token lacks the route's scope, is a source key, or is bound to an organization the "
            "device is not registered in",
        ),
        (404, "No such route, or no device with that ID"),
        (413, "Request body over the configured limit"),
        (429, "Rate limit reached: see Retry-After"),
    )
}

router = APIRouter(prefix=PREFIX, tags=["Netflow Collector"], responses=_ERRORS)


# ----------------------------------------------------------------------------------------------------
# Models (the document's fields)

EXAMPLE_TIME = "2021-06-15T12:46:06.004006+04:30"


class AliveOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"alive": True, "message": "This is the Netflow Collector API"}]}
    )
    alive: bool = True
    message: str


class DeviceOut(BaseModel):
    """An exporter device: registered on its first record as a source of kind ``exporter`` (its id is its
    address); ``Name`` and ``Info`` are empty until set through upstat's sources registry (``PATCH
    /v1/sources/{id}`` with ``{"extra": {"Name": ..., "Info": ...}}``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ID": 1,
                    "CreatedAt": EXAMPLE_TIME,
                    "UpdatedAt": EXAMPLE_TIME,
                    "DeletedAt": None,
                    "Device": "127.0.0.1",
                    "Name": "",
                    "Info": "",
                }
            ]
        }
    )
    ID: int = Field(description="A small number given on the device's first record; it never changes")
    CreatedAt: str = Field(description="RFC 3339 with the offset of tz: its registration (first record)")
    UpdatedAt: str = Field(
        description="RFC 3339: the last change of its registry record, e.g. its Name or Info (else CreatedAt)"
    )
    DeletedAt: None = Field(description="Always null: devices are not deleted through this API")
    Device: str = Field(description="The exporter's address (goflow2's sampler_address, nfdump's ra)")
    Name: str
    Info: str


SUMMARY_EXAMPLE: dict[str, Any] = {
    "device_id": 1,
    "device": "127.0.0.1",
    "flow_count": 36758,
    "device_name": "",
    "device_info": "",
    "total_bytes": 8848500,
    "total_packets": 89610,
}


class SummaryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SUMMARY_EXAMPLE]})
    device_id: int
    device: str
    flow_count: int = Field(description="Flow records over the interval")
    device_name: str
    device_info: str
    total_bytes: int = Field(description="Bytes over the interval (times the sampling rate, when above 1)")
    total_packets: int = Field(description="Packets over the interval (times the sampling rate)")


class GroupOut(SummaryOut):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{"_time": "2021-06-15T16:12:00+04:30", **SUMMARY_EXAMPLE}]},
    )
    time: str = Field(
        alias="_time",
        description="RFC 3339 with the offset of tz: the start of the group (the first group starts at the "
        "interval's start, and is labelled with its step's start)",
    )


class FlowsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "records": 10000,
                    "devices": 2,
                    "seconds": 600,
                    "replayed": False,
                    "idempotency_key": "sha256:3f1d9a7c0b2e4d6f8a1c3e5b7d9f0a2c4e6b8d0f",
                }
            ]
        }
    )
    records: int = Field(description="Flow records in the batch")
    devices: int = Field(description="Exporter devices they came from")
    seconds: int = Field(description="(device, second) counts written")
    replayed: bool = Field(description="true: this batch was counted before (same key): nothing was added")
    idempotency_key: str = Field(description="The batch's key: Idempotency-Key, or sha256 of the body")


# ----------------------------------------------------------------------------------------------------
# Reads

Interval = Annotated[
    str,
    Path(
        description="An integer and one of s (seconds), m (minutes), h (hours), d (days), w (weeks), M "
        "(months of 30 days), y (years of 365 days), e.g. 15m, 24h, 7d; anything else reads as 15m, as the "
        "document says"
    ),
]
LocalTz = Annotated[
    Tz, Query(description="IANA zone of the times answered and of day, week, month and year groups")
]


@router.get("/", summary="Alive: the API answers", response_model=AliveOut)
def alive() -> AliveOut:
    return AliveOut(message="This is the Netflow Collector API (served by upstat)")


@router.get(
    "/device/get/all",
    summary="Exporter devices with at least one record",
    response_model=list[DeviceOut],
)
def all_devices(client: RedisDep, caller: OrganizationReader, tz: LocalTz = UTC) -> JSONResponse:
    """Every exporter device, by ID (an organization key: its organization's)."""
    devices = _devices(client, caller)
    return JSONResponse([_device_out(d, tz.value) for d in devices])


@router.get(
    "/device/get/summary/interval/{interval}",
    summary="Each device's flows, bytes and packets over the last interval",
    response_model=list[SummaryOut],
)
def summary(
    interval: Interval, client: RedisDep, engine: EngineDep, caller: OrganizationReader
) -> JSONResponse:
    """One row per device with at least one flow over the interval (as the document's collector sums its
    flow rows), by ID. The sums are exact from the interval's start (to the second) to now: the same sums
    as the groups of ``/device/get/summary/group/{interval}/by/{DeviceID}``. An organization key: its
    organization's devices."""
    devices = _devices(client, caller)
    now = now_ms()
    series = [(d.address, m) for d in devices for m in flow_formats.METRICS]
    start = max(0, now - interval_of(interval).ms)
    sums = windows.window_totals(engine, series, start=start, end=now + tm.MAX_FUTURE_MS, now=now)
    rows = []
    for i, device in enumerate(devices):
        totals = sums[3 * i : 3 * i + 3]
        if totals[0] is not None:
            rows.append(_summary_row(device, [_int(v) for v in totals]))
    return JSONResponse(rows)


@router.get(
    "/device/get/summary/group/{interval}/by/{DeviceID}",
    summary="One device's flows, bytes and packets over the last interval, grouped in time",
    response_model=list[GroupOut],
)
def group(
    interval: Interval,
    DeviceID: Annotated[int, Path(ge=1, le=2**31 - 1, description="The device's ID")],
    client: RedisDep,
    engine: EngineDep,
    caller: OrganizationReader,
    tz: LocalTz = UTC,
) -> JSONResponse:
    """The groups that hold flows, oldest first, at the step the interval calls for (1h by minute, 3h by
    hour, 24h by day: README "Netflow Collector API"). An unknown ID answers 404 (a typo is told apart from
    a device that sent nothing over the interval, which answers []); to an organization key, 403 like a
    device of another organization (it cannot probe which IDs exist elsewhere)."""
    device = _device(client, caller, DeviceID)
    grouped = _grouped(engine, [device.address], interval, tz.value)
    rows = []
    for j, start in enumerate(grouped.starts):
        values = [(grouped.sums[k] or [None] * len(grouped.starts))[j] for k in range(3)]
        if values[0] is not None:
            row = _summary_row(device, [_int(v) for v in values])
            rows.append({"_time": _rfc3339(start, tz.value), **row})
    return JSONResponse(rows)


class _Device:
    """An exporter device as the routes show it: its number and its registered source."""

    def __init__(self, number: int, source: Source) -> None:
        self.id = number
        self.address = source.id
        self.name = source.extra.get(EXTRA_NAME, "")
        self.info = source.extra.get(EXTRA_INFO, "")
        self.created_at = source.created_at
        self.updated_at = source.updated_at or source.created_at


def _devices(client: Any, caller: Principal) -> list[_Device]:
    """The numbered devices still registered (one unregistered through /v1/sources is gone, series and
    all, until it sends again) that ``caller`` may see, by ID."""
    found = numbers.numbered(client, NAMESPACE)
    sources = registry.get_sources(client, [n.source for n in found])
    devices = [_Device(n.number, s) for n, s in zip(found, sources, strict=True) if s is not None]
    shown = set(access.visible(client, caller, [d.address for d in devices]))
    return [d for d in devices if d.address in shown]


def _device(client: Any, caller: Principal, device_id: int) -> _Device:
    """The device numbered ``device_id``, if ``caller`` may read it (the registry's check, 403 naming
    DeviceID); else NotFound, or Forbidden to an organization key."""
    found = numbers.lookup(client, NAMESPACE, device_id)
    source = registry.get_source(client, found.source) if found is not None else None
    refused = Forbidden(
        f"DeviceID: no device with ID {device_id} in this key's organization '{caller.organization}'",
        field="DeviceID",
    )
    if found is None or source is None:
        if caller.organization is not None:
            raise refused
        raise NotFound(f"DeviceID: no device with ID {device_id}", field="DeviceID")
    try:
        access.check_source(client, caller, source.id, field="DeviceID")
    except Forbidden:
        raise refused from None  # the same words as an unknown ID: another's address is not told
    return _Device(device_id, source)


def _device_out(device: _Device, tz: str) -> dict[str, Any]:
    return {
        "ID": device.id,
        "CreatedAt": _rfc3339(device.created_at, tz),
        "UpdatedAt": _rfc3339(device.updated_at, tz),
        "DeletedAt": None,
        "Device": device.address,
        "Name": device.name,
        "Info": device.info,
    }


def _summary_row(device: _Device, values: list[int]) -> dict[str, Any]:
    return {
        "device_id": device.id,
        "device": device.address,
        "flow_count": values[0],
        "device_name": device.name,
        "device_info": device.info,
        "total_bytes": values[1],
        "total_packets": values[2],
    }


def step_for(interval_ms: int) -> tm.Interval:
    """The group step of an interval (README's table): at most a few hundred groups."""
    for limit, step in STEPS:
        if interval_ms <= limit:
            return tm.parse_interval(step)
    return tm.Interval(1, "y")


def interval_of(text: str) -> tm.Interval:
    """The interval of the document's grammar; anything else is 15m, as the document says."""
    try:
        return tm.parse_interval(text)
    except InvalidInput:
        return tm.parse_interval(DEFAULT_INTERVAL)


def _grouped(engine: Any, addresses: list[str], interval: str, tz: str) -> windows.Grouped:
    length = interval_of(interval).ms
    now = now_ms()
    series = [(a, m) for a in addresses for m in flow_formats.METRICS]
    return windows.grouped_sums(
        engine,
        series,
        start=max(0, now - length),
        end=now + tm.MAX_FUTURE_MS,
        step=step_for(length),
        now=now,
        tz=tz,
    )


def _int(value: float | None) -> int:
    return 0 if value is None else round(value)


def _rfc3339(ms: int, tz: str) -> str:
    return datetime.fromtimestamp(ms / 1000, tm.zone(tz)).isoformat()


# ----------------------------------------------------------------------------------------------------
# Ingestion

#: goflow2's times: epoch nanoseconds (from 1973 on), or 0 for "not set".
NS_TIME: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "enum": [0]},
        {"type": "integer", "minimum": flow_formats.NS_LOOKALIKE, "maximum": flow_formats.UINT64},
    ]
}
FLOW_RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A goflow2 record (its JSON output, -format=json); other fields are accepted and ignored",
    "required": ["sampler_address", "bytes", "packets"],
    "properties": {
        "sampler_address": {
            "type": "string",
            "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
            "description": "The exporter's address: the device",
        },
        "time_flow_start_ns": {**NS_TIME, "description": "Epoch ns; the record's time unless 0"},
        "time_received_ns": {
            **NS_TIME,
            "description": "Epoch ns; the record's time when time_flow_start_ns is 0",
        },
        "bytes": {"type": "integer", "minimum": 0, "maximum": flow_formats.UINT64},
        "packets": {"type": "integer", "minimum": 0, "maximum": flow_formats.UINT64},
        "sampling_rate": {
            "type": "integer",
            "minimum": 0,
            "maximum": flow_formats.UINT32,
            "description": "1:N; above 1, bytes and packets are multiplied by it",
        },
    },
}
FLOWS_BODY_RULES = (
    "Rules across fields and against the clock (answered 400 naming the line): a record's time "
    "(time_flow_start_ns, else time_received_ns) is given, in epoch nanoseconds, from the raw tier's "
    "retention ago to 5 minutes ahead; a CSV's times are real dates in that window; counts times the "
    "sampling rate, summed per device and second, stay within 2^53; a CSV without an exporter column "
    "needs ?exporter=, one with it takes none; an address is an IP address; exporter goes only with CSV."
)
FLOWS_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "goflow2's JSON output (one record a line, or a JSON array) or nfdump's CSV "
        "(`nfdump -o csv`); `Content-Encoding: gzip` is accepted. " + FLOWS_BODY_RULES,
        "content": {
            "application/x-ndjson": {
                "schema": {
                    "anyOf": [
                        FLOW_RECORD_SCHEMA,
                        {"type": "array", "items": FLOW_RECORD_SCHEMA, "maxItems": flow_formats.MAX_RECORDS},
                    ],
                    "description": "One record a line (shown here as the list of the lines' records)",
                }
            },
            "application/json": {
                "schema": {
                    "anyOf": [
                        FLOW_RECORD_SCHEMA,
                        {"type": "array", "items": FLOW_RECORD_SCHEMA, "maxItems": flow_formats.MAX_RECORDS},
                    ]
                }
            },
            "text/csv": {
                "schema": {
                    "type": "string",
                    "pattern": flow_formats.CSV_PATTERN,
                    "description": "nfdump 1.6 to 1.7.4 (ts,te,td,...,ra,...: the exporter in ra) or 1.7.5 "
                    "and later (firstSeen,...,flows: no exporter column), optionally with its summary",
                }
            },
        },
    }
}


class TooLarge(UpstatError):
    status = 413
    error_type = "payload_too_large"


class UnsupportedMedia(UpstatError):
    status = 415
    error_type = "unsupported_media_type"


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=NAME_PATTERN,
        description="The batch's key: the same key again adds nothing (a retry). Default: the SHA-256 of "
        "the body, so sending the same bytes twice counts once. Rule: a key sent again with other records "
        "answers 409.",
    ),
]
Exporter = Annotated[
    str | None,
    Query(
        min_length=2,
        max_length=45,
        pattern=r"^[0-9A-Fa-f.:]+$",
        description="nfdump 1.7.5+ CSV only: the address of the exporter its rows came from",
    ),
]


@router.post(
    "/flows",
    summary="Flow records in: goflow2 JSON (NDJSON or an array) or nfdump CSV",
    response_model=FlowsOut,
    openapi_extra=FLOWS_OPENAPI,
    responses={
        409: {"model": ErrorOut, "description": "Idempotency-Key reused with other records"},
        415: {"model": ErrorOut, "description": "Content-Type or Content-Encoding not taken"},
    },
)
async def post_flows(
    request: Request,
    client: RedisDep,
    engine: EngineDep,
    caller: OrganizationWriter,
    idempotency_key: IdempotencyKey = None,
    exporter: Exporter = None,
    tz: Annotated[Tz, Query(description="nfdump CSV: the zone of its local times")] = UTC,
) -> FlowsOut:
    """Counted per device and second, flows, bytes and packets, all or nothing: a bad record is refused
    (400 naming its line) and nothing of the batch is stored. Devices are registered on their first
    record. A batch is counted once: sent again with the same Idempotency-Key (or the same bytes, without
    one) it adds nothing and answers ``replayed: true``. An organization key writes only its
    organization's devices (403 naming the exporter, nothing stored) and registers the new ones in it."""
    body = _decoded(await request.body(), request.headers.get("content-encoding"))
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    batch = _Batch(body, media, idempotency_key, exporter, tz.value)
    return await run_in_threadpool(_ingest, client, engine, caller, batch)


def _decoded(body: bytes, encoding: str | None) -> bytes:
    """The body without its Content-Encoding (gzip or deflate), within the flows body limit."""
    limit = get_settings().max_flow_body_bytes
    coding = (encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedMedia(
            f"Content-Encoding: {coding!r} is not taken (gzip, deflate or none)", field="Content-Encoding"
        )
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, told apart by the data
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise InvalidInput(f"body: not valid {coding} data ({exc})", field="body") from None
    if len(out) > limit:
        raise TooLarge(f"body: decoded body is larger than the limit of {limit} bytes", field="body")
    if not inflater.eof:
        raise InvalidInput(f"body: {coding} data ends early", field="body")
    return out


class _Batch:
    """A request body of flows and how to read it."""

    def __init__(self, body: bytes, media: str, key: str | None, exporter: str | None, tz: str) -> None:
        self.body, self.media, self.exporter, self.tz = body, media, exporter, tz
        # The caller's key, or the body's digest: the same bytes sent again are the same batch.
        self.key = key if key is not None else "sha256:" + hashlib.sha256(body).hexdigest()[:40]
        #: What names the exporter in this format (a refused device is named by it).
        self.field = "exporter" if media in CSV_TYPES else "sampler_address"


def _ingest(client: Any, engine: Any, caller: Principal, batch: _Batch) -> FlowsOut:
    now = now_ms()
    flows = _read(batch.body, batch.media, batch.exporter, batch.tz, now, engine.lowest_accepted(now))
    prepared = tally.prepare(engine, flows.as_counts(), metrics=flow_formats.METRICS, now=now)
    exporters = sorted(flows.counts)
    new = _check_known(client, caller, exporters, batch.field)
    claims = tally.claim(engine, batch.key, prepared, now=now, key_field="Idempotency-Key")
    _register(client, caller, new, batch.field, now)
    numbers.number(client, NAMESPACE, exporters)
    added = tally.write(engine, prepared, claims, now=now)
    return FlowsOut(
        records=flows.records,
        devices=added.sources,
        seconds=added.seconds,
        replayed=added.replayed,
        idempotency_key=batch.key,
    )


def _read(
    body: bytes, media: str, exporter: str | None, tz: str, now: int, lowest: int | None
) -> flow_formats.Flows:
    if media not in JSON_TYPES + NDJSON_TYPES + CSV_TYPES:
        raise UnsupportedMedia(
            f"Content-Type: {media or 'none'!r} is not taken: application/x-ndjson or application/json "
            "(goflow2), text/csv (nfdump -o csv)",
            field="Content-Type",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"body: not UTF-8 text ({exc.reason} at byte {exc.start})", field="body") from None
    if media in CSV_TYPES:
        return flow_formats.read_nfdump_csv(text, now=now, lowest=lowest, tz=tz, exporter=exporter)
    if exporter is not None:
        raise InvalidInput(
            "exporter: goes only with nfdump CSV (goflow2 names it: sampler_address)", field="exporter"
        )
    return flow_formats.read_goflow2(text, now=now, lowest=lowest, array=media in JSON_TYPES)


def _check_known(client: Any, caller: Principal, exporters: list[str], field: str) -> list[str]:
    """Check that ``caller`` may write every registered exporter of the batch (403 naming ``field`` before
    anything is stored); the exporters not registered yet."""
    sources = registry.get_sources(client, exporters)
    known = [a for a, s in zip(exporters, sources, strict=True) if s is not None]
    if caller.organization is not None and known:
        access.organizations(client, known)  # one registry command for all; the checks are then answered
    for address in known:
        access.check_source(client, caller, address, field=field)
    return [a for a, s in zip(exporters, sources, strict=True) if s is None]


def _register(client: Any, caller: Principal, new: list[str], field: str, now: int) -> None:
    """Register new exporters as sources of kind ``exporter``, in the caller's organization when its key is
    bound to one (idempotent: one registered meanwhile by another batch is taken as it is, and checked)."""
    for address in new:
        registry.ensure_source(client, address, kind=KIND, organization=caller.organization, now_ms=now)
        access.forget(address)  # this process may remember it as not registered
        access.check_source(client, caller, address, field=field)


# ----------------------------------------------------------------------------------------------------
# OPTIONS: the methods of each path (a browser's CORS preflight is answered before these, when
# UPSTAT_CORS_ORIGINS lets its origin in)


OPTIONS_RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {
        "description": "No body: the path's methods are in Allow",
        "headers": {"Allow": {"description": "The methods of this path", "schema": {"type": "string"}}},
    }
}
_READ_METHODS = "GET, HEAD, OPTIONS"  # HEAD: upstat.api.middleware.HeadAsGet


def _options(methods: str) -> Response:
    return Response(status_code=204, headers={"Allow": methods})


def _options_route(path: str, summary: str) -> Any:
    return router.options(
        path, status_code=204, response_class=Response, summary=summary, responses=OPTIONS_RESPONSES
    )


@_options_route("/", "Methods of /v1/api/")
def root_options() -> Response:
    return _options(_READ_METHODS)


@_options_route("/device/get/all", "Methods of /v1/api/device/get/all")
def all_devices_options() -> Response:
    return _options(_READ_METHODS)


@_options_route("/device/get/summary/interval/{interval}", "Methods of the summary route")
def summary_options(interval: Annotated[str, Path()]) -> Response:
    return _options(_READ_METHODS)


@_options_route("/device/get/summary/group/{interval}/by/{DeviceID}", "Methods of the group route")
def group_options(interval: Annotated[str, Path()], DeviceID: Annotated[str, Path()]) -> Response:
    return _options(_READ_METHODS)


@_options_route("/flows", "Methods of /v1/api/flows")
def flows_options() -> Response:
    return _options("POST, OPTIONS")
