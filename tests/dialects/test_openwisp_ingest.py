"""OpenWISP's monitoring agent against upstat: its NetJSON reports (now and backfilled with ?time=) become the
device's series, and the device's charts show what the reports said (memory used percent, CPU load, disk,
traffic increase per interface, Wi-Fi client counts)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH
from tests.dialects.openwisp_helpers import (
    BASE,
    MIB,
    agent_time,
    now_ms,
    organization,
    post,
    register,
    report,
)
from upstat.auth import cache
from upstat.sources import access

MINUTE = 60_000


@pytest.fixture
def http(client: TestClient) -> TestClient:
    cache.clear()
    access.clear()
    organization(client, "acme")
    return client


def detail(http: TestClient, device: str, key: str, **params: Any) -> dict[str, Any]:
    res = http.get(f"{BASE}/device/{device}/", params={"key": key, **params})
    assert res.status_code == 200, res.text
    return dict(res.json())


def chart(body: dict[str, Any], key: str, interface: str | None = None) -> dict[str, Any]:
    return next(c for c in body["charts"] if c["key"] == key and c["interface"] == interface)


def values(c: dict[str, Any], trace: str) -> list[Any]:
    return next(v for name, v in c["traces"] if name == trace)


def known(vs: list[Any]) -> list[float]:
    return [v for v in vs if v is not None]


def test_the_documented_example_is_stored_with_an_empty_200_and_charted_as_sent(http: TestClient) -> None:
    device, key = register(http, organization="acme")
    body = report(
        memory_total=268435456,
        memory_free=100663296,
        buffered=4194304,
        available=134217728,
        load=0.42,
        cpus=2,
        disk_used=6291456,
        disk_size=8388608,
    )
    res = post(http, device, key, body, at=now_ms(), current=True)
    assert res.status_code == 200 and res.content == b""
    got = detail(http, device, key, status="true", time="1d")
    assert known(values(chart(got, "memory"), "percent_used")) == [pytest.approx(48.4375)]
    assert known(values(chart(got, "cpu"), "cpu_usage")) == [pytest.approx(21.0)]
    assert known(values(chart(got, "disk"), "used_disk")) == [pytest.approx(75.0)]
    assert got["monitoring"]["status"] == "ok"
    assert got["monitoring"]["related_metrics"] == [
        {"name": "cpu", "is_healthy": True},
        {"name": "disk", "is_healthy": True},
        {"name": "memory", "is_healthy": True},
    ]
    assert got["data"] == body  # the device status, as received
    assert len(got["x"]) == 96 and got["resolution"] == "15m"
    assert "data" not in detail(http, device, key, time="1d") or detail(http, device, key)["data"] is None


def test_memory_without_available_uses_free_and_buffered(http: TestClient) -> None:
    device, key = register(http)
    post(http, device, key, report(memory_total=200 * MIB, memory_free=50 * MIB, buffered=10 * MIB))
    got = detail(http, device, key, time="1d")
    assert known(values(chart(got, "memory"), "percent_used")) == [pytest.approx(70.0)]


def test_a_backfilled_report_lands_at_its_time_and_one_without_time_now(http: TestClient) -> None:
    device, key = register(http)
    now = now_ms()
    old = now - 3 * 3600_000
    assert post(http, device, key, report(memory_free=128 * MIB, buffered=0), at=old).status_code == 200
    assert post(http, device, key, report(memory_free=64 * MIB, buffered=0)).status_code == 200
    got = detail(http, device, key, time="1d")
    times = [
        int(__import__("datetime").datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp() * 1000)
        for x in got["x"]
    ]
    memory = values(chart(got, "memory"), "percent_used")
    by_time = {t: v for t, v in zip(times, memory, strict=True) if v is not None}
    assert len(by_time) == 2
    (t_old, v_old), (t_now, v_now) = sorted(by_time.items())
    assert t_old <= old < t_old + 15 * MINUTE and v_old == pytest.approx(50.0)
    assert t_now <= now < t_now + 15 * MINUTE + 5000 and v_now == pytest.approx(75.0)
    assert got["data"] is None


def test_traffic_is_the_increase_per_interface_and_a_reboot_is_not_negative(http: TestClient) -> None:
    device, key = register(http)
    t0 = now_ms() - 40 * MINUTE
    sent = [(1_000, 10), (4_000, 30), (9_000, 100), (500, 7)]  # the last after a reboot
    for i, (rx, tx) in enumerate(sent):
        body = report(traffic={"eth0": (rx, tx), "eth0.2": (rx * 2, tx * 2)}, uptime=100 if i == 3 else 9999)
        assert post(http, device, key, body, at=t0 + i * 5 * MINUTE).status_code == 200
    got = detail(http, device, key, time="1d")
    eth0 = chart(got, "traffic", "eth0")
    assert sum(values(eth0, "rx_bytes")) == (4_000 - 1_000) + (9_000 - 4_000) + 500
    assert sum(values(eth0, "tx_bytes")) == 20 + 70 + 7
    assert eth0["summary"] == {"rx_bytes": 8_500.0, "tx_bytes": 97.0}
    assert min(values(eth0, "rx_bytes")) >= 0
    vlan = chart(got, "traffic", "eth0.2")  # an interface name holding a dot
    assert sum(values(vlan, "rx_bytes")) == 2 * 8_500


def test_wifi_clients_are_counted_per_interface(http: TestClient) -> None:
    device, key = register(http)
    macs = [f"a4:5e:60:00:00:{i:02x}" for i in range(5)]
    body = report(clients={"wlan0": macs[:3], "wlan1": macs[3:]})
    assert post(http, device, key, body, at=now_ms()).status_code == 200
    got = detail(http, device, key, time="1d")
    assert known(values(chart(got, "wifi_clients", "wlan0"), "wifi_clients")) == [3.0]
    assert known(values(chart(got, "wifi_clients", "wlan1"), "wifi_clients")) == [2.0]


def test_a_report_repeated_by_the_agents_retry_stores_once(http: TestClient) -> None:
    device, key = register(http)
    body = report()
    for _ in range(3):
        assert post(http, device, key, body).status_code == 200  # untimed: "now" moves, still one point
    res = http.get(
        "/v1/chart",
        params={"source": device, "metric": "reachable", "range": "1h", "aggregate": "count"},
        headers=AUTH,
    )
    assert res.json()["stats"]["samples"]["count"] == 1
    at = now_ms() - 20 * MINUTE
    for _ in range(2):
        assert post(http, device, key, report(uptime=5), at=at).status_code == 200
    res = http.get(
        "/v1/chart",
        params={"source": device, "metric": "reachable", "range": "1h", "aggregate": "count"},
        headers=AUTH,
    )
    assert res.json()["stats"]["samples"]["count"] == 2


@pytest.mark.parametrize(
    "time_param", ["23-08-2021 06:25:45", "2026-08-22T14:05:00Z", "22-08-2026_14:05:00", "1787407500"]
)
def test_a_bad_time_format_is_400_in_drfs_words(http: TestClient, time_param: str) -> None:
    device, key = register(http)
    res = http.post(f"{BASE}/device/{device}/", params={"key": key, "time": time_param}, json=report())
    assert res.status_code == 400 and res.json() == {"detail": "Incorrect time format"}


def test_unknown_device_is_404_wrong_key_403_and_bad_reports_400_storing_nothing(http: TestClient) -> None:
    device, key = register(http)
    _, other_key = register(http)
    assert post(http, "no-such-device", key, report()).status_code == 403  # a device key is for its device
    res = http.post(f"{BASE}/device/no-such-device/", json=report(), headers=AUTH)
    assert res.status_code == 404 and set(res.json()) == {"detail"}
    res = post(http, device, "upk_wrong", report())
    assert res.status_code == 403 and set(res.json()) == {"detail"}
    assert post(http, device, other_key, report()).status_code == 403
    bad = report()
    bad["interfaces"][0].pop("name")
    res = post(http, device, key, bad)
    assert res.status_code == 400 and "name" in res.json()["detail"]
    res = post(http, device, key, {"interfaces": []})
    assert res.status_code == 400 and "type" in res.json()["detail"]
    assert post(http, device, key, {"type": "DeviceMonitoring"}).status_code == 200
    assert post(http, device, key, {"type": "DeviceMonitoring", "interfaces": []}).status_code == 200
    res = http.get("/v1/series", params={"source": device}, headers=AUTH)
    assert res.json()["metrics"] == ["reachable"]  # the refused reports stored nothing


def test_a_time_beyond_the_raw_retention_is_400_naming_time(http: TestClient) -> None:
    device, key = register(http)
    res = post(http, device, key, report(), at=now_ms() - 72 * 3600_000)
    assert res.status_code == 400 and res.json()["detail"].startswith("time:")


def test_charts_take_start_and_end_and_refuse_other_timeframes(http: TestClient) -> None:
    device, key = register(http)
    post(http, device, key, report())
    res = http.get(
        f"{BASE}/device/{device}/",
        params={"key": key, "start": "2026-01-01 00:00:00", "end": "2026-01-02 00:00:00"},
    )
    assert res.status_code == 200 and len(res.json()["x"]) == 96
    for params in ({"time": "2d"}, {"start": "2026-01-01"}, {"start": "01-01-2026 00:00:00", "end": "x"}):
        res = http.get(f"{BASE}/device/{device}/", params={"key": key, **params})
        assert res.status_code == 400 and set(res.json()) == {"detail"}, params


def test_the_time_parameter_is_utc(http: TestClient) -> None:
    assert agent_time(1787407500000) == "22-08-2026_14:05:00.000000"
