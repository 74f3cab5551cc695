"""Factories and reference computations shared by the tests."""

from __future__ import annotations

from typing import Any

from upstat.store.keys import Keys
from upstat.timeseries import timemath as tm
from upstat.timeseries.engine import Engine

DEFAULT_RETENTION = "raw=48h,5m=14d,15m=35d,1h=90d,6h=400d,1d=0"
# The OpenVPN monitor document's "Dynamic Aggregation" table: range, automatic resolution, points.
OPENVPN_TABLE = (
    ("1h", "30s", 120),
    ("3h", "1m", 180),
    ("6h", "2m", 180),
    ("12h", "5m", 144),
    ("24h", "15m", 96),
    ("7d", "1h", 168),
    ("30d", "6h", 120),
)
# Beyond 30 days upstat answers daily.
BEYOND_THE_TABLE = (("90d", "1d", 90), ("1y", "1d", 365))

# A fixed "now" (2026-06-01T12:00:00Z + 7 s) keeps the tests' arithmetic readable.
NOW = 1_780_315_207_000


def make_engine(client: Any, retention: str = DEFAULT_RETENTION, tiers: str = "5m,15m,1h,6h,1d") -> Engine:
    return Engine(client, Keys("upstat:"), tm.build_tiers(tiers, retention))


def reference_buckets(
    points: dict[int, float], start: int, step: int, n: int
) -> list[dict[str, float] | None]:
    """Per-bucket figures computed the slow, obvious way from the final set of points."""
    out: list[dict[str, float] | None] = []
    for i in range(n):
        lo, hi = start + i * step, start + (i + 1) * step
        vals = [v for t, v in sorted(points.items()) if lo <= t < hi]
        if not vals:
            out.append(None)
            continue
        out.append(
            {
                "count": len(vals),
                "sum": sum(vals),
                "min": min(vals),
                "max": max(vals),
                "last": vals[-1],
                "first": vals[0],
            }
        )
    return out


def reference_increase(points: dict[int, float], start: int, step: int, n: int) -> list[float | None]:
    """Counter increase per bucket: steps between consecutive points, a drop read as a restart from zero."""
    items = sorted(points.items())
    out: list[float | None] = [None] * n
    prev: float | None = None
    for t, v in items:
        j = (t - start) // step
        if 0 <= j < n:
            step_inc = 0.0 if prev is None else (v - prev if v >= prev else v)
            out[j] = (out[j] or 0.0) + step_inc
        prev = v
    return out
