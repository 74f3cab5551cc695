"""The README's table of what each key may do, walked over every route as every caller.

The table is read from README.md ("What each key may do"), so the documentation and the behaviour cannot
drift apart: a route missing from the table, a row for a route that does not exist, or a cell that does not
match what the route does fails here. Each cell runs on freshly made data (a service, a push monitor,
windows, series of sources alice and bob, registered in organizations acme and globex, an organization
without sources, Netflow exporter devices 1 to 3 registered in acme, globex and none, a key to show or
revoke), so a DELETE in one cell never starves another.

An ``own`` cell is called as that caller for alice (allowed), then for bob and for service:x (403). A
listing route names no source: there the same request must succeed, and what it lists is checked in
tests/api/test_organization_isolation.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import record
from tests.auth.helpers import bearer, make_key
from tests.conftest import ADMIN_TOKEN
from tests.factories import goflow2_record
from tests.uptime.targets import LocalTarget
from upstat.auth import cache
from upstat.backups import runs
from upstat.config import get_settings
from upstat.sources import access, numbers
from upstat.sources import store as registry
from upstat.uptime import maintenance
from upstat.uptime.maintenance import MaintenanceIn
from upstat.uptime.services import ServiceStore

README = Path(__file__).resolve().parents[2] / "README.md"
T0 = 1_767_225_600_000
CALLERS = ("anonymous", "read key", "write key", "source key", "organization key", "admin key")
#: The organization of each source the cells name (service:x is upstat's own: in none).
ORG_OF = {"alice": "acme", "bob": "globex", "service:x": "no-such-org"}
#: The Netflow exporter device (address, ID) a cell names for each source: registered in the same
#: organization as the source (the last one in none).
DEVICE_OF = {"alice": ("192.0.2.1", 1), "bob": ("192.0.2.2", 2), "service:x": ("192.0.2.3", 3)}
ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE|OPTIONS) ([^`]+)` \|(.+)\|$")


def readme_table() -> dict[tuple[str, str], dict[str, str]]:
    """(method, path) -> caller -> cell, from the README's table."""
    text = README.read_text()
    section = text.split("### What each key may do", 1)[1].split("\n### ", 1)[0]
    header = next(line for line in section.splitlines() if line.startswith("| route |"))
    assert tuple(c.strip() for c in header.strip("|").split("|"))[1:] == CALLERS
    table = {}
    for line in section.splitlines():
        m = ROW.match(line.strip())
        if m:
            cells = [c.strip() for c in m.group(3).split("|")]
            assert len(cells) == len(CALLERS), line
            table[(m.group(1), m.group(2))] = dict(zip(CALLERS, cells, strict=True))
    return table


TABLE = readme_table()


@dataclass
class World:
    """What one cell's request may need: ids made by :func:`build`."""

    target: str
    key_id: str = ""
    push_token: str = ""
    window_id: str = ""
    service_window_id: str = ""
    empty_org: str = "initech"
    tokens: dict[str, str] = field(default_factory=dict)
    status_file: str = ""
    certificate: bytes = b""
    wifi_sessions: dict[str, str] = field(default_factory=dict)  # source -> a Wi-Fi session of it
    rule_id: str = ""
    channel_id: str = ""
    subscriber_id: str = ""


Request = tuple[str, dict[str, Any]]  # (path, httpx request keyword arguments)
REQUESTS: dict[tuple[str, str], Callable[[World, str], Request]] = {
    ("GET", "/healthz"): lambda w, s: ("/healthz", {}),
    ("GET", "/metrics"): lambda w, s: ("/metrics", {}),
    ("GET", "/status"): lambda w, s: ("/status", {}),
    ("GET", "/dashboard"): lambda w, s: ("/dashboard", {}),
    ("GET", "/v1/status/page"): lambda w, s: ("/v1/status/page", {}),
    ("GET", "/v1/status/feed.rss"): lambda w, s: ("/v1/status/feed.rss", {}),
    ("GET", "/v1/status/feed.atom"): lambda w, s: ("/v1/status/feed.atom", {}),
    ("GET", "/v1/badges/{name}/{badge}.svg"): lambda w, s: ("/v1/badges/api/status.svg", {}),
    ("GET", "/v1/badges/{name}/{badge}.json"): lambda w, s: ("/v1/badges/api/uptime-24h.json", {}),
    ("GET", "/v1/sources"): lambda w, s: ("/v1/sources", {}),
    ("POST", "/v1/sources"): lambda w, s: ("/v1/sources", {"json": {"id": "new", "kind": "device"}}),
    ("GET", "/v1/sources/{id}"): lambda w, s: (f"/v1/sources/{s}", {}),
    ("PATCH", "/v1/sources/{id}"): lambda w, s: (f"/v1/sources/{s}", {"json": {"name": "renamed"}}),
    ("DELETE", "/v1/sources/{id}"): lambda w, s: (f"/v1/sources/{s}", {}),
    ("GET", "/v1/organizations"): lambda w, s: ("/v1/organizations", {}),
    ("POST", "/v1/organizations"): lambda w, s: ("/v1/organizations", {"json": {"slug": "new", "name": "N"}}),
    ("GET", "/v1/organizations/{id}"): lambda w, s: (f"/v1/organizations/{ORG_OF[s]}", {}),
    ("PATCH", "/v1/organizations/{id}"): lambda w, s: (
        f"/v1/organizations/{ORG_OF[s]}",
        {"json": {"name": "N"}},
    ),
    ("DELETE", "/v1/organizations/{id}"): lambda w, s: (f"/v1/organizations/{w.empty_org}", {}),
    ("POST", "/v1/ingest"): lambda w, s: ("/v1/ingest", {"json": {"source": s, "metrics": {"x": 1}}}),
    ("PUT", "/v1/series/kind"): lambda w, s: (
        "/v1/series/kind",
        {"json": {"source": s, "metric": "x", "kind": "gauge"}},
    ),
    ("GET", "/v1/series"): lambda w, s: ("/v1/series", {"params": {"source": s}}),
    ("GET", "/v1/chart"): lambda w, s: ("/v1/chart", {"params": {"source": s, "metric": "x"}}),
    ("GET", "/v1/total"): lambda w, s: ("/v1/total", {"params": {"metric": "x"}}),
    ("GET", "/v1/top"): lambda w, s: ("/v1/top", {"params": {"metric": "x"}}),
    ("GET", "/v1/retention"): lambda w, s: ("/v1/retention", {}),
    ("PATCH", "/v1/retention"): lambda w, s: ("/v1/retention", {"json": {"retention": {"raw": "72h"}}}),
    ("GET", "/v1/subscribers"): lambda w, s: ("/v1/subscribers", {}),
    ("POST", "/v1/subscribers"): lambda w, s: ("/v1/subscribers", {"json": {"url": "http://127.0.0.1:9/h"}}),
    ("GET", "/v1/subscribers/{subscriber_id}"): lambda w, s: (f"/v1/subscribers/{w.subscriber_id}", {}),
    ("PATCH", "/v1/subscribers/{subscriber_id}"): lambda w, s: (
        f"/v1/subscribers/{w.subscriber_id}",
        {"json": {"description": "d"}},
    ),
    ("DELETE", "/v1/subscribers/{subscriber_id}"): lambda w, s: (f"/v1/subscribers/{w.subscriber_id}", {}),
    ("GET", "/v1/keys"): lambda w, s: ("/v1/keys", {}),
    ("POST", "/v1/keys"): lambda w, s: ("/v1/keys", {"json": {"name": "new", "scopes": ["read"]}}),
    ("GET", "/v1/keys/{key_id}"): lambda w, s: (f"/v1/keys/{w.key_id}", {}),
    ("DELETE", "/v1/keys/{key_id}"): lambda w, s: (f"/v1/keys/{w.key_id}", {}),
    ("GET", "/v1/services"): lambda w, s: ("/v1/services", {}),
    ("POST", "/v1/services"): lambda w, s: ("/v1/services", {"json": {"name": "new", "url": w.target}}),
    ("GET", "/v1/services/{name}"): lambda w, s: ("/v1/services/api", {}),
    ("PATCH", "/v1/services/{name}"): lambda w, s: ("/v1/services/api", {"json": {"description": "d"}}),
    ("DELETE", "/v1/services/{name}"): lambda w, s: ("/v1/services/api", {}),
    ("POST", "/v1/services/{name}/push-token"): lambda w, s: ("/v1/services/beat/push-token", {}),
    ("POST", "/v1/services/{name}/check"): lambda w, s: ("/v1/services/api/check", {}),
    ("GET", "/v1/status"): lambda w, s: ("/v1/status", {}),
    ("GET", "/v1/services/{name}/status"): lambda w, s: ("/v1/services/api/status", {}),
    ("GET", "/v1/services/{name}/uptime"): lambda w, s: ("/v1/services/api/uptime", {}),
    ("GET", "/v1/services/{name}/uptime/daily"): lambda w, s: ("/v1/services/api/uptime/daily", {}),
    ("GET", "/v1/services/{name}/response-times"): lambda w, s: ("/v1/services/api/response-times", {}),
    ("GET", "/v1/services/{name}/history"): lambda w, s: ("/v1/services/api/history", {}),
    ("GET", "/v1/services/{name}/chart"): lambda w, s: ("/v1/services/api/chart", {}),
    ("GET", "/v1/incidents"): lambda w, s: ("/v1/incidents", {}),
    ("GET", "/v1/services/{name}/incidents"): lambda w, s: ("/v1/services/api/incidents", {}),
    ("GET", "/v1/maintenance"): lambda w, s: ("/v1/maintenance", {}),
    ("POST", "/v1/maintenance"): lambda w, s: (
        "/v1/maintenance",
        {"json": {"title": "t", "start": 1_767_225_600_000, "end": 1_767_229_200_000}},
    ),
    ("DELETE", "/v1/maintenance/{window_id}"): lambda w, s: (f"/v1/maintenance/{w.window_id}", {}),
    ("GET", "/v1/services/{name}/maintenance"): lambda w, s: ("/v1/services/api/maintenance", {}),
    ("POST", "/v1/services/{name}/maintenance"): lambda w, s: (
        "/v1/services/api/maintenance",
        {"json": {"title": "t", "start": 1_767_225_600_000, "end": 1_767_229_200_000}},
    ),
    ("DELETE", "/v1/services/{name}/maintenance/{window_id}"): lambda w, s: (
        f"/v1/services/api/maintenance/{w.service_window_id}",
        {},
    ),
    ("GET", "/v1/channels"): lambda w, s: ("/v1/channels", {}),
    ("POST", "/v1/channels"): lambda w, s: (
        "/v1/channels",
        {"json": {"name": "new", "kind": "webhook", "config": {"url": w.target}}},
    ),
    ("GET", "/v1/channels/{id}"): lambda w, s: (f"/v1/channels/{w.channel_id}", {}),
    ("PATCH", "/v1/channels/{id}"): lambda w, s: (f"/v1/channels/{w.channel_id}", {"json": {"name": "n"}}),
    ("PUT", "/v1/channels/{id}"): lambda w, s: (
        f"/v1/channels/{w.channel_id}",
        {"json": {"name": "n", "kind": "webhook", "config": {"url": w.target}}},
    ),
    ("DELETE", "/v1/channels/{id}"): lambda w, s: (f"/v1/channels/{w.channel_id}", {}),
    ("POST", "/v1/channels/{id}/test"): lambda w, s: (f"/v1/channels/{w.channel_id}/test", {}),
    ("GET", "/v1/alerts"): lambda w, s: ("/v1/alerts", {}),
    ("GET", "/v1/push/{token}"): lambda w, s: (f"/v1/push/{w.push_token}", {}),
    ("POST", "/v1/push/{token}"): lambda w, s: (f"/v1/push/{w.push_token}", {}),
    ("GET", "/api/ping"): lambda w, s: ("/api/ping", {}),
    ("GET", "/api/status"): lambda w, s: ("/api/status", {}),
    ("GET", "/api/history/{serviceName}"): lambda w, s: ("/api/history/api", {}),
    ("GET", "/api/services"): lambda w, s: ("/api/services", {}),
    ("POST", "/api/services"): lambda w, s: ("/api/services", {"json": {"name": "new", "url": w.target}}),
    ("PUT", "/api/services"): lambda w, s: (
        "/api/services",
        {"params": {"name": "api"}, "json": {"description": "d"}},
    ),
    ("DELETE", "/api/services"): lambda w, s: ("/api/services", {"params": {"name": "api"}}),
    ("GET", "/api/ping-history/ttl"): lambda w, s: ("/api/ping-history/ttl", {}),
    ("PATCH", "/api/ping-history/ttl"): lambda w, s: ("/api/ping-history/ttl", {"json": {"ttl": 3600}}),
    ("DELETE", "/api/ping-history"): lambda w, s: ("/api/ping-history", {}),
    ("GET", "/api/setup/status"): lambda w, s: ("/api/setup/status", {}),
    ("POST", "/api/setup/complete"): lambda w, s: ("/api/setup/complete", {}),
    ("GET", "/api/test-redis"): lambda w, s: ("/api/test-redis", {}),
    # VPN servers alice and bob (sources openvpn:alice in acme, openvpn:bob in globex), client carol on each.
    ("POST", "/api/v1/ingest/openvpn"): lambda w, s: (
        "/api/v1/ingest/openvpn",
        {"params": {"server": s}, "content": w.status_file},
    ),
    ("GET", "/api/v1/analytics"): lambda w, s: ("/api/v1/analytics", {"params": {"server": s}}),
    ("GET", "/api/v1/stats"): lambda w, s: ("/api/v1/stats", {"params": {"server": s}}),
    ("GET", "/api/v1/stats/system"): lambda w, s: ("/api/v1/stats/system", {"params": {"server": s}}),
    ("GET", "/api/v1/stats/{common_name}"): lambda w, s: ("/api/v1/stats/carol", {"params": {"server": s}}),
    ("GET", "/api/v1/clients"): lambda w, s: ("/api/v1/clients", {"params": {"server": s}}),
    ("GET", "/api/v1/certificates"): lambda w, s: ("/api/v1/certificates", {}),
    ("POST", "/api/v1/certificates"): lambda w, s: (
        "/api/v1/certificates",
        {"params": {"file": "alice.crt"}, "content": w.certificate},
    ),
    ("GET", "/api/v1/health"): lambda w, s: ("/api/v1/health", {}),
    # duplistatus: the report's machine-id is the source a source key writes (README "duplistatus")
    ("POST", "/api/upload"): lambda w, s: ("/api/upload", {"json": duplicati_report(s, now_ms())}),
    ("GET", "/api/chart-data/aggregated"): lambda w, s: ("/api/chart-data/aggregated", {}),
    ("GET", "/api/chart-data/server/{serverId}"): lambda w, s: (f"/api/chart-data/server/{s}", {}),
    ("GET", "/api/chart-data/server/{serverId}/backup/{backupName}"): lambda w, s: (
        f"/api/chart-data/server/{s}/backup/documents",
        {},
    ),
    ("GET", "/v1/backups/servers"): lambda w, s: ("/v1/backups/servers", {}),
    ("PATCH", "/v1/backups/servers/{server}"): lambda w, s: (
        f"/v1/backups/servers/{s}",
        {"json": {"alias": "a"}},
    ),
    ("PATCH", "/v1/backups/servers/{server}/jobs/{job}"): lambda w, s: (
        f"/v1/backups/servers/{s}/jobs/documents",
        {"json": {"schedule": "0 2 * * *", "tz": "UTC"}},
    ),
    ("GET", "/v1/api/"): lambda w, s: ("/v1/api/", {}),
    ("GET", "/v1/api/device/get/all"): lambda w, s: ("/v1/api/device/get/all", {}),
    ("GET", "/v1/api/device/get/summary/interval/{interval}"): lambda w, s: (
        "/v1/api/device/get/summary/interval/1h",
        {},
    ),
    ("GET", "/v1/api/device/get/summary/group/{interval}/by/{DeviceID}"): lambda w, s: (
        f"/v1/api/device/get/summary/group/1h/by/{DEVICE_OF[s][1]}",
        {},
    ),
    ("POST", "/v1/api/flows"): lambda w, s: (
        "/v1/api/flows",
        {"json": [goflow2_record("NETFLOW_V5", DEVICE_OF[s][0], now_ms() - 60_000, 1500, 3)]},
    ),
    **{
        ("OPTIONS", path): (
            lambda p: lambda w, s: (p.replace("{interval}", "1h").replace("{DeviceID}", "1"), {})
        )(path)
        for path in (
            "/v1/api/",
            "/v1/api/device/get/all",
            "/v1/api/device/get/summary/interval/{interval}",
            "/v1/api/device/get/summary/group/{interval}/by/{DeviceID}",
            "/v1/api/flows",
        )
    },
    ("POST", "/api/v1/monitoring/device/{pk}/"): lambda w, s: (
        f"/api/v1/monitoring/device/{s}/",
        {"json": {"type": "DeviceMonitoring"}},
    ),
    ("GET", "/api/v1/monitoring/device/{pk}/"): lambda w, s: (f"/api/v1/monitoring/device/{s}/", {}),
    ("GET", "/api/v1/monitoring/device/"): lambda w, s: ("/api/v1/monitoring/device/", {}),
    ("GET", "/api/v1/monitoring/dashboard/"): lambda w, s: ("/api/v1/monitoring/dashboard/", {}),
    ("GET", "/api/v1/monitoring/device/{pk}/nearby-devices/"): lambda w, s: (
        f"/api/v1/monitoring/device/{s}/nearby-devices/",
        {},
    ),
    ("GET", "/v1/rules"): lambda w, s: ("/v1/rules", {}),
    ("POST", "/v1/rules"): lambda w, s: (
        "/v1/rules",
        {"json": {"name": "n", "source": s, "expression": "avg(x, 15m) > 1"}},
    ),
    ("GET", "/v1/rules/{id}"): lambda w, s: (f"/v1/rules/{w.rule_id}", {}),
    ("PATCH", "/v1/rules/{id}"): lambda w, s: (f"/v1/rules/{w.rule_id}", {"json": {"enabled": False}}),
    ("DELETE", "/v1/rules/{id}"): lambda w, s: (f"/v1/rules/{w.rule_id}", {}),
    ("GET", "/api/v1/monitoring/wifi-session/"): lambda w, s: ("/api/v1/monitoring/wifi-session/", {}),
    ("GET", "/api/v1/monitoring/wifi-session/{id}/"): lambda w, s: (
        f"/api/v1/monitoring/wifi-session/{w.wifi_sessions.get(s, s)}/",
        {},
    ),
}


def build(r: Any, target: str) -> World:
    """Fresh data for one cell: every id a request may name."""
    r.flushall()
    cache.clear()
    access.clear()
    world = World(target=target)
    settings = get_settings()
    for slug in ("acme", "globex", world.empty_org):
        registry.create_organization(r, slug=slug, name=slug.title(), now_ms=now_ms())
    for source in ("alice", "bob"):
        registry.create_source(r, source, kind="device", organization=ORG_OF[source], now_ms=now_ms())
    world.tokens = {
        "read key": make_key(r, ("read",)),
        "write key": make_key(r, ("write",)),
        "source key": make_key(r, ("read", "write"), source="alice"),
        "organization key": make_key(r, ("read", "write"), organization="acme"),
        "admin key": make_key(r, ("admin",)),
    }
    from upstat.auth import keys

    world.key_id = keys.create_key(r, settings, name="victim", scopes=("read",))[0].key_id
    store = ServiceStore(r)
    store.create({"name": "api", "url": target})
    world.push_token = str(store.create({"name": "beat", "kind": "push"}).push_token)
    record(r, "api", (now_ms(), "up", 12.0))
    world.window_id = maintenance.add_window(r, MaintenanceIn(title="g", start=T0, end=T0 + 1)).id
    service_id = store.require("api").id
    window = maintenance.add_window(r, MaintenanceIn(title="s", start=T0, end=T0 + 1), service_id=service_id)
    world.service_window_id = window.id
    from upstat.timeseries.retention import current_engine

    engine = current_engine(r, fresh=True)
    for source in ("alice", "bob"):
        engine.write(source, "x", [(now_ms(), 1.0)])
    _vpn(r, engine, world)
    # Backup servers alice and bob (the machine-id is the source), each with a job named "documents", from
    # one Duplicati report a minute ago.
    from upstat.dialects.duplistatus.report import to_run

    for source in ("alice", "bob"):
        runs.record(engine, r, to_run(duplicati_report(source, now_ms() - 60_000)), now=now_ms())
    for source, (address, _) in DEVICE_OF.items():  # Netflow devices 1, 2, 3
        org = ORG_OF[source] if source in ("alice", "bob") else None
        registry.create_source(r, address, kind="exporter", organization=org, now_ms=now_ms())
        numbers.number(r, "netflow", [address])
    world.wifi_sessions = wifi_sessions(r)
    from upstat.rules import service as rules

    world.rule_id = rules.create(
        r, engine, {"name": "r", "kind": "device", "expression": "avg(x, 15m) > 1"}, now=now_ms()
    ).id
    from upstat.notify.store import ChannelStore

    channel = {"name": "ops", "kind": "webhook", "config": {"url": target}}
    world.channel_id = ChannelStore(r).create(channel).id
    from upstat.uptime import subscribers

    hook = subscribers.SubscriberIn(url="http://127.0.0.1:9/hook")
    world.subscriber_id = subscribers.create(r, hook, now_ms=now_ms()).id
    return world


def duplicati_report(machine: str, began_ms: int) -> dict[str, Any]:
    """A minimal Duplicati backup report of machine ``machine``, job "documents", begun at ``began_ms``."""
    from datetime import UTC, datetime

    began = datetime.fromtimestamp(began_ms / 1000, UTC).isoformat().replace("+00:00", "Z")
    return {
        "Data": {
            "MainOperation": "Backup",
            "ParsedResult": "Success",
            "BeginTime": began,
            "Duration": "00:00:12.5000000",
        },
        "Extra": {
            "machine-id": machine,
            "machine-name": machine,
            "backup-name": "documents",
            "backup-id": "DB-1",
        },
    }


def _vpn(r: Any, engine: Any, world: World) -> None:
    """VPN servers alice and bob, registered in their organizations, each with client carol; a status file
    to send and a certificate to upload."""
    import datetime as dt

    from tests.vpn.certs import make_pem
    from tests.vpn.files import Conn, v2
    from upstat.vpn.ingest import ingest_status
    from upstat.vpn.servers import server_source
    from upstat.vpn.statusfile import parse
    from upstat.vpn.store import vpn_store

    at = now_ms() // 1000 - 60
    for server in ("alice", "bob"):
        registry.create_source(
            r, server_source(server), kind="vpn-server", organization=ORG_OF[server], now_ms=now_ms()
        )
        text = v2(at - 60, [Conn("carol", 100, 200, at - 120)])
        ingest_status(r, engine, vpn_store(r), parse(text), server=server, now=now_ms())
    world.status_file = v2(at, [Conn("carol", 150, 300, at - 120)])
    world.certificate = make_pem("alice", not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=30))


def wifi_sessions(r: Any) -> dict[str, str]:
    """A Wi-Fi session of alice, of bob and of service:x (a source registered nowhere)."""
    from upstat.devices import wifi
    from upstat.devices.netjson import WifiClient
    from upstat.sources.models import Source

    out = {}
    for source in ("alice", "bob", "service:x"):
        device = registry.get_source(r, source) or Source(id=source, name=source, kind="device")
        wifi.observe(r, device, [WifiClient("02:00:00:00:00:01", "wlan0", "office")], at=now_ms())
        out[source] = next(s.id for s in wifi.list_sessions(r) if s.device == source)
    return out


def now_ms() -> int:
    import time

    return int(time.time() * 1000)


@pytest.fixture
def world_app(env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    for name in ("RATE_LIMIT_PER_IP", "RATE_LIMIT_PER_KEY", "RATE_LIMIT_PER_PUSH_TOKEN"):
        monkeypatch.setenv(f"UPSTAT_{name}", "100000")
    get_settings.cache_clear()
    from upstat.api.app import create_app

    yield create_app()
    cache.clear()


def call(client: TestClient, world: World, route: tuple[str, str], caller: str, source: str) -> int:
    path, kwargs = REQUESTS[route](world, source)
    headers = {} if caller == "anonymous" else bearer(world.tokens[caller])
    return client.request(route[0], path, headers=headers, **kwargs).status_code


def test_the_table_lists_every_route_and_only_those(world_app: FastAPI) -> None:
    routes = {
        (method.upper(), path)
        for path, ops in world_app.openapi()["paths"].items()
        for method in ops
        if method != "head"
    }
    assert set(TABLE) == routes
    assert set(REQUESTS) == routes


def expected_ok(cell: str, caller: str, public: bool) -> bool:
    if cell in ("yes", "token", "own"):
        return True
    if cell == "public":
        return public or caller in ("read key", "admin key")
    assert cell == "—", f"unknown cell {cell!r}"
    return False


@pytest.mark.parametrize("public", [True, False], ids=["public-status-page", "private-status-page"])
@pytest.mark.parametrize("route", sorted(TABLE), ids=lambda r: f"{r[0]} {r[1]}")
def test_every_caller_gets_what_the_table_says(
    world_app: FastAPI,
    r: Any,
    local_target: LocalTarget,
    monkeypatch: pytest.MonkeyPatch,
    route: tuple[str, str],
    public: bool,
) -> None:
    monkeypatch.setenv("UPSTAT_PUBLIC_STATUS_PAGE", "true" if public else "false")
    get_settings.cache_clear()
    with TestClient(world_app) as client:
        for caller, cell in TABLE[route].items():
            world = build(r, local_target.url("/ok"))
            status = call(client, world, route, caller, "alice")
            if expected_ok(cell, caller, public):
                assert 200 <= status < 300, (caller, cell, status)
            else:
                assert status == (401 if caller == "anonymous" else 403), (caller, cell, status)
            if cell == "own" and names_a_source(route):
                assert call(client, build(r, local_target.url("/ok")), route, caller, "bob") == 403
                assert call(client, build(r, local_target.url("/ok")), route, caller, "service:x") == 403


def names_a_source(route: tuple[str, str]) -> bool:
    """Whether the route's request names a source (or its organization); listings do not."""
    world = World(target="http://127.0.0.1/")
    return REQUESTS[route](world, "alice") != REQUESTS[route](world, "bob")


def test_the_bootstrap_admin_token_is_an_admin_key(
    world_app: FastAPI, r: Any, local_target: LocalTarget
) -> None:
    with TestClient(world_app) as client:
        world = build(r, local_target.url("/ok"))
        world.tokens["admin key"] = ADMIN_TOKEN
        for route, cells in TABLE.items():
            if cells["admin key"] == "yes":
                assert 200 <= call(client, world, route, "admin key", "alice") < 300, route
                world = build(r, local_target.url("/ok"))
                world.tokens["admin key"] = ADMIN_TOKEN
