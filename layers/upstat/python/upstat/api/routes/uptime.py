"""upstat's own uptime routes (/v1): services with every field, status with uptime percentages, daily bars,
response-time statistics, check history and charts, incidents, maintenance windows and push monitors.

Request validation failures answer 400 naming the field (the issue's "clear 400 errors"), in upstat's error
envelope. Services are addressed by name (URL-encoded); a rename keeps history, which is kept by the
service's stable id.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Body, Depends, Path, Query

from upstat.api.deps import EngineDep, Reader, RedisDep, Writer, push_limits
from upstat.api.errors import ErrorBody
from upstat.api.params import UTC, End, Params, Range, Resolution, Start, Tz
from upstat.api.schemas.series import ChartOut
from upstat.api.schemas.uptime import (
    SERVICE_EXAMPLE,
    T0,
    WINDOW_EXAMPLES,
    Beat,
    CheckHistoryOut,
    CheckItem,
    CheckNow,
    DailyBar,
    DailyOut,
    Deleted,
    IncidentList,
    IncidentOut,
    ResponseTimes,
    ServiceList,
    ServiceStatus,
    ServiceView,
    StatusOverview,
    UptimeOut,
    WindowList,
    WindowOut,
)
from upstat.auth import Principal
from upstat.clock import now_ms
from upstat.errors import Forbidden, NotFound
from upstat.timeseries.model import Query as EngineQuery
from upstat.timeseries.shapes import ChartParams, chart
from upstat.uptime import checklog, coverage, incidents, maintenance, push, reports
from upstat.uptime.maintenance import MaintenanceIn, Window
from upstat.uptime.models import ServiceIn, ServiceUpdate
from upstat.uptime.services import ServiceStore

router = APIRouter(
    prefix="/v1",
    tags=["uptime"],
    responses={
        404: {"model": ErrorBody, "description": "No such service (or window, incident, push token)"},
        409: {
            "model": ErrorBody,
            "description": "The name is taken, or the service changed meanwhile; a check on demand in the "
            "split layout",
        },
    },
)


#: A service's response times over three minutes, one bucket a minute (``stats``: stats=true, the default).
SERVICE_CHART_EXAMPLE: dict[str, Any] = {
    "source": "api",
    "metric": "response_ms",
    "kind": "gauge",
    "start": T0,
    "end": T0 + 180_000,
    "resolution": "1m",
    "tier": "raw",
    "aggregate": "avg",
    "fill": "null",
    "tz": "UTC",
    "count": 3,
    "points": [[T0, 80.0], [T0 + 60_000, None], [T0 + 120_000, 90.0]],
    "stats": {"count": 2, "min": 80.0, "max": 90.0, "avg": 85.0, "total": 170.0, "trend": "increasing"},
}


# ----------------------------------------------------------------------------------------------------
# Parameters


def range_query(
    range: Range = None,
    start: Start = None,
    end: End = None,
    resolution: Resolution = None,
    tz: Tz = UTC,
) -> EngineQuery:
    """The engine query of a route's range parameters (the same rules as /v1/chart's), as of now."""
    return ChartParams(range, start, end, resolution, None, None, tz.value).query(now_ms())


RangeQuery = Annotated[EngineQuery, Depends(range_query)]


def _store(client: Any) -> ServiceStore:
    return ServiceStore(client)


# ----------------------------------------------------------------------------------------------------
# Services


REVEAL_QUERY = Query(
    description="Admin keys only: show the target's credentials (header values, body, secret-looking query "
    "values, webhook paths) instead of `********`"
)


def _reveal(caller: Principal, reveal: bool) -> bool:
    if reveal and not caller.has("admin"):
        raise Forbidden("reveal: only an admin key may see the targets' credentials", field="reveal")
    return reveal


@router.get("/services", summary="List services with every field", response_model=ServiceList)
def list_services(
    client: RedisDep, caller: Reader, reveal: Annotated[bool, REVEAL_QUERY] = False
) -> ServiceList:
    """Secret values are shown as `********` (send them back unchanged in a PATCH to keep them)."""
    show = _reveal(caller, reveal)
    return ServiceList(services=[ServiceView.of(s, reveal=show) for s in _store(client).list()])


@router.post("/services", status_code=201, summary="Create a service (409 if the name is taken)")
def create_service(
    body: Annotated[ServiceIn, Body(examples=[SERVICE_EXAMPLE])], client: RedisDep, _: Writer
) -> ServiceView:
    return ServiceView.of(_store(client).create(body), secret=True)


@router.get("/services/{name}", summary="One service with every field")
def get_service(
    name: str, client: RedisDep, caller: Reader, reveal: Annotated[bool, REVEAL_QUERY] = False
) -> ServiceView:
    return ServiceView.of(_store(client).require(name), reveal=_reveal(caller, reveal))


@router.patch("/services/{name}", summary="Change some fields (a new name renames; history is kept)")
def update_service(
    name: str,
    body: Annotated[ServiceUpdate, Body(examples=[{"timeout": 3000, "paused": False}])],
    client: RedisDep,
    _: Writer,
) -> ServiceView:
    return ServiceView.of(_store(client).update(name, body))


@router.delete("/services/{name}", summary="Delete a service with its check log, state and incidents")
def delete_service(name: str, client: RedisDep, _: Writer) -> Deleted:
    return Deleted(deleted=_store(client).delete(name).name)


@router.post(
    "/services/{name}/push-token",
    summary="Rotate a push monitor's token (the old URL stops; 409 for a service that is not a push monitor)",
)
def rotate_push_token(name: str, client: RedisDep, _: Writer) -> ServiceView:
    return ServiceView.of(push.rotate_token(_store(client), name), secret=True)


@router.post("/services/{name}/check", summary="Check one service now (recorded like a scheduled check)")
def check_now(name: str, client: RedisDep, _: Writer) -> CheckNow:
    from upstat.uptime.ticks import run_ping_now

    _store(client).require(name)
    found = run_ping_now(client, names=[name])
    if not found:
        raise NotFound(f"service {name!r} not found", field="name")
    return CheckNow.of(*found[0])


# ----------------------------------------------------------------------------------------------------
# Status and uptime


@router.get(
    "/status",
    summary="Every service's status with uptime over 24 h, 7 d, 30 d and 90 d",
    response_model=StatusOverview,
    response_model_by_alias=True,
)
def status(
    client: RedisDep,
    engine: EngineDep,
    _: Reader,
    group: Annotated[str | None, Query(description="Only this group")] = None,
    tag: Annotated[str | None, Query(description="Only services with this tag")] = None,
) -> StatusOverview:
    """Hidden services are listed too (``visible`` false). Two round trips for the states, then one engine
    read per uptime window for all services at once."""
    rows = reports.status_rows(client)
    if group is not None:
        rows = [r for r in rows if r.display.group == group]
    if tag is not None:
        rows = [r for r in rows if tag in r.display.tags]
    return StatusOverview(overall=reports.overall(rows), updated=now_ms(), services=_statuses(engine, rows))


def _statuses(engine: Any, rows: list[reports.StatusRow]) -> list[ServiceStatus]:
    """Each row with its uptime and coverage per window."""
    now = now_ms()
    figures = reports.window_figures(engine, [r.id for r in rows], now=now)
    covered = reports.coverage_windows(rows, figures, now=now)
    return [ServiceStatus.of(r, {w: f.uptime for w, f in figures[r.id].items()}, covered[r.id]) for r in rows]


@router.get(
    "/services/{name}/status",
    summary="One service's status with uptime over 24 h, 7 d, 30 d and 90 d",
    response_model=ServiceStatus,
    response_model_by_alias=True,
)
def service_status(name: str, client: RedisDep, engine: EngineDep, _: Reader) -> ServiceStatus:
    service = _store(client).require(name)
    row = next((r for r in reports.status_rows(client) if r.id == service.id), None)
    if row is None:
        raise NotFound(f"service {name!r} not found", field="name")
    return _statuses(engine, [row])[0]


@router.get("/services/{name}/uptime", summary="Uptime % over any range, overall and per bucket")
def uptime(name: str, query: RangeQuery, client: RedisDep, engine: EngineDep, _: Reader) -> UptimeOut:
    service = _store(client).require(name)
    expect = coverage.expectation(service.kind, service.interval, service.created_at)
    return UptimeOut.of(
        service.name, reports.uptime_over(engine, service.id, query, now=now_ms(), expect=expect)
    )


@router.get("/services/{name}/uptime/daily", summary="Daily uptime bars (the last 90 days by default)")
def uptime_daily(
    name: str,
    client: RedisDep,
    engine: EngineDep,
    _: Reader,
    days: Annotated[int, Query(ge=1, le=reports.MAX_DAILY_DAYS)] = 90,
    tz: Tz = UTC,
) -> DailyOut:
    """One bar per calendar day, today last; ``uptime`` null for a day without checks. Maintenance windows
    do not count (no ``up`` point is written inside one)."""
    service = _store(client).require(name)
    expect = coverage.expectation(service.kind, service.interval, service.created_at)
    bars = reports.daily(engine, service.id, days=days, tz=tz.value, now=now_ms(), expect=expect)
    return DailyOut(name=service.name, tz=tz.value, days=[DailyBar.of(b) for b in bars])


@router.get("/services/{name}/response-times", summary="Response-time statistics over a range")
def response_times(
    name: str, query: RangeQuery, client: RedisDep, engine: EngineDep, _: Reader
) -> ResponseTimes:
    """avg, min, max and count are exact at every tier; p50/p95/p99 are exact while the raw tier covers
    the range (48 h by default) and approximate beyond it (``exact`` false)."""
    service = _store(client).require(name)
    return ResponseTimes(
        name=service.name, **asdict(reports.response_times(engine, service.id, query, now=now_ms()))
    )


@router.get("/services/{name}/history", summary="The check log (within the history TTL), oldest first")
def history(
    name: str,
    client: RedisDep,
    _: Reader,
    since: Annotated[int | None, Query(ge=0, description="epoch ms")] = None,
    until: Annotated[int | None, Query(ge=0, description="epoch ms")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000, description="the newest checks at most")] = 1440,
) -> CheckHistoryOut:
    service = _store(client).require(name)
    entries = checklog.history(client, service.id, since_ms=since, until_ms=until, limit=limit)
    return CheckHistoryOut(
        name=service.name,
        ttl=checklog.get_ttl(client),
        checks=[CheckItem.of(e) for e in entries],
    )


@router.get(
    "/services/{name}/chart",
    summary="A service's series through the engine: response_ms, up, degraded or cert_days",
    responses={
        200: {
            "model": ChartOut,
            "description": "The engine chart body (see /v1/chart); `source` is the service's name",
            "content": {"application/json": {"example": SERVICE_CHART_EXAMPLE}},
        }
    },
)
def service_chart(
    name: str,
    params: Params,
    client: RedisDep,
    engine: EngineDep,
    _: Reader,
    metric: Annotated[Literal["response_ms", "up", "degraded", "cert_days"], Query()] = "response_ms",
) -> Any:  # documented as ChartOut; the body is the engine's dict, not validated again
    service = _store(client).require(name)
    now = now_ms()
    query = params.query(now)
    found = reports.read_series(engine, service.id, metric, query, now=now)
    if found is None:
        raise NotFound(f"metric: service {name!r} has no {metric} data yet", field="metric")
    return chart(found, params, service.name, metric)


# ----------------------------------------------------------------------------------------------------
# Incidents


def _incident_views(client: Any, found: list[incidents.Incident]) -> IncidentList:
    ids = list(dict.fromkeys(i.service_id for i in found))
    names = {s.id: s.name for s in _store(client).get_many(ids)}
    return IncidentList(
        incidents=[IncidentOut(service=names.get(i.service_id), **i.as_dict()) for i in found]
    )


@router.get("/incidents", summary="Incidents across services, newest first")
def list_incidents(
    client: RedisDep,
    _: Reader,
    since: Annotated[int | None, Query(ge=0, description="started at or after (epoch ms)")] = None,
    until: Annotated[int | None, Query(ge=0, description="started at or before (epoch ms)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> IncidentList:
    return _incident_views(
        client, incidents.across_services(client, since_ms=since, until_ms=until, limit=limit)
    )


@router.get("/services/{name}/incidents", summary="A service's incidents, newest first")
def service_incidents(
    name: str, client: RedisDep, _: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> IncidentList:
    service = _store(client).require(name)
    return _incident_views(client, incidents.for_service(client, service.id, limit=limit))


# ----------------------------------------------------------------------------------------------------
# Maintenance windows


def _windows(found: list[Window]) -> WindowList:
    now = now_ms()  # one instant for the whole list, so no two windows disagree about "now"
    return WindowList(windows=[WindowOut.of(w, now) for w in found])


@router.get("/maintenance", summary="Maintenance windows that apply to every service", tags=["maintenance"])
def list_global_windows(client: RedisDep, _: Reader) -> WindowList:
    return _windows(maintenance.list_windows(client))


@router.post("/maintenance", status_code=201, summary="Add a window for every service", tags=["maintenance"])
def add_global_window(
    body: Annotated[MaintenanceIn, Body(examples=WINDOW_EXAMPLES)],
    client: RedisDep,
    background: BackgroundTasks,
    _: Writer,
) -> WindowOut:
    """The status page's subscribers are told (``maintenance.scheduled``) after the answer."""
    return _added(client, background, maintenance.add_window(client, body))


def _added(client: Any, background: BackgroundTasks, window: Window) -> WindowOut:
    """A window just added, as answered; its subscribers' event is sent after the answer."""
    from upstat.uptime import subscribers

    now = now_ms()
    background.add_task(subscribers.notify_window_added, client, window, now=now)
    return WindowOut.of(window, now)


@router.delete("/maintenance/{window_id}", summary="Remove a window of every service", tags=["maintenance"])
def delete_global_window(window_id: str, client: RedisDep, _: Writer) -> Deleted:
    if not maintenance.delete_window(client, window_id):
        raise NotFound(f"window_id: no window {window_id!r}", field="window_id")
    return Deleted(deleted=window_id)


@router.get("/services/{name}/maintenance", summary="A service's own windows", tags=["maintenance"])
def list_service_windows(name: str, client: RedisDep, _: Reader) -> WindowList:
    service = _store(client).require(name)
    return _windows(maintenance.list_windows(client, service_id=service.id))


@router.post(
    "/services/{name}/maintenance",
    status_code=201,
    summary="Add a window for one service",
    tags=["maintenance"],
)
def add_service_window(
    name: str,
    body: Annotated[MaintenanceIn, Body(examples=WINDOW_EXAMPLES)],
    client: RedisDep,
    background: BackgroundTasks,
    _: Writer,
) -> WindowOut:
    """The status page's subscribers are told (``maintenance.scheduled``) after the answer, if the page
    shows the service."""
    service = _store(client).require(name)
    return _added(client, background, maintenance.add_window(client, body, service_id=service.id))


@router.delete(
    "/services/{name}/maintenance/{window_id}", summary="Remove a service's window", tags=["maintenance"]
)
def delete_service_window(name: str, window_id: str, client: RedisDep, _: Writer) -> Deleted:
    service = _store(client).require(name)
    if not maintenance.delete_window(client, window_id, service_id=service.id):
        raise NotFound(f"window_id: no window {window_id!r}", field="window_id")
    return Deleted(deleted=window_id)


# ----------------------------------------------------------------------------------------------------
# Push monitors


PUSH_SUMMARY = "A push monitor's heartbeat (the token is the credential: no bearer key)"


@router.get(
    "/push/{token}",
    summary=PUSH_SUMMARY,
    tags=["push"],
    operation_id="push_beat_get",
    dependencies=[Depends(push_limits)],
)
@router.post(
    "/push/{token}",
    summary=PUSH_SUMMARY,
    tags=["push"],
    operation_id="push_beat_post",
    dependencies=[Depends(push_limits)],
)
def push_beat(
    token: Annotated[str, Path(min_length=1, max_length=200)],
    client: RedisDep,
    background: BackgroundTasks,
    status: Annotated[Literal["up", "down"], Query(description="down reports a failure")] = "up",
    msg: Annotated[str | None, Query(max_length=500, description="kept in the check log when down")] = None,
    ping: Annotated[
        float | None, Query(ge=0, lt=86_400_000, allow_inf_nan=False, description="duration to record (ms)")
    ] = None,
) -> Beat:
    """Call it from the job being watched (``curl -fsS https://.../v1/push/<token>``). No beat within the
    monitor's interval + grace records it down. Beats are limited per token and per client address (429
    with Retry-After), and a status change from beats holds for at least half the monitor's interval
    before the next one (beats meanwhile are logged; the status reads pending), so a flapping job cannot
    raise a storm of incidents and alerts. Each change is alerted like a checked one."""
    try:
        rec = push.record_beat(_store(client), token, status=status, message=msg, response_ms=ping)
    except NotFound:
        raise NotFound("token: unknown push token", field="token") from None
    if rec.transitions:
        from upstat.uptime.ticks import alert_recorded

        background.add_task(alert_recorded, client, [rec])
    return Beat(recorded=rec.applied, status=rec.state.status)
