"""What the public status page shows, in one body: the overall state, every visible service with its state,
uptime, 90 daily bars and response times, grouped; incidents; maintenance windows. Assembled from the
domain's reports (``reports``, ``incidents``, ``maintenance``): this module adds only the page's rules (its
overall state, which incidents and windows a reader sees, what a bar's tooltip says).

Only services marked ``visible`` appear, and only their display fields: no URL, header, keyword or check
message (an incident's cause is its error class, see ``incidents.public_cause``), since the page is public.

Bars and series are columns (one list per figure, the days and bucket times given once for all
services): the page reads the whole body every minute, and 90 objects per service would triple its size.
Nothing in the body depends on the time of the request other than through the data and the bucket grids,
so an unchanged fleet gives an unchanged body (and an unchanged ETag) until the next check or bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from upstat.timeseries import timemath as tm
from upstat.timeseries.engine import Engine
from upstat.uptime import incidents, maintenance, reports
from upstat.uptime.reports import StatusRow

#: Words of the page's overall state (the page shows each as text, colour is only a second cue).
PAGE_STATES = ("operational", "degraded", "partial_outage", "major_outage", "maintenance", "pending")
#: Daily bars shown per service, and the incidents listed (open ones whatever their age).
BAR_DAYS = 90
INCIDENT_DAYS = 14
#: Ranges the response-time chart offers.
CHART_RANGES = ("24h", "7d", "30d")
#: Incidents read for the bars' counts (those of hidden services share the index: read generously).
MAX_INCIDENTS = 1000


def page_state(states: Sequence[str]) -> str:
    """One state for the page from its services' states (``paused`` ones do not count):

    - ``pending`` with no service, or while none has a settled status yet;
    - ``major_outage`` when every settled service is down, ``partial_outage`` when some are;
    - otherwise ``maintenance`` when any is in a maintenance window, ``degraded`` when any is degraded;
    - otherwise ``operational`` (a pending service among settled ones counts as up).
    """
    settled = [s for s in states if s not in ("paused", "pending")]
    if not settled:
        return "pending"
    down = settled.count("down")
    if down:
        return "major_outage" if down == len(settled) else "partial_outage"
    if "maintenance" in settled:
        return "maintenance"
    if "degraded" in settled:
        return "degraded"
    return "operational"


def build(client: Any, engine: Engine, *, now: int, tz: str, chart_range: str) -> dict[str, Any]:
    """The page's body (wire names), for the reader's time zone ``tz`` and chart range."""
    rows = reports.status_rows(client, visible_only=True, now=now)
    ids = [r.id for r in rows]
    names = {r.id: r.name for r in rows}
    windows = maintenance.windows_for(client, ids) if ids else {}
    figures = reports.window_figures(engine, ids, now=now)
    uptime = {sid: {w: f.uptime for w, f in per.items()} for sid, per in figures.items()}
    covered = reports.coverage_windows(rows, figures, now=now)
    bars = reports.daily_many(engine, {r.id: r.display.expect for r in rows}, days=BAR_DAYS, tz=tz, now=now)
    series = reports.response_series(engine, ids, last=chart_range, now=now)
    found = incidents_of(client, rows, since=now - BAR_DAYS * tm.DAY)
    days = reports.calendar_days(days=BAR_DAYS, tz=tz, now=now)
    services = {
        r.id: _service(r, r.status, (uptime[r.id], covered[r.id]), bars[r.id], series, found, now)
        for r in rows
    }
    checked = [r.last_checked for r in rows if r.last_checked]
    return {
        "state": page_state([s["state"] for s in services.values()]),
        "updated": max(checked) if checked else None,
        "tz": tz,
        "days": {"dates": [d for d, _ in days], "starts": [s for _, s in days]},
        "chart": {
            "range": chart_range,
            "resolution": series.grid.resolution,
            "times": list(series.grid.starts()),
            "perBucketPercentiles": series.per_bucket_percentiles,
        },
        "groups": _groups(rows, services),
        "incidents": _recent(found, names, now),
        "maintenance": _windows(windows, names, now),
    }


def _service(
    row: StatusRow,
    state: str,
    figures: tuple[dict[str, float | None], dict[str, float | None]],
    bars: list[reports.DayBar],
    series: reports.ResponseSeries,
    found: list[incidents.Incident],
    now: int,
) -> dict[str, Any]:
    mine = [i for i in found if i.service_id == row.id]
    per_day = incidents.per_day(mine, [b.start for b in bars], now)
    stats = series.stats[row.id]
    return {
        "name": row.name,
        "description": row.description,
        "state": state,
        "since": row.state.since_ms,
        "lastChecked": row.last_checked,
        "responseTime": None if state == "down" else row.response_time,  # a failed check's time is no answer
        "uptime": figures[0],
        "coverage": figures[1],
        "bars": {
            "uptime": [b.uptime for b in bars],
            "coverage": [b.coverage for b in bars],
            "checks": [b.checks for b in bars],
            "downChecks": [b.down_checks for b in bars],
            "incidents": [n for n, _ in per_day],
            "downtimeMinutes": [round(ms / tm.MINUTE) for _, ms in per_day],
        },
        "responseTimes": {
            "avg": series.avg[row.id],
            "p50": series.p50[row.id],
            "p95": series.p95[row.id],
            "stats": {
                "count": stats.count,
                "avg": stats.avg,
                "min": stats.min,
                "max": stats.max,
                "p50": stats.p50,
                "p95": stats.p95,
                "p99": stats.p99,
                "exact": stats.exact,
            },
        },
    }


def _groups(rows: Sequence[StatusRow], services: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Services by group, groups in the order their first service was added (ungrouped ones under null)."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r.display.group or None, []).append(services[r.id])
    return [{"name": name, "services": members} for name, members in groups.items()]


def incidents_of(client: Any, rows: Sequence[StatusRow], *, since: int) -> list[incidents.Incident]:
    """The visible services' incidents that started since ``since``, plus open ones that started before."""
    ids = [r.id for r in rows]
    if not ids:
        return []
    found = incidents.across_services(client, since_ms=since, limit=MAX_INCIDENTS, service_ids=ids)
    seen = {(i.service_id, i.id) for i in found}
    for r in rows:
        iid = r.state.incident_id
        if iid and (r.id, iid) not in seen:
            older = incidents.get(client, r.id, iid)
            if older is not None:
                found.append(older)
    return found


def _recent(found: list[incidents.Incident], names: dict[str, str], now: int) -> list[dict[str, Any]]:
    """Open incidents first, then those that ended in the last ``INCIDENT_DAYS`` days, newest first."""
    since = now - INCIDENT_DAYS * tm.DAY
    shown = [i for i in found if i.open or (i.end or 0) >= since]
    shown.sort(key=lambda i: (not i.open, -i.start))
    return [
        {
            "service": names[i.service_id],
            "start": i.start,
            "end": i.end,
            "durationMs": i.duration_ms,
            "cause": incidents.public_cause(i),
            "open": i.open,
        }
        for i in shown
    ]


def _windows(
    windows: dict[str, list[maintenance.Window]], names: dict[str, str], now: int
) -> list[dict[str, Any]]:
    """Windows in force or still to come (their current or next occurrence), active ones first. A global
    window names no services (it covers all); a service's window names its service."""
    unique: dict[str, maintenance.Window] = {}
    for ws in windows.values():
        for w in ws:
            unique[w.id] = w
    out = []
    for w in unique.values():
        occ = maintenance.occurrence(w, now)
        if occ is None:
            continue
        rec = w.recurring
        out.append(
            {
                "title": w.title,
                "services": None if w.service_id is None else [names[w.service_id]],
                "start": occ[0],
                "end": occ[1],
                "active": occ[0] <= now < occ[1],
                "recurring": None if rec is None else rec.model_dump(by_alias=True),
            }
        )
    out.sort(key=lambda x: (not x["active"], x["start"]))
    return out
