"""The request and response shapes of upstat's own uptime routes (/v1), with the examples the OpenAPI
document shows.

API shapes only: the domain models (``ServiceIn``, ``ServiceUpdate``, ``Service``) live in
:mod:`upstat.uptime.models`, maintenance windows in :mod:`upstat.uptime.maintenance`. Each ``of``
constructor turns a domain value into its response shape, so the routes stay one call into the library.

"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from upstat.uptime.maintenance import Window, is_active
from upstat.uptime.models import ServiceFields, mask_url
from upstat.uptime.state import OVERALL_RULE

if TYPE_CHECKING:  # type-only: keeps the import of this module as cheap as routes.py's was
    from upstat.uptime.checklog import CheckEntry
    from upstat.uptime.checks import CheckResult
    from upstat.uptime.models import Service
    from upstat.uptime.reports import DayBar, StatusRow, UptimeSpan
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

#: A service as the /v1 routes answer it: every field by its wire name (``pushToken`` is null except in the
#: answer to a push monitor's creation or token rotation).
SERVICE_VIEW_EXAMPLE: dict[str, Any] = {
    **SERVICE_EXAMPLE,
    "kind": "http",
    "headers": {},
    "body": None,
    "keywordAbsent": False,
    "followRedirects": True,
    "certWarningDays": 14,
    "visible": True,
    "paused": False,
    "dnsExpected": [],
    "dnsRecordType": "A",
    "grace": 60,
    "webhooks": [],
    "id": "9f2c4e1a0b3d5c7e",
    "createdAt": T0,
    "updatedAt": T0,
    "version": 1,
    "pushToken": None,
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

    model_config = ConfigDict(json_schema_extra={"examples": [SERVICE_VIEW_EXAMPLE]})

    id: str
    created_at: int
    updated_at: int
    version: int
    push_token: str | None = None

    @classmethod
    def of(cls, service: Service, *, secret: bool = False, reveal: bool = False) -> ServiceView:
        """The service's every field; the push token only with ``secret`` (when created or rotated), the
        target's credentials only with ``reveal`` (else ``********``)."""
        return cls.model_validate(service.public(include_secret=secret, reveal=reveal))


class ServiceList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"services": [SERVICE_VIEW_EXAMPLE]}]})
    services: list[ServiceView]


class Deleted(BaseModel):
    """What was deleted: a service's name, or a maintenance window's id."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"deleted": "api"}, {"deleted": "3a420981bc57"}]}
    )
    deleted: str


class CheckNow(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "api",
                    "status": "up",
                    "code": 200,
                    "responseTime": 84.2,
                    "errorKind": None,
                    "error": None,
                    "timestamp": T0,
                },
                {
                    "name": "api",
                    "status": "down",
                    "code": 503,
                    "responseTime": 212.7,
                    "errorKind": "status",
                    "error": "HTTP 503",
                    "timestamp": T0,
                },
            ]
        }
    )
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


class Coverages(Uptimes):
    """Per window, the % of the expected checks that ran (one per interval, rounded up to the minute, since
    the service was created); null where none was expected yet. Below 100: upstat did not watch all the
    time, so the uptime beside it covers only part of the window."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{"24h": 100.0, "7d": 98.51, "30d": 99.65, "90d": None}]},
    )


SERVICE_STATUS_EXAMPLE: dict[str, Any] = {
    "name": "api",
    "description": "Public API",
    "url": "https://api.example.com/health",
    "kind": "http",
    "group": "backend",
    "tags": ["prod"],
    "visible": True,
    "paused": False,
    "status": "up",
    "since": T0 - 3_600_000,
    "lastChecked": T0,
    "responseTime": 84.2,
    "lastCode": 200,
    "lastError": None,
    "lastErrorKind": None,
    "certDays": 63.5,
    "openIncident": None,
    "uptime": {"24h": 100.0, "7d": 99.9504, "30d": 99.98, "90d": None},
    "coverage": {"24h": 100.0, "7d": 98.51, "30d": 99.65, "90d": None},
}


class ServiceStatus(BaseModel):
    model_config = ConfigDict(**_CAMEL, json_schema_extra={"examples": [SERVICE_STATUS_EXAMPLE]})
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
    coverage: Coverages

    @classmethod
    def of(
        cls, row: StatusRow, uptime: dict[str, float | None], coverage: dict[str, float | None]
    ) -> ServiceStatus:
        """A status row with its uptime and coverage per window (``reports.window_figures``)."""
        s = row.state
        return cls(
            name=row.name,
            description=row.description,
            url=mask_url(row.display.url),
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
            coverage=Coverages.model_validate(coverage),
        )


class StatusOverview(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"overall": "up", "updated": T0, "services": [SERVICE_STATUS_EXAMPLE]}]
        }
    )
    overall: str = Field(description=OVERALL_RULE)
    updated: int
    services: list[ServiceStatus]


class UptimeBucket(BaseModel):
    start: int
    uptime: float | None = Field(description="% of checks up; null: no check ran (unknown)")
    checks: int
    coverage: float | None = Field(description="% of the bucket's expected checks that ran")


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
                    "coverage": 100.0,
                    "buckets": [{"start": T0, "uptime": 100.0, "checks": 30, "coverage": 100.0}],
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
    coverage: float | None = Field(
        description="% of the expected checks that ran (null: none expected, e.g. before the service existed)"
    )
    buckets: list[UptimeBucket] = Field(
        description="every bucket since the service existed; one where no check ran reads unknown"
    )

    @classmethod
    def of(cls, name: str, span: UptimeSpan) -> UptimeOut:
        return cls(
            name=name,
            start=span.start,
            end=span.end,
            resolution=span.resolution,
            uptime=span.uptime,
            checks=span.checks,
            downChecks=span.down_checks,
            coverage=span.coverage,
            buckets=[
                UptimeBucket(start=b.start, uptime=b.uptime, checks=b.checks, coverage=b.coverage)
                for b in span.buckets
            ],
        )


class DailyBar(BaseModel):
    date: str = Field(description="YYYY-MM-DD in the requested time zone")
    start: int
    uptime: float | None
    checks: int
    downChecks: int
    coverage: float | None = Field(description="% of the day's expected checks that ran")

    @classmethod
    def of(cls, bar: DayBar) -> DailyBar:
        return cls(
            date=bar.date,
            start=bar.start,
            uptime=bar.uptime,
            checks=bar.checks,
            downChecks=bar.down_checks,
            coverage=bar.coverage,
        )


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


CHECK_ITEM_EXAMPLES: list[Any] = [
    {
        "timestamp": T0,
        "status": "up",
        "code": 200,
        "responseTime": 80.0,
        "error": None,
        "maintenance": False,
    },
    {
        "timestamp": T0 + 60_000,
        "status": "down",
        "code": 503,
        "responseTime": 212.7,
        "error": "HTTP 503",
        "maintenance": False,
    },
]


class CheckItem(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": CHECK_ITEM_EXAMPLES})
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


INCIDENT_EXAMPLE: dict[str, Any] = {
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


class IncidentOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [INCIDENT_EXAMPLE]})
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
    model_config = ConfigDict(json_schema_extra={"examples": [{"incidents": [INCIDENT_EXAMPLE]}]})
    incidents: list[IncidentOut]


# ----------------------------------------------------------------------------------------------------
# Maintenance windows and push monitors


#: Stored windows as the routes answer them: a global one-off and a service's recurring one.
WINDOW_OUT_EXAMPLES: list[Any] = [
    {
        "title": "Database upgrade",
        "start": T0,
        "end": T0 + 3_600_000,
        "recurring": None,
        "id": "08775058d113",
        "serviceId": None,
        "active": False,
    },
    {
        "title": "Nightly backup",
        "start": None,
        "end": None,
        "recurring": {"days": [0, 1, 2, 3, 4], "start": "02:00", "durationMinutes": 30, "tz": "UTC"},
        "id": "3a420981bc57",
        "serviceId": "9f2c4e1a0b3d5c7e",
        "active": False,
    },
]


class WindowOut(Window):
    model_config = ConfigDict(json_schema_extra={"examples": WINDOW_OUT_EXAMPLES})
    active: bool = Field(description="the window is in force now")

    @classmethod
    def of(cls, window: Window, now: int) -> WindowOut:
        """A stored window, with whether it is in force at ``now`` (epoch ms)."""
        return cls(**window.model_dump(), active=is_active(window, now))


class WindowList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"windows": [w]} for w in WINDOW_OUT_EXAMPLES]})
    windows: list[WindowOut]


class Beat(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ok": True, "recorded": True, "status": "up"}]}
    )
    ok: bool = True
    recorded: bool = Field(description="false for a paused monitor or a repeated beat")
    status: str


class CheckHistoryOut(BaseModel):
    """A service's check log within the history TTL, oldest first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "api", "ttl": 2_592_000, "checks": CHECK_ITEM_EXAMPLES}]}
    )
    name: str
    ttl: int = Field(description="history TTL in seconds (0 = unlimited)")
    checks: list[CheckItem]
