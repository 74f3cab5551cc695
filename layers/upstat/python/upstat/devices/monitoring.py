"""A device's reports in, its health, charts and neighbours out: the steps that tie NetJSON reports to the
engine, the registry and the alert path. Plain values in the domain's words; any dialect of devices uses it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from upstat.config import Settings
from upstat.devices import health as h
from upstat.devices import netjson
from upstat.devices import store as dstore
from upstat.devices.health import Thresholds
from upstat.rules import store as rstore
from upstat.rules.evaluate import Figures, judge, one_point
from upstat.rules.model import Rule
from upstat.rules.state import SeriesState
from upstat.sources import store as registry
from upstat.sources.models import Source
from upstat.timeseries.engine import Engine
from upstat.timeseries.ingest import gather, ingest

log = logging.getLogger("upstat.devices")

#: A report sent without a time is "now": its repeat is recognised within this long (a retry comes within
#: minutes; an agent's next report has another uptime and local time, so another digest).
UNTIMED_CLAIM_S = 10 * 60


@dataclass(frozen=True)
class Received:
    """What one report did: ``stored`` False for a repeat of a report already stored."""

    stored: bool
    points: int = 0
    current: bool = False
    change: dstore.Change | None = None


def digest(report: Any, report_ms: int | None) -> str:
    """The identity of a report: its time as sent (None: untimed) and its body, canonically encoded."""
    body = json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{report_ms}|{body}".encode()).hexdigest()


def require_device(client: Any, device_id: str) -> Source:
    """The registered device ``device_id``; NotFound (404) for an unknown id or a source of another kind."""
    found = registry.get_source(client, device_id)
    if found is None or found.kind != "device":
        raise registry.not_registered(device_id, field="pk")
    return found


def receive(
    client: Any,
    engine: Engine,
    device: Source,
    report: Any,
    *,
    report_ms: int | None,
    now: int,
    thresholds: Thresholds,
) -> Received:
    """Store one NetJSON report of ``device`` at ``report_ms`` (None: now): its metrics as the device's
    series, the report itself when it is the latest, and, for a current report, the health it gives. All or
    nothing for the series (a bad report stores nothing); a repeat stores nothing again."""
    sample = netjson.parse(report)
    at = now if report_ms is None else report_ms
    kinds = {name: "counter" for name in sample.counters}
    gather(time=at, metrics={**sample.gauges, **sample.counters}, kinds=kinds)  # refused before any claim
    key = digest(report, report_ms)
    if not dstore.claim_report(
        client, device.id, key, ttl_s=None if report_ms is not None else UNTIMED_CLAIM_S
    ):
        return Received(stored=False)
    try:
        totals = traffic_totals(sample.counters, _last_samples(engine, device.id, sample.counters), at)
        points, _ = gather(time=at, metrics={**sample.gauges, **sample.counters, **totals}, kinds=kinds)
        done = ingest(engine, device.id, points, kinds, now=now)
        current = h.is_current(at, now)
        dstore.record_report(client, device.id, report_ms=at, report=report)
        change = judge_report(client, device.id, sample.gauges, at=at, now=now, thresholds=thresholds)
        from upstat.devices import wifi

        wifi.observe(client, device, sample.clients, at=at)  # in time order: a backlog replays its sessions
    except Exception:
        dstore.release_report(client, device.id, key)  # the agent's retry must be able to store it
        raise
    return Received(stored=True, points=done.points, current=current, change=change)


def judge_report(
    client: Any, device: str, gauges: Mapping[str, float], *, at: int, now: int, thresholds: Thresholds
) -> dstore.Change | None:
    """Judge the device's built-in rules on one report (a current one: a backfilled report describes the
    past and judges nothing): each threshold rule on the report's value, the silence rule as not silent;
    then record the health their states give. The change of health when there is one."""
    if not h.is_current(at, now):
        return None
    figures = {r.id: one_point(gauges.get(r.selector.metric)) for r in thresholds.threshold_rules()}
    figures[h.SILENCE_ID] = one_point(1.0)  # the report itself: the silence rule's window holds a point
    states = _judge(client, device, [(r, figures[r.id]) for r in thresholds.rules()], slot=at)
    return dstore.record_status(client, device, h.status_from(states, silent_now=False), now=now)


#: How often a device's rules are judged again when another report's evaluation recorded its states first.
_TRIES = 5


def _judge(
    client: Any, device: str, judged: Sequence[tuple[Rule, Figures | None]], *, slot: int
) -> dict[str, SeriesState | None]:
    """Judge each rule on its figures for ``device`` (upstat.rules.evaluate.judge) and record the states
    (upstat.rules.store's compare-and-set); every built-in rule's state of the device afterwards.

    The report path evaluates each report, not each window: its slot is the report's time, or one more than
    the last one judged (two reports in one millisecond, a report after a sweep dated later), and the
    report's claim, not the slot, keeps a repeated report from being judged twice. An evaluation that lost
    the compare-and-set to a concurrent one is judged again on the state that one recorded."""
    pending = list(judged)
    for _ in range(_TRIES):
        befores = [
            found[0] or SeriesState()
            for found in rstore.states_many(client, [r.id for r, _ in pending], [[device]] * len(pending))
        ]
        afters = [
            judge(rule, fig, b, slot=max(slot, b.slot + 1))
            for (rule, fig), b in zip(pending, befores, strict=True)
        ]
        replies = rstore.apply(
            client,
            [(r.id, [(device, b.slot, a)]) for (r, _), b, a in zip(pending, befores, afters, strict=True)],
        )
        pending = [p for p, ok in zip(pending, replies, strict=True) if not ok[0]]
        if not pending:
            break
    return states_of(client, [device])[0]


def _judge_silent(
    client: Any, device: str, before: SeriesState | None, thresholds: Thresholds, *, now: int
) -> bool:
    """Judge the silence rule of a device whose latest report is older than the silence: breached (its
    window holds no report). Not judged when it fires already, or when a report was judged after the
    window began (that report came in since the sweep read the silent devices); recorded only if no
    report was judged meanwhile (compare-and-set, not tried again: a report that won is newer news).
    Whether it was recorded."""
    prev = before or SeriesState()
    if prev.state == "firing" or prev.slot >= now - thresholds.silence_ms:
        return False
    after = judge(thresholds.silence_rule(), None, prev, slot=max(now, prev.slot + 1))
    return rstore.apply(client, [(h.SILENCE_ID, [(device, prev.slot, after)])])[0][0]


def states_of(client: Any, devices: Sequence[str]) -> list[dict[str, SeriesState | None]]:
    """Each device's built-in rules' states (rule id -> state; None: never judged), one round trip."""
    ids = h.rule_ids()
    found = rstore.states_many(client, ids, [list(devices)] * len(ids))
    return [{rid: found[i][j] for i, rid in enumerate(ids)} for j in range(len(devices))]


#: The device's traffic across its interfaces, per report: what every interface's counter moved since the
#: device's previous report (the dashboard sums these instead of every interface's counter series).
TOTALS = {"rx_bytes": "traffic_total.rx_bytes", "tx_bytes": "traffic_total.tx_bytes"}


def _last_samples(engine: Engine, device: str, counters: dict[str, float]) -> dict[str, tuple[int, float]]:
    """(time, value) of the latest stored point of each byte counter series of the report (one round trip)."""
    names = [m for m in counters if (i := netjson.interface_of(m)) is not None and i[1] in TOTALS]
    infos = engine.info_many([(device, m) for m in names]) if names else []
    return {
        m: (info.last_ts, info.last_value)
        for m, info in zip(names, infos, strict=True)
        if info is not None and info.last_ts is not None and info.last_value is not None
    }


def traffic_totals(
    counters: dict[str, float], last: dict[str, tuple[int, float]], at: int
) -> dict[str, float]:
    """The device's rx and tx bytes moved since its previous report, summed over interfaces: each counter's
    step from its latest stored value (a lower value is a reset: the new value counts whole; an interface
    seen for the first time counts 0, as a counter's first point does). Empty for a report not newer than
    every interface's latest point (a backlog already passed, a repeat): its traffic is in the interfaces'
    own series, not in the totals. Pure."""
    out = dict.fromkeys(TOTALS.values(), 0.0)
    for metric, value in counters.items():
        found = netjson.interface_of(metric)
        if found is None or found[1] not in TOTALS:
            continue
        seen = last.get(metric)
        if seen is not None and at <= seen[0]:
            return {}
        if seen is not None:
            out[TOTALS[found[1]]] += value - seen[1] if value >= seen[1] else value
    return out if any(netjson.interface_of(m) for m in counters) else {}


def notify(client: Any, changes: Sequence[dstore.Change], *, settings: Settings) -> list[dict[str, Any]]:
    """Send each recorded change of health as a transition of the device (upstat.rules.transitions: the
    path rules' changes take), claimed per (device, change) so it goes out once. A device's first ``ok``
    (from ``unknown``) is recorded, not alerted."""
    from upstat.rules.transitions import Transition, deliver

    wanted = [c for c in changes if not (c.previous == "unknown" and c.current == "ok")]
    if not wanted:
        return []
    found = {s.id: s for s in registry.get_sources(client, [c.device for c in wanted]) if s is not None}
    transitions = [
        Transition(
            kind="device",
            subject=f"device:{c.device}",
            name=found[c.device].name if c.device in found else c.device,
            transition=c.current,
            previous=c.previous,
            current=c.current,
            at=c.at,
            seq=c.seq,
            channels=found[c.device].channels if c.device in found else (),
        )
        for c in wanted
    ]
    return deliver(client, transitions, settings=settings)


def sweep_silent(client: Any, *, now: int, thresholds: Thresholds, settings: Settings) -> int:
    """Judge the silence rule of each device silent for its window (breached: its window holds no
    report): those it fires for become critical, each change alerted once (the ping job runs this every
    minute; running it twice, or twice at once, records and alerts each change once); closed Wi-Fi sessions
    past their retention are dropped."""
    from upstat.devices import wifi

    total, offset, cutoff = 0, 0, now - thresholds.silence_ms
    while True:
        ids = dstore.silent(client, before=cutoff, offset=offset, limit=500)
        offset += len(ids)
        changes = []
        for device, states in zip(ids, states_of(client, ids), strict=True):
            if not _judge_silent(client, device, states.get(h.SILENCE_ID), thresholds, now=now):
                continue
            status = h.status_from(states_of(client, [device])[0], silent_now=False)
            change = dstore.record_status(client, device, status, now=now)
            if change is not None:
                changes.append(change)
        notify(client, changes, settings=settings)
        total += len(changes)
        if len(ids) < 500:
            break
    wifi.trim(client, before=now - wifi.RETENTION_MS)
    return total


def forget(client: Any, device_id: str) -> None:
    """Drop what devices keep of a source besides its series (health, latest report, claims expire by
    themselves, Wi-Fi sessions): its registration was deleted, and a device registered again under the
    same id starts afresh."""
    from upstat.devices import wifi

    dstore.forget_device(client, device_id)
    rstore.forget_source(client, h.rule_ids(), device_id)
    wifi.forget_device(client, device_id)


# ---------------------------------------------------------------------------------------------------------
# Reads


@dataclass(frozen=True)
class DeviceHealth:
    """A device with its health as of now (``status``: the effective one, silence applied)."""

    source: Source
    status: str
    metrics: dict[str, bool]
    last_report: int | None


def with_health(
    client: Any, devices: Sequence[Source], *, now: int, thresholds: Thresholds
) -> list[DeviceHealth]:
    """Each device with its health as of now, derived from its built-in rules' states (the silence rule
    judged at ``now`` too, so a device silent before the sweep ran reads critical)."""
    ids = [d.id for d in devices]
    lasts = dstore.last_reports(client, ids)
    return [
        DeviceHealth(
            d, h.status_from(states, silent_now=h.silent(last, now, thresholds)), h.metrics_from(states), last
        )
        for d, states, last in zip(devices, states_of(client, ids), lasts, strict=True)
    ]


def devices(
    client: Any,
    *,
    organizations: Sequence[str] | None = None,
    floorplans: Sequence[str] | None = None,
    locations: Sequence[str] | None = None,
) -> list[Source]:
    """The registered devices, oldest first, in any of ``organizations`` (slugs), ``floorplans`` and
    ``locations`` (a device's ``location_id`` is its ``extra.location_id``) when given."""
    found = registry.list_sources(client, kind="device")
    if organizations is not None:
        found = [d for d in found if d.organization in organizations]
    if floorplans is not None:
        found = [d for d in found if d.floorplan in floorplans]
    if locations is not None:
        found = [d for d in found if d.extra.get("location_id") in locations]
    return found


@dataclass(frozen=True)
class Neighbour:
    device: DeviceHealth
    distance_m: float


def nearby(
    client: Any,
    device_id: str,
    *,
    now: int,
    thresholds: Thresholds,
    within_m: float | None = None,
) -> list[Neighbour]:
    """The located devices around ``device_id`` (Redis GEO over the registry's positions), nearest first,
    with their distance in metres and their health."""
    pairs = [(s, d) for s, d in registry.nearby(client, device_id, within_m=within_m) if s.kind == "device"]
    healths = with_health(client, [s for s, _ in pairs], now=now, thresholds=thresholds)
    return [Neighbour(dh, dist) for dh, (_, dist) in zip(healths, pairs, strict=True)]


def status_counts(healths: Sequence[DeviceHealth]) -> dict[str, int]:
    """How many devices are in each status (every status listed, 0 included)."""
    out = dict.fromkeys(h.STATUSES, 0)
    for d in healths:
        out[d.status] += 1
    return out
