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
TEXT = {"schema": {"type": "string"}}


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
