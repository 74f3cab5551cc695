"""A device's health, as OpenWISP states it: ``unknown``, ``ok``, ``problem``, ``critical``. Pure rules.

- ``unknown`` until the device's first report;
- on each current report (its time at most :data:`CURRENT_MS` old: a backfilled report describes the past and
  never moves the health, as in OpenWISP), each threshold metric is healthy unless its value is above its
  threshold (memory ``percent_used`` > 95 %, CPU ``cpu_usage`` > 90 %, disk ``used_disk`` > 90 %: OpenWISP's
  defaults, each settable); ``problem`` if any is unhealthy, else ``ok``;
- ``critical`` when no report came for ``silence_ms`` (OpenWISP: ping and data collection both failing; upstat
  does not ping, so the silence alone decides), until the next current report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from upstat.config import Settings

STATUSES = ("unknown", "ok", "problem", "critical")
LABELS = {"unknown": "unknown", "ok": "ok", "problem": "problem", "critical": "critical"}
#: Reports older than this are historical (the agent's backlog): they never move the health (OpenWISP: 5 min).
CURRENT_MS = 5 * 60 * 1000

#: threshold metric -> the series it reads
THRESHOLD_METRICS = {"memory": "memory.percent_used", "cpu": "cpu.cpu_usage", "disk": "disk.used_disk"}


@dataclass(frozen=True)
class Thresholds:
    """Upper bounds (percent) of the threshold metrics, and how long a silent device stays healthy."""

    memory: float = 95.0
    cpu: float = 90.0
    disk: float = 90.0
    silence_ms: int = 60 * 60 * 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(
            memory=settings.device_memory_threshold,
            cpu=settings.device_cpu_threshold,
            disk=settings.device_disk_threshold,
            silence_ms=int(settings.device_silence_s * 1000),
        )

    def bound(self, metric: str) -> float:
        return float(getattr(self, metric))


def related_metrics(values: Mapping[str, float], thresholds: Thresholds) -> dict[str, bool]:
    """Each threshold metric the report measured -> whether it is healthy (at or below its threshold)."""
    out = {}
    for name, series in THRESHOLD_METRICS.items():
        if series in values:
            out[name] = values[series] <= thresholds.bound(name)
    return out


def status_of(metrics: Mapping[str, bool]) -> str:
    """``problem`` if any threshold metric is unhealthy, else ``ok`` (a current report arrived)."""
    return "problem" if not all(metrics.values()) else "ok"


def is_current(report_ms: int, now: int) -> bool:
    return report_ms >= now - CURRENT_MS


def effective(status: str, last_report: int | None, now: int, thresholds: Thresholds) -> str:
    """The status as of ``now``: ``critical`` once the device has been silent for the silence period,
    ``unknown`` before any report, else the status its last current report gave."""
    if last_report is None:
        return "unknown"
    if now - last_report >= thresholds.silence_ms:
        return "critical"
    return status
