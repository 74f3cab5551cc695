"""The routes of OpenWISP's monitoring API, each one call into upstat.devices / upstat.sources.

Errors answer in DRF's shape ``{"detail": "..."}`` with DRF's statuses. The agent's routes take the device's
key as ``?key=`` (a source key: ``POST /v1/sources`` answers one per device); every route also takes upstat's
bearer keys. Organization keys see only their organization's devices, in every route.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from upstat.api.deps import (
    KEY_QUERY,
    EngineDep,
    OrganizationReader,
    RedisDep,
    SettingsDep,
    require,
    require_source_key_query,
)
from upstat.api.errors import register_error_format
from upstat.auth import Principal
from upstat.clock import now_ms
from upstat.devices import charts as dcharts
from upstat.devices import monitoring, wifi
from upstat.devices import store as dstore
from upstat.devices.health import LABELS, Thresholds
from upstat.dialects.openwisp import models as m
from upstat.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from upstat.names import SEGMENT_PATTERN
from upstat.sources import access
from upstat.sources import store as registry
from upstat.sources.models import SLUG_PATTERN, Source
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import Query as EngineQuery
from upstat.timeseries.shapes import iso

PREFIX = "/api/v1/monitoring"


def drf_error(status: int, error: str, message: str, field: str | None) -> dict[str, Any]:
    """DRF's error body."""
    return {"detail": message}


register_error_format(f"{PREFIX}/", drf_error)

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": m.ErrorOut, "description": text}
    for code, text in (
        (400, "Bad Request: the detail names the field"),
        (401, "No credentials"),
        (403, "Wrong key, or a key that may not use this device or route"),
        (404, "No such device (or page)"),
        (413, "Request body over the configured limit"),
        (429, "Rate limit reached: see Retry-After"),
    )
}
router = APIRouter(prefix=PREFIX, tags=["OpenWISP Monitoring"], responses=_ERRORS)


# ---------------------------------------------------------------------------------------------------------
# Parameters

#: The agent's time: ``date -u +'%d-%m-%Y_%H:%M:%S'`` and ``.000000`` (UTC), as OpenWISP's strptime reads it.
AGENT_TIME_PATTERN = r"^[0-9]{2}-[0-9]{2}-[0-9]{4}_[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,6}$"
#: The charts' start and end: "YYYY-MM-DD H:M:S" (UTC), from 1970.
RANGE_TIME_PATTERN = r"^(19[7-9][0-9]|[2-9][0-9]{3})-[0-9]{1,2}-[0-9]{1,2} [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}$"
Timeframe = Literal["1d", "3d", "7d", "30d", "365d"]
LIST_PATTERN = r"^[^,]+(,[^,]+)*$"

DevicePk = Annotated[
    str,
    Path(
        alias="pk",
        min_length=1,
        max_length=200,
        pattern=SEGMENT_PATTERN,
        description="The device's id (a registered source of kind device)",
    ),
]
PageNo = Annotated[int, Query(ge=1, le=1_000_000, description="page number, from 1")]
PageSize = Annotated[int, Query(ge=1, le=100, description="results per page (DRF's page_size), at most 100")]
RangeTime = Annotated[
    str | None,
    Query(
        max_length=40,
        json_schema_extra={"pattern": RANGE_TIME_PATTERN},
        description="'YYYY-MM-DD H:M:S' (UTC), with the other of start/end, instead of time",
    ),
]
RANGE_RULE = "start and end go together, end after start (else 400)"


def agent_time(text: str | None) -> int | None:
    """Epoch ms of the agent's ``time`` (UTC); None when absent. 400 "Incorrect time format" otherwise."""
    if text is None:
        return None
    if not re.match(AGENT_TIME_PATTERN, text):
        raise InvalidInput("Incorrect time format", field="time")
    try:
        parsed = datetime.strptime(text, "%d-%m-%Y_%H:%M:%S.%f").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidInput(f"Incorrect time format: {text!r} is not a real date", field="time") from exc
    return int(parsed.timestamp() * 1000)


def _range_time(text: str, field: str) -> int:
    if not re.match(RANGE_TIME_PATTERN, text):
        raise InvalidInput(f"{field}: must be in the format YYYY-MM-DD H:M:S", field=field)
    try:
        parsed = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidInput(f"{field}: {text!r} is not a real date", field=field) from exc
    return int(parsed.timestamp() * 1000)


def chart_query(time: str | None, start: str | None, end: str | None, now: int) -> EngineQuery:
    """The charts' range: ``start``/``end`` when given (both), else ``time`` (default 7d, as OpenWISP)."""
    if start is None and end is None:
        return EngineQuery(tm.parse_range(time or "7d", now=now))  # 1d ... 365d are intervals already
    if start is None or end is None:
        field = "start" if start is None else "end"
        raise InvalidInput(f"{field}: start and end go together", field=field)
    s, e = _range_time(start, "start"), _range_time(end, "end")
    if e <= s:
        raise InvalidInput("end: must be after start", field="end")
    return EngineQuery(tm.parse_range(None, s, e, now=now))


def names(text: str | None) -> list[str] | None:
    """A comma-separated list (None when absent)."""
    return None if text is None else [v.strip() for v in text.split(",") if v.strip()]


# ---------------------------------------------------------------------------------------------------------
# Callers


def agent(scope: str) -> Callable[..., Principal]:
    """Bearer keys, or the device's key as ``?key=``: a key that is not a valid source key is 403 there, as
    OpenWISP answers a wrong device key."""
    inner = require_source_key_query(scope)

    def dependency(
        request: Request,
        settings: SettingsDep,
        client: RedisDep,
        key: Annotated[str | None, KEY_QUERY] = None,
    ) -> Principal:
        try:
            return inner(request, settings, client, key)
        except Unauthorized as exc:
            if key is None or request.headers.get("authorization"):
                raise
            raise Forbidden("key: wrong device key", field="key") from exc

    return dependency


AgentWriter = Annotated[Principal, Depends(agent("write"))]
AgentReader = Annotated[Principal, Depends(agent("read"))]
#: Reads about one device and its neighbours: organization keys for their own devices, no source keys.
NeighbourReader = Annotated[
    Principal, Depends(require("read", public_setting="public_read", organization_ok=True))
]


def _device(client: Any, caller: Principal, pk: str) -> Source:
    """The device ``pk`` if ``caller`` may use it (403 before 404: nothing is told of others' devices)."""
    access.check_source(client, caller, pk, field="pk")
    return monitoring.require_device(client, pk)


def _thresholds(settings: Any) -> Thresholds:
    return Thresholds.from_settings(settings)


# ---------------------------------------------------------------------------------------------------------
# Mapping


class Orgs:
    """Organization ids by slug and back (one registry read per request)."""

    def __init__(self, client: Any) -> None:
        found = registry.list_organizations(client)
        self.id_of = {o.slug: o.id for o in found}
        self.slug_of = {o.id: o.slug for o in found}


def device_fields(source: Source, orgs: Orgs) -> dict[str, Any]:
    extra = source.extra
    return {
        "id": source.id,
        "name": source.name,
        "organization": orgs.id_of.get(source.organization or ""),
        "organization_slug": source.organization,
        "group": source.group,
        "mac_address": extra.get("mac_address"),
        "management_ip": extra.get("management_ip"),
        "model": source.model,
        "os": extra.get("os"),
        "system": extra.get("system"),
        "notes": extra.get("notes"),
        "created": iso(source.created_at),
        "modified": iso(source.updated_at),
    }


def device_out(d: monitoring.DeviceHealth, orgs: Orgs) -> m.DeviceOut:
    return m.DeviceOut(
        **device_fields(d.source, orgs),
        monitoring=m.MonitoringOut(status=d.status, status_label=LABELS[d.status]),  # type: ignore[arg-type]
    )


def chart_out(chart: dcharts.Chart) -> m.ChartOut:
    return m.ChartOut(
        key=chart.key,
        title=chart.title,
        type=chart.kind,
        unit=chart.unit,
        interface=chart.interface,
        summary=chart.summary,
        traces=[(t.name, t.values) for t in chart.traces],
    )


def page_of(
    request: Request, items: Sequence[Any], page: int, page_size: int
) -> tuple[list[Any], dict[str, Any]]:
    """DRF's page: this page's items and count, next, previous (absolute URLs, the first page without
    ``page``, as DRF writes them). A page past the last is 404 "Invalid page."."""
    pages = max(1, math.ceil(len(items) / page_size))
    if page > pages:
        raise NotFound("Invalid page.", field="page")
    url = request.url
    nxt = str(url.include_query_params(page=page + 1)) if page < pages else None
    if page <= 1:
        prev = None
    elif page == 2:
        prev = str(url.remove_query_params("page"))
    else:
        prev = str(url.include_query_params(page=page - 1))
    chosen = list(items[(page - 1) * page_size : page * page_size])
    return chosen, {"count": len(items), "next": nxt, "previous": prev}


# ---------------------------------------------------------------------------------------------------------
# The agent's report


@router.post(
    "/device/{pk}/",
    summary="Collect a device's metrics and status (NetJSON DeviceMonitoring)",
    description="The monitoring agent's report. `time` (UTC, `%d-%m-%Y_%H:%M:%S.%f`) places data collected "
    "offline at its time (within the raw tier's retention, 48 h by default, and at most 5 minutes ahead); "
    "without it, now. `current=true` is accepted as the agent sends it (a report is current when its time "
    "is at most 5 minutes old: only current reports move the health). A report repeated by the agent's "
    "retry (same time and body) is stored once. Interfaces are named at most once per report. Answers 200 "
    "with an empty body, as OpenWISP does (the agent counts only 200 as success).",
    response_class=Response,
    responses={200: {"description": "Stored (an empty body)", "content": {}}},
)
def collect(
    pk: DevicePk,
    caller: AgentWriter,
    client: RedisDep,
    engine: EngineDep,
    settings: SettingsDep,
    report: Annotated[m.Report, Body()],
    time: Annotated[
        str | None,
        Query(
            max_length=40,
            json_schema_extra={"pattern": AGENT_TIME_PATTERN},
            description="UTC, %d-%m-%Y_%H:%M:%S.%f (e.g. 22-08-2026_14:05:00.000000); else 400 "
            "'Incorrect time format'",
        ),
    ] = None,
    current: Annotated[bool | None, Query(description="sent by the agent with its newest report")] = None,
) -> Response:
    device = _device(client, caller, pk)
    at = agent_time(time)
    now = now_ms()
    received = monitoring.receive(
        client,
        engine,
        device,
        report.model_dump(mode="json", exclude_unset=True),
        report_ms=at,
        now=now,
        thresholds=_thresholds(settings),
    )
    if received.change is not None:
        monitoring.notify(client, [received.change], settings=settings)
    return Response(status_code=200)


# ---------------------------------------------------------------------------------------------------------
# Devices


@router.get(
    "/device/{pk}/",
    summary="A device's charts, health and (with status=true) its latest report",
    description="Device information, health (`monitoring.status`) with its threshold metrics, charts "
    "(uptime, memory, CPU load, disk, traffic per interface, Wi-Fi clients per interface) over `time` "
    f"(default 7d) or `start`/`end` ({RANGE_RULE}), and with `status=true` the latest report.",
)
def device_detail(
    pk: DevicePk,
    caller: AgentReader,
    client: RedisDep,
    engine: EngineDep,
    settings: SettingsDep,
    status: Annotated[bool, Query(description="include the latest report (NetJSON) as `data`")] = False,
    time: Annotated[Timeframe | None, Query(description="1d, 3d, 7d, 30d or 365d (default 7d)")] = None,
    start: RangeTime = None,
    end: RangeTime = None,
) -> m.DeviceDetailOut:
    device = _device(client, caller, pk)
    now = now_ms()
    query = chart_query(time, start, end, now)
    health = monitoring.with_health(client, [device], now=now, thresholds=_thresholds(settings))[0]
    found = dcharts.device_charts(engine, device.id, query, now=now)
    latest = dstore.latest_report(client, device.id) if status else None
    return m.DeviceDetailOut(
        **device_fields(device, Orgs(client)),
        monitoring=m.MonitoringDetailOut(
            status=health.status,  # type: ignore[arg-type]
            status_label=LABELS[health.status],
            related_metrics=[
                m.RelatedMetric(name=k, is_healthy=v) for k, v in sorted(health.metrics.items())
            ],
        ),
        x=[iso(t) for t in found.times],
        resolution=found.resolution,
        charts=[chart_out(c) for c in found.charts],
        data=latest[1] if latest else None,
    )


@router.get(
    "/device/",
    summary="Devices with their health (paginated as DRF)",
    description="Filters: `monitoring__status`, `organization` (an organization's id), `organization_slug`. "
    "An organization key lists only its organization's devices.",
)
def device_list(
    request: Request,
    caller: OrganizationReader,
    client: RedisDep,
    settings: SettingsDep,
    monitoring__status: Annotated[
        Literal["unknown", "ok", "problem", "critical"] | None, Query(description="health status")
    ] = None,
    organization: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    organization_slug: Annotated[str | None, Query(pattern=SLUG_PATTERN)] = None,
    page: PageNo = 1,
    page_size: PageSize = 10,
) -> m.DevicePage:
    orgs = Orgs(client)
    slugs: list[str] | None = None
    if organization is not None:
        slugs = [orgs.slug_of.get(organization, "")]
    if organization_slug is not None:
        slugs = [s for s in (slugs or [organization_slug]) if s == organization_slug]
    found = _visible(client, caller, monitoring.devices(client, organizations=slugs))
    healths = monitoring.with_health(client, found, now=now_ms(), thresholds=_thresholds(settings))
    if monitoring__status is not None:
        healths = [d for d in healths if d.status == monitoring__status]
    chosen, meta = page_of(request, healths, page, page_size)
    return m.DevicePage(**meta, results=[device_out(d, orgs) for d in chosen])


def _visible(client: Any, caller: Principal, devices: list[Source]) -> list[Source]:
    allowed = set(access.visible(client, caller, [d.id for d in devices]))
    return [d for d in devices if d.id in allowed]


@router.get(
    "/dashboard/",
    summary="Charts across the selected devices (total traffic, total Wi-Fi clients, devices by status)",
    description="Selects devices by `organization_slug`, `location_id` (a device's `extra.location_id`), "
    "`floorplan_id` (a device's `floorplan`): comma-separated lists. Range: `time` (default 7d) or "
    f"`start`/`end` ({RANGE_RULE}). An organization key sees only its organization's devices.",
)
def dashboard(
    caller: OrganizationReader,
    client: RedisDep,
    engine: EngineDep,
    settings: SettingsDep,
    organization_slug: Annotated[str | None, Query(max_length=2000, pattern=LIST_PATTERN)] = None,
    location_id: Annotated[str | None, Query(max_length=2000, pattern=LIST_PATTERN)] = None,
    floorplan_id: Annotated[str | None, Query(max_length=2000, pattern=LIST_PATTERN)] = None,
    time: Annotated[Timeframe | None, Query(description="1d, 3d, 7d, 30d or 365d (default 7d)")] = None,
    start: RangeTime = None,
    end: RangeTime = None,
) -> m.DashboardOut:
    now = now_ms()
    query = chart_query(time, start, end, now)
    found = monitoring.devices(
        client,
        organizations=names(organization_slug),
        floorplans=names(floorplan_id),
        locations=names(location_id),
    )
    found = _visible(client, caller, found)
    healths = monitoring.with_health(client, found, now=now, thresholds=_thresholds(settings))
    charts = dcharts.dashboard_charts(engine, [d.id for d in found], query, now=now)
    return m.DashboardOut(
        devices=len(found),
        by_status=monitoring.status_counts(healths),
        x=[iso(t) for t in charts.times],
        resolution=charts.resolution,
        charts=[chart_out(c) for c in charts.charts],
    )


@router.get(
    "/device/{pk}/nearby-devices/",
    summary="Devices near one, nearest first, with their distance in metres and health",
    description="Redis GEO over the registered devices' locations (haversine, metres). Filters: "
    "`organization` (id), `organization__slug`, `monitoring__status`, `model` (`|`-separated), "
    "`distance__lte` (metres). An organization key sees only its organization's devices.",
)
def nearby_devices(
    request: Request,
    pk: DevicePk,
    caller: NeighbourReader,
    client: RedisDep,
    settings: SettingsDep,
    organization: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    organization__slug: Annotated[str | None, Query(pattern=SLUG_PATTERN)] = None,
    monitoring__status: Annotated[
        Literal["unknown", "ok", "problem", "critical"] | None, Query(description="health status")
    ] = None,
    model: Annotated[
        str | None, Query(min_length=1, max_length=2000, description="models, '|'-separated")
    ] = None,
    distance__lte: Annotated[float | None, Query(ge=0, le=21_000_000, description="metres")] = None,
    page: PageNo = 1,
    page_size: PageSize = 10,
) -> m.NearbyPage:
    _device(client, caller, pk)
    orgs = Orgs(client)
    now = now_ms()
    found = monitoring.nearby(client, pk, now=now, thresholds=_thresholds(settings), within_m=distance__lte)
    allowed = set(access.visible(client, caller, [n.device.source.id for n in found]))
    models = set(model.split("|")) if model is not None else None
    chosen = [
        n
        for n in found
        if n.device.source.id in allowed
        and (organization is None or orgs.id_of.get(n.device.source.organization or "") == organization)
        and (organization__slug is None or n.device.source.organization == organization__slug)
        and (monitoring__status is None or n.device.status == monitoring__status)
        and (models is None or n.device.source.model in models)
    ]
    shown, meta = page_of(request, chosen, page, page_size)
    reports = dstore.latest_reports(client, [n.device.source.id for n in shown])
    results = []
    for n, data in zip(shown, reports, strict=True):
        fields = device_fields(n.device.source, orgs)
        for drop in ("organization_slug", "created", "modified"):
            fields.pop(drop)
        results.append(
            m.NearbyOut(
                **fields,
                distance=n.distance_m,
                monitoring_status=n.device.status,  # type: ignore[arg-type]
                monitoring_data=data,
            )
        )
    return m.NearbyPage(**meta, results=results)


# ---------------------------------------------------------------------------------------------------------
# Wi-Fi sessions

TimeFilter = Annotated[
    str | None,
    Query(
        max_length=40,
        pattern=tm.DATETIME_PATTERN,
        description="ISO 8601 or 'YYYY-MM-DD H:M:S' (UTC when no offset)",
    ),
]


def session_out(s: wifi.Session, device: Source | None, orgs: Orgs) -> m.WifiSessionOut:
    return m.WifiSessionOut(
        id=s.id,
        organization=orgs.id_of.get(device.organization or "") if device else None,
        device=device.name if device else s.device,
        device_id=s.device,
        ssid=s.ssid,
        interface_name=s.interface,
        client=m.WifiClientOut(
            mac_address=s.mac,
            vendor=s.vendor,
            wifi6=str(s.he),
            wifi5=str(s.vht),
            wifi4=str(s.ht),
            wmm=s.wmm,
            wds=s.wds,
            wps=s.wps,
        ),
        start_time=iso(s.start),
        stop_time=None if s.stop is None else iso(s.stop),
        modified=iso(s.modified),
    )


def _time_filters(**given: str | None) -> list[tuple[str, str, int]]:
    """(field, lookup, epoch ms) of each time filter given."""
    out = []
    for name, text in given.items():
        if text is None:
            continue
        field, _, lookup = name.partition("__")
        out.append((field, lookup or "exact", tm.parse_datetime(text, field=name)))
    return out


_COMPARE = {
    "exact": lambda a, b: a == b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _passes(s: wifi.Session, filters: list[tuple[str, str, int]]) -> bool:
    for field, lookup, t in filters:
        value = s.start if field == "start_time" else s.stop
        if value is None or not _COMPARE[lookup](value, t):
            return False
    return True


@router.get(
    "/wifi-session/",
    summary="Wi-Fi sessions (stations appearing in and leaving successive reports), newest first",
    description="Filters: `device__organization` (organization id), `device` (device id), `device__group` "
    "(group name), `start_time` and `stop_time`, each also with `__gt`, `__gte`, `__lt`, `__lte`. An open "
    "session has `stop_time` null (a `stop_time` filter leaves it out). Paginated as DRF.",
)
def wifi_sessions(
    request: Request,
    caller: OrganizationReader,
    client: RedisDep,
    device__organization: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    device: Annotated[str | None, Query(min_length=1, max_length=200, pattern=SEGMENT_PATTERN)] = None,
    device__group: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    start_time: TimeFilter = None,
    start_time__gt: TimeFilter = None,
    start_time__gte: TimeFilter = None,
    start_time__lt: TimeFilter = None,
    start_time__lte: TimeFilter = None,
    stop_time: TimeFilter = None,
    stop_time__gt: TimeFilter = None,
    stop_time__gte: TimeFilter = None,
    stop_time__lt: TimeFilter = None,
    stop_time__lte: TimeFilter = None,
    page: PageNo = 1,
    page_size: PageSize = 10,
) -> m.WifiSessionPage:
    filters = _time_filters(
        start_time=start_time,
        start_time__gt=start_time__gt,
        start_time__gte=start_time__gte,
        start_time__lt=start_time__lt,
        start_time__lte=start_time__lte,
        stop_time=stop_time,
        stop_time__gt=stop_time__gt,
        stop_time__gte=stop_time__gte,
        stop_time__lt=stop_time__lt,
        stop_time__lte=stop_time__lte,
    )
    orgs = Orgs(client)
    sessions = [s for s in wifi.list_sessions(client) if device is None or s.device == device]
    allowed = set(access.visible(client, caller, list({s.device for s in sessions})))
    ids = sorted(allowed)
    devices = {s.id: s for s in registry.get_sources(client, ids) if s is not None}
    chosen = []
    for s in sessions:
        owner = devices.get(s.device)
        if owner is None or s.device not in allowed or not _passes(s, filters):  # None: unregistered since
            continue
        if device__organization is not None and (
            owner is None or orgs.id_of.get(owner.organization or "") != device__organization
        ):
            continue
        if device__group is not None and (owner is None or owner.group != device__group):
            continue
        chosen.append(s)
    shown, meta = page_of(request, chosen, page, page_size)
    return m.WifiSessionPage(**meta, results=[session_out(s, devices.get(s.device), orgs) for s in shown])


@router.get(
    "/wifi-session/{id}/",
    summary="One Wi-Fi session",
    description="404 for an unknown id; an organization key reads its organization's devices' sessions only.",
)
def wifi_session(
    session_id: Annotated[str, Path(alias="id", min_length=1, max_length=100, pattern=SEGMENT_PATTERN)],
    caller: OrganizationReader,
    client: RedisDep,
) -> m.WifiSessionOut:
    found = wifi.get_session(client, session_id)
    if found is None:
        raise NotFound("Not found.", field="id")
    access.check_source(client, caller, found.device, field="id")
    return session_out(found, registry.get_source(client, found.device), Orgs(client))
