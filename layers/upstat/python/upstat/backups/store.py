"""Backup servers and jobs in Redis: records, the numbers people use for servers, schedules.

A server is known by its id (Duplicati's machine-id) and by a small number given in order of first report
(1, 2, ...; never reused). It is also a source of the sources registry (kind ``backup-server``, registered
by :mod:`upstat.backups.runs`): its alias is the registry's ``name`` for it when that is not the machine's
own name, so one name is set and shown everywhere (``PATCH /v1/sources/{id}`` or the backup route). A job is
known by its id (Duplicati's backup-id) within its server, and found by its name too (the name index follows
renames). A job may have an expected schedule (a cron expression in a time zone, with a tolerance), set
through upstat's own routes; the scheduled jobs are indexed for the overdue tick. Runs themselves are series
in the engine (:mod:`upstat.backups.runs`), not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from upstat.backups.keyspace import BackupKeys
from upstat.config import get_settings
from upstat.sources import numbers
from upstat.sources import store as registry
from upstat.sources.models import Source

#: Separates a server id from a job id in the scheduled index (a control character: never in a name).
SEP = "\x1f"
DEFAULT_TOLERANCE_MS = 60 * 60 * 1000
#: The namespace of servers' numbers (1, 2, ... in order of first report) in upstat.sources.numbers.
NUMBERS = "backup-servers"
_NUMBER = re.compile(r"^[1-9][0-9]{0,8}$")


@dataclass(frozen=True)
class Server:
    id: str
    number: int
    name: str
    alias: str = ""


@dataclass(frozen=True)
class Job:
    server_id: str
    id: str
    name: str
    schedule: str | None = None
    tz: str = "UTC"
    tolerance_ms: int = DEFAULT_TOLERANCE_MS
    schedule_set_ms: int | None = None
    reported_next_ms: int | None = None  # the next run the server itself announced in its last report


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _fields(raw: Any) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in (raw or {}).items()}


def _server(raw: Any) -> Server | None:
    f = _fields(raw)
    if not f.get("id") or not f.get("number"):
        return None
    return Server(f["id"], int(f["number"]), f.get("name", ""))


def alias_of(server: Server, source: Source | None) -> str:
    """The registry's name of the server when someone chose one: not its machine-name, not its id."""
    if source is None or not source.name or source.name in (server.name, server.id):
        return ""
    return source.name


def _job(raw: Any) -> Job | None:
    f = _fields(raw)
    if not f.get("id") or "server_id" not in f:
        return None
    return Job(
        server_id=f["server_id"],
        id=f["id"],
        name=f.get("name", f["id"]),
        schedule=f.get("schedule") or None,
        tz=f.get("tz") or "UTC",
        tolerance_ms=int(f.get("tolerance_ms") or DEFAULT_TOLERANCE_MS),
        schedule_set_ms=int(f["schedule_set_ms"]) if f.get("schedule_set_ms") else None,
        reported_next_ms=int(f["reported_next_ms"]) if f.get("reported_next_ms") else None,
    )


class BackupStore:
    """Servers and jobs over one Redis client."""

    def __init__(self, client: Any, prefix: str | None = None) -> None:
        self.redis = client
        self.keys = BackupKeys(get_settings().key_prefix if prefix is None else prefix)

    # ------------------------------------------------------------------------------------------------
    # Registration (every accepted report)

    def register(
        self,
        server_id: str,
        server_name: str,
        job_id: str,
        job_name: str,
        reported_next_ms: int | None = None,
    ) -> tuple[Server, Job]:
        """Record the server and the job of a report (idempotent; names follow the latest report).
        Three round trips, four for a server's first report (its number, upstat.sources.numbers)."""
        k = self.keys
        [number] = numbers.number(self.redis, NUMBERS, [server_id])
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(k.job(server_id, job_id), "name")
        pipe.hget(k.server(server_id), "name")
        old_name, old_server_name = pipe.execute()
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(k.server(server_id), mapping={"id": server_id, "number": number, "name": server_name})
        pipe.sadd(k.jobs(server_id), job_id)
        job_fields: dict[str, Any] = {"server_id": server_id, "id": job_id, "name": job_name}
        if reported_next_ms is not None:
            job_fields["reported_next_ms"] = reported_next_ms
        else:
            pipe.hdel(k.job(server_id, job_id), "reported_next_ms")
        pipe.hset(k.job(server_id, job_id), mapping=job_fields)
        if old_name is not None and _text(old_name) != job_name:
            pipe.hdel(k.names(server_id), _text(old_name))
        pipe.hset(k.names(server_id), job_name, job_id)
        pipe.execute()
        if old_server_name is not None and _text(old_server_name) != server_name:
            self._renamed(server_id, _text(old_server_name), server_name)
        server = Server(server_id, number, server_name)
        return server, self.job(server_id, job_id) or Job(server_id, job_id, job_name)

    def _renamed(self, server_id: str, old: str, new: str) -> None:
        """The machine was renamed in Duplicati: its registry name follows unless someone chose another."""
        found = registry.get_source(self.redis, server_id)
        if found is not None and found.name == old:
            registry.update_source(self.redis, server_id, name=new)

    # ------------------------------------------------------------------------------------------------
    # Reads

    def server(self, server_id: str) -> Server | None:
        found = _server(self.redis.hgetall(self.keys.server(server_id)))
        return self._aliased([found])[0] if found is not None else None

    def _aliased(self, servers: list[Server]) -> list[Server]:
        """The servers with their aliases (one registry command for all)."""
        sources = registry.get_sources(self.redis, [s.id for s in servers])
        return [replace(s, alias=alias_of(s, src)) for s, src in zip(servers, sources, strict=True)]

    def server_by_number(self, number: int) -> Server | None:
        found = numbers.lookup(self.redis, NUMBERS, number)
        return self.server(found.source) if found else None

    def lookup(self, ref: str) -> Server | None:
        """A server by its number (digits, no leading zero), else by its id."""
        found = self.server_by_number(int(ref)) if _NUMBER.match(ref) else None
        return found or self.server(ref)

    def servers(self) -> list[Server]:
        """Every server, by number."""
        ids = [n.source for n in numbers.numbered(self.redis, NUMBERS)]
        pipe = self.redis.pipeline(transaction=False)
        for server_id in ids:
            pipe.hgetall(self.keys.server(server_id))
        found = [s for s in map(_server, pipe.execute()) if s is not None]
        return self._aliased(sorted(found, key=lambda s: s.number))

    def jobs_of(self, servers: list[Server]) -> dict[str, list[Job]]:
        """Each server's jobs, by name (two round trips whatever the number of servers)."""
        pipe = self.redis.pipeline(transaction=False)
        for server in servers:
            pipe.smembers(self.keys.jobs(server.id))
        members = [sorted(_text(m) for m in found) for found in pipe.execute()]
        pipe = self.redis.pipeline(transaction=False)
        for server, job_ids in zip(servers, members, strict=True):
            for job_id in job_ids:
                pipe.hgetall(self.keys.job(server.id, job_id))
        jobs = iter(pipe.execute())
        out: dict[str, list[Job]] = {}
        for server, job_ids in zip(servers, members, strict=True):
            found = [j for j in (_job(next(jobs)) for _ in job_ids) if j is not None]
            out[server.id] = sorted(found, key=lambda j: (j.name, j.id))
        return out

    def job(self, server_id: str, job_id: str) -> Job | None:
        return _job(self.redis.hgetall(self.keys.job(server_id, job_id)))

    def job_by_name(self, server_id: str, name: str) -> Job | None:
        """The job of that name on the server, else the job of that id."""
        job_id = self.redis.hget(self.keys.names(server_id), name)
        job = self.job(server_id, _text(job_id)) if job_id else None
        if job is None or job.name != name:
            by_id = self.job(server_id, name)
            job = by_id or job
        return job

    def scheduled(self) -> list[Job]:
        """Every job that has a schedule."""
        members = [_text(m).split(SEP, 1) for m in self.redis.smembers(self.keys.scheduled())]
        pipe = self.redis.pipeline(transaction=False)
        for server_id, job_id in members:
            pipe.hgetall(self.keys.job(server_id, job_id))
        return [j for j in map(_job, pipe.execute()) if j is not None and j.schedule]

    # ------------------------------------------------------------------------------------------------
    # Changes through upstat's own routes

    def set_alias(self, server: Server, alias: str, *, now_ms: int) -> Server:
        """Name the server: its registry name ('' gives it back its machine-name)."""
        registry.ensure_source(self.redis, server.id, kind="backup-server", name=server.name, now_ms=now_ms)
        source = registry.update_source(self.redis, server.id, name=alias or server.name, now_ms=now_ms)
        return replace(server, alias=alias_of(server, source))

    def set_schedule(self, job: Job, schedule: str | None, tz: str, tolerance_ms: int, *, now_ms: int) -> Job:
        """Set (or, with ``None``, remove) the job's expected schedule; the caller validated it."""
        k = self.keys
        member = f"{job.server_id}{SEP}{job.id}"
        pipe = self.redis.pipeline(transaction=False)
        if schedule is None:
            pipe.hdel(k.job(job.server_id, job.id), "schedule", "tz", "tolerance_ms", "schedule_set_ms")
            pipe.srem(k.scheduled(), member)
        else:
            fields = {"schedule": schedule, "tz": tz, "tolerance_ms": tolerance_ms, "schedule_set_ms": now_ms}
            pipe.hset(k.job(job.server_id, job.id), mapping=fields)
            pipe.sadd(k.scheduled(), member)
        pipe.execute()
        from upstat.backups.runs import job_source
        from upstat.backups.schedule import OVERDUE_ID
        from upstat.rules import store as rules_store

        # Its overdue rule is judged afresh: the occurrences it counted were the old schedule's.
        rules_store.forget_source(self.redis, [OVERDUE_ID], job_source(job.server_id, job.id))
        return self.job(job.server_id, job.id) or job
