"""``GET /v1/sources``: every source with its metrics, when it last reported and its health (the dashboard's
list). Users' sources and monitored services alike; a service is named, and its health is its status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from upstat.api.deps import EngineDep, Reader, RedisDep
from upstat.clock import now_ms
from upstat.timeseries import catalog
from upstat.timeseries.ingest import is_internal
from upstat.uptime import reports
from upstat.uptime.keys import service_source

router = APIRouter(prefix="/v1", tags=["series"])

T0 = 1767225600000
_EXAMPLE: dict[str, Any] = {
    "sources": [
        {
            "source": "edge-router",
            "service": None,
            "metrics": ["bytes_in", "cpu_percent"],
            "lastSeen": T0,
            "health": "active",
        },
        {
            "source": "service:9f2c4e1a0b3d5c7e",
            "service": "api",
            "metrics": ["degraded", "response_ms", "up"],
            "lastSeen": T0 - 30_000,
            "health": "up",
        },
    ]
}


class SourceOut(BaseModel):
    source: str = Field(description="the source to pass to /v1/chart")
    service: str | None = Field(description="the monitored service behind a service:<id> source")
    metrics: list[str]
    lastSeen: int | None = Field(description="time of the newest point of any of its metrics (epoch ms)")
    health: str = Field(
        description="a service's status (up, degraded, down, maintenance, pending, paused); for other "
        "sources: active (a point in the last 15 min), quiet (in the last 26 h), silent (older), empty"
    )


class SourceList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})
    sources: list[SourceOut]


@router.get(
    "/sources", summary="Every source with its metrics, last report and health", response_model=SourceList
)
def list_sources(engine: EngineDep, client: RedisDep, _: Reader) -> SourceList:
    """Services first (in the order they were added, hidden ones too: this needs a read key), then users'
    sources. Three round trips for the sources and two for the services' states."""
    now = now_ms()
    found = {s.source: s for s in catalog.summaries(engine)}
    out = []
    for row in reports.status_rows(client):
        seen = found.get(service_source(row.id))
        out.append(
            SourceOut(
                source=service_source(row.id),
                service=row.name,
                metrics=seen.metrics if seen else [],
                lastSeen=seen.last_seen if seen else None,
                health=row.status,
            )
        )
    for s in found.values():
        if not is_internal(s.source):
            health = catalog.freshness(s.last_seen, now)
            out.append(
                SourceOut(
                    source=s.source, service=None, metrics=s.metrics, lastSeen=s.last_seen, health=health
                )
            )
    return SourceList(sources=out)
