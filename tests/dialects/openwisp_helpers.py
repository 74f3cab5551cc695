"""What OpenWISP's monitoring agent sends (NetJSON DeviceMonitoring, its URL with ?key=&time=), built the way
its scripts build them (ingestion-formats.md section 2), and a device registered as OpenWISP's controller
would register it (POST /v1/sources, whose key is the device key)."""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import AUTH

BASE = "/api/v1/monitoring"
_UPTIMES = itertools.count(1000, 300)
MIB = 1024 * 1024


def now_ms() -> int:
    return int(time.time() * 1000)


def agent_time(ms: int) -> str:
    """``date -u +'%d-%m-%Y_%H:%M:%S'`` with ``.000000`` appended, as the agent's time parameter."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%d-%m-%Y_%H:%M:%S") + ".000000"


def organization(http: TestClient, slug: str) -> str:
    res = http.post("/v1/organizations", json={"slug": slug, "name": slug.title()}, headers=AUTH)
    assert res.status_code == 201, res.text
    return str(res.json()["id"])


def register(http: TestClient, **fields: Any) -> tuple[str, str]:
    """A device registered (id a UUID, as OpenWISP's): (id, device key)."""
    body = {"id": str(uuid.uuid4()), "kind": "device", **fields}
    res = http.post("/v1/sources", json=body, headers=AUTH)
    assert res.status_code == 201, res.text
    return body["id"], res.json()["key"]


def client(mac: str, signal: int = -55) -> dict[str, Any]:
    return {
        "mac": mac,
        "assoc": True,
        "auth": True,
        "authorized": True,
        "ht": True,
        "vht": True,
        "he": False,
        "wmm": True,
        "mfp": False,
        "wds": False,
        "wps": False,
        "preauth": False,
        "aid": 1,
        "signal": signal,
    }


def report(
    *,
    memory_free: int = 96 * MIB,
    memory_total: int = 256 * MIB,
    buffered: int = 4 * MIB,
    available: int | None = None,
    load: float = 0.42,
    cpus: int = 2,
    disk_used: int = 6 * MIB,
    disk_size: int = 8 * MIB,
    traffic: dict[str, tuple[int, int]] | None = None,
    clients: dict[str, list[str]] | None = None,
    uptime: int | None = None,
) -> dict[str, Any]:
    """A report as the agent composes it: ``traffic`` interface -> (rx_bytes, tx_bytes); ``clients``
    wireless interface -> station MACs. Each report's uptime differs unless given (as a device's does), so
    two reports are never the same report."""
    if uptime is None:
        uptime = next(_UPTIMES)
    memory: dict[str, Any] = {
        "total": memory_total,
        "free": memory_free,
        "shared": MIB,
        "buffered": buffered,
        "cached": 24 * MIB,
    }
    if available is not None:
        memory["available"] = available
    interfaces = []
    for name, (rx, tx) in (traffic or {"eth0": (1000, 2000)}).items():
        interfaces.append(
            {
                "name": name,
                "type": "ethernet",
                "up": True,
                "mac": "02:00:00:aa:bb:01",
                "mtu": 1500,
                "addresses": [{"proto": "dhcp", "family": "ipv4", "address": "192.168.1.20", "mask": 24}],
                "statistics": {
                    "rx_bytes": rx,
                    "tx_bytes": tx,
                    "rx_packets": rx // 100,
                    "tx_packets": tx // 100,
                    "rx_errors": 0,
                    "tx_errors": 0,
                    "rx_dropped": 0,
                    "tx_dropped": 0,
                },
            }
        )
    for name, macs in (clients or {}).items():
        interfaces.append(
            {
                "name": name,
                "type": "wireless",
                "up": True,
                "statistics": {"rx_bytes": 0, "tx_bytes": 0, "rx_packets": 0, "tx_packets": 0},
                "wireless": {
                    "ssid": f"ssid-{name}",
                    "mode": "access_point",
                    "channel": 36,
                    "frequency": 5180,
                    "tx_power": 20,
                    "signal": -38,
                    "noise": -95,
                    "country": "IT",
                    "htmode": "VHT80",
                    "clients": [client(mac) for mac in macs],
                },
            }
        )
    return {
        "type": "DeviceMonitoring",
        "general": {"hostname": "ap-lobby", "local_time": int(time.time()), "uptime": uptime},
        "resources": {
            "load": [load, 0.3, 0.21],
            "cpus": cpus,
            "memory": memory,
            "swap": {"total": 0, "free": 0},
            "disk": [
                {
                    "filesystem": "/dev/root",
                    "mount_point": "/",
                    "size_bytes": disk_size,
                    "used_bytes": disk_used,
                    "available_bytes": disk_size - disk_used,
                    "used_percent": 100 * disk_used // disk_size if disk_size else 0,
                }
            ],
        },
        "interfaces": interfaces,
        "neighbors": [
            {"ip": "192.168.1.1", "mac": "02:00:00:00:00:01", "interface": "eth0", "state": "REACHABLE"}
        ],
        "dhcp_leases": [
            {
                "expiry": 1787493900,
                "mac": "a4:5e:60:11:22:33",
                "ip": "192.168.2.50",
                "client_name": "laptop",
                "client_id": "01:a4:5e:60:11:22:33",
            }
        ],
    }


def post(
    http: TestClient,
    device: str,
    key: str,
    body: Any,
    *,
    at: int | None = None,
    current: bool = False,
) -> Any:
    """The agent's request: curl -H 'Content-Type: application/json' -d @file URL?key=&time=[&current=]."""
    params = {"key": key}
    if at is not None:
        params["time"] = agent_time(at)
    if current:
        params["current"] = "true"
    return http.post(f"{BASE}/device/{device}/", params=params, json=body)
