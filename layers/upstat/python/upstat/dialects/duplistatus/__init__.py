"""duplistatus' upload route and Chart Data APIs (its published document; README "duplistatus").

``POST /api/upload`` takes Duplicati's JSON report exactly as Duplicati sends it and answers as duplistatus
does (``{"success": true}``; 400 ``{"error": ...}`` with its messages; 409 for a report already stored).
Duplicati cannot set headers, so the key may come as ``?key=``: a source key bound to the machine's
``machine-id`` (a bearer write key works too). The chart routes answer the document's shapes and its error
shape ``{"status": "error", "error": "ValidationError" | "NotFoundError", "message": ...}``; they need a
read key, or none while ``UPSTAT_PUBLIC_READ`` is on (the document's clients send no key).

Each route is one call into the backup domain (upstat.backups): runs are series of the one engine.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from upstat.api.deps import EngineDep, OrganizationReader, RedisDep, require_source_key_query
from upstat.api.errors import register_error_format
from upstat.auth import Principal
from upstat.backups import access as backup_access
from upstat.backups import figures, runs
from upstat.backups.figures import JobRuns
from upstat.backups.store import BackupStore, Job, Server
from upstat.clock import now_ms
from upstat.dialects.duplistatus import models, report, shapes
from upstat.errors import InvalidInput, NotFound
from upstat.names import NAME_PATTERN, SEGMENT_PATTERN
from upstat.sources import access

PREFIX = "/api"
CHART_PREFIX = f"{PREFIX}/chart-data/"
UPLOAD_PATH = f"{PREFIX}/upload"

_ERROR_NAMES = {
    400: "ValidationError",
    401: "UnauthorizedError",
    403: "ForbiddenError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    413: "PayloadTooLargeError",
    429: "RateLimitError",
    503: "ServiceUnavailableError",
}
#: The document's messages for its parameters (every other message is upstat's, naming the field).
_MESSAGES = {
    "serverId": "Invalid server ID format",
    "period": "Invalid period format",
    "metric": "Invalid metric format",
    "granularity": "Invalid granularity format",
    "backupName": "Invalid backup name format",
}


def chart_error(status: int, error: str, message: str, field: str | None) -> dict[str, Any]:
    """The document's error body; a bad parameter gets the document's message for it."""
    if status == 400 and field in _MESSAGES:
        message = _MESSAGES[field]
    return {"status": "error", "error": _ERROR_NAMES.get(status, "InternalError"), "message": message}


def upload_error(status: int, error: str, message: str, field: str | None) -> dict[str, Any]:
    """duplistatus' upload error body."""
    return {"error": message}


register_error_format(CHART_PREFIX, chart_error)
register_error_format(UPLOAD_PATH, upload_error)


def _responses(model: Any, codes: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": model, "description": text} for code, text in codes.items()}


CHART_ERRORS = _responses(
    models.ChartError,
    {
        400: "ValidationError: a bad parameter (the document's message for it)",
        401: "UnauthorizedError: a key is required (unless UPSTAT_PUBLIC_READ is on)",
        403: "ForbiddenError: the key cannot read",
        404: "NotFoundError: Server not found / Backup job not found",
        413: "Request body over the configured limit",
        429: "RateLimitError: see Retry-After",
    },
)
UPLOAD_ERRORS = _responses(
    models.UploadError,
    {
        400: "A report duplistatus refuses (its messages), or a malformed field (named)",
        401: "A key is required: ?key=<source key> or Authorization: Bearer <write key>",
        403: "The key cannot write this machine's data",
        409: "ignored, duplicated data: this run is stored already",
        413: "Request body over the configured limit",
        429: "Rate limit reached: see Retry-After",
    },
)

router = APIRouter(prefix=PREFIX, tags=["duplistatus"])

Uploader = Annotated[Principal, Depends(require_source_key_query("write"))]

Period = Annotated[
    Literal["1d", "7d", "30d", "90d", "1y"],
    Query(description="1d: the last 24 hours, 7d, 30d, 90d, 1y: the last 365 days"),
]
Metric = Annotated[Literal["duration", "size", "files", "storage", "all"], Query(description="What to chart")]
Granularity = Annotated[
    Literal["minute", "hour", "day", "week"],
    Query(
        description="Bucket size. A granularity the engine does not keep for the whole period (with the "
        "default retention: minutes beyond 48 h, hours beyond 90 d) or that would give more than 10,000 "
        "buckets is replaced by the next coarser one; the answer's granularity says which was used."
    ),
]
ServerId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=report.MAX_MACHINE_ID,
        pattern=SEGMENT_PATTERN,
        description="The server's number (1, 2, ... in order of first report) or its machine-id",
    ),
]
BackupName = Annotated[
    str,
    Path(
        min_length=1, max_length=200, pattern=NAME_PATTERN, description="The job's backup-name (or backup-id)"
    ),
]


# ----------------------------------------------------------------------------------------------------
# Upload


@router.post(
    "/upload",
    summary="Upload a Duplicati backup report (Duplicati's --send-http-url with the Json format)",
    response_model=models.UploadOk,
    responses=UPLOAD_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": report.REPORT_SCHEMA,
                    "examples": {"backup": {"value": report.REPORT_EXAMPLE}},
                }
            },
        }
    },
)
async def upload(request: Request, caller: Uploader, client: RedisDep, engine: EngineDep) -> JSONResponse:
    """One backup run: its time is ``Data.BeginTime``; its duration, sizes, file count, storage, uploaded
    bytes, versions, warnings, errors and status become series of its job (source
    ``<machine-id>/<backup-id>``). The server and the job are registered on their first report. A report
    already stored (same job and BeginTime, same figures) answers 409 and stores nothing new."""
    raw = await request.body()
    return await run_in_threadpool(_upload, raw, caller, client, engine)


def _parse_json(raw: bytes) -> Any:
    def refuse_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        return json.loads(raw, parse_constant=refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("body: not valid JSON", field="body") from exc


def _upload(raw: bytes, caller: Principal, client: Any, engine: Any) -> JSONResponse:
    body = _parse_json(raw)
    try:
        run = report.to_run(body)
    except report.Refused as exc:
        return JSONResponse(exc.body, status_code=400)
    access.check_source(client, caller, run.server_id, field="Extra.machine-id")
    recorded = runs.record(engine, client, run, now=now_ms(), fields=report.FIELDS)
    if recorded.repeated:
        return JSONResponse({"error": "ignored, duplicated data"}, status_code=409)
    return JSONResponse({"success": True})


# ----------------------------------------------------------------------------------------------------
# Chart data


def _ok(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"status": "success", "data": data}, headers={"Cache-Control": "no-store"})


def find_server(client: Any, store: BackupStore, caller: Principal, server_id: str) -> Server:
    """By number, else by machine-id; one the caller's key may read (else 403)."""
    found = backup_access.server_for(client, store, caller, server_id, field="serverId")
    if found is None:
        raise NotFound("Server not found", field="serverId")
    return found


def _read(
    engine: Any, jobs: list[Job], period: str, granularity: str
) -> tuple[figures.Window, list[JobRuns], int]:
    now = now_ms()
    win = figures.window(engine, period, granularity, now)
    return win, figures.read_jobs(engine, jobs, win, now=now), now


@router.get(
    "/chart-data/aggregated",
    summary="Chart data across every server and job",
    response_model=models.AggregatedOut,
    responses=CHART_ERRORS,
)
def aggregated(
    engine: EngineDep,
    client: RedisDep,
    caller: OrganizationReader,
    period: Period = "7d",
    metric: Metric = "all",
    granularity: Granularity = "hour",
) -> JSONResponse:
    """One point per bucket holding runs (oldest first): the mean of the figure over every job's runs in it
    and how many; statistics over the runs; the summary of every job (an organization key: of its
    organization's servers)."""
    store = BackupStore(client)
    servers = backup_access.servers_for(client, store, caller)
    by_server = store.jobs_of(servers)
    jobs = [job for s in servers for job in by_server[s.id]]
    win, found, now = _read(engine, jobs, period, granularity)
    summary = shapes.summary(figures.summary(found))
    summary["overdueBackups"] = sum(shapes.overdue(jr, now) for jr in found)
    return _ok(
        {**shapes.window_fields(win), "metrics": shapes.group_metrics(found, metric), "summary": summary}
    )


@router.get(
    "/chart-data/server/{serverId}",
    summary="Chart data of one server: each job's runs, the jobs, the summary",
    response_model=models.ServerDataOut,
    responses=CHART_ERRORS,
)
def server_data(
    serverId: ServerId,
    engine: EngineDep,
    client: RedisDep,
    caller: OrganizationReader,
    period: Period = "7d",
    metric: Metric = "all",
    granularity: Granularity = "hour",
) -> JSONResponse:
    """One point per bucket and job holding runs (oldest first), with the job's name and the worst status
    of its runs there; the server's jobs with their figures over the period; the summary."""
    store = BackupStore(client)
    server = find_server(client, store, caller, serverId)
    jobs = store.jobs_of([server])[server.id]
    win, found, now = _read(engine, jobs, period, granularity)
    summary = shapes.summary(figures.summary(found))
    summary["overdueBackups"] = sum(shapes.overdue(jr, now) for jr in found)
    return _ok(
        {
            **shapes.window_fields(win),
            "server": shapes.server(server),
            "metrics": shapes.server_metrics(found, metric),
            "backups": [shapes.backup_item(jr, now) for jr in found],
            "summary": summary,
        }
    )


@router.get(
    "/chart-data/server/{serverId}/backup/{backupName:path}",
    summary="Chart data of one backup job: its runs, schedule and summary",
    response_model=models.BackupDataOut,
    responses=CHART_ERRORS,
)
def backup_data(
    serverId: ServerId,
    backupName: BackupName,
    engine: EngineDep,
    client: RedisDep,
    caller: OrganizationReader,
    period: Period = "7d",
    metric: Metric = "all",
    granularity: Granularity = "hour",
) -> JSONResponse:
    """One point per bucket holding runs, newest first (as the document's example), with the worst status
    and the means of the job's other figures there; the job's schedule, last and next run; the summary with
    growthRate and reliability (README)."""
    store = BackupStore(client)
    server = find_server(client, store, caller, serverId)
    job = store.job_by_name(server.id, backupName)
    if job is None:
        raise NotFound("Backup job not found", field="backupName")
    win, found, now = _read(engine, [job], period, granularity)
    jr = found[0]
    return _ok(
        {
            **shapes.window_fields(win),
            "server": shapes.server(server),
            "backup": shapes.backup_job(jr, now),
            "metrics": shapes.backup_metrics(jr, metric),
            "summary": shapes.backup_summary(jr, win, now),
        }
    )
