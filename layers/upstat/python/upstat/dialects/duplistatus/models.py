"""The document's response and error shapes, for the OpenAPI document (examples from the document, with
upstat's additions). The routes build these bodies as plain dicts (:mod:`.shapes`); these models describe
exactly those dicts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Trend = Literal["increasing", "decreasing", "stable"]
Status = Literal["success", "warning", "error", "fatal", "unknown"]
T = "2024-01-15T00:00:00.000Z"
COUNTS_EXAMPLE: dict[str, Any] = {"success": 5, "warning": 0, "error": 0, "fatal": 0, "unknown": 0}
STATS_EXAMPLE: dict[str, Any] = {
    "min": 1800,
    "max": 14400,
    "avg": 6300,
    "total": 31500,
    "trend": "stable",
    "count": 5,
}
SUMMARY_EXAMPLE: dict[str, Any] = {
    "totalBackups": 156,
    "successfulBackups": 150,
    "failedBackups": 6,
    "successRate": 96.15,
    "averageDuration": 6300,
    "totalData": 12884901888,
    "totalStorage": 6442450944,
    "statusCounts": {"success": 140, "warning": 10, "error": 5, "fatal": 1, "unknown": 0},
    "overdueBackups": 0,
}
SERVER_EXAMPLE: dict[str, Any] = {
    "id": 1,
    "name": "server-01",
    "alias": "Production Server",
    "machineId": "66f5ffc7ff474a73",
}


class ChartError(BaseModel):
    """The document's error body (``ValidationError``: 400, ``NotFoundError``: 404; upstat's key errors:
    ``UnauthorizedError`` 401, ``ForbiddenError`` 403, ``RateLimitError`` 429)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "error", "error": "NotFoundError", "message": "Server not found"}]
        }
    )
    status: Literal["error"] = "error"
    error: str
    message: str


class UploadError(BaseModel):
    """duplistatus' upload error body: ``error``, and for missing fields the list and the section sent."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "Missing required fields in Extra section: backup-id",
                    "missingFields": ["backup-id"],
                    "extraSection": {"machine-id": "66f5ffc7ff474a73", "machine-name": "nas01"},
                }
            ]
        }
    )
    error: str
    missingFields: list[str] | None = None
    extraSection: dict[str, Any] | None = None
    dataSection: dict[str, Any] | None = None


class UploadOk(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"success": True}]})
    success: bool = True


class StatusCounts(BaseModel):
    """Runs by how they ended."""

    success: int
    warning: int
    error: int
    fatal: int
    unknown: int


class Statistics(BaseModel):
    """Over the runs in the window that reported the figure (0 everywhere with none); ``trend`` over the
    data points, oldest first (upstat's trend rule)."""

    min: float
    max: float
    avg: float
    total: float
    trend: Trend
    count: int = Field(description="runs that reported the figure")


class AggregatedPoint(BaseModel):
    timestamp: str = Field(description="start of the bucket, ISO 8601 UTC")
    value: float = Field(description="mean of the figure over the bucket's runs")
    count: int = Field(description="runs in the bucket that reported the figure")
    statuses: StatusCounts


class ServerPoint(AggregatedPoint):
    backupName: str
    status: Status = Field(description="the worst status of the job's runs in the bucket")


class BackupPoint(AggregatedPoint):
    status: Status = Field(description="the worst status of the runs in the bucket")
    duration: float | None = Field(None, description="mean seconds (on the points of other figures)")
    files: float | None = Field(None, description="mean file count (on the points of other figures)")
    size: float | None = Field(None, description="mean bytes examined (on the points of other figures)")


class AggregatedMetric(BaseModel):
    label: str
    unit: str
    data: list[AggregatedPoint]
    statistics: Statistics


class ServerMetric(AggregatedMetric):
    data: list[ServerPoint]  # type: ignore[assignment]


class BackupMetric(AggregatedMetric):
    data: list[BackupPoint] = Field(description="newest first, as in the document")  # type: ignore[assignment]


class AggregatedMetrics(BaseModel):
    """The metrics asked (``all``: the four)."""

    duration: AggregatedMetric | None = None
    size: AggregatedMetric | None = None
    files: AggregatedMetric | None = None
    storage: AggregatedMetric | None = None


class ServerMetrics(BaseModel):
    duration: ServerMetric | None = None
    size: ServerMetric | None = None
    files: ServerMetric | None = None
    storage: ServerMetric | None = None


class BackupMetrics(BaseModel):
    duration: BackupMetric | None = None
    size: BackupMetric | None = None
    files: BackupMetric | None = None
    storage: BackupMetric | None = None


class Summary(BaseModel):
    totalBackups: int
    successfulBackups: int = Field(description="runs that ended in success or warning")
    failedBackups: int = Field(description="runs that ended in error, fatal or unknown")
    successRate: float = Field(description="percent, 2 decimals (0 without runs)")
    averageDuration: float = Field(description="seconds")
    totalData: float = Field(description="bytes examined, summed over the runs")
    totalStorage: float = Field(
        description="bytes each job holds at its destination after its last run, summed"
    )
    statusCounts: StatusCounts
    overdueBackups: int = Field(description="jobs overdue now (README: schedules)")


class BackupSummary(BaseModel):
    totalBackups: int
    successfulBackups: int
    failedBackups: int
    successRate: float
    averageDuration: float
    totalData: float
    totalStorage: float
    statusCounts: StatusCounts
    growthRate: float = Field(description="percent change of the size from the first run to the last")
    reliability: float = Field(description="successful runs per expected run (schedule), else successRate")
    overdue: bool


class ServerOut(BaseModel):
    id: int = Field(description="the server's number, in order of first report")
    name: str = Field(description="machine-name of its last report")
    alias: str = Field(description="set with PATCH /v1/backups/servers/{server} ('' when unset)")
    machineId: str


class BackupItem(BaseModel):
    name: str
    id: str = Field(description="backup-id")
    count: int
    successRate: float
    averageDuration: float
    totalSize: float
    lastRun: str | None
    nextRun: str | None
    overdue: bool


class BackupJob(BaseModel):
    name: str
    id: str = Field(description="backup-id")
    schedule: str | None = Field(description="cron expression set through upstat's routes")
    tz: str
    lastRun: str | None = Field(description="start of the newest run")
    nextRun: str | None = Field(
        description="next occurrence of the schedule (else what the server announced)"
    )
    overdue: bool


class Window(BaseModel):
    period: str
    granularity: str = Field(
        description="the granularity used: a coarser one when the asked one is not kept "
        "for the whole period or would give more than 10,000 buckets"
    )
    start: str = Field(description="start of the first bucket")
    end: str = Field(description="end of the last bucket (it holds now)")


class AggregatedData(Window):
    metrics: AggregatedMetrics
    summary: Summary


class ServerData(Window):
    server: ServerOut
    metrics: ServerMetrics
    backups: list[BackupItem]
    summary: Summary


class BackupData(Window):
    server: ServerOut
    backup: BackupJob
    metrics: BackupMetrics
    summary: BackupSummary


def _point(value: float, **more: Any) -> dict[str, Any]:
    return {"timestamp": T, "value": value, "count": 5, "statuses": COUNTS_EXAMPLE, **more}


_WINDOW: dict[str, Any] = {
    "period": "7d",
    "granularity": "hour",
    "start": "2024-01-08T01:00:00.000Z",
    "end": T,
}


class AggregatedOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "success",
                    "data": {
                        **_WINDOW,
                        "metrics": {
                            "duration": {
                                "label": "Backup Duration (seconds)",
                                "unit": "seconds",
                                "data": [_point(5400)],
                                "statistics": STATS_EXAMPLE,
                            }
                        },
                        "summary": SUMMARY_EXAMPLE,
                    },
                }
            ]
        }
    )
    status: Literal["success"] = "success"
    data: AggregatedData


class ServerDataOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "success",
                    "data": {
                        **_WINDOW,
                        "server": SERVER_EXAMPLE,
                        "metrics": {
                            "duration": {
                                "label": "Backup Duration (seconds)",
                                "unit": "seconds",
                                "data": [_point(5400, backupName="daily-backup", status="success")],
                                "statistics": STATS_EXAMPLE,
                            }
                        },
                        "backups": [
                            {
                                "name": "daily-backup",
                                "id": "DB-1",
                                "count": 7,
                                "successRate": 100.0,
                                "averageDuration": 5400,
                                "totalSize": 7516192768,
                                "lastRun": "2024-01-15T02:00:00.000Z",
                                "nextRun": "2024-01-16T02:00:00.000Z",
                                "overdue": False,
                            }
                        ],
                        "summary": SUMMARY_EXAMPLE,
                    },
                }
            ]
        }
    )
    status: Literal["success"] = "success"
    data: ServerData


class BackupDataOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "success",
                    "data": {
                        **_WINDOW,
                        "server": SERVER_EXAMPLE,
                        "backup": {
                            "name": "daily-backup",
                            "id": "DB-1",
                            "schedule": "0 2 * * *",
                            "tz": "UTC",
                            "lastRun": "2024-01-15T02:00:00.000Z",
                            "nextRun": "2024-01-16T02:00:00.000Z",
                            "overdue": False,
                        },
                        "metrics": {
                            "size": {
                                "label": "Backup Size (bytes)",
                                "unit": "bytes",
                                "data": [_point(1073741824, status="success", duration=5400, files=1250)],
                                "statistics": {**STATS_EXAMPLE, "trend": "increasing"},
                            }
                        },
                        "summary": {
                            **{k: v for k, v in SUMMARY_EXAMPLE.items() if k != "overdueBackups"},
                            "growthRate": 2.5,
                            "reliability": 100.0,
                            "overdue": False,
                        },
                    },
                }
            ]
        }
    )
    status: Literal["success"] = "success"
    data: BackupData
