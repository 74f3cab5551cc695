"""OpenWISP's reading routes over devices that reported: health from thresholds and silence (each change
alerted once, through upstat's alert path), devices listed with filters and DRF's pages, the dashboard's
totals, nearby devices by Redis GEO against a known pair of coordinates, Wi-Fi sessions from report
sequences."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH
from tests.dialects.openwisp_helpers import BASE, MIB, now_ms, organization, post, register, report
from upstat.auth import cache
from upstat.config import get_settings
from upstat.devices.health import Thresholds
from upstat.devices.monitoring import sweep_silent
from upstat.rules import store as rules_store
from upstat.sources import access
from upstat.uptime.alerts import recent_outcomes

MINUTE = 60_000
PARIS = {"lat": 48.8566, "lng": 2.3522}
LONDON = {"lat": 51.5074, "lng": -0.1278}
EARTH_M = 6372797.560856  # the sphere Redis GEO measures on


@pytest.fixture
def http(client: TestClient) -> TestClient:
    cache.clear()
    access.clear()
    organization(client, "acme")
    organization(client, "globex")
    return client


def status_of(http: TestClient, device: str, key: str) -> str:
    res = http.get(f"{BASE}/device/{device}/", params={"key": key, "time": "1d"})
    assert res.status_code == 200, res.text
    return str(res.json()["monitoring"]["status"])


def alerts(r: Any, device: str) -> list[dict[str, Any]]:
    return [o["alert"] for o in recent_outcomes(r, f"device:{device}")][::-1]


# ---------------------------------------------------------------------------------------------------------
# Health


def test_health_is_unknown_then_ok_then_problem_past_a_threshold_and_ok_again(
    http: TestClient, r: Any
) -> None:
    device, key = register(http, name="ap-lobby")
    assert status_of(http, device, key) == "unknown"
    post(http, device, key, report(), at=now_ms(), current=True)
    assert status_of(http, device, key) == "ok"
    full = report(memory_free=MIB, buffered=0, available=MIB)  # 99.6 % used > 95
    post(http, device, key, full, at=now_ms(), current=True)
    body = http.get(f"{BASE}/device/{device}/", params={"key": key}).json()
    assert body["monitoring"]["status"] == "problem"
    assert {"name": "memory", "is_healthy": False} in body["monitoring"]["related_metrics"]
    post(http, device, key, report(disk_used=8 * MIB), at=now_ms(), current=True)  # disk 100 % > 90
    assert status_of(http, device, key) == "problem"
    post(http, device, key, report(), at=now_ms(), current=True)
    assert status_of(http, device, key) == "ok"
    sent = alerts(r, device)
    assert [(a["previous"], a["current"]) for a in sent] == [("ok", "problem"), ("problem", "ok")]
    assert sent[0]["event"] == "device.problem"
    assert sent[0]["device"] == {"id": device, "name": "ap-lobby"}


def test_a_backfilled_report_past_a_threshold_does_not_move_the_health(http: TestClient) -> None:
    device, key = register(http)
    post(http, device, key, report(), at=now_ms())
    post(http, device, key, report(load=9.0, cpus=1), at=now_ms() - 60 * MINUTE)  # cpu 900 %, an hour ago
    assert status_of(http, device, key) == "ok"
    post(http, device, key, report(load=1.9, cpus=2), at=now_ms())  # 95 % > 90
    assert status_of(http, device, key) == "problem"


def test_thresholds_are_settings(http: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    device, key = register(http)
    monkeypatch.setenv("UPSTAT_DEVICE_MEMORY_THRESHOLD", "50")
    get_settings.cache_clear()
    post(http, device, key, report(memory_free=100 * MIB, buffered=0), at=now_ms())  # 61 % used
    assert status_of(http, device, key) == "problem"


def test_changing_a_threshold_setting_changes_its_built_in_rule_and_the_health_follows(
    http: TestClient, r: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    device, key = register(http, name="ap-busy")
    busy = report(load=1.6, cpus=2)  # cpu 80 %: under the default 90
    post(http, device, key, busy, at=now_ms())
    assert status_of(http, device, key) == "ok"
    cpu = "builtin:device-cpu"
    rule = {x.id: x for x in Thresholds.from_settings(get_settings()).rules()}[cpu]
    assert rule.expression() == "max(cpu.cpu_usage, 5m) > 90"

    monkeypatch.setenv("UPSTAT_DEVICE_CPU_THRESHOLD", "70")
    get_settings.cache_clear()
    rule = {x.id: x for x in Thresholds.from_settings(get_settings()).rules()}[cpu]
    assert rule.expression() == "max(cpu.cpu_usage, 5m) > 70"
    post(http, device, key, busy, at=now_ms() + 1000)  # the same load, judged by the changed rule
    body = http.get(f"{BASE}/device/{device}/", params={"key": key}).json()
    assert body["monitoring"]["status"] == "problem"
    assert {"name": "cpu", "is_healthy": False} in body["monitoring"]["related_metrics"]
    state = rules_store.states_of(r, cpu)[device]  # kept with the rules' states, by the rules' machine
    assert (state.state, state.value) == ("firing", 80.0)
    assert [(a["previous"], a["current"]) for a in alerts(r, device)] == [("ok", "problem")]

    monkeypatch.setenv("UPSTAT_DEVICE_CPU_THRESHOLD", "85")
    get_settings.cache_clear()
    post(http, device, key, busy, at=now_ms() + 2000)
    assert status_of(http, device, key) == "ok"
    assert rules_store.states_of(r, cpu)[device].state == "resolved"


def test_sweeps_run_at_once_turn_a_silent_device_critical_and_alert_once(http: TestClient, r: Any) -> None:
    import threading

    device, key = register(http)
    post(http, device, key, report(), at=now_ms())
    settings = get_settings()
    later, counts = now_ms() + 61 * MINUTE, []
    start = threading.Barrier(4)

    def sweep() -> None:
        start.wait()
        counts.append(
            sweep_silent(r, now=later, thresholds=Thresholds.from_settings(settings), settings=settings)
        )

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 1
    assert [(a["previous"], a["current"]) for a in alerts(r, device)] == [("ok", "critical")]
    assert rules_store.states_of(r, "builtin:device-silence")[device].state == "firing"


def test_a_silent_device_turns_critical_once_and_recovers_on_its_next_report(
    http: TestClient, r: Any
) -> None:
    device, key = register(http)
    quiet, quiet_key = register(http)
    settings = get_settings()
    thresholds = Thresholds.from_settings(settings)
    post(http, device, key, report(), at=now_ms() - 50 * MINUTE)  # backfill only: the health stays unknown
    assert status_of(http, device, key) == "unknown"
    post(http, device, key, report(), at=now_ms())
    post(http, quiet, quiet_key, report(), at=now_ms())
    later = now_ms() + 61 * MINUTE
    assert sweep_silent(r, now=later, thresholds=thresholds, settings=settings) == 2
    assert sweep_silent(r, now=later + MINUTE, thresholds=thresholds, settings=settings) == 0  # once
    assert [a["current"] for a in alerts(r, device)] == ["critical"]
    post(http, device, key, report(), at=now_ms())
    assert status_of(http, device, key) == "ok"
    assert [(a["previous"], a["current"]) for a in alerts(r, device)] == [
        ("ok", "critical"),
        ("critical", "ok"),
    ]


def test_silence_reads_critical_before_the_sweep_runs(
    http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    device, key = register(http)
    post(http, device, key, report(), at=now_ms() - 20 * MINUTE)
    assert status_of(http, device, key) == "unknown"  # only history so far
    monkeypatch.setenv("UPSTAT_DEVICE_SILENCE_S", "600")
    get_settings.cache_clear()
    assert status_of(http, device, key) == "critical"


def test_the_ping_job_sweeps_silent_devices(
    http: TestClient, r: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upstat.jobs import handlers

    device, key = register(http)
    post(http, device, key, report(), at=now_ms())
    real = now_ms
    monkeypatch.setattr("upstat.clock.now_ms", lambda: real() + 2 * 3600_000)  # two hours later
    out = handlers.ping({}, None)
    assert out["devices_critical"] == 1, out
    assert [a["current"] for a in alerts(r, device)] == ["critical"]


# ---------------------------------------------------------------------------------------------------------
# Listing, dashboard, nearby


def test_devices_are_listed_with_filters_and_drf_pages(http: TestClient) -> None:
    ids = []
    for i in range(12):
        device, key = register(http, name=f"ap-{i:02d}", organization="acme" if i < 9 else "globex")
        ids.append(device)
        post(http, device, key, report(disk_used=8 * MIB if i in (3, 4) else MIB), at=now_ms())
    res = http.get(f"{BASE}/device/", headers=AUTH)
    body = res.json()
    assert body["count"] == 12 and len(body["results"]) == 10 and body["previous"] is None
    assert body["next"].endswith("page=2")
    second = http.get(body["next"], headers=AUTH).json()
    assert [d["id"] for d in body["results"] + second["results"]] == ids
    assert second["next"] is None and "page" not in second["previous"]
    problem = http.get(f"{BASE}/device/", params={"monitoring__status": "problem"}, headers=AUTH).json()
    assert [d["id"] for d in problem["results"]] == ids[3:5]
    assert problem["results"][0]["monitoring"] == {"status": "problem", "status_label": "problem"}
    globex = http.get(f"{BASE}/device/", params={"organization_slug": "globex"}, headers=AUTH).json()
    assert [d["id"] for d in globex["results"]] == ids[9:]
    org_id = globex["results"][0]["organization"]
    by_id = http.get(f"{BASE}/device/", params={"organization": org_id, "page_size": 2}, headers=AUTH).json()
    assert by_id["count"] == 3 and [d["id"] for d in by_id["results"]] == ids[9:11]
    res = http.get(f"{BASE}/device/", params={"page": 9}, headers=AUTH)
    assert res.status_code == 404 and res.json() == {"detail": "Invalid page."}
    assert http.get(f"{BASE}/device/", params={"page_size": 0}, headers=AUTH).status_code == 400


def test_the_dashboard_totals_traffic_and_clients_across_the_selected_devices(http: TestClient) -> None:
    t0 = now_ms() - 30 * MINUTE
    devices = []
    for i, (org, floor) in enumerate((("acme", "f1"), ("acme", "f2"), ("globex", "f1"))):
        device, key = register(http, organization=org, floorplan=floor, extra={"location_id": f"loc{i}"})
        devices.append(device)
        macs = [f"02:00:00:00:{i:02x}:{j:02x}" for j in range(i + 1)]
        post(http, device, key, report(traffic={"eth0": (1000, 100)}, clients={"wlan0": macs}), at=t0)
        post(
            http,
            device,
            key,
            report(traffic={"eth0": (1000 + 500 * (i + 1), 150)}, clients={"wlan0": macs}),
            at=t0 + 10 * MINUTE,
        )

    def dash(**params: Any) -> dict[str, Any]:
        res = http.get(f"{BASE}/dashboard/", params={"time": "1d", **params}, headers=AUTH)
        assert res.status_code == 200, res.text
        return dict(res.json())

    def totals(body: dict[str, Any]) -> tuple[float, float, float]:
        traffic = next(c for c in body["charts"] if c["key"] == "traffic")
        clients = next(c for c in body["charts"] if c["key"] == "wifi_clients")
        return (
            traffic["summary"]["rx_bytes"],
            traffic["summary"]["tx_bytes"],
            clients["summary"]["wifi_clients"],
        )

    everything = dash()
    assert everything["devices"] == 3
    assert everything["by_status"] == {"unknown": 3, "ok": 0, "problem": 0, "critical": 0}  # history only
    assert totals(everything) == (500.0 + 1000 + 1500, 150.0, 1.0 + 2 + 3)
    assert totals(dash(organization_slug="acme")) == (1500.0, 100.0, 3.0)
    assert totals(dash(floorplan_id="f1")) == (2000.0, 100.0, 4.0)
    assert totals(dash(location_id="loc1,loc2")) == (2500.0, 100.0, 5.0)
    assert dash(organization_slug="acme,globex")["devices"] == 3
    assert dash(organization_slug="nobody")["devices"] == 0


def haversine(a: dict[str, float], b: dict[str, float]) -> float:
    p1, p2 = math.radians(a["lat"]), math.radians(b["lat"])
    dp, dl = p2 - p1, math.radians(b["lng"] - a["lng"])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(math.sqrt(h))


def test_nearby_devices_are_measured_in_metres_with_filters(http: TestClient) -> None:
    paris, paris_key = register(http, organization="acme", model="C7", location=PARIS)
    london, london_key = register(http, organization="globex", model="AX23", location=LONDON)
    near, near_key = register(http, organization="acme", model="C7", location={"lat": 48.8666, "lng": 2.3522})
    register(http, organization="acme")  # no location: never nearby
    post(http, london, london_key, report(disk_used=8 * MIB), at=now_ms())
    res = http.get(f"{BASE}/device/{paris}/nearby-devices/", headers=AUTH)
    body = res.json()
    assert [d["id"] for d in body["results"]] == [near, london] and body["count"] == 2
    assert body["results"][1]["distance"] == pytest.approx(haversine(PARIS, LONDON), abs=1.0)
    assert body["results"][1]["distance"] == pytest.approx(343_500, rel=0.01)  # Paris-London, ~343.5 km
    assert body["results"][0]["distance"] == pytest.approx(
        haversine(PARIS, {"lat": 48.8666, "lng": 2.3522}), abs=1.0
    )
    assert (
        body["results"][1]["monitoring_status"] == "problem"
        and body["results"][0]["monitoring_status"] == "unknown"
    )
    assert body["results"][1]["monitoring_data"]["type"] == "DeviceMonitoring"

    def ids(**params: Any) -> list[str]:
        res = http.get(f"{BASE}/device/{paris}/nearby-devices/", params=params, headers=AUTH)
        assert res.status_code == 200, res.text
        return [d["id"] for d in res.json()["results"]]

    assert ids(distance__lte=10_000) == [near]
    assert ids(organization__slug="globex") == [london]
    assert ids(model="AX23|nothing") == [london] and ids(model="C7|AX23") == [near, london]
    assert ids(monitoring__status="problem") == [london]
    globex_id = http.get("/v1/organizations/globex", headers=AUTH).json()["id"]
    assert ids(organization=globex_id) == [london]
    assert http.get(f"{BASE}/device/unknown/nearby-devices/", headers=AUTH).status_code == 404
    del paris_key, near_key


# ---------------------------------------------------------------------------------------------------------
# Wi-Fi sessions


def sessions(http: TestClient, **params: Any) -> list[dict[str, Any]]:
    res = http.get(f"{BASE}/wifi-session/", params={"page_size": 100, **params}, headers=AUTH)
    assert res.status_code == 200, res.text
    return list(res.json()["results"])


def test_sessions_start_and_stop_with_the_stations_of_successive_reports(http: TestClient) -> None:
    device, key = register(http, name="ap-1", organization="acme", group="lobby")
    a, b, c = "a4:5e:60:00:00:0a", "a4:5e:60:00:00:0b", "a4:5e:60:00:00:0c"
    t0 = now_ms() // 1000 * 1000 - 30 * MINUTE  # the agent's times are whole seconds
    sequence = [[a, b], [a, b, c], [b], [], [a]]
    for i, macs in enumerate(sequence):
        assert (
            post(http, device, key, report(clients={"wlan0": macs}), at=t0 + i * 5 * MINUTE).status_code
            == 200
        )
    post(
        http, device, key, report(clients={"wlan0": [a, b, c]}), at=t0 + 2 * MINUTE
    )  # an old file: no change

    def at(i: int) -> str:
        from upstat.timeseries.shapes import iso

        return iso(t0 + i * 5 * MINUTE)

    found = sorted((s["client"]["mac_address"], s["start_time"], s["stop_time"]) for s in sessions(http))
    assert found == [
        (a, at(0), at(2)),
        (a, at(4), None),
        (b, at(0), at(3)),
        (c, at(1), at(2)),
    ]
    one = sessions(http, device=device)[0]
    assert one["device"] == "ap-1" and one["ssid"] == "ssid-wlan0" and one["interface_name"] == "wlan0"
    assert one["client"]["wifi5"] == "True" and one["client"]["wifi6"] == "False"
    assert http.get(f"{BASE}/wifi-session/{one['id']}/", headers=AUTH).json() == one
    assert http.get(f"{BASE}/wifi-session/nope/", headers=AUTH).status_code == 404
    # filters
    assert len(sessions(http, stop_time__lte=at(2))) == 2
    assert len(sessions(http, start_time__gt=at(0))) == 2
    assert len(sessions(http, start_time__gte=at(0), start_time__lt=at(1))) == 2
    assert len(sessions(http, start_time=at(1))) == 1
    assert len(sessions(http, stop_time__gt=at(0))) == 3  # the open one has no stop time
    assert len(sessions(http, device__group="lobby")) == 4 and sessions(http, device__group="other") == []
    acme = http.get("/v1/organizations/acme", headers=AUTH).json()["id"]
    assert len(sessions(http, device__organization=acme)) == 4
    page = http.get(f"{BASE}/wifi-session/", params={"page_size": 3, "page": 2}, headers=AUTH).json()
    assert page["count"] == 4 and len(page["results"]) == 1 and page["next"] is None


def test_a_repeated_report_opens_no_second_session(http: TestClient) -> None:
    device, key = register(http)
    at = now_ms() - 5 * MINUTE
    for _ in range(2):
        post(http, device, key, report(clients={"wlan0": ["a4:5e:60:00:00:0a"]}), at=at)
    assert len(sessions(http)) == 1


def test_closed_sessions_past_their_retention_are_dropped_by_the_sweep(http: TestClient, r: Any) -> None:
    from upstat.devices import wifi

    device, key = register(http)
    at = now_ms() - 10 * MINUTE
    post(http, device, key, report(clients={"wlan0": ["a4:5e:60:00:00:0a", "a4:5e:60:00:00:0b"]}), at=at)
    post(http, device, key, report(clients={"wlan0": ["a4:5e:60:00:00:0b"]}), at=at + 5 * MINUTE)
    settings = get_settings()
    later = at + wifi.RETENTION_MS + MINUTE
    sweep_silent(r, now=later, thresholds=Thresholds.from_settings(settings), settings=settings)
    left = sessions(http)
    assert [(s["client"]["mac_address"], s["stop_time"]) for s in left] == [("a4:5e:60:00:00:0b", None)]


def test_health_changes_reach_the_alert_webhooks_signed_once_each(
    http: TestClient, r: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.uptime.test_alerts_and_fanout import Receiver
    from upstat.uptime.alerts import verify

    receiver = Receiver()
    try:
        monkeypatch.setenv("UPSTAT_ALERT_WEBHOOKS", receiver.url)
        monkeypatch.setenv("UPSTAT_WEBHOOK_SECRET", "device-secret-0123456789")
        get_settings.cache_clear()
        device, key = register(http, name="ap-roof")
        post(http, device, key, report(), at=now_ms())
        post(http, device, key, report(disk_used=8 * MIB), at=now_ms())
        post(http, device, key, report(disk_used=8 * MIB), at=now_ms() + 1000)  # still a problem: no alert
        settings = get_settings()
        for _ in range(2):  # a sweep run twice alerts once
            sweep_silent(
                r,
                now=now_ms() + 2 * 3600_000,
                thresholds=Thresholds.from_settings(settings),
                settings=settings,
            )
        events = [(p["event"], p["device"]["name"]) for p in receiver.payloads()]
        assert events == [("device.problem", "ap-roof"), ("device.critical", "ap-roof")]
        for headers, body in receiver.requests:
            assert verify(
                "device-secret-0123456789", headers["X-Upstat-Timestamp"], body, headers["X-Upstat-Signature"]
            )
    finally:
        receiver.server.shutdown()


def test_deleting_a_device_drops_its_health_report_and_sessions(http: TestClient) -> None:
    device, key = register(http)
    post(http, device, key, report(disk_used=8 * MIB, clients={"wlan0": ["a4:5e:60:00:00:0a"]}), at=now_ms())
    assert status_of(http, device, key) == "problem" and len(sessions(http)) == 1
    assert http.delete(f"/v1/sources/{device}", headers=AUTH).status_code == 200
    assert http.get(f"{BASE}/device/{device}/", headers=AUTH).status_code == 404
    res = http.post("/v1/sources", json={"id": device, "kind": "device"}, headers=AUTH)
    key = res.json()["key"]
    body = http.get(f"{BASE}/device/{device}/", params={"key": key, "status": "true"}).json()
    assert body["monitoring"]["status"] == "unknown" and body["data"] is None
    assert sessions(http) == []


def test_the_dashboards_traffic_equals_the_devices_own_charts_across_a_reboot(http: TestClient) -> None:
    device, key = register(http, organization="acme")
    t0 = now_ms() - 40 * MINUTE
    sent = [(1_000, 100, 50), (4_000, 300, 90), (200, 20, 130), (900, 80, 10)]  # a reboot, then wlan0 reset
    for i, (rx, tx, wlan) in enumerate(sent):
        body = report(traffic={"eth0": (rx, tx), "wlan0": (wlan, wlan)})
        assert post(http, device, key, body, at=t0 + i * 5 * MINUTE).status_code == 200
    own = http.get(f"{BASE}/device/{device}/", params={"key": key, "time": "1d"}).json()
    per_interface = [c["summary"] for c in own["charts"] if c["key"] == "traffic"]
    dash = http.get(f"{BASE}/dashboard/", params={"time": "1d"}, headers=AUTH).json()
    [total] = [c for c in dash["charts"] if c["key"] == "traffic"]
    assert (
        total["summary"]["rx_bytes"]
        == sum(s["rx_bytes"] for s in per_interface)
        == 3_000 + 200 + 700 + (40 + 40 + 10)
    )
    assert total["summary"]["tx_bytes"] == sum(s["tx_bytes"] for s in per_interface)
