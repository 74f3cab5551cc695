"""The OpenUptimes API (its published document; README "Compatible APIs") at its documented paths.

Every route of the document, with its field names (camelCase, times in epoch milliseconds) and its error
shape ``{"error": true, "message": "...", "status": N}`` for everything under ``/api/`` (request validation
failures included: 400 naming the field, never 422).

Where upstat goes beyond the document (a status page's ``overall`` rule, a TTL that really bounds the age of
history, an engine-backed history variant), it says so in the route's description. Keys: the routes the
document marks "required" need a bearer key (read scope to read, write scope to change services or run a
ping, admin scope for the history TTL, clearing history and completing setup). ``/api/status`` and
``/api/history/{serviceName}`` are public while ``UPSTAT_PUBLIC_STATUS_PAGE`` is true (the default);
``/api/setup/status`` and ``/api/test-redis`` are always public.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from upstat.api.deps import Admin, EngineDep, RedisDep, Writer, require
from upstat.api.errors import register_error_format
from upstat.auth import Principal
from upstat.clock import now_ms
from upstat.errors import InvalidInput, NotFound
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import Query as EngineQuery
from upstat.uptime import checklog, reports, setup
from upstat.uptime.models import ServiceIn, ServiceUpdate, mask_url
from upstat.uptime.services import ServiceStore
from upstat.uptime.state import OVERALL_RULE

PREFIX = "/api"


def openuptimes_error(status: int, error: str, message: str, field: str | None) -> dict[str, Any]:
    """The document's error body."""
    return {"error": True, "message": message, "status": status}


register_error_format(f"{PREFIX}/", openuptimes_error)


class ErrorOut(BaseModel):
    """The OpenUptimes error body."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"error": True, "message": "name: required", "status": 400}]}
    )
    error: bool = True
    message: str
    status: int


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in (
        (400, "Bad Request: invalid request parameters (the message names the field)"),
        (401, "Unauthorized: missing or invalid authentication"),
        (403, "Forbidden: insufficient permissions"),
        (404, "Not Found: resource not found"),
        (409, "Conflict: a service with that name exists; /ping in the split layout (no checks on demand)"),
        (413, "Request body over the configured limit"),
        (429, "Too Many Requests: rate limit exceeded"),
        (500, "Internal Server Error"),
    )
}

router = APIRouter(prefix=PREFIX, tags=["OpenUptimes"], responses=_ERRORS)

# The document's "required" key: read scope, whatever UPSTAT_PUBLIC_READ says.
KeyReader = Annotated[Principal, Depends(require("read"))]
# Public while the status page is.
StatusReader = Annotated[Principal, Depends(require("read", public_setting="public_status_page"))]

EXAMPLE_TIME = 1627987654321
SIX_FIELDS_EXAMPLE: dict[str, Any] = {
    "name": "Example Service",
    "url": "https://example.com",
    "description": "An example service",
    "expectedStatus": 200,
    "method": "GET",
    "timeout": 10000,
}


# ----------------------------------------------------------------------------------------------------
# Models (the document's fields)


class ServiceOut(BaseModel):
    """A service in the document's six fields (upstat's other fields are at /v1/services)."""

    model_config = ConfigDict(json_schema_extra={"examples": [SIX_FIELDS_EXAMPLE]})
    name: str
    url: str
    description: str
    expectedStatus: int | str = Field(description="A code (200), or ranges such as '200-299,301'")
    method: str
    timeout: int = Field(description="milliseconds")


class ServicesOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"services": [SIX_FIELDS_EXAMPLE]}]})
    services: list[ServiceOut]


class ServiceResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"success": True, "service": SIX_FIELDS_EXAMPLE}]}
    )
    success: bool = True
    service: ServiceOut


class Message(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"success": True, "message": "Service deleted"}]}
    )
    success: bool = True
    message: str


class StatusItem(BaseModel):
    name: str
    description: str
    status: str = Field(description="up, degraded, down, pending (not checked yet), maintenance or paused")
    lastChecked: int | None = Field(description="epoch ms of the last check; null before the first")
    responseTime: int | None = Field(description="ms of the last check; null when it got no answer")


class StatusOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "overall": "up",
                    "updated": EXAMPLE_TIME,
                    "services": [
                        {
                            "name": "Example Service",
                            "description": "An example service",
                            "status": "up",
                            "lastChecked": EXAMPLE_TIME,
                            "responseTime": 123,
                        }
                    ],
                }
            ]
        }
    )
    overall: str = Field(description=OVERALL_RULE)
    updated: int
    services: list[StatusItem]


class HistoryItem(BaseModel):
    timestamp: int
    status: str
    responseTime: float | None


class HistoryOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Example Service",
                    "history": [{"timestamp": EXAMPLE_TIME, "status": "up", "responseTime": 123}],
                }
            ]
        }
    )
    name: str
    history: list[HistoryItem]


class BucketItem(HistoryItem):
    """One bucket of the engine variant: ``status`` up (every check up), down (none) or degraded."""

    uptime: float | None = Field(description="% of checks up in the bucket")
    checks: int


class BucketHistoryOut(BaseModel):
    """The engine variant (``range`` and/or ``resolution`` given)."""

    name: str
    resolution: str
    history: list[BucketItem]


class PingItem(BaseModel):
    name: str
    url: str
    status: str
    responseTime: float | None
    timestamp: int


class PingOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "timestamp": EXAMPLE_TIME,
                    "duration": 1234,
                    "services": [
                        {
                            "name": "Example Service",
                            "url": "https://example.com",
                            "status": "up",
                            "responseTime": 123,
                            "timestamp": EXAMPLE_TIME,
                        }
                    ],
                }
            ]
        }
    )
    success: bool = True
    timestamp: int
    duration: int = Field(description="ms the run took")
    services: list[PingItem]


class TtlOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ttl": 604800, "unlimited": False}]})
    ttl: int = Field(description="seconds; 0 = unlimited")
    unlimited: bool


class TtlBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ttl": 604800}]})
    ttl: Annotated[
        Any,
        WithJsonSchema(
            {
                "type": "integer",
                "minimum": 0,
                "maximum": checklog.MAX_TTL_S,
                "description": "seconds, 0 = unlimited",
            }
        ),
    ]


class TtlSet(TtlOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "ttl": 604800,
                    "unlimited": False,
                    "message": "History TTL set to 604800 seconds",
                }
            ]
        }
    )
    success: bool = True
    message: str


class SetupOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"completed": True}]})
    completed: bool


class RedisOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"connected": True, "ping": "PONG"}]})
    connected: bool
    ping: str | None


# ----------------------------------------------------------------------------------------------------
# Monitoring


@router.get(
    "/ping",
    summary="Ping services: check every unpaused service now and store the results",
    response_model=PingOut,
)
def ping(client: RedisDep, _: Writer) -> PingOut:
    """Runs the checks at once (each within its own timeout), records them like the scheduled ones (history,
    uptime, incidents, alerts) and answers each service's result."""
    from upstat.uptime.ticks import run_ping_now

    started = time.monotonic()
    stamp = now_ms()
    results = run_ping_now(client, now=stamp)
    items = [
        PingItem(
            name=service.name,
            url=mask_url(service.url),
            status="paused" if service.paused else state.status,
            responseTime=None if result.response_ms is None else round(result.response_ms),
            timestamp=result.checked_at_ms or stamp,
        )
        for service, result, state in results
    ]
    return PingOut(timestamp=stamp, duration=round((time.monotonic() - started) * 1000), services=items)


@router.get(
    "/status",
    summary="Service status: overall and per service (public while the status page is)",
    response_model=StatusOut,
)
def status(client: RedisDep, _: StatusReader) -> Response:
    """Services shown on the status page (``visible``), with the latest check of each. Two round trips to
    Redis whatever the number of services; the list is re-encoded only when a service or a state changed."""
    snap = reports.status_snapshot(client, visible_only=True)
    overall, services = _encoded.get(snap)
    body = f'{{"overall":{overall},"updated":{now_ms()},"services":{services}}}'
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


class _EncodedStatus:
    """The last /api/status list as encoded, with the snapshot version it was encoded from: a warm process
    re-encodes 1,000 services only when a service or a state changed."""

    def __init__(self) -> None:
        self._last: tuple[tuple[Any, ...], str, str] | None = None

    def get(self, snap: reports.Snapshot) -> tuple[str, str]:
        last = self._last
        if last is None or last[0] != snap.version:
            items = [
                {
                    "name": r.name,
                    "description": r.description,
                    "status": r.status,
                    "lastChecked": r.last_checked,
                    "responseTime": r.response_time,
                }
                for r in snap.rows
            ]
            last = (
                snap.version,
                json.dumps(reports.overall(snap.rows)),
                json.dumps(items, separators=(",", ":")),
            )
            self._last = last
        return last[1], last[2]


_encoded = _EncodedStatus()


def _json(body: dict[str, Any]) -> JSONResponse:
    """A response built from trusted values (no response-model validation on large lists)."""
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get(
    "/history/{serviceName}",
    summary="Service history: the check log within the history TTL, or bucketed through the engine",
    response_model=HistoryOut,
    responses={200: {"description": "HistoryOut, or BucketHistoryOut with range/resolution"}},
)
def history(
    serviceName: str,
    client: RedisDep,
    engine: EngineDep,
    caller: StatusReader,
    limit: Annotated[int, Query(ge=1, le=100_000, description="Newest checks at most (check log)")] = 1440,
    since: Annotated[int | None, Query(ge=0, description="Epoch ms: checks at or after (check log)")] = None,
    range: Annotated[str | None, Query(description="Engine variant: 24h, 7d, 90d, any interval")] = None,
    resolution: Annotated[str | None, Query(description="Engine variant: auto, 5m, 1h, 1d ...")] = None,
) -> JSONResponse:
    """Without ``range``/``resolution``: each logged check (oldest first, the newest ``limit`` of them),
    never older than the history TTL. With either: one item per bucket from the engine (``status`` up when
    every check was up, down when none was, degraded between; ``responseTime`` the bucket's average)."""
    store = ServiceStore(client)
    service = store.get(serviceName)
    if service is None or (caller.key_id == "anonymous" and not service.visible):
        raise NotFound(f"serviceName: no service named {serviceName!r}", field="serviceName")
    if range is None and resolution is None:
        entries = checklog.history(client, service.id, since_ms=since, limit=limit)
        items = [
            {"timestamp": e.timestamp, "status": e.status, "responseTime": e.response_ms} for e in entries
        ]
        return _json({"name": service.name, "history": items})
    return _json(_engine_history(engine, service.id, service.name, range, resolution).model_dump())


def _engine_history(
    engine: Any, service_id: str, name: str, rng: str | None, res: str | None
) -> BucketHistoryOut:
    """The engine variant of the history, bucketed by ``reports.bucket_history``. A raw resolution is
    refused: the check log is this route's unbucketed variant."""
    now = now_ms()
    resolution = tm.parse_resolution(res)
    if resolution == "raw":
        raise InvalidInput(
            "resolution: the engine history is bucketed; leave out range for the check log",
            field="resolution",
        )
    query = EngineQuery(tm.parse_range(rng, now=now), resolution)
    grid_resolution, items = reports.bucket_history(engine, service_id, query, now=now)
    history = [
        BucketItem(
            timestamp=b.start, status=b.status, responseTime=b.response_ms, uptime=b.uptime, checks=b.checks
        )
        for b in items
    ]
    return BucketHistoryOut(name=name, history=history, resolution=grid_resolution)


# ----------------------------------------------------------------------------------------------------
# Service management


@router.get("/services", summary="List services", response_model=ServicesOut)
def list_services(client: RedisDep, _: KeyReader) -> ServicesOut:
    return ServicesOut(services=[_six(s) for s in ServiceStore(client).list()])


@router.post("/services", summary="Add service", response_model=ServiceResult)
def add_service(
    body: Annotated[ServiceIn, Body(examples=[SIX_FIELDS_EXAMPLE])], client: RedisDep, _: Writer
) -> ServiceResult:
    """The six fields of the document (name and url required; 409 if the name is taken). upstat's own
    fields (interval, keyword, headers, confirmations ...) may be sent as well."""
    service = ServiceStore(client).create(body)
    return ServiceResult(service=_six(service))


def _six(service: Any) -> ServiceOut:
    """The document's six fields; a query value that looks like a credential in the url is hidden
    (``********``; sent back unchanged in a PUT, it keeps the stored url)."""
    return ServiceOut(
        name=service.name,
        url=mask_url(service.url),
        description=service.description,
        expectedStatus=service.expected_status,
        method=service.method,
        timeout=service.timeout,
    )


@router.put(
    "/services",
    summary="Update service (?name=): the fields sent change, a new name renames",
    response_model=ServiceResult,
)
def update_service(
    client: RedisDep,
    _: Writer,
    name: Annotated[str, Query(min_length=1, description="The service to update")],
    body: Annotated[ServiceUpdate, Body(examples=[SIX_FIELDS_EXAMPLE])],
) -> ServiceResult:
    """Renaming keeps the service's history, uptime and incidents (they are kept by its id)."""
    service = ServiceStore(client).update(name, body)
    return ServiceResult(service=_six(service))


@router.delete("/services", summary="Delete service (?name=)", response_model=Message)
def delete_service(
    client: RedisDep,
    _: Writer,
    name: Annotated[str, Query(min_length=1, description="The service to delete")],
) -> Message:
    ServiceStore(client).delete(name)
    return Message(message="Service deleted")


# ----------------------------------------------------------------------------------------------------
# History management


@router.get("/ping-history/ttl", summary="Get the history TTL", response_model=TtlOut)
def get_ttl(client: RedisDep, _: KeyReader) -> TtlOut:
    ttl = checklog.get_ttl(client)
    return TtlOut(ttl=ttl, unlimited=ttl == 0)


@router.patch(
    "/ping-history/ttl",
    summary="Set the history TTL (applied to existing entries at once)",
    response_model=TtlSet,
)
def set_ttl(body: TtlBody, client: RedisDep, _: Admin) -> TtlSet:
    """``{"ttl": seconds}``, 0 = unlimited. Entries older than the new TTL are removed now, not later."""
    ttl = checklog.set_ttl(client, body.ttl)
    return TtlSet(ttl=ttl, unlimited=ttl == 0, message=f"History TTL set to {ttl} seconds")


@router.delete("/ping-history", summary="Clear history: every service's check log", response_model=Message)
def clear_history(
    client: RedisDep,
    _: Admin,
    rollups: Annotated[
        bool, Query(description="Also delete the services' engine series (uptime, response times)")
    ] = False,
) -> Message:
    """Service definitions, states and incidents stay; the engine's series stay unless ``rollups=true``."""
    checklog.clear(client, series=rollups)
    return Message(message="Ping history cleared")


# ----------------------------------------------------------------------------------------------------
# Setup and configuration


@router.get("/setup/status", summary="Setup status", response_model=SetupOut)
def setup_status(client: RedisDep) -> SetupOut:
    return SetupOut(completed=setup.is_complete(client))


@router.post("/setup/complete", summary="Complete setup", response_model=Message)
def setup_complete(client: RedisDep, _: Admin) -> Message:
    setup.complete(client, now_ms())
    return Message(message="Setup completed")


@router.get(
    "/test-redis",
    summary="Test the Redis connection",
    response_model=RedisOut,
    responses={503: {"model": ErrorOut, "description": "Redis did not answer"}},
)
def test_redis(client: RedisDep) -> Any:
    from redis.exceptions import RedisError

    try:
        answer = client.ping()
    except RedisError:
        body = {
            "connected": False,
            "ping": None,
            "error": True,
            "message": "Redis is unavailable",
            "status": 503,
        }
        return JSONResponse(body, status_code=503)
    return RedisOut(connected=bool(answer), ping="PONG" if answer else None)
