"""``GET /metrics``: upstat's state in the Prometheus text format (or OpenMetrics, when asked), written by
the ``prometheus_client`` package from one read of the store.

Per service (label ``service``, its name): ``upstat_service_up`` (1 up or degraded, 0 down; no sample while
pending or paused), ``upstat_service_state`` (1 for its status of ``STATES``, 0 for the others),
``upstat_service_response_time_seconds`` (the last check's), ``upstat_service_last_check_timestamp_seconds``,
``upstat_service_uptime_ratio`` (label ``window``: 24h, 7d, 30d; no sample without checks),
``upstat_service_coverage_ratio`` (the share of the window's expected checks that ran) and
``upstat_service_certificate_days_left`` (https and tls checks). Per scheduled job (label ``job``):
``upstat_job_runs_total``, ``upstat_job_failures_total``, ``upstat_job_last_run_timestamp_seconds``,
``upstat_job_last_duration_seconds``, ``upstat_job_last_success_timestamp_seconds``. And counts:
``upstat_services``, ``upstat_sources``, ``upstat_series``.

The read is a fixed number of round trips whatever the fleet: the status rows (as ``/v1/status``), one
engine read per uptime bucket size for every service at once, then job stats and counts in one pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS_TYPE
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from upstat.jobs import SCHEDULES
from upstat.jobs.runner import JobStats, decode_job_stats, job_stats_pipelined
from upstat.timeseries.engine import Engine
from upstat.uptime import reports
from upstat.uptime.reports import StatusRow

#: The uptime windows exposed (90 d is a status page's figure; a scrape every 15 s need not read it).
WINDOWS = ("24h", "7d", "30d")
#: Every status a service may read, as ``upstat_service_state`` lists them.
STATES = ("up", "degraded", "down", "maintenance", "pending", "paused")
#: The jobs whose runs are counted: the scheduled ones, and the two passes the ping job runs after its own.
JOBS = (*(s.name for s in SCHEDULES), "backup-schedules", "subscriber-events")


@dataclass(frozen=True)
class Snapshot:
    """Everything one scrape shows."""

    rows: list[StatusRow]
    uptime: dict[str, dict[str, float | None]]  # service id -> window -> percent
    coverage: dict[str, dict[str, float | None]]  # service id -> window -> percent
    jobs: dict[str, JobStats | None]
    sources: int
    series: int


def read(client: Any, engine: Engine, *, now: int, visible_only: bool = False) -> Snapshot:
    """One scrape's data, in a fixed number of round trips."""
    rows = reports.status_rows(client, visible_only=visible_only, now=now)
    figures = reports.window_figures(engine, [r.id for r in rows], now=now, windows=WINDOWS)
    uptime = {sid: {w: f.uptime for w, f in per.items()} for sid, per in figures.items()}
    covered = reports.coverage_windows(rows, figures, now=now)
    pipe = client.pipeline(transaction=False)
    job_stats_pipelined(pipe, JOBS)
    engine.queue_counts(pipe)
    replies = pipe.execute()
    jobs = {name: decode_job_stats(raw) for name, raw in zip(JOBS, replies, strict=False)}
    sources, series = engine.decode_counts(replies[len(JOBS) :])
    return Snapshot(rows, uptime, covered, jobs, sources, series)


def render(snapshot: Snapshot, *, openmetrics: bool = False) -> tuple[bytes, str]:
    """(body, content type) of the snapshot in the Prometheus text format, or OpenMetrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(snapshot))
    if openmetrics:
        return generate_openmetrics(registry), OPENMETRICS_TYPE
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Collector:
    """A one-shot collector over a snapshot (prometheus_client's custom collector protocol)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        yield from service_families(self.snapshot.rows, self.snapshot.uptime, self.snapshot.coverage)
        yield from job_families(self.snapshot.jobs)
        yield _gauge("upstat_services", "Monitored services", len(self.snapshot.rows))
        yield _gauge(
            "upstat_sources", "Sources with stored series (services' included)", self.snapshot.sources
        )
        yield _gauge("upstat_series", "Stored series (source, metric)", self.snapshot.series)


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


def service_families(
    rows: Sequence[StatusRow],
    uptime: dict[str, dict[str, float | None]],
    covered: dict[str, dict[str, float | None]],
) -> list[GaugeMetricFamily]:
    up = GaugeMetricFamily("upstat_service_up", "1: up or degraded, 0: down", labels=["service"])
    state = GaugeMetricFamily(
        "upstat_service_state", "1 for the service's status", labels=["service", "state"]
    )
    rt = GaugeMetricFamily(
        "upstat_service_response_time_seconds", "The last check's response time", labels=["service"]
    )
    checked = GaugeMetricFamily(
        "upstat_service_last_check_timestamp_seconds", "When the last check ran", labels=["service"]
    )
    ratio = GaugeMetricFamily(
        "upstat_service_uptime_ratio", "Share of checks up over the window", labels=["service", "window"]
    )
    coverage = GaugeMetricFamily(
        "upstat_service_coverage_ratio",
        "Share of the window's expected checks that ran",
        labels=["service", "window"],
    )
    cert = GaugeMetricFamily(
        "upstat_service_certificate_days_left", "Days until the TLS certificate expires", labels=["service"]
    )
    for row in rows:
        name = [row.name]
        status = row.status
        if status in ("up", "degraded", "down"):
            up.add_metric(name, 0 if status == "down" else 1)
        for s in STATES:
            state.add_metric([row.name, s], int(s == status))
        if row.state.last_ms is not None:
            rt.add_metric(name, row.state.last_ms / 1000)
        if row.last_checked:
            checked.add_metric(name, row.last_checked / 1000)
        _ratios(ratio, row.name, uptime.get(row.id, {}))
        _ratios(coverage, row.name, covered.get(row.id, {}))
        if row.state.cert_days is not None:
            cert.add_metric(name, row.state.cert_days)
    return [up, state, rt, checked, ratio, coverage, cert]


def _ratios(family: GaugeMetricFamily, service: str, percents: dict[str, float | None]) -> None:
    for window, percent in percents.items():
        if percent is not None:
            family.add_metric([service, window], percent / 100)


def job_families(jobs: dict[str, JobStats | None]) -> list[Metric]:
    runs = CounterMetricFamily("upstat_job_runs", "Runs that got the job's lock", labels=["job"])
    failures = CounterMetricFamily("upstat_job_failures", "Runs that raised an error", labels=["job"])
    started = GaugeMetricFamily(
        "upstat_job_last_run_timestamp_seconds", "When the latest run started", labels=["job"]
    )
    duration = GaugeMetricFamily("upstat_job_last_duration_seconds", "How long it took", labels=["job"])
    success = GaugeMetricFamily(
        "upstat_job_last_success_timestamp_seconds", "When a run last completed", labels=["job"]
    )
    for job, stats in jobs.items():
        if stats is None:
            continue  # never ran: no samples, rather than a run at 1970
        runs.add_metric([job], stats.runs)
        failures.add_metric([job], stats.failures)
        if stats.last_started_ms is not None:
            started.add_metric([job], stats.last_started_ms / 1000)
        if stats.last_duration_ms is not None:
            duration.add_metric([job], stats.last_duration_ms / 1000)
        if stats.last_success_ms is not None:
            success.add_metric([job], stats.last_success_ms / 1000)
    return [runs, failures, started, duration, success]
