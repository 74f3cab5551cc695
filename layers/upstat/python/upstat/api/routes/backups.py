"""upstat's own backup routes: list the backup servers and jobs, name a server, set a job's schedule.

Servers and jobs appear with their first report (``POST /api/upload``, the duplistatus dialect). A server
is named in paths by its number or its machine-id, a job by its backup-name or backup-id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from upstat.api.deps import EngineDep, OrganizationReader, OrganizationWriter, RedisDep
from upstat.api.errors import ErrorBody
from upstat.api.schemas.backups import AliasIn, JobOut, ScheduleIn, ServerList, ServerOut
from upstat.auth import Principal
from upstat.backups import access, schedule
from upstat.backups.runs import job_source
from upstat.backups.store import BackupStore, Job, Server
from upstat.clock import now_ms
from upstat.errors import NotFound
from upstat.names import NAME_PATTERN, SEGMENT_PATTERN
from upstat.timeseries import cron

router = APIRouter(
    prefix="/v1/backups",
    tags=["backups"],
    responses={404: {"model": ErrorBody, "description": "No such backup server (or job)"}},
)

ServerRef = Annotated[
    str,
    Path(
        min_length=1, max_length=100, pattern=SEGMENT_PATTERN, description="The server's number or machine-id"
    ),
]
JobRef = Annotated[
    str,
    Path(
        min_length=1, max_length=200, pattern=NAME_PATTERN, description="The job's backup-name or backup-id"
    ),
]


def _server(store: BackupStore, caller: Principal, ref: str) -> Server:
    found = access.server_for(store.redis, store, caller, ref, field="server")
    if found is None:
        raise NotFound(f"server: no backup server {ref!r} (a number or a machine-id)", field="server")
    return found


def _views(engine: EngineDep, jobs: list[Job]) -> list[JobOut]:
    now = now_ms()
    infos = engine.info_many([(job_source(j.server_id, j.id), "duration") for j in jobs]) if jobs else []
    out = []
    for job, info in zip(jobs, infos, strict=True):
        last = info.last_ts if info is not None else None
        out.append(
            JobOut(
                id=job.id,
                name=job.name,
                schedule=job.schedule,
                tz=job.tz,
                toleranceMinutes=job.tolerance_ms // 60_000,
                lastRun=last,
                nextRun=schedule.next_run(job, now),
                overdue=schedule.missed_occurrence(job, last, now) is not None,
            )
        )
    return out


def _server_out(server: Server, jobs: list[JobOut]) -> ServerOut:
    return ServerOut(number=server.number, id=server.id, name=server.name, alias=server.alias, jobs=jobs)


@router.get(
    "/servers", summary="Backup servers with their jobs, schedules and last runs", response_model=ServerList
)
def list_servers(client: RedisDep, engine: EngineDep, caller: OrganizationReader) -> ServerList:
    """An organization key sees its organization's servers only."""
    store = BackupStore(client)
    servers = access.servers_for(client, store, caller)
    jobs = store.jobs_of(servers)
    return ServerList(servers=[_server_out(s, _views(engine, jobs[s.id])) for s in servers])


@router.patch("/servers/{server}", summary="Name a backup server (its alias)", response_model=ServerOut)
def set_alias(
    server: ServerRef, body: AliasIn, client: RedisDep, engine: EngineDep, caller: OrganizationWriter
) -> ServerOut:
    store = BackupStore(client)
    found = store.set_alias(_server(store, caller, server), body.alias, now_ms=now_ms())
    return _server_out(found, _views(engine, store.jobs_of([found])[found.id]))


@router.patch(
    "/servers/{server}/jobs/{job:path}",
    summary="Set (or remove) a backup job's expected schedule",
    response_model=JobOut,
)
def set_schedule(
    server: ServerRef,
    job: JobRef,
    body: ScheduleIn,
    client: RedisDep,
    engine: EngineDep,
    caller: OrganizationWriter,
) -> JobOut:
    """A job that misses its schedule by more than the tolerance is overdue: shown in the duplistatus
    summaries and alerted once per missed run (SNS topic and webhooks, event ``backup.overdue``)."""
    store = BackupStore(client)
    owner = _server(store, caller, server)
    found = store.job_by_name(owner.id, job)
    if found is None:
        raise NotFound(f"job: no job {job!r} on server {owner.number}", field="job")
    if body.schedule is not None:
        cron.parse(body.schedule, field="schedule")
    updated = store.set_schedule(
        found, body.schedule, body.tz, body.toleranceMinutes * 60_000, now_ms=now_ms()
    )
    return _views(engine, [updated])[0]
