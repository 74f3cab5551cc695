"""The status page's data: one public route the page reads on every refresh (``GET /v1/status/page``).

Public while ``UPSTAT_PUBLIC_STATUS_PAGE`` is on (the default), otherwise a read key is needed. Only
visible services appear, with their display fields (see ``upstat.uptime.status_page``). The answer has an
ETag (a hash of the body) and a short max-age, so API Gateway, a CDN and the browser can revalidate it
with ``If-None-Match`` and get a 304 while nothing changed.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from upstat.api.caching import cacheable
from upstat.api.deps import EngineDep, RedisDep, SettingsDep, require
from upstat.api.params import UTC, Tz
from upstat.auth import Principal
from upstat.clock import now_ms
from upstat.uptime import status_page

router = APIRouter(prefix="/v1", tags=["status page"])

PublicReader = Annotated[Principal, Depends(require("read", public_setting="public_status_page"))]
#: Seconds a cache may keep the body: well under the page's refresh (60 s) and the shortest check interval
#: (30 s), so a reader is at most this late, while a burst of readers costs one computation per period.
MAX_AGE_S = 15

T0 = 1767225600000  # 2026-01-01T00:00:00Z
DAY = 86_400_000
_EXAMPLE: dict[str, Any] = {
    "title": "Service status",
    "state": "partial_outage",
    "updated": T0 + 3 * DAY - 60_000,
    "tz": "UTC",
    "days": {"dates": ["2026-01-01", "2026-01-02", "2026-01-03"], "starts": [T0, T0 + DAY, T0 + 2 * DAY]},
    "chart": {
        "range": "24h",
        "resolution": "15m",
        "times": [T0 + 3 * DAY - 1_800_000, T0 + 3 * DAY - 900_000],
        "perBucketPercentiles": True,
    },
    "groups": [
        {
            "name": "Backend",
            "services": [
                {
                    "name": "api",
                    "description": "Public API",
                    "state": "down",
                    "since": T0 + 3 * DAY - 600_000,
                    "lastChecked": T0 + 3 * DAY - 60_000,
                    "responseTime": None,
                    "uptime": {"24h": 99.3, "7d": 99.9, "30d": 99.97, "90d": None},
                    "coverage": {"24h": 100.0, "7d": 98.5, "30d": 99.5, "90d": None},
                    "bars": {
                        "uptime": [None, 100.0, 99.3],
                        "coverage": [None, 100.0, 95.83],
                        "checks": [0, 1440, 1440],
                        "downChecks": [0, 0, 10],
                        "incidents": [0, 0, 1],
                        "downtimeMinutes": [0, 0, 10],
                    },
                    "responseTimes": {
                        "avg": [84.2, None],
                        "p50": [82.0, None],
                        "p95": [97.5, None],
                        "stats": {
                            "count": 15,
                            "avg": 84.2,
                            "min": 71.0,
                            "max": 99.0,
                            "p50": 82.0,
                            "p95": 97.5,
                            "p99": 98.7,
                            "exact": True,
                        },
                    },
                }
            ],
        }
    ],
    "incidents": [
        {
            "service": "api",
            "start": T0 + 3 * DAY - 600_000,
            "end": None,
            "durationMs": None,
            "cause": "HTTP 503",
            "open": True,
        }
    ],
    "maintenance": [
        {
            "title": "Database upgrade",
            "services": None,
            "start": T0 + 4 * DAY,
            "end": T0 + 4 * DAY + 3_600_000,
            "active": False,
            "recurring": None,
        }
    ],
}


class DaysOut(BaseModel):
    dates: list[str] = Field(description="YYYY-MM-DD of each bar in the reader's time zone, today last")
    starts: list[int] = Field(description="each day's start (epoch ms)")


class ChartOut(BaseModel):
    range: Literal["24h", "7d", "30d"]
    resolution: str = Field(description="bucket length of the response-time series (the API's auto rule)")
    times: list[int] = Field(description="each bucket's start (epoch ms); the last bucket holds now")
    perBucketPercentiles: bool = Field(
        description="p50/p95 per bucket are known: the raw tier (48 h by default) covers the range"
    )


class BarsOut(BaseModel):
    """One value per day of ``days``."""

    uptime: list[float | None] = Field(description="% of checks up; null: no check that day (no data)")
    coverage: list[float | None] = Field(
        description="% of the day's expected checks that ran; null: the service did not exist yet"
    )
    checks: list[int]
    downChecks: list[int]
    incidents: list[int] = Field(description="incidents that overlap the day")
    downtimeMinutes: list[int] = Field(description="minutes of the day inside incidents")


class ResponseStats(BaseModel):
    count: int
    avg: float | None
    min: float | None
    max: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    exact: bool = Field(description="percentiles from single checks (false: from bucket averages)")


class ResponseTimesOut(BaseModel):
    """One value per bucket of ``chart.times`` (ms; null: no check in the bucket)."""

    avg: list[float | None]
    p50: list[float | None] = Field(description="null throughout unless chart.perBucketPercentiles")
    p95: list[float | None]
    stats: ResponseStats = Field(description="over the whole chart range")


class UptimeOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    h24: float | None = Field(alias="24h")
    d7: float | None = Field(alias="7d")
    d30: float | None = Field(alias="30d")
    d90: float | None = Field(alias="90d")


class PageService(BaseModel):
    name: str
    description: str
    state: str = Field(description="up, degraded, down, maintenance, pending or paused")
    since: int | None = Field(description="when the settled status began (epoch ms)")
    lastChecked: int | None
    responseTime: int | None = Field(description="ms of the last check")
    uptime: UptimeOut
    coverage: UptimeOut = Field(
        description="per window, % of the expected checks that ran (below 100: upstat did not watch all the "
        "time); null: none expected yet"
    )
    bars: BarsOut
    responseTimes: ResponseTimesOut


class GroupOut(BaseModel):
    name: str | None = Field(description="the services' group; null for services without one")
    services: list[PageService]


class PageIncident(BaseModel):
    service: str
    start: int
    end: int | None
    durationMs: int | None
    cause: str = Field(description="the error class in words (e.g. 'Timed out', 'HTTP 503'), never details")
    open: bool


class PageWindow(BaseModel):
    title: str
    services: list[str] | None = Field(description="null: every service")
    start: int = Field(description="start of the occurrence in force, or of the next one")
    end: int
    active: bool
    recurring: dict[str, Any] | None = Field(
        description="days (0 = Monday), start HH:MM, durationMinutes, tz"
    )


class StatusPageOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})
    title: str = Field(description="UPSTAT_STATUS_PAGE_TITLE")
    state: Literal[status_page.PAGE_STATES] = Field(  # type: ignore[valid-type]
        description="operational, degraded, partial_outage (some services down), major_outage (every "
        "checked service down), maintenance, pending (nothing checked yet)"
    )
    updated: int | None = Field(description="time of the newest check shown (epoch ms)")
    tz: str
    days: DaysOut
    chart: ChartOut
    groups: list[GroupOut]
    incidents: list[PageIncident] = Field(
        description=f"open, then ended in the last {status_page.INCIDENT_DAYS} days"
    )
    maintenance: list[PageWindow] = Field(description="windows in force first, then upcoming ones")


RANGE_QUERY = Query(description="the response-time chart's range")


@router.get(
    "/status/page",
    summary="Everything the public status page shows, in one body (public while the status page is)",
    response_model=StatusPageOut,
    responses={
        200: {
            "headers": {
                "ETag": {"description": "hash of the body", "schema": {"type": "string"}},
                "Cache-Control": {
                    "description": f"public, max-age={MAX_AGE_S}",
                    "schema": {"type": "string"},
                },
            }
        },
        304: {"description": "Not modified: the body still has the ETag sent in If-None-Match"},
    },
)
def status_page_data(
    request: Request,
    client: RedisDep,
    engine: EngineDep,
    settings: SettingsDep,
    _: PublicReader,
    tz: Tz = UTC,
    range: Annotated[Literal[status_page.CHART_RANGES], RANGE_QUERY] = "24h",  # type: ignore[valid-type]
) -> Response:
    """Visible services only, grouped, each with its state, last response time, uptime over 24 h, 7 d,
    30 d and 90 d, 90 daily bars in ``tz`` (uptime, checks, incidents, downtime minutes; null uptime
    where no check ran, e.g. before the service existed), and response times per bucket of ``range``
    (average, and p50/p95 while the raw tier covers the range). Incidents: open ones, then those of the
    last 14 days, with a cause in words. Maintenance windows: in force, then upcoming."""
    body = {
        "title": settings.status_page_title,
        **status_page.build(client, engine, now=now_ms(), tz=tz.value, chart_range=range),
    }
    data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
    cache = f"public, max-age={MAX_AGE_S}" if settings.public_status_page else "private, no-cache"
    return cacheable(request, data, media_type="application/json", cache_control=cache)
