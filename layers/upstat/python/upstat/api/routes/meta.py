"""Liveness and the service root."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

import upstat
from upstat import clock
from upstat.api.deps import RedisDep
from upstat.jobs import SCHEDULES
from upstat.jobs.runner import last_runs, ran_in_last_period

router = APIRouter(tags=["meta"])


class JobHealth(BaseModel):
    period_s: int = Field(description="The job's schedule rate")
    last_started_at: datetime | None = Field(description="When the latest completed run started")
    ran_in_last_period: bool = Field(
        description="A run completed within the last period (plus the time the current run may take)"
    )


class Health(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "version": "0.1.0",
                    "jobs": {
                        "ping": {
                            "period_s": 60,
                            "last_started_at": "2026-11-30T12:00:00Z",
                            "ran_in_last_period": True,
                        }
                    },
                }
            ]
        }
    )
    status: str
    version: str
    jobs: dict[str, JobHealth] = Field(description="Each scheduled job: did it run lately?")


@router.get("/healthz", summary="Liveness: the API answers, Redis answers PING, and whether the jobs ran")
def healthz(client: RedisDep) -> Health:
    """Answers 200 while the API and Redis work, whatever the jobs did: a job that stopped running shows as
    ``ran_in_last_period: false`` here, and its heartbeat alarm fires (infra/alarms.yml)."""
    client.ping()
    now_ms = clock.now_ms()
    runs = last_runs(client, [s.name for s in SCHEDULES])
    jobs = {}
    for schedule in SCHEDULES:
        last = runs[schedule.name]
        started = datetime.fromtimestamp(last.started_ms / 1000, UTC) if last else None
        ok = ran_in_last_period(last, schedule.rate_seconds, now_ms)
        jobs[schedule.name] = JobHealth(
            period_s=schedule.rate_seconds, last_started_at=started, ran_in_last_period=ok
        )
    return Health(status="ok", version=upstat.__version__, jobs=jobs)
