"""``/v1/sources``: the dashboard's list of every source (metrics, last report, health, and the registry's
fields of registered ones), and the registry itself: register a source (with a source key, shown once),
read, change and delete one.

Reads need the read scope (a source key reads its own source; an organization key sees only its
organization's sources); writes need admin.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from upstat.api.deps import Admin, BoundReader, EngineDep, OrganizationReader, RedisDep, SettingsDep
from upstat.api.errors import ErrorBody
from upstat.api.schemas.sources import (
    SOURCE_EXAMPLE,
    Kind,
    LocationOut,
    SourceCreate,
    SourceCreated,
    SourceDeleted,
    SourcePublic,
    SourceUpdate,
)
from upstat.clock import now_ms
from upstat.devices import monitoring as devices
from upstat.names import NAME_PATTERN, SEGMENT_PATTERN
from upstat.sources import models, registration
from upstat.sources import store as registry
from upstat.sources.access import check_source
from upstat.sources.models import Source
from upstat.timeseries import catalog
from upstat.timeseries.ingest import is_internal
from upstat.uptime import reports
from upstat.uptime.keyspace import service_source

router = APIRouter(prefix="/v1", tags=["sources"])

T0 = 1767225600000
UNREGISTERED: dict[str, Any] = {
    "registered": False,
    "name": None,
    "kind": None,
    "organization": None,
    "model": None,
    "group": None,
    "location": None,
    "floorplan": None,
    "extra": None,
    "createdAt": None,
    "updatedAt": None,
}
_EXAMPLE: dict[str, Any] = {
    "sources": [
        {
            "source": "service:9f2c4e1a0b3d5c7e",
            "service": "api",
            "metrics": ["degraded", "response_ms", "up"],
            "lastSeen": T0 - 30_000,
            "health": "up",
            **UNREGISTERED,
        },
        {
            "source": "edge-router",
            "service": None,
            "metrics": ["bytes_in", "cpu_percent"],
            "lastSeen": T0,
            "health": "active",
            "registered": True,
            **{k: v for k, v in SOURCE_EXAMPLE.items() if k != "id"},
            "createdAt": T0 - 86_400_000,
            "updatedAt": T0 - 86_400_000,
        },
        {
            "source": "lab-probe",
            "service": None,
            "metrics": ["rtt_ms"],
            "lastSeen": T0 - 7_200_000,
            "health": "quiet",
            **UNREGISTERED,
        },
    ]
}


class SourceOut(BaseModel):
    source: str = Field(description="the source to pass to /v1/chart (a registered source's id)")
    service: str | None = Field(description="the monitored service behind a service:<id> source")
    metrics: list[str]
    lastSeen: int | None = Field(description="time of the newest point of any of its metrics (epoch ms)")
    health: str = Field(
        description="a service's status (up, degraded, down, maintenance, pending, paused); for other "
        "sources: active (a point in the last 15 min), quiet (in the last 26 h), silent (older), empty"
    )
    registered: bool = Field(description="whether the registry knows it (the fields below are null if not)")
    name: str | None
    kind: Kind | None
    organization: str | None
    model: str | None
    group: str | None
    location: LocationOut | None
    floorplan: str | None
    extra: dict[str, str] | None
    createdAt: int | None
    updatedAt: int | None


class SourceList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})
    sources: list[SourceOut]


def _registry_fields(source: Source) -> dict[str, Any]:
    public = public_source(source).model_dump()
    public.pop("id")
    return {"registered": True, **public}


def public_source(source: Source) -> SourcePublic:
    where = source.location
    return SourcePublic(
        id=source.id,
        name=source.name,
        kind=source.kind,  # type: ignore[arg-type]
        organization=source.organization,
        model=source.model,
        group=source.group,
        location=None if where is None else LocationOut(lat=where.lat, lng=where.lng),
        floorplan=source.floorplan,
        extra=source.extra,
        channels=list(source.channels),
        createdAt=source.created_at,
        updatedAt=source.updated_at,
    )


def _row(
    source: str, summary: catalog.SourceSummary | None, now: int, registered: Source | None
) -> SourceOut:
    last = summary.last_seen if summary else None
    return SourceOut(
        source=source,
        service=None,
        metrics=summary.metrics if summary else [],
        lastSeen=last,
        health=catalog.freshness(last, now),
        **(_registry_fields(registered) if registered else UNREGISTERED),
    )


Filter = Annotated[str | None, Query(min_length=1, max_length=200, pattern=NAME_PATTERN)]
LIST_NOTE = (
    "Any filter lists registered sources only (monitored services and unregistered sources have no kind, "
    "organization or group). An organization key sees only its organization's registered sources."
)


@router.get(
    "/sources",
    summary="Every source with its metrics, last report, health and registry fields",
    response_model=SourceList,
    description=LIST_NOTE,
)
def list_sources(
    engine: EngineDep,
    client: RedisDep,
    caller: OrganizationReader,
    kind: Annotated[
        Kind | None, Query(description="device, vpn-server, exporter, backup-server, service")
    ] = None,
    organization: Annotated[str | None, Query(pattern=models.SLUG_PATTERN, description="a slug")] = None,
    group: Filter = None,
    model: Filter = None,
    floorplan: Filter = None,
) -> SourceList:
    """Services first (in the order they were added, hidden ones too: this needs a read key), then users'
    sources, then registered sources that sent nothing yet. Without filters: three round trips for the
    sources, two for the services' states, two for the registry."""
    now = now_ms()
    filters = {
        "kind": kind,
        "organization": organization,
        "group": group,
        "model": model,
        "floorplan": floorplan,
    }
    if caller.organization is not None:
        if organization not in (None, caller.organization):
            return SourceList(sources=[])
        filters["organization"] = caller.organization
    registered = {s.id: s for s in registry.list_sources(client, **filters)}
    if any(v is not None for v in filters.values()):
        found = {s.source: s for s in catalog.summaries(engine, list(registered))}
        return SourceList(sources=[_row(sid, found.get(sid), now, s) for sid, s in registered.items()])
    found = {s.source: s for s in catalog.summaries(engine)}
    out = [_service_row(row, found.get(service_source(row.id))) for row in reports.status_rows(client)]
    out += [_row(sid, s, now, registered.get(sid)) for sid, s in found.items() if not is_internal(sid)]
    out += [_row(sid, None, now, s) for sid, s in registered.items() if sid not in found]
    return SourceList(sources=out)


def _service_row(row: Any, seen: catalog.SourceSummary | None) -> SourceOut:
    return SourceOut(
        source=service_source(row.id),
        service=row.name,
        metrics=seen.metrics if seen else [],
        lastSeen=seen.last_seen if seen else None,
        health=row.status,
        **UNREGISTERED,
    )


# --------------------------------------------------------------------------------------------------------
# The registry

SourcePath = Annotated[
    str,
    Path(alias="id", min_length=1, max_length=200, pattern=SEGMENT_PATTERN, description="The source's id"),
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No registered source with this id"}
}
BUSY: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The source kept changing under this request: try again"}
}
BAD_ORGANIZATION = "A field breaks a rule (the message names it), e.g. an organization that does not exist"


@router.post(
    "/sources",
    status_code=201,
    summary="Register a source; the answer holds its source key, shown only here",
    responses={
        400: {"model": ErrorBody, "description": BAD_ORGANIZATION},
        409: {"model": ErrorBody, "description": "A source with this id is already registered"},
    },
)
def create(
    body: SourceCreate, response: Response, client: RedisDep, settings: SettingsDep, caller: Admin
) -> SourceCreated:
    """The source key reads and writes this source only (like OpenWISP's device key): give it to the agent.
    Registering a source that already sent data keeps its series."""
    fields = body.model_dump(exclude={"id", "kind"}, exclude_none=True)
    done = registration.register(
        client, settings, body.id, kind=body.kind, now_ms=now_ms(), created_by=caller.key_id, **fields
    )
    response.headers["Cache-Control"] = "no-store"
    return SourceCreated(**public_source(done.source).model_dump(), key_id=done.key_id, key=done.token)


@router.get(
    "/sources/{id}",
    summary="One registered source",
    responses={
        **NOT_FOUND,
        403: {"model": ErrorBody, "description": "A key bound to another source or organization"},
    },
)
def show(source_id: SourcePath, client: RedisDep, caller: BoundReader) -> SourcePublic:
    check_source(client, caller, source_id, field="id")
    return public_source(_require(client, source_id))


@router.patch(
    "/sources/{id}",
    summary="Change a registered source's fields",
    responses={**NOT_FOUND, **BUSY, 400: {"model": ErrorBody, "description": BAD_ORGANIZATION}},
)
def update(source_id: SourcePath, body: SourceUpdate, client: RedisDep, _: Admin) -> SourcePublic:
    changes = body.changes()
    if changes.get("channels"):
        from upstat.notify.store import ChannelStore

        ChannelStore(client).refuse_unknown(changes["channels"])
    return public_source(registry.update_source(client, source_id, now_ms=now_ms(), **changes))


@router.delete(
    "/sources/{id}",
    summary="Unregister a source, delete its series and revoke its keys",
    description="Its source keys are revoked first (so its agent stops writing), then its series are "
    "deleted, then the source is unregistered.",
    responses={**NOT_FOUND, **BUSY},
)
def delete(
    source_id: SourcePath, client: RedisDep, engine: EngineDep, settings: SettingsDep, _: Admin
) -> SourceDeleted:
    done = registration.remove(client, settings, engine, source_id, now_ms=now_ms())
    devices.forget(client, source_id)  # a device's health, latest report and Wi-Fi sessions go with it
    return SourceDeleted(deleted=source_id, series=done.series, keys_revoked=done.keys_revoked)


def _require(client: Any, source_id: str) -> Source:
    found = registry.get_source(client, source_id)
    if found is None:
        raise registry.not_registered(source_id)
    return found
