"""``GET /metrics``: Prometheus and OpenMetrics text (see ``upstat.exposition`` for the metrics).

Behind a read key unless ``UPSTAT_METRICS_PUBLIC`` (or ``UPSTAT_PUBLIC_READ``) is on. Read anonymously, it
shows the services the status page shows (``visible``) only; a read key sees every service. OpenMetrics is
answered to a scraper that asks for it in ``Accept`` (Prometheus does), the classic text format otherwise.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from upstat import exposition
from upstat.api.deps import EngineDep, RedisDep, require
from upstat.auth import ANONYMOUS_READER, Principal
from upstat.clock import now_ms

router = APIRouter(tags=["meta"])

MetricsReader = Annotated[Principal, Depends(require("read", public_setting="metrics_readable_by_anyone"))]
EXAMPLE = """# HELP upstat_service_up 1: up or degraded, 0: down
# TYPE upstat_service_up gauge
upstat_service_up{service="api"} 1.0
# HELP upstat_service_uptime_ratio Share of checks up over the window
# TYPE upstat_service_uptime_ratio gauge
upstat_service_uptime_ratio{service="api",window="24h"} 0.9993
# HELP upstat_job_runs_total Runs that got the job's lock
# TYPE upstat_job_runs_total counter
upstat_job_runs_total{job="ping"} 1440.0
"""
TEXT = {"schema": {"type": "string"}, "example": EXAMPLE}


@router.get(
    "/metrics",
    summary="Services, jobs and counts in the Prometheus text format (OpenMetrics when asked)",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text format 1.0.0, or OpenMetrics 1.0.0 for Accept: "
            "application/openmetrics-text",
            "content": {"text/plain": TEXT, "application/openmetrics-text": TEXT},
        }
    },
)
def metrics(request: Request, client: RedisDep, engine: EngineDep, caller: MetricsReader) -> Response:
    """Per service: up, state, last response time and check time, uptime ratio over 24h/7d/30d,
    certificate days left; per job: runs, failures, last run time and duration; counts of services,
    sources and series."""
    snapshot = exposition.read(client, engine, now=now_ms(), visible_only=caller is ANONYMOUS_READER)
    openmetrics = "application/openmetrics-text" in request.headers.get("accept", "")
    body, content_type = exposition.render(snapshot, openmetrics=openmetrics)
    return Response(body, headers={"Content-Type": content_type, "Cache-Control": "no-store"})
