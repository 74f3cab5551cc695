"""The duplistatus dialect against a month of Duplicati reports: two servers, three jobs, successes, a
warning, a failure, a fatal run and a missed run, each posted to /api/upload as Duplicati sends it, at the
time it would arrive. Every figure the chart routes answer is checked against a recomputation from the
reports themselves (README "duplistatus": windows, buckets, statistics, summaries, schedules)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH
from tests.auth.helpers import bearer, make_key
from tests.uptime.test_alerts_and_fanout import Receiver
from upstat.dialects import duplistatus
from upstat.sources import store as registry
from upstat.timeseries import timemath as tm

EVENT = Path(__file__).resolve().parents[1] / "events" / "duplicati_backup_report.json"
DAY, HOUR, MINUTE = tm.DAY, tm.HOUR, tm.MINUTE
NAS, WEB = "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
RANK = ("fatal", "error", "unknown", "warning", "success")


@dataclass(frozen=True)
class Run:
    machine: str
    machine_name: str
    job_id: str
    job: str
    began: int
    result: str  # ParsedResult
    duration: float
    size: int
    files: int
    storage: int
    warnings: int = 0

    @property
    def status(self) -> str:
        return "warning" if self.result == "Success" and self.warnings else self.result.lower()


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def timespan(seconds: float) -> str:
    whole = int(seconds)
    frac = round((seconds - whole) * 10**7)
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return f"{text}.{frac:07d}" if frac else text


def duplicati_report(run: Run) -> dict[str, Any]:
    """The sample report (tests/events) with this run's values, as Duplicati would send it."""
    body = json.loads(EVENT.read_text())
    data, stats = body["Data"], body["Data"]["BackendStatistics"]
    data.update(
        ParsedResult=run.result,
        BeginTime=iso(run.began),
        EndTime=iso(run.began + int(run.duration * 1000)),
        Duration=timespan(run.duration),
        ExaminedFiles=run.files,
        SizeOfExaminedFiles=run.size,
        WarningsActualLength=run.warnings,
        ErrorsActualLength=1 if run.result in ("Error", "Fatal") else 0,
    )
    stats.update(KnownFileSize=run.storage, BytesUploaded=run.size // 100, BackupListCount=7)
    body["Extra"].update(
        {
            "machine-id": run.machine,
            "machine-name": run.machine_name,
            "backup-name": run.job,
            "backup-id": run.job_id,
        }
    )
    return body


def month(now: int) -> list[Run]:
    """30 days of three daily jobs, oldest first; day 29 is today (its runs began about an hour ago)."""
    anchor = (now - HOUR) // MINUTE * MINUTE
    runs = []
    for day in range(30):
        t = anchor - (29 - day) * DAY
        runs.append(  # nas01 documents: growing; a warning on day 9, a failed run on day 19
            Run(NAS, "nas01", "DB-1", "documents", t, "Error" if day == 19 else "Success",
                1200.25 + 10 * day, 10_000_000_000 + 50_000_000 * day, 100_000 + 100 * day,
                4_000_000_000 + 20_000_000 * day, warnings=2 if day == 9 else 0)
        )  # fmt: skip
        if day != 14:  # nas01 photos: steady; no run at all on day 14
            runs.append(
                Run(NAS, "nas01", "DB-2", "photos", t - 30 * MINUTE, "Success", 600 + day % 3 * 10,
                    50_000_000_000, 20_000, 30_000_000_000)
            )  # fmt: skip
        runs.append(  # web01 database (backup-id as nas01's documents): faster every day; fatal on day 24
            Run(WEB, "web01", "DB-1", "database", t - 90 * MINUTE, "Fatal" if day == 24 else "Success",
                3000 - 50 * day, 2_000_000_000, 12, 1_500_000_000 + day)
        )  # fmt: skip
    return sorted(runs, key=lambda r: r.began)


@pytest.fixture
def http(client: TestClient) -> TestClient:
    return client


def post_at(http: TestClient, monkeypatch: pytest.MonkeyPatch, run: Run, **kw: Any) -> Any:
    """POST the run's report as it arrives: the server's clock reads the run's end plus a few seconds."""
    arrival = run.began + int(run.duration * 1000) + 3000
    monkeypatch.setattr(duplistatus, "now_ms", lambda: arrival)
    try:
        return http.post("/api/upload", json=duplicati_report(run), headers=kw.pop("headers", AUTH), **kw)
    finally:
        monkeypatch.setattr(duplistatus, "now_ms", tm_now)


def tm_now() -> int:
    from upstat.clock import now_ms

    return now_ms()


@pytest.fixture
def fleet(http: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Run]]:
    runs = month(tm_now())
    for run in runs:
        answer = post_at(http, monkeypatch, run)
        assert answer.status_code == 200 and answer.json() == {"success": True}, answer.text
    yield runs


def get(http: TestClient, path: str, **params: str) -> dict[str, Any]:
    answer = http.get(path, params=params, headers=AUTH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "success"
    return dict(body["data"])


def window(data: dict[str, Any]) -> tuple[int, int]:
    return tuple(  # type: ignore[return-value]
        int(datetime.fromisoformat(data[k].replace("Z", "+00:00")).timestamp() * 1000)
        for k in ("start", "end")
    )


def value(run: Run, metric: str) -> float:
    return float(getattr(run, metric))


def expected_stats(runs: list[Run], metric: str) -> dict[str, Any]:
    values = [value(r, metric) for r in runs]
    return {
        "min": pytest.approx(min(values)),
        "max": pytest.approx(max(values)),
        "avg": pytest.approx(statistics.fmean(values)),
        "total": pytest.approx(sum(values)),
        "count": len(values),
    }


def buckets(runs: list[Run], step: int, key: Any = lambda r: ()) -> dict[Any, list[Run]]:
    """Runs grouped by the start of their bucket (and ``key``); days and hours are fixed in UTC."""
    out: dict[Any, list[Run]] = defaultdict(list)
    for run in runs:
        out[(run.began - run.began % step, *key(run))].append(run)
    return out


def worst(runs: list[Run]) -> str:
    return min((r.status for r in runs), key=RANK.index)


def trend_of(points: list[tuple[int, float]]) -> str:
    return tm.trend([(float(t), v) for t, v in sorted(points)])


def stamp(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


# ----------------------------------------------------------------------------------------------------
# Aggregated


def test_the_aggregated_figures_are_those_of_the_reports(http: TestClient, fleet: list[Run]) -> None:
    data = get(http, "/api/chart-data/aggregated", period="30d", metric="all", granularity="day")
    start, end = window(data)
    assert (data["period"], data["granularity"]) == ("30d", "day")
    runs = [r for r in fleet if start <= r.began < end]
    assert len(runs) == len(fleet) == 89  # 30 + 29 (a missed day) + 30
    summary = data["summary"]
    assert summary["totalBackups"] == 89
    assert summary["successfulBackups"] == 87  # the warning counts as a success
    assert summary["failedBackups"] == 2  # the error and the fatal run
    assert summary["successRate"] == round(100 * 87 / 89, 2) == 97.75
    assert summary["statusCounts"] == {"success": 86, "warning": 1, "error": 1, "fatal": 1, "unknown": 0}
    assert summary["averageDuration"] == pytest.approx(statistics.fmean(r.duration for r in runs))
    assert summary["totalData"] == sum(r.size for r in runs)
    assert summary["totalStorage"] == sum(  # each job's storage after its last run
        max((r for r in runs if (r.machine, r.job_id) == job), key=lambda r: r.began).storage
        for job in {(r.machine, r.job_id) for r in runs}
    )
    for metric, (label, unit) in {
        "duration": ("Backup Duration (seconds)", "seconds"),
        "size": ("Backup Size (bytes)", "bytes"),
        "files": ("File Count", "files"),
        "storage": ("Storage Usage (bytes)", "bytes"),
    }.items():
        shown = data["metrics"][metric]
        assert (shown["label"], shown["unit"]) == (label, unit)
        expected = buckets(runs, DAY)
        points = [
            {
                "timestamp": tm_iso(t),
                "value": pytest.approx(statistics.fmean(value(r, metric) for r in group)),
                "count": len(group),
            }
            for (t,), group in sorted(expected.items())
        ]
        assert [{k: p[k] for k in ("timestamp", "value", "count")} for p in shown["data"]] == points
        stats = shown["statistics"]
        assert {k: stats[k] for k in ("min", "max", "avg", "total", "count")} == expected_stats(runs, metric)
        assert stats["trend"] == trend_of([(stamp(p["timestamp"]), p["value"]) for p in shown["data"]])


def tm_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_hourly_buckets_hold_the_runs_of_their_hour_with_their_statuses(
    http: TestClient, fleet: list[Run]
) -> None:
    data = get(http, "/api/chart-data/aggregated", period="7d", metric="duration", granularity="hour")
    start, end = window(data)
    assert data["granularity"] == "hour" and list(data["metrics"]) == ["duration"]
    assert end - start == 7 * DAY + HOUR  # the hour holding now - 7d through the hour holding now
    runs = [r for r in fleet if start <= r.began < end]
    expected = buckets(runs, HOUR)
    shown = data["metrics"]["duration"]["data"]
    assert [stamp(p["timestamp"]) for p in shown] == sorted(t for (t,) in expected)
    for point in shown:
        group = expected[(stamp(point["timestamp"]),)]
        assert point["count"] == len(group)
        assert point["value"] == pytest.approx(statistics.fmean(r.duration for r in group))
        assert sum(point["statuses"].values()) == len(group)
        for status, n in point["statuses"].items():
            assert n == sum(r.status == status for r in group)


def test_a_granularity_the_engine_does_not_keep_for_the_period_is_replaced_by_a_coarser_one(
    http: TestClient, fleet: list[Run]
) -> None:
    asked = {
        ("1d", "minute"): "minute",
        ("7d", "minute"): "hour",
        ("1y", "hour"): "day",
        ("1y", "week"): "week",
    }
    for (period, granularity), used in asked.items():
        data = get(http, "/api/chart-data/aggregated", period=period, granularity=granularity)
        assert data["granularity"] == used, (period, granularity)
    data = get(http, "/api/chart-data/aggregated", period="1y", granularity="hour")
    assert data["summary"]["totalBackups"] == 89  # the whole year, not just what hourly buckets keep


# ----------------------------------------------------------------------------------------------------
# Server


def test_a_server_by_number_or_machine_id_with_each_jobs_runs(http: TestClient, fleet: list[Run]) -> None:
    # web01 reported first (its job runs earliest in the day), so it is server 1; nas01 is 2.
    by_number = get(http, "/api/chart-data/server/2", period="30d", metric="duration", granularity="day")
    assert get(http, f"/api/chart-data/server/{NAS}", period="30d", metric="duration", granularity="day") == (
        by_number
    )
    assert by_number["server"] == {"id": 2, "name": "nas01", "alias": "", "machineId": NAS}
    start, end = window(by_number)
    runs = [r for r in fleet if r.machine == NAS and start <= r.began < end]
    expected = buckets(runs, DAY, key=lambda r: (r.job,))
    shown = by_number["metrics"]["duration"]["data"]
    assert [(stamp(p["timestamp"]), p["backupName"]) for p in shown] == sorted(expected)
    for point in shown:
        group = expected[(stamp(point["timestamp"]), point["backupName"])]
        assert point["value"] == pytest.approx(statistics.fmean(r.duration for r in group))
        assert point["status"] == worst(group)
    statuses = {(p["backupName"], p["status"]) for p in shown}
    assert ("documents", "warning") in statuses and ("documents", "error") in statuses
    stats = by_number["metrics"]["duration"]["statistics"]
    assert {k: stats[k] for k in ("min", "max", "avg", "total", "count")} == expected_stats(runs, "duration")
    jobs = {b["name"]: b for b in by_number["backups"]}
    assert set(jobs) == {"documents", "photos"}
    assert jobs["documents"]["count"] == 30 and jobs["documents"]["successRate"] == 96.67
    assert jobs["photos"]["count"] == 29 and jobs["photos"]["successRate"] == 100.0
    assert jobs["documents"]["totalSize"] == sum(r.size for r in runs if r.job == "documents")
    assert jobs["documents"]["lastRun"] == tm_iso(max(r.began for r in runs if r.job == "documents"))
    summary = by_number["summary"]
    assert (summary["totalBackups"], summary["successfulBackups"], summary["failedBackups"]) == (59, 58, 1)


def test_the_same_backup_id_on_two_machines_is_two_jobs(http: TestClient, fleet: list[Run]) -> None:
    web = get(http, "/api/chart-data/server/1", period="30d", granularity="day")
    assert [b["name"] for b in web["backups"]] == ["database"]
    assert web["summary"]["totalBackups"] == 30 and web["summary"]["statusCounts"]["fatal"] == 1


# ----------------------------------------------------------------------------------------------------
# Backup job


def test_a_jobs_runs_newest_first_with_its_other_figures_growth_and_trend(
    http: TestClient, fleet: list[Run]
) -> None:
    data = get(
        http, "/api/chart-data/server/2/backup/documents", period="30d", metric="all", granularity="day"
    )
    runs = sorted((r for r in fleet if r.job == "documents"), key=lambda r: r.began)
    size = data["metrics"]["size"]
    assert [stamp(p["timestamp"]) for p in size["data"]] == [r.began - r.began % DAY for r in reversed(runs)]
    newest = size["data"][0]
    assert newest["value"] == runs[-1].size
    assert (newest["duration"], newest["files"]) == (pytest.approx(runs[-1].duration), runs[-1].files)
    assert {k: size["statistics"][k] for k in ("min", "max", "avg", "total", "count")} == expected_stats(
        runs, "size"
    )
    assert size["statistics"]["trend"] == "increasing"  # grows every day
    assert data["metrics"]["duration"]["statistics"]["trend"] == "increasing"
    summary = data["summary"]
    assert summary["growthRate"] == round(100 * (runs[-1].size - runs[0].size) / runs[0].size, 2)
    assert summary["totalBackups"] == 30 and summary["successRate"] == 96.67
    assert summary["reliability"] == summary["successRate"]  # no schedule yet
    assert summary["overdue"] is False
    assert data["backup"] == {
        "name": "documents",
        "id": "DB-1",
        "schedule": None,
        "tz": "UTC",
        "lastRun": tm_iso(runs[-1].began),
        "nextRun": None,
        "overdue": False,
    }
    faster = get(
        http, "/api/chart-data/server/1/backup/database", period="30d", metric="duration", granularity="day"
    )
    assert faster["metrics"]["duration"]["statistics"]["trend"] == "decreasing"


def document_responses() -> list[dict[str, Any]]:
    """The three response examples of the reference document (aggregated, server, backup), read at run
    time from its "Response Format" sections."""
    text = (Path(__file__).resolve().parents[1] / "reference" / "duplistatus-chart-data-api.md").read_text()
    blocks = [
        part.split("```json\n", 1)[1].split("```", 1)[0] for part in text.split("#### Response Format")[1:]
    ]
    return [json.loads(block) for block in blocks]


def json_type(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value) if value is None else "boolean"
    return {int: "number", float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def missing_fields(documented: Any, ours: Any, path: str = "") -> list[str]:
    """Where ``ours`` lacks a field of ``documented`` or holds it with another JSON type (every item of
    a documented array is compared with every item of ours)."""
    if json_type(documented) != json_type(ours):
        return [f"{path}: {json_type(ours)}, documented {json_type(documented)}"]
    if isinstance(documented, dict):
        return [
            problem
            for key, value in documented.items()
            for problem in (
                missing_fields(value, ours[key], f"{path}.{key}")
                if key in ours
                else [f"{path}.{key}: absent"]
            )
        ]
    if isinstance(documented, list):
        if not ours:
            return [f"{path}: empty"]
        return [
            p for d in documented for i, o in enumerate(ours) for p in missing_fields(d, o, f"{path}[{i}]")
        ]
    return []


def test_every_field_of_the_documents_examples_is_there_with_its_type(
    http: TestClient, fleet: list[Run]
) -> None:
    assert http.patch("/v1/backups/servers/2", json={"alias": "Office NAS"}, headers=AUTH).status_code == 200
    answer = http.patch("/v1/backups/servers/2/jobs/documents", json={"schedule": "0 2 * * *"}, headers=AUTH)
    assert answer.status_code == 200
    aggregated, server, backup = document_responses()
    for documented, path in (
        (aggregated, "/api/chart-data/aggregated"),
        (server, "/api/chart-data/server/2"),
        (backup, "/api/chart-data/server/2/backup/documents"),
    ):
        ours = http.get(path, params={"period": "30d", "metric": "all", "granularity": "day"}, headers=AUTH)
        assert ours.status_code == 200
        assert missing_fields(documented, ours.json()) == [], path


def test_a_missed_run_lowers_reliability_once_the_schedule_is_known(
    http: TestClient, fleet: list[Run]
) -> None:
    photos = [r for r in fleet if r.job == "photos"]
    at = datetime.fromtimestamp(photos[-1].began / 1000, UTC)
    answer = http.patch(
        "/v1/backups/servers/2/jobs/photos",
        json={"schedule": f"{at.minute} {at.hour} * * *", "tz": "UTC", "toleranceMinutes": 30},
        headers=AUTH,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["overdue"] is False and answer.json()["nextRun"] == photos[-1].began + DAY
    data = get(http, "/api/chart-data/server/2/backup/photos", period="30d", granularity="day")
    assert data["summary"]["successRate"] == 100.0  # every run that came succeeded
    assert data["summary"]["reliability"] == round(100 * 29 / 30, 2)  # but 30 were expected
    assert data["backup"]["schedule"] == f"{at.minute} {at.hour} * * *"
    assert data["backup"]["nextRun"] == tm_iso(photos[-1].began + DAY)


def test_a_job_that_misses_its_schedule_is_overdue_and_alerted_once(
    http: TestClient, fleet: list[Run], monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    from tests.functions.conftest import LambdaContext, function_module, load_event

    # Every quarter hour, five minutes' tolerance: the documents job (last run an hour ago) is late.
    answer = http.patch(
        "/v1/backups/servers/2/jobs/documents",
        json={"schedule": "*/15 * * * *", "tz": "UTC", "toleranceMinutes": 5},
        headers=AUTH,
    )
    assert answer.json()["overdue"] is True
    assert get(http, "/api/chart-data/server/2/backup/documents")["summary"]["overdue"] is True
    assert get(http, "/api/chart-data/aggregated")["summary"]["overdueBackups"] == 1
    assert [b["overdue"] for b in get(http, "/api/chart-data/server/2")["backups"]] == [True, False]
    monkeypatch.setenv("UPSTAT_ALERT_WEBHOOKS", receiver.url)
    from upstat.config import get_settings

    get_settings.cache_clear()
    handler = function_module("ping").handler
    try:
        first = handler(load_event("scheduler_input"), LambdaContext())
        second = handler(load_event("scheduler_input"), LambdaContext())
    finally:
        # The webhooks' asyncio.run leaves this thread without an event loop; a fresh Lambda process
        # would not share it with the tests that follow (mangum asks for the current loop).
        asyncio.set_event_loop(asyncio.new_event_loop())
    assert first["backups"]["overdue"] == 1 and first["backups"]["alerts_sent"] == 1
    assert second["backups"]["alerts_sent"] == 0  # the same missed run is alerted once
    [alert] = receiver.payloads()
    assert alert["event"] == "backup.overdue" and alert["service"]["name"] == "nas01 / documents"
    assert "*/15 * * * * UTC" in alert["error"]


# ----------------------------------------------------------------------------------------------------
# Upload: repeats, keys, refusals


def test_a_report_sent_again_is_stored_once(
    http: TestClient, fleet: list[Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = get(http, "/api/chart-data/aggregated", period="30d", granularity="day")
    again = post_at(http, monkeypatch, fleet[-1])  # Duplicati retries within seconds
    assert again.status_code == 409 and again.json() == {"error": "ignored, duplicated data"}
    assert get(http, "/api/chart-data/aggregated", period="30d", granularity="day") == before


def test_a_refused_report_stores_nothing(http: TestClient) -> None:
    run = month(tm_now())[0]  # 29 days old: beyond the raw tier's 48 h, sent now
    answer = http.post("/api/upload", json=duplicati_report(run), headers=AUTH)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("Data.BeginTime: ") and "retention" in answer.json()["error"]
    report = duplicati_report(run)
    del report["Extra"]["backup-id"]
    answer = http.post("/api/upload", json=report, headers=AUTH)
    assert answer.status_code == 400 and answer.json()["missingFields"] == ["backup-id"]
    assert http.get("/v1/backups/servers", headers=AUTH).json() == {"servers": []}
    assert http.get("/v1/sources", headers=AUTH).json() == {"sources": []}


def test_a_machine_is_a_backup_server_source_of_the_registry_from_its_first_report(
    http: TestClient, fleet: list[Run], r: Any
) -> None:
    sources = http.get("/v1/sources", params={"kind": "backup-server"}, headers=AUTH).json()["sources"]
    assert sorted((s["source"], s["name"]) for s in sources) == sorted(
        {(run.machine, run.machine_name) for run in fleet}
    )  # the machines only: their jobs are not sources of the registry
    # Registered beforehand (e.g. with its source key, in an organization): kept as it was.
    registry.create_source(r, "registered-nas", kind="device", name="The NAS", now_ms=1)
    report = duplicati_report(fleet[-1])
    report["Extra"]["machine-id"] = "registered-nas"
    assert http.post("/api/upload", json=report, headers=AUTH).status_code == 200
    found = registry.get_source(r, "registered-nas")
    assert found is not None and (found.kind, found.name) == ("device", "The NAS")


def test_a_machine_id_that_cannot_be_a_source_is_refused_naming_it(http: TestClient) -> None:
    run = month(tm_now())[-1]
    for machine, words in (("a/b", "'/'"), ("service:x", "upstat's own")):
        report = duplicati_report(run)
        report["Extra"]["machine-id"] = machine
        answer = http.post("/api/upload", json=report, headers=AUTH)
        assert answer.status_code == 400 and answer.json()["error"].startswith("Extra.machine-id: ")
        assert words in answer.json()["error"]
    assert http.get("/v1/backups/servers", headers=AUTH).json() == {"servers": []}
    assert http.get("/v1/series", headers=AUTH).json() == {"sources": []}


def test_duplicati_posts_with_a_source_key_in_the_url(http: TestClient, r: Any) -> None:
    run = month(tm_now())[-1]
    key = make_key(r, ("write",), source=run.machine)
    assert http.post(f"/api/upload?key={key}", json=duplicati_report(run)).status_code == 200
    other = make_key(r, ("write",), source="another-machine")
    answer = http.post(f"/api/upload?key={other}", json=duplicati_report(run))
    assert answer.status_code == 403 and answer.json()["error"].startswith("Extra.machine-id: ")
    writer = make_key(r, ("write",))
    assert http.post(f"/api/upload?key={writer}", json=duplicati_report(run)).status_code == 401
    assert http.post("/api/upload", json=duplicati_report(run), headers=bearer(writer)).status_code == 409
    assert http.post("/api/upload", json=duplicati_report(run)).status_code == 401


# ----------------------------------------------------------------------------------------------------
# Errors in the document's shape


@pytest.mark.parametrize(
    ("path", "status", "error", "message"),
    [
        ("/api/chart-data/server/%20x", 400, "ValidationError", "Invalid server ID format"),
        ("/api/chart-data/server/99", 404, "NotFoundError", "Server not found"),
        ("/api/chart-data/server/nobody", 404, "NotFoundError", "Server not found"),
        ("/api/chart-data/server/1/backup/nothing", 404, "NotFoundError", "Backup job not found"),
        ("/api/chart-data/aggregated?period=2w", 400, "ValidationError", "Invalid period format"),
        ("/api/chart-data/server/1?period=", 400, "ValidationError", "Invalid period format"),
        ("/api/chart-data/aggregated?metric=speed", 400, "ValidationError", "Invalid metric format"),
        (
            "/api/chart-data/aggregated?granularity=month",
            400,
            "ValidationError",
            "Invalid granularity format",
        ),
    ],
)
def test_errors_are_the_documents(http: TestClient, fleet: list[Run], path: str, status: int, error: str,
                                  message: str) -> None:  # fmt: skip
    answer = http.get(path, headers=AUTH)
    assert answer.status_code == status
    assert answer.json() == {"status": "error", "error": error, "message": message}


def test_a_job_is_found_by_its_id_and_by_a_name_holding_a_slash(
    http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = dataclasses.replace(month(tm_now())[-1], job="home/alice", job_id="DB-9")
    assert post_at(http, monkeypatch, run).status_code == 200
    by_name = get(http, f"/api/chart-data/server/{run.machine}/backup/home/alice")
    assert by_name["backup"]["name"] == "home/alice"
    assert get(http, f"/api/chart-data/server/{run.machine}/backup/DB-9")["backup"]["id"] == "DB-9"


def test_an_alias_set_through_upstat_shows_in_the_charts(http: TestClient, fleet: list[Run]) -> None:
    answer = http.patch("/v1/backups/servers/2", json={"alias": "Office NAS"}, headers=AUTH)
    assert answer.status_code == 200 and answer.json()["alias"] == "Office NAS"
    assert get(http, "/api/chart-data/server/2")["server"]["alias"] == "Office NAS"
    listed = http.get("/v1/backups/servers", headers=AUTH).json()["servers"]
    assert [(s["number"], s["name"], [j["name"] for j in s["jobs"]]) for s in listed] == [
        (1, "web01", ["database"]),
        (2, "nas01", ["documents", "photos"]),
    ]


def test_the_alias_is_the_servers_one_name_in_the_registry(
    http: TestClient, fleet: list[Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Set on either side, one name: the duplistatus alias is the registry's name of the server."""
    assert http.patch("/v1/backups/servers/2", json={"alias": "Office NAS"}, headers=AUTH).status_code == 200
    assert http.get(f"/v1/sources/{NAS}", headers=AUTH).json()["name"] == "Office NAS"
    assert http.patch(f"/v1/sources/{WEB}", json={"name": "Web"}, headers=AUTH).status_code == 200
    assert get(http, "/api/chart-data/server/1")["server"]["alias"] == "Web"
    assert http.patch("/v1/backups/servers/2", json={"alias": ""}, headers=AUTH).json()["alias"] == ""
    assert http.get(f"/v1/sources/{NAS}", headers=AUTH).json()["name"] == "nas01"  # its machine's name
    # Renamed in Duplicati: the registry name follows while nobody chose another (web01's is "Web").
    for run in (fleet[-1], next(r for r in reversed(fleet) if r.machine == WEB)):
        renamed = dataclasses.replace(run, machine_name=f"{run.machine_name}-new", began=run.began + 60_000)
        assert post_at(http, monkeypatch, renamed).status_code == 200
    names = {s["source"]: s["name"] for s in http.get("/v1/sources", headers=AUTH).json()["sources"]}
    assert (names[NAS], names[WEB]) == ("nas01-new", "Web")
    assert get(http, "/api/chart-data/server/2")["server"] == {
        "id": 2,
        "name": "nas01-new",
        "alias": "",
        "machineId": NAS,
    }
    bad = http.patch("/v1/backups/servers/2", json={"alias": " padded"}, headers=AUTH)
    assert bad.status_code == 400 and bad.json()["field"] == "alias"


@pytest.mark.parametrize(
    ("schedule", "words"),
    [("61 2 * * *", "out of range for the minute field"), ("every day", "not a cron expression")],
)
def test_a_bad_schedule_is_refused_naming_it(
    http: TestClient, fleet: list[Run], schedule: str, words: str
) -> None:
    answer = http.patch("/v1/backups/servers/2/jobs/photos", json={"schedule": schedule}, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json()["field"] == "schedule" and words in answer.json()["message"]


def test_a_key_in_the_upload_url_never_reaches_a_log_line(
    env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Duplicati's --send-http-url carries the key: make run's access log (uvicorn, at info) prints the path,
    and the key in it reads [REDACTED]; refused keys too."""
    import threading
    import time

    import httpx
    import uvicorn

    from tests.api.test_client_address import _free_port
    from upstat.api.app import create_app
    from upstat.config import get_settings
    from upstat.local import uvicorn_options

    monkeypatch.setenv("UPSTAT_PORT", str(_free_port()))
    get_settings.cache_clear()
    caplog.set_level("INFO")
    run = month(tm_now())[-1]
    key = make_key(r, ("write",), source=run.machine)
    server = uvicorn.Server(uvicorn.Config(create_app(), **uvicorn_options(get_settings())))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        base = f"http://127.0.0.1:{get_settings().port}"
        assert httpx.post(f"{base}/api/upload?key={key}", json=duplicati_report(run)).status_code == 200
        wrong = key[:-3] + ("000" if not key.endswith("000") else "111")
        assert httpx.post(f"{base}/api/upload?key={wrong}", json=duplicati_report(run)).status_code == 401
    finally:
        server.should_exit = True
        thread.join(5)
    lines = [rec.getMessage() for rec in caplog.records]
    access = [line for line in lines if "/api/upload" in line]
    assert len(access) == 2 and all("key=[REDACTED]" in line for line in access), access
    secret = key.split("_")[2]
    assert not any(secret in line or wrong.split("_")[2] in line for line in lines)
