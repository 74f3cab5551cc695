"""Request parameters to engine queries, and engine results to response bodies (JSON-ready dicts, CSV).

Shared by upstat's own series routes and the reference dialects, so every dialect reads the same engine the
same way. Pure functions apart from the engine calls the routers make.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from upstat.errors import InvalidInput
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import Buckets, Query
from upstat.timeseries.render import chart_points, check_aggregate, check_fill, point_statistics

FORMATS = ("json", "csv")


@dataclass(frozen=True)
class ChartParams:
    """The chart parameters every series route accepts."""

    range: str | None = None
    start: str | None = None
    end: str | None = None
    resolution: str | None = None
    aggregate: str | None = None
    fill: str | None = None
    tz: str = "UTC"
    stats: bool = True
    percentiles: bool = False
    format: str = "json"

    def query(self, now: int, *, default_range: str = "24h") -> Query:
        """The engine query; every bad parameter is an InvalidInput naming it."""
        check_fill(self.fill)
        if self.format not in FORMATS:
            raise InvalidInput(f"format: must be one of {', '.join(FORMATS)}", field="format")
        tm.zone(self.tz)
        rng = tm.parse_range(self.range, self.start, self.end, now=now, tz=self.tz, default=default_range)
        return Query(rng, tm.parse_resolution(self.resolution), self.tz, self.percentiles)


def iso(ms: int) -> str:
    """Epoch ms as an ISO 8601 UTC string with milliseconds (2026-01-09T12:00:00.000Z)."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_aggregate(kind: str) -> str:
    return "increase" if kind == "counter" else "avg"


def chart(b: Buckets, params: ChartParams, source: str, metric: str) -> dict[str, Any]:
    """upstat's own chart body: the points as [time ms, value] pairs, what was used, and statistics."""
    aggregate = params.aggregate or default_aggregate(b.kind)
    check_aggregate(aggregate, b.kind)
    times, values, fill = chart_points(b, aggregate, params.fill)
    points = [[t, v] for t, v in zip(times, values, strict=True)]
    body: dict[str, Any] = {
        "source": source,
        "metric": metric,
        "kind": b.kind,
        "start": b.grid.start,
        "end": b.grid.end,
        "resolution": b.grid.resolution,
        "tier": b.tier.name,
        "aggregate": "raw" if b.grid.raw else aggregate,
        "fill": fill,
        "tz": params.tz,
        "count": len(points),
        "points": points,
    }
    if params.stats:
        body["stats"] = point_statistics(b, times, values)
    return body


def chart_csv(body: dict[str, Any]) -> str:
    """The chart as CSV: one row per point (epoch ms, ISO time, value); empty buckets have an empty value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["timestamp_ms", "time", body["metric"]])
    for t, v in body["points"]:
        writer.writerow([t, iso(t), "" if v is None else repr(v) if isinstance(v, float) else v])
    return out.getvalue()
