"""Liveness and the service root."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

import upstat
from upstat import clock
from upstat.api.deps import RedisDep, SettingsDep
from upstat.jobs import SCHEDULES
from upstat.jobs.runner import last_runs, ran_in_last_period
from upstat.store import health
from upstat.store.keyspace import Keys

router = APIRouter(tags=["meta"])


class JobHealth(BaseModel):
    period_s: int = Field(description="The job's schedule rate")
    last_started_at: datetime | None = Field(description="When the latest completed run started")
    ran_in_last_period: bool = Field(
        description="A run completed within the last period (plus the time the current run may take)"
    )


class StoreState(BaseModel):
    writable: bool = Field(description="A write went through just now (false: every ingest and change fails)")
    write_error: str | None = Field(description="Why the write failed, when it did")
    used_bytes: int | None = Field(description="Memory Redis uses")
    max_bytes: int | None = Field(description="Its maxmemory (0 or null: no limit set or not reported)")
    policy: str | None = Field(description="Its maxmemory-policy (upstat needs noeviction)")
    warnings: list[str] = Field(
        description="What an operator should act on: eviction policy, memory nearly full"
    )


class Health(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "version": "0.1.0",
                    "store": {
                        "writable": True,
                        "write_error": None,
                        "used_bytes": 2_400_000,
                        "max_bytes": 1_073_741_824,
                        "policy": "noeviction",
                        "warnings": [],
                    },
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
    status: str = Field(description="ok; degraded when the store refuses writes (answered with 503)")
    version: str
    store: StoreState
    jobs: dict[str, JobHealth] = Field(description="Each scheduled job: did it run lately?")


@router.get(
    "/healthz",
    summary="Health: the API answers, Redis takes a write, how full it is, and whether the jobs ran",
    responses={503: {"model": Health, "description": "Redis answers reads but refuses writes (degraded)"}},
)
def healthz(client: RedisDep, settings: SettingsDep, response: Response) -> Health:
    """Answers 200 while the API and Redis work, whatever the jobs did: a job that stopped running shows as
    ``ran_in_last_period: false`` here, and its heartbeat alarm fires (infra/alarms.yml). A Redis that
    answers but refuses writes (paused for writes, memory full under noeviction) is what users would meet
    on every ingest: 503 with ``status: degraded``. Redis unreachable: 503 ``store_unavailable``."""
    now_ms = clock.now_ms()
    store = health.check(client, Keys(settings.key_prefix), now_ms)
    runs = last_runs(client, [s.name for s in SCHEDULES])
    jobs = {}
    for schedule in SCHEDULES:
        last = runs[schedule.name]
        started = datetime.fromtimestamp(last.started_ms / 1000, UTC) if last else None
        ok = ran_in_last_period(last, schedule.rate_seconds, now_ms)
        jobs[schedule.name] = JobHealth(
            period_s=schedule.rate_seconds, last_started_at=started, ran_in_last_period=ok
        )
    if not store.writable:
        response.status_code = 503
    state = StoreState(**dataclasses.asdict(store))
    status = "ok" if store.writable else "degraded"
    return Health(status=status, version=upstat.__version__, store=state, jobs=jobs)
