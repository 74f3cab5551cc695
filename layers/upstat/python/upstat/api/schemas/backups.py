"""Request and response shapes of upstat's own backup routes (/v1/backups): servers' aliases and jobs'
expected schedules, which the duplistatus document reads but has no route to set."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from upstat.backups.store import DEFAULT_TOLERANCE_MS
from upstat.names import NAME_PATTERN, name_problem
from upstat.timeseries import cron
from upstat.timeseries import timemath as tm
from upstat.wire import StrictStr, WholeInt

_FORBID = ConfigDict(extra="forbid", allow_inf_nan=False)
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z

JOB_EXAMPLE: dict[str, Any] = {
    "id": "DB-3",
    "name": "nas01 documents",
    "schedule": "0 2 * * *",
    "tz": "Europe/Rome",
    "toleranceMinutes": 60,
    "lastRun": T0 + 3_600_000,
    "nextRun": T0 + 86_400_000 + 3_600_000,
    "overdue": False,
}
SERVER_EXAMPLE: dict[str, Any] = {
    "number": 1,
    "id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "name": "nas01",
    "alias": "Office NAS",
    "jobs": [JOB_EXAMPLE],
}


class AliasIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"alias": "Office NAS"}]})
    alias: Annotated[
        StrictStr, Field(max_length=200, json_schema_extra={"pattern": f"^$|{NAME_PATTERN}"})
    ] = Field(
        description="the name charts and the dashboard show: the server's name in the sources registry "
        "('' gives back the machine-name); the name rule (no control characters, no whitespace at "
        "either end)"
    )

    @field_validator("alias")
    @classmethod
    def _alias(cls, value: str) -> str:
        problem = name_problem(value) if value else None
        if problem is not None:
            raise ValueError(problem)
        return value


class ScheduleIn(BaseModel):
    """A job's expected schedule. ``schedule`` null removes it (no overdue alerts, no expected runs)."""

    model_config = ConfigDict(
        **_FORBID,
        json_schema_extra={
            "examples": [{"schedule": "0 2 * * *", "tz": "Europe/Rome", "toleranceMinutes": 60}]
        },
    )
    schedule: (
        Annotated[StrictStr, Field(max_length=200, json_schema_extra={"pattern": cron.PATTERN})] | None
    ) = Field(
        description="cron: minute hour day-of-month month day-of-week ('0 2 * * *'), or @hourly, @daily, "
        "@weekly, @monthly, @yearly. Each value within its field's range, ranges low to high and steps "
        "at least 1 (else 400 naming schedule)."
    )
    tz: Annotated[StrictStr, WithJsonSchema({"type": "string", "enum": tm.TIME_ZONES, "default": "UTC"})] = (
        "UTC"
    )
    toleranceMinutes: WholeInt = Field(
        DEFAULT_TOLERANCE_MS // 60_000,
        ge=1,
        le=7 * 24 * 60,
        description="how late a run may start before the job is overdue",
    )

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        if value not in tm.TIME_ZONES:
            raise ValueError(f"tz {value!r} is not an IANA time zone")
        return value


class JobOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [JOB_EXAMPLE]})
    id: str = Field(description="backup-id")
    name: str = Field(description="backup-name of its last report")
    schedule: str | None
    tz: str
    toleranceMinutes: int
    lastRun: int | None = Field(description="start of its newest run (epoch ms)")
    nextRun: int | None = Field(
        description="next occurrence of the schedule, else the next run the server announced (epoch ms)"
    )
    overdue: bool


class ServerOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SERVER_EXAMPLE]})
    number: int = Field(description="the server's number (duplistatus' serverId), in order of first report")
    id: str = Field(description="machine-id")
    name: str = Field(description="machine-name of its last report")
    alias: str = Field(description="its name in the sources registry when not the machine-name, else ''")
    jobs: list[JobOut]


class ServerList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"servers": [SERVER_EXAMPLE]}]})
    servers: list[ServerOut]
