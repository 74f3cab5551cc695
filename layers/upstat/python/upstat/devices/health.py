"""A device's health, as OpenWISP states it: ``unknown``, ``ok``, ``problem``, ``critical``, decided by
built-in alert rules (upstat.rules), not by a machinery of its own. Pure.

The rules, one per threshold metric and one for silence, are made from the settings (OpenWISP's defaults,
each settable)::

    max(memory.percent_used, 5m) > 95     max(cpu.cpu_usage, 5m) > 90     max(disk.used_disk, 5m) > 90
    absent(report, 1h)

They are judged by the rules' one evaluation (upstat.rules.evaluate.judge: value, breach, state machine)
at two moments, as OpenWISP does: on each current report (its time at most :data:`CURRENT_MS` old: a
backfilled report describes the past and never moves the health), each threshold rule on the report's
value (a metric the report did not measure has no value: not breached) and the silence rule as not
breached; and by the silence sweep, the silence rule of a device silent for its window as breached
(upstat does not ping, so the silence alone decides). Their states are kept by upstat.rules.store.

The device's health is derived from those states: ``unknown`` until its first current report,
``critical`` while the silence rule fires (or the device has been silent for its window when read, before
the sweep ran), ``problem`` while any threshold rule fires, else ``ok``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from upstat.config import Settings
from upstat.rules.model import BUILTIN, Rule, Selector
from upstat.rules.state import SeriesState

STATUSES = ("unknown", "ok", "problem", "critical")
LABELS = {"unknown": "unknown", "ok": "ok", "problem": "problem", "critical": "critical"}
#: Reports older than this are historical (the agent's backlog): they never move the health (OpenWISP: 5 min).
CURRENT_MS = 5 * 60 * 1000

#: threshold metric -> the series it reads
THRESHOLD_METRICS = {"memory": "memory.percent_used", "cpu": "cpu.cpu_usage", "disk": "disk.used_disk"}
#: The built-in rules' ids (their states are kept under these ids, one per device).
RULE_IDS = {name: f"{BUILTIN}device-{name}" for name in THRESHOLD_METRICS}
SILENCE_ID = f"{BUILTIN}device-silence"
#: What the silence rule's ``absent`` reads: the device's reports (the time of its latest, kept by
#: upstat.devices.store), whatever series each report wrote.
REPORTS = "report"


@dataclass(frozen=True)
class Thresholds:
    """Upper bounds (percent) of the threshold metrics, and how long a silent device stays healthy: the
    settings the built-in rules are made from."""

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

    def threshold_rules(self) -> list[Rule]:
        """``max(<series>, 5m) > <bound>`` per threshold metric (5 minutes: a current report's age)."""
        return [
            Rule(
                id=RULE_IDS[name],
                name=f"device {name}",
                selector=Selector(series, kind="device"),
                aggregate="max",
                window_ms=CURRENT_MS,
                op=">",
                threshold=float(getattr(self, name)),
            )
            for name, series in THRESHOLD_METRICS.items()
        ]

    def silence_rule(self) -> Rule:
        """``absent(report, <silence>)``: no report for the silence period."""
        return Rule(
            id=SILENCE_ID,
            name="device silence",
            selector=Selector(REPORTS, kind="device"),
            aggregate="absent",
            window_ms=self.silence_ms,
        )

    def rules(self) -> list[Rule]:
        return [*self.threshold_rules(), self.silence_rule()]


def rule_ids() -> list[str]:
    return [*RULE_IDS.values(), SILENCE_ID]


def is_current(report_ms: int, now: int) -> bool:
    return report_ms >= now - CURRENT_MS


def silent(last_report: int | None, now: int, thresholds: Thresholds) -> bool:
    """Whether the silence rule's window ending ``now`` holds no report (a device that never reported is
    not silent: it is unknown)."""
    return last_report is not None and now - last_report >= thresholds.silence_ms


def status_from(states: Mapping[str, SeriesState | None], *, silent_now: bool) -> str:
    """The device's health from its built-in rules' states (rule id -> state; None: never judged)."""
    silence = states.get(SILENCE_ID)
    if silent_now or (silence is not None and silence.state == "firing"):
        return "critical"
    if silence is None:
        return "unknown"
    if any(s is not None and s.state == "firing" for rid, s in states.items() if rid != SILENCE_ID):
        return "problem"
    return "ok"


def metrics_from(states: Mapping[str, SeriesState | None]) -> dict[str, bool]:
    """Each threshold metric the last current report measured -> whether it is healthy (its rule does not
    fire)."""
    out = {}
    for name, rid in RULE_IDS.items():
        s = states.get(rid)
        if s is not None and s.value is not None:
            out[name] = s.state != "firing"
    return out
