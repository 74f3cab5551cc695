"""Response shapes of the time-series routes, for the OpenAPI document (with examples).

The chart routes build their bodies as plain dicts (a year of points validated again by pydantic on every
request would cost more than the query); these models describe exactly those dicts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z

STATS_EXAMPLE: dict[str, Any] = {
    "count": 96,
    "min": 12.5,
    "max": 78.0,
    "avg": 41.2,
    "total": 3955.2,
    "samples": {"count": 2880, "min": 3.0, "max": 97.0, "avg": 41.2, "total": 118656.0},
    "p50": 39.0,
    "p95": 88.0,
    "p99": 95.0,
    "percentiles_exact": True,
    "trend": "stable",
}


class Samples(BaseModel):
    """The measured values in the range, whatever the chart's buckets: exact from any tier."""

    count: int
    min: float | None
    max: float | None
    avg: float | None
    total: float


class Stats(BaseModel):
    """Statistics of the returned points: count, min, max, avg, total and trend are computed from the
    points that have a value (filled values included), so they agree with the chart. ``samples`` has the
    same figures over the measured values; percentiles (with ``percentiles=true``) are of the measured
    values too."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [STATS_EXAMPLE]})
    count: int = Field(description="points with a value")
    min: float | None
    max: float | None
    avg: float | None
    total: float = Field(description="sum of the points' values")
    samples: Samples
    increase: float | None = Field(None, description="counters: the increase over the range")
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    percentiles_exact: bool | None = Field(
        None, description="true when computed from raw points covering the whole range"
    )
    trend: Literal["increasing", "decreasing", "stable"] = Field(
        description="least-squares line through the points: its change from the first to the last point, "
        "relative to their mean absolute value, above +5% increasing, below -5% decreasing"
    )


class ChartOut(BaseModel):
    """One series over a range: ``points`` are [bucket start (epoch ms), value] pairs (raw charts: each
    stored point as [time, value]). With ``aggregate=rate`` the last bucket, which holds now and is still
    filling, divides its increase by the seconds elapsed in it (at least 1), not by its whole length."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source": "alice",
                    "metric": "latency_ms",
                    "kind": "gauge",
                    "start": T0,
                    "end": T0 + 86_400_000,
                    "resolution": "15m",
                    "tier": "15m",
                    "aggregate": "avg",
                    "fill": "null",
                    "tz": "UTC",
                    "count": 96,
                    "points": [[T0, 21.5], [T0 + 900_000, None]],
                    "stats": STATS_EXAMPLE,
                }
            ]
        }
    )
    source: str
    metric: str
    kind: Literal["gauge", "counter"]
    start: int
    end: int
    resolution: str
    tier: str = Field(description="the stored tier the buckets were read from")
    aggregate: str
    fill: Literal["zero", "null", "previous", "none"]
    tz: str
    count: int
    points: list[tuple[int, float | None]]
    stats: Stats | None = None


class TotalOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "metric": "bytes_received",
                    "sources": 3,
                    "start": T0,
                    "end": T0 + 3_600_000,
                    "resolution": "30s",
                    "aggregate": "increase",
                    "fill": "zero",
                    "tz": "UTC",
                    "count": 120,
                    "points": [[T0, 1200.0], [T0 + 30_000, 0.0]],
                    "total": 1200.0,
                }
            ]
        }
    )
    metric: str
    sources: int
    start: int
    end: int
    resolution: str
    aggregate: str
    fill: str
    tz: str
    count: int
    points: list[tuple[int, float | None]]
    total: float


class Ranked(BaseModel):
    source: str
    service: str | None = Field(None, description="with services=true: the service a service:<id> source is")
    total: float
    count: int
    stats: dict[str, Any] | None = None


class TopOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "metric": "bytes_received",
                    "aggregate": "increase",
                    "n": 2,
                    "sources": 3,
                    "top": [
                        {"source": "bob", "total": 5.1e9, "count": 2880},
                        {"source": "alice", "total": 1.2e9, "count": 2880},
                    ],
                }
            ]
        }
    )
    metric: str
    aggregate: str
    n: int
    sources: int
    top: list[Ranked]


class ServiceSeries(BaseModel):
    """A monitored service's series: its name and the engine source its checks are written to."""

    name: str
    source: str


class SeriesList(BaseModel):
    """One of three answers: every source; a source's metrics; a metric's sources. ``services`` (with
    ``services=true``) lists the monitored services' own series apart from users' sources."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"sources": ["alice", "bob"]},
                {"source": "alice", "metrics": ["bytes_received", "latency_ms"]},
                {"metric": "latency_ms", "sources": ["alice", "bob"]},
                {"sources": ["alice"], "services": [{"name": "api", "source": "service:9f2c4e1a0b3d5c7e"}]},
            ]
        }
    )
    source: str | None = None
    metric: str | None = None
    sources: list[str] | None = None
    metrics: list[str] | None = None
    services: list[ServiceSeries] | None = None


class RetentionOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "retention": {
                        "raw": 172800,
                        "5m": 1209600,
                        "15m": 3024000,
                        "1h": 7776000,
                        "6h": 34560000,
                        "1d": 0,
                    }
                }
            ]
        }
    )
    retention: dict[str, int] = Field(description="seconds per tier, 0 = kept for ever")
