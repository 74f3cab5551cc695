"""A device's charts and the dashboard's, from the engine: which series each chart reads, and each chart's
values per bucket. Reads only (one pipelined round trip per chart set); pure apart from the engine call.

Charts of one device (OpenWISP's default charts, without ping, which upstat does not run):

- ``uptime``: 100 (%) for a bucket in which the device reported, 0 for one without a report;
- ``memory`` (``percent_used``), ``cpu`` (``cpu_usage``), ``disk`` (``used_disk``): the bucket's average;
- ``traffic`` per interface: ``rx_bytes`` and ``tx_bytes`` increase in the bucket (counters: a reboot's
  reset counts as a restart from zero, never negative);
- ``wifi_clients`` per interface: the most stations seen at once in the bucket.

The dashboard sums across the selected devices: total traffic (each device's per-report totals of what
every interface moved, ``traffic_total.*``), total Wi-Fi clients (each device's most stations at once in the
bucket, summed); the devices by health status come from upstat.devices.monitoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from upstat.devices.netjson import interface_of
from upstat.timeseries.engine import Engine
from upstat.timeseries.model import Buckets, Query
from upstat.timeseries.multi import total_per_bucket
from upstat.timeseries.render import column


@dataclass(frozen=True)
class Trace:
    name: str
    values: list[float | None]


@dataclass(frozen=True)
class Chart:
    """One chart: ``key`` names it; ``interface`` for per-interface ones."""

    key: str
    title: str
    unit: str
    kind: str
    traces: list[Trace]
    summary: dict[str, float | None] = field(default_factory=dict)
    interface: str | None = None


@dataclass(frozen=True)
class Charts:
    times: Sequence[int]
    charts: list[Chart]
    resolution: str


GAUGES = (
    ("memory", "memory.percent_used", "Memory Usage", "%", "percent_used"),
    ("cpu", "cpu.cpu_usage", "CPU Load", "%", "cpu_usage"),
    ("disk", "disk.used_disk", "Disk Usage", "%", "used_disk"),
)


def _avg(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 4) if known else None


def _total(values: Sequence[float | None]) -> float:
    return float(sum(v for v in values if v is not None))


def _max(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def device_charts(engine: Engine, device: str, query: Query, *, now: int) -> Charts:
    """Every chart of one device over the query's grid, in one round trip."""
    metrics = set(engine.metrics_of(device))
    wanted = ["reachable"] + [m for _, m, *_ in GAUGES]
    interfaces = sorted({i[0] for m in metrics if (i := interface_of(m)) is not None})
    wifi = sorted(m[len("wifi_clients.") :] for m in metrics if m.startswith("wifi_clients."))
    for name in interfaces:
        wanted += [f"traffic.{name}.rx_bytes", f"traffic.{name}.tx_bytes"]
    wanted += [f"wifi_clients.{name}" for name in wifi]
    present = [m for m in wanted if m in metrics]
    read = engine.read_many([(device, m) for m in present], query, now=now)
    got: dict[str, Buckets] = {m: b for m, b in zip(present, read, strict=True) if b is not None}
    times, resolution = _grid(engine, query, now)
    n = len(times)
    charts = [_uptime(got.get("reachable"), n)]
    for key, metric, title, unit, trace in GAUGES:
        values: list[float | None] = column(got[metric], "avg") if metric in got else [None] * n
        charts.append(Chart(key, title, unit, "scatter", [Trace(trace, values)], {trace: _avg(values)}))
    for name in interfaces:
        traces = []
        for counter in ("rx_bytes", "tx_bytes"):
            b = got.get(f"traffic.{name}.{counter}")
            traces.append(Trace(counter, _increase(b, n)))
        summary: dict[str, float | None] = {t.name: _total(t.values) for t in traces}
        charts.append(Chart("traffic", f"Traffic: {name}", "bytes", "stackedbar", traces, summary, name))
    for name in wifi:
        b = got.get(f"wifi_clients.{name}")
        values = column(b, "max") if b is not None else [None for _ in range(n)]
        charts.append(
            Chart(
                "wifi_clients",
                f"WiFi clients: {name}",
                "clients",
                "bar",
                [Trace("wifi_clients", values)],
                {"wifi_clients": _max(values)},
                name,
            )
        )
    return Charts(times, charts, resolution)


def _grid(engine: Engine, query: Query, now: int) -> tuple[Sequence[int], str]:
    from upstat.timeseries import timemath as tm

    grid = tm.make_grid(query.range, query.resolution, now=now, tz=query.tz)
    return grid.starts(), grid.resolution


def _increase(b: Buckets | None, n: int) -> list[float | None]:
    if b is None:
        return [0.0] * n
    return [0.0 if v is None else v for v in column(b, "increase")]


def _uptime(b: Buckets | None, n: int) -> Chart:
    values: list[float | None] = [0.0] * n if b is None else [100.0 if c else 0.0 for c in b.count]
    return Chart("uptime", "Uptime", "%", "scatter", [Trace("uptime", values)], {"uptime": _avg(values)})


def dashboard_charts(engine: Engine, devices: Sequence[str], query: Query, *, now: int) -> Charts:
    """Totals across ``devices``: traffic (the bytes every interface moved: each device's per-report totals,
    summed per bucket) and Wi-Fi clients (each device's most stations at once per bucket, summed), in one
    round trip."""
    from upstat.devices.monitoring import TOTALS

    times, resolution = _grid(engine, query, now)
    n = len(times)
    names = [*TOTALS.values(), "wifi_clients"]
    series = [(device, name) for device in devices for name in names]
    read = engine.read_many(series, query, now=now)
    by_metric: dict[str, list[Buckets]] = {name: [] for name in names}
    for (_, name), b in zip(series, read, strict=True):
        if b is not None:
            by_metric[name].append(b)
    traces = []
    for counter, name in TOTALS.items():
        values = total_per_bucket(by_metric[name], "sum", n)
        traces.append(Trace(counter, [0.0 if v is None else v for v in values]))
    summary: dict[str, float | None] = {t.name: _total(t.values) for t in traces}
    wifi = total_per_bucket(by_metric["wifi_clients"], "max", n)
    charts = [
        Chart("traffic", "General Traffic", "bytes", "stackedbar", traces, summary),
        Chart(
            "wifi_clients",
            "General WiFi Clients",
            "clients",
            "bar",
            [Trace("wifi_clients", wifi)],
            {"wifi_clients": _max(wifi)},
        ),
    ]
    return Charts(times, charts, resolution)
