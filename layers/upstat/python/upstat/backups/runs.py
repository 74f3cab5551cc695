"""One backup run as series of its job, written once however often it is sent.

Each job is one engine source, ``<server id>/<job id>``; a run is one point in each of its series, at the
time the run began: ``duration`` (seconds), ``size`` (bytes examined), ``files`` (files examined),
``storage`` (bytes the job holds at its destination after the run), ``uploaded`` (bytes sent by this run),
``versions`` (backup versions kept), ``warnings`` and ``errors`` (counts), and one series per status
(``status_success`` ... ``status_unknown``: 1 for the run's status, 0 for the others), so a bucket's sum of a
status series is how many runs ended that way. A figure the run did not report is not written.

The engine keeps one point per (series, time), the last write winning: the same run sent again stores the
same state, and :func:`record` says it was a repeat. Points are validated before anything is written
(:func:`upstat.timeseries.ingest.ingest`: all or nothing, times within the raw tier's retention).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from upstat.backups.store import BackupStore, Job, Server
from upstat.sources import models as source_models
from upstat.sources import store as registry
from upstat.timeseries import ingest as ts_ingest

#: The statuses of a run, worst first (a bucket's status is the worst of its runs).
STATUSES = ("fatal", "error", "unknown", "warning", "success")
#: The same, best first: the order they are listed in.
LISTED = ("success", "warning", "error", "fatal", "unknown")
#: Statuses that count as a successful backup (a warning still stored the backup).
SUCCESSFUL = frozenset({"success", "warning"})
FIGURES = ("duration", "size", "files", "storage", "uploaded", "versions", "warnings", "errors")
#: Between a job's server id and its own id in its source name.
SEPARATOR = "/"


def status_metric(status: str) -> str:
    return f"status_{status}"


def job_source(server_id: str, job_id: str) -> str:
    """The engine source (and registry source id) of a job."""
    return f"{server_id}{SEPARATOR}{job_id}"


@dataclass(frozen=True)
class BackupRun:
    """A run as the domain sees it. ``figures`` maps names of :data:`FIGURES` to the values reported."""

    server_id: str
    server_name: str
    job_id: str
    job_name: str
    began_ms: int
    status: str
    figures: Mapping[str, float]
    reported_next_ms: int | None = None


@dataclass(frozen=True)
class Recorded:
    server: Server | None
    job: Job | None
    repeated: bool  # the very same run was stored already: nothing changed


def points(run: BackupRun, fields: Mapping[str, str]) -> list[ts_ingest.Point]:
    """The run's points, each named by the caller's field (``fields``: figure or ``began`` -> field)."""
    time_field = fields.get("began", "began")
    out = [
        ts_ingest.Point(name, value, run.began_ms, fields.get(name, name), time_field)
        for name, value in run.figures.items()
    ]
    for status in STATUSES:
        value = 1 if status == run.status else 0
        out.append(ts_ingest.Point(status_metric(status), value, run.began_ms, "status", time_field))
    return out


def record(
    engine: Any,
    client: Any,
    run: BackupRun,
    *,
    now: int,
    fields: Mapping[str, str] | None = None,
) -> Recorded:
    """Store the run (all or nothing), then register its server and job unless it was a repeat (the
    server in the sources registry too). The caller checked that its key may write the server
    (``upstat.sources.access.check_source``)."""
    if run.status not in STATUSES:
        raise ValueError(f"unknown status {run.status!r}")  # the dialect maps statuses; a bug otherwise
    unknown = set(run.figures) - set(FIGURES)
    if unknown:
        raise ValueError(f"unknown figures {sorted(unknown)}")
    # The server becomes a registry source: its id must be one (checked before anything is stored).
    source_models.check_source_id(run.server_id, fields_of(fields, "server"))
    source = ts_ingest.check_source(job_source(run.server_id, run.job_id), fields_of(fields, "server"))
    stored = ts_ingest.ingest(engine, source, points(run, fields or {}), {}, now=now)
    if stored.inserted == 0 and stored.replaced == 0:
        return Recorded(None, None, repeated=True)
    server, job = BackupStore(client).register(
        run.server_id, run.server_name, run.job_id, run.job_name, run.reported_next_ms
    )
    _catalog(client, server, now)
    return Recorded(server, job, repeated=False)


def fields_of(fields: Mapping[str, str] | None, name: str) -> str:
    return (fields or {}).get(name, name)


def _catalog(client: Any, server: Server, now: int) -> None:
    """The server is a ``backup-server`` source of the registry from its first report (named by its
    machine's name then; an existing registration, e.g. made with its source key, is kept as it is). Its
    jobs are not registry sources: they are this domain's, found through their server."""
    registry.ensure_source(client, server.id, kind="backup-server", name=server.name, now_ms=now)
