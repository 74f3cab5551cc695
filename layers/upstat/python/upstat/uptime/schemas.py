"""The request and response shapes of upstat's own uptime routes (/v1), with the examples the OpenAPI
document shows.

API shapes only: the domain models (``ServiceIn``, ``ServiceUpdate``, ``Service``) live in
:mod:`upstat.uptime.models`, maintenance windows in :mod:`upstat.uptime.maintenance`. Each ``of``
constructor turns a domain value into its response shape, so the routes stay one call into the library.

One response model stays in routes.py: ``HistoryOut`` (see there why).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from upstat.uptime.maintenance import Window, is_active
from upstat.uptime.models import ServiceFields

if TYPE_CHECKING:  # type-only: keeps the import of this module as cheap as routes.py's was
    from upstat.uptime.checklog import CheckEntry
    from upstat.uptime.checks import CheckResult
    from upstat.uptime.models import Service
    from upstat.uptime.reports import StatusRow
    from upstat.uptime.state import ServiceState

_CAMEL = ConfigDict(alias_generator=to_camel, populate_by_name=True)
#: 2026-01-01T00:00:00Z, the time the examples are set at.
T0 = 1767225600000

SERVICE_EXAMPLE: dict[str, Any] = {
    "name": "api",
    "url": "https://api.example.com/health",
    "description": "Public API",
    "expectedStatus": "200-299",
    "method": "GET",
    "timeout": 5000,
    "interval": 60,
    "keyword": "ok",
    "degradedMs": 1500,
    "confirmations": {"down": 3, "up": 1},
    "group": "backend",
    "tags": ["prod"],
}

WINDOW_EXAMPLES = [
    {"title": "Database upgrade", "start": T0, "end": T0 + 3_600_000},
    {
        "title": "Nightly backup",
        "recurring": {"days": [0, 1, 2, 3, 4], "start": "02:00", "durationMinutes": 30},
    },
]


# ----------------------------------------------------------------------------------------------------
# Services


class ServiceView(ServiceFields):
    """A service with every field. ``pushToken`` (push monitors) appears only when created or rotated: it
    is the credential of the monitor's push URL ``/v1/push/<pushToken>``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{**SERVICE_EXAMPLE, "id": "9f2c4e1a0b3d5c7e"}]})

    id: str
    created_at: int
    updated_at: int
    version: int
    push_token: str | None = None

    @classmethod
    def of(cls, service: Service, *, secret: bool = False) -> ServiceView:
        """The service's every field; the push token only with ``secret`` (when created or rotated)."""
        return cls.model_validate(service.public(include_secret=secret))


class ServiceList(BaseModel):
    services: list[ServiceView]


class Deleted(BaseModel):
    deleted: str


class CheckNow(BaseModel):
    name: str
    status: str
    code: int | None
    responseTime: float | None
    errorKind: str | None
    error: str | None
    timestamp: int

    @classmethod
    def of(cls, service: Service, result: CheckResult, state: ServiceState) -> CheckNow:
        """One check run now: the result with the status it settled the service in."""
        return cls(
            name=service.name,
            status=state.status,
            code=result.code,
            responseTime=result.response_ms,
            errorKind=result.error_kind,
            error=result.error,
            timestamp=result.checked_at_ms,
        )


# ----------------------------------------------------------------------------------------------------
# Status and uptime


class Uptimes(BaseModel):
    """Uptime % per window (null where the window holds no check)."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{"24h": 100.0, "7d": 99.9504, "30d": 99.98, "90d": None}]},
    )
    h24: float | None = Field(None, alias="24h")
    d7: float | None = Field(None, alias="7d")
    d30: float | None = Field(None, alias="30d")
    d90: float | None = Field(None, alias="90d")


class ServiceStatus(BaseModel):
    model_config = _CAMEL
    name: str
    description: str
    url: str
    kind: str
    group: str | None
    tags: list[str]
    visible: bool
    paused: bool
    status: str = Field(description="pending, up, degraded, down, maintenance or paused")
    since: int | None = Field(description="epoch ms the settled status began")
    last_checked: int | None
    response_time: float | None
    last_code: int | None
    last_error: str | None
    last_error_kind: str | None
    cert_days: float | None
    open_incident: int | None = Field(description="start (epoch ms) of the open incident, if any")
    uptime: Uptimes

    @classmethod
    def of(cls, row: StatusRow, uptime: dict[str, float | None]) -> ServiceStatus:
        """A status row with its uptime per window (``reports.uptime_windows``)."""
        s = row.state
        return cls(
            name=row.name,
            description=row.description,
            url=row.display.url,
            kind=row.display.kind,
            group=row.display.group,
            tags=list(row.display.tags),
            visible=row.visible,
            paused=row.paused,
            status=row.status,
            since=s.since_ms,
            last_checked=row.last_checked,
            response_time=s.last_ms,
            last_code=s.last_code,
            last_error=s.last_error,
            last_error_kind=s.last_error_kind,
            cert_days=s.cert_days,
            open_incident=s.incident_start_ms if s.incident_id else None,
            uptime=Uptimes.model_validate(uptime),
        )


class StatusOverview(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"overall": "up", "updated": T0, "services": []}]}
    )
    overall: str = Field(
        description="down if any is down, else degraded if any is degraded, else up; pending while no "
        "service has been checked yet; unknown with no service"
    )
    updated: int
    services: list[ServiceStatus]


class UptimeBucket(BaseModel):
    start: int
    uptime: float | None
    checks: int


class UptimeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "api",
                    "start": T0,
                    "end": T0 + 86_400_000,
                    "resolution": "30m",
                    "uptime": 99.65,
                    "checks": 1440,
                    "downChecks": 5,
                    "buckets": [{"start": T0, "uptime": 100.0, "checks": 30}],
                }
            ]
        }
    )
    name: str
    start: int
    end: int
    resolution: str
    uptime: float | None = Field(description="% of checks up (degraded counts as up); null without checks")
    checks: int
    downChecks: int
    buckets: list[UptimeBucket]


class DailyBar(BaseModel):
    date: str = Field(description="YYYY-MM-DD in the requested time zone")
    start: int
    uptime: float | None
    checks: int
    downChecks: int


class DailyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "api",
                    "tz": "UTC",
                    "days": [
                        {"date": "2026-01-01", "start": T0, "uptime": 99.93, "checks": 1440, "downChecks": 1}
                    ],
                }
            ]
        }
    )
    name: str
    tz: str
    days: list[DailyBar]


class ResponseTimes(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "api",
                    "start": T0,
                    "end": T0 + 86_400_000,
                    "resolution": "30m",
                    "tier": "5m",
                    "count": 1440,
                    "avg": 84.2,
                    "min": 41.0,
                    "max": 950.5,
                    "p50": 80.1,
                    "p95": 120.4,
                    "p99": 310.0,
                    "exact": True,
                }
            ]
        }
    )
    name: str
    start: int
    end: int
    resolution: str
    tier: str | None
    count: int
    avg: float | None
    min: float | None
    max: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    exact: bool = Field(
        description="true when the percentiles come from the raw points covering the whole range; false when "
        "from bucket averages (beyond the raw tier's retention): avg, min, max and count are exact either way"
    )


# ----------------------------------------------------------------------------------------------------
# Check history


class CheckItem(BaseModel):
    timestamp: int
    status: str
    code: int | None
    responseTime: float | None
    error: str | None
    maintenance: bool

    @classmethod
    def of(cls, entry: CheckEntry) -> CheckItem:
        """One logged check."""
        return cls(
            timestamp=entry.timestamp,
            status=entry.status,
            code=entry.code,
            responseTime=entry.response_ms,
            error=entry.error,
            maintenance=entry.maintenance,
        )


# ----------------------------------------------------------------------------------------------------
# Incidents


class IncidentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": str(T0),
                    "service": "api",
                    "serviceId": "9f2c4e1a0b3d5c7e",
                    "start": T0,
                    "end": T0 + 300_000,
                    "durationMs": 300_000,
                    "cause": "HTTP 503",
                    "errorKind": "status",
                    "open": False,
                }
            ]
        }
    )
    id: str
    service: str | None = Field(description="the service's current name (null if it was deleted)")
    serviceId: str
    start: int
    end: int | None
    durationMs: int | None
    cause: str | None
    errorKind: str | None
    open: bool


class IncidentList(BaseModel):
    incidents: list[IncidentOut]


# ----------------------------------------------------------------------------------------------------
# Maintenance windows and push monitors


class WindowOut(Window):
    active: bool = Field(description="the window is in force now")

    @classmethod
    def of(cls, window: Window, now: int) -> WindowOut:
        """A stored window, with whether it is in force at ``now`` (epoch ms)."""
        return cls(**window.model_dump(), active=is_active(window, now))


class WindowList(BaseModel):
    windows: list[WindowOut]


class Beat(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ok": True, "recorded": True, "status": "up"}]}
    )
    ok: bool = True
    recorded: bool = Field(description="false for a paused monitor or a repeated beat")
    status: str
