"""A realistic fleet for the browser tests (and for looking at the pages by hand): 90 days of checks of five
visible services in groups, one hidden service whose URL holds a credential, incidents, maintenance
windows, and users' sources with metrics. Deterministic (a seeded random generator).

Checks go through the recorder (``tests.api.conftest.record``), so states, incidents and the engine's
series are what real checks make. Old days are checked every 3 hours, the last two days every 15 minutes,
and outage days every 5 minutes around the outage, so the whole fleet records in a few seconds.
"""

from __future__ import annotations

import math
import random
from typing import Any

from tests.api.conftest import record
from upstat.timeseries.retention import current_engine
from upstat.uptime import maintenance
from upstat.uptime.maintenance import MaintenanceIn
from upstat.uptime.services import ServiceStore

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
SECRET = "hunter2-do-not-show"
HIDDEN = "internal-db"

#: name -> (group, description, created days ago, typical ms, outages as (days ago, minutes))
FLEET: dict[str, tuple[str | None, str, int, float, list[tuple[float, int]]]] = {
    "Website": ("Website", "www.example.com", 120, 120.0, [(41.3, 25)]),
    "CDN": ("Website", "Static assets and images", 25, 28.0, []),
    "Public API": ("API", "REST API for customers", 120, 85.0, [(20.4, 95), (6.7, 12)]),
    "Auth": ("API", "Sign-in and tokens", 120, 140.0, [(63.1, 8)]),
    "Billing": (None, "Invoices and payments", 75, 210.0, [(33.8, 240)]),
}


def check_times(now: int, created: int, outages: list[tuple[float, int]]) -> list[int]:
    """When a service was checked: sparse long ago, dense lately and around its outages."""
    times = set(range(now - 2 * DAY, now - DAY, 15 * MINUTE)) | set(range(now - DAY, now, 5 * MINUTE))
    times.update(range(max(created, now - 90 * DAY), now - 2 * DAY, 3 * HOUR))
    for days_ago, minutes in outages:
        start = now - int(days_ago * DAY)
        times.update(range(start - HOUR, start + (minutes + 60) * MINUTE, 5 * MINUTE))
    return sorted(t for t in times if t >= created and t < now)


def status_at(t: int, now: int, outages: list[tuple[float, int]]) -> str:
    for days_ago, minutes in outages:
        start = now - int(days_ago * DAY)
        if start <= t < start + minutes * MINUTE:
            return "down"
    return "up"


def seed(r: Any, now: int) -> None:
    """The fleet, its checks up to ``now``, windows, and users' sources."""
    rnd = random.Random(15)
    store = ServiceStore(r)
    for name, (group, description, created_days, _typical, _) in FLEET.items():
        body: dict[str, Any] = {"name": name, "url": "http://127.0.0.1:9/health", "description": description}
        if group:
            body["group"] = group
        store.create(body, now_ms=now - created_days * DAY)
    store.create(
        {
            "name": HIDDEN,
            "url": f"http://127.0.0.1:9/db?api_key={SECRET}",
            "visible": False,
            "description": "private",
        },
        now_ms=now - 30 * DAY,
    )
    for name, (_, _, created_days, typical, outages) in FLEET.items():
        checks = []
        for t in check_times(now, now - created_days * DAY, outages):
            status = status_at(t, now, outages)
            wave = 1 + 0.25 * math.sin(t / DAY * 2 * math.pi) + rnd.uniform(-0.12, 0.12)
            spike = 3.0 if rnd.random() < 0.02 else 1.0
            checks.append((t, status, None if status == "down" else round(typical * wave * spike, 1)))
        record(r, name, *checks)
    record(
        r,
        HIDDEN,
        *[(now - DAY + i * 5 * MINUTE, "down", None) for i in range(6)],
        (now - DAY + HOUR, "up", 3.0),
    )
    upgrade = now - now % HOUR + 2 * DAY
    maintenance.add_window(r, MaintenanceIn(title="Database upgrade", start=upgrade, end=upgrade + 2 * HOUR))
    cdn = store.require("CDN").id
    maintenance.add_window(
        r,
        MaintenanceIn.model_validate(
            {
                "title": "Cache purge",
                "recurring": {"days": [6], "start": "03:00", "durationMinutes": 30, "tz": "UTC"},
            }
        ),
        service_id=cdn,
    )
    hidden = store.require(HIDDEN).id
    maintenance.add_window(
        r, MaintenanceIn(title="Secret db work", start=upgrade, end=upgrade + HOUR), service_id=hidden
    )
    users_sources(r, now, rnd)


def users_sources(r: Any, now: int, rnd: random.Random) -> None:
    """A router (gauge and counter every 5 min for 2 days), and a nightly backup job (a point a day)."""
    engine = current_engine(r, fresh=True)
    times = list(range(now - 2 * DAY + 5 * MINUTE, now, 5 * MINUTE))
    cpu = [(t, round(20 + 15 * math.sin(t / DAY * 2 * math.pi) + rnd.uniform(0, 8), 2)) for t in times]
    total, counter = 0.0, []
    for t in times:
        total += rnd.uniform(2e6, 9e6)
        counter.append((t, total))
    engine.write("edge-router", "cpu_percent", cpu, now=now)
    engine.write("edge-router", "bytes_in", counter, now=now, kind="counter")
    engine.write("backup-job", "duration_s", [(now - 30 * HOUR, 312.0), (now - 6 * HOUR, 298.0)], now=now)
