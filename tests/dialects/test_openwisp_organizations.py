"""Organization keys in OpenWISP's API: a key bound to acme reads and writes acme's devices only, and every
listing (devices, dashboard, nearby devices, Wi-Fi sessions) shows acme's alone; a device key reaches only
its own device, and only on the routes the agent uses."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.auth.helpers import bearer, make_key
from tests.dialects.openwisp_helpers import BASE, now_ms, organization, post, register, report
from upstat.auth import cache
from upstat.sources import access

PARIS = {"lat": 48.8566, "lng": 2.3522}


@pytest.fixture
def fleet(client: TestClient, r: Any) -> dict[str, Any]:
    cache.clear()
    access.clear()
    organization(client, "acme")
    organization(client, "globex")
    out: dict[str, Any] = {"http": client}
    for name, org, lat in (("a1", "acme", 0.0), ("a2", "acme", 0.01), ("g1", "globex", 0.02)):
        device, key = register(
            client, name=name, organization=org, location={"lat": PARIS["lat"] + lat, "lng": PARIS["lng"]}
        )
        post(client, device, key, report(clients={"wlan0": [f"02:00:00:00:00:{len(out):02x}"]}), at=now_ms())
        post(client, device, key, report(clients={"wlan0": []}), at=now_ms() + 1000)
        out[name] = (device, key)
    out["acme key"] = make_key(r, ("read", "write"), organization="acme")
    return out


def names(body: dict[str, Any], field: str = "name") -> list[str]:
    return sorted(str(d[field]) for d in body["results"])


def test_an_organization_key_lists_only_its_organizations_devices(fleet: dict[str, Any]) -> None:
    http, key = fleet["http"], bearer(fleet["acme key"])
    assert names(http.get(f"{BASE}/device/", headers=key).json()) == ["a1", "a2"]
    res = http.get(f"{BASE}/device/", params={"organization_slug": "globex"}, headers=key)
    assert res.status_code == 200 and res.json()["count"] == 0
    dash = http.get(f"{BASE}/dashboard/", params={"time": "1d"}, headers=key).json()
    assert dash["devices"] == 2
    assert (
        http.get(f"{BASE}/dashboard/", params={"organization_slug": "globex"}, headers=key).json()["devices"]
        == 0
    )
    a1 = fleet["a1"][0]
    near = http.get(f"{BASE}/device/{a1}/nearby-devices/", headers=key).json()
    assert names(near) == ["a2"]
    sessions = http.get(f"{BASE}/wifi-session/", headers=key).json()
    assert sessions["count"] == 2 and {s["device"] for s in sessions["results"]} == {"a1", "a2"}


def test_an_organization_key_is_refused_on_another_organizations_device(fleet: dict[str, Any]) -> None:
    http, key = fleet["http"], bearer(fleet["acme key"])
    g1 = fleet["g1"][0]
    assert http.get(f"{BASE}/device/{g1}/", headers=key).status_code == 403
    assert http.post(f"{BASE}/device/{g1}/", json=report(), headers=key).status_code == 403
    assert http.get(f"{BASE}/device/{g1}/nearby-devices/", headers=key).status_code == 403
    session = http.get(f"{BASE}/wifi-session/", params={"device": g1}, headers=bearer_admin()).json()
    assert session["count"] == 1
    res = http.get(f"{BASE}/wifi-session/{session['results'][0]['id']}/", headers=key)
    assert res.status_code == 403 and set(res.json()) == {"detail"}
    a1 = fleet["a1"][0]
    assert http.get(f"{BASE}/device/{a1}/", headers=key).status_code == 200
    assert http.post(f"{BASE}/device/{a1}/", json=report(), headers=key).status_code == 200


def test_a_device_key_reaches_only_its_own_device_and_only_the_agents_routes(fleet: dict[str, Any]) -> None:
    http = fleet["http"]
    (a1, a1_key), (g1, _) = fleet["a1"], fleet["g1"]
    assert http.get(f"{BASE}/device/{a1}/", params={"key": a1_key}).status_code == 200
    assert http.get(f"{BASE}/device/{g1}/", params={"key": a1_key}).status_code == 403
    assert post(http, g1, a1_key, report()).status_code == 403
    for path in ("device/", "dashboard/", "wifi-session/", f"device/{a1}/nearby-devices/"):
        assert http.get(f"{BASE}/{path}", headers=bearer(a1_key)).status_code == 403, path
        # ?key= is only for the agent's routes: elsewhere it is no credential at all
        assert http.get(f"{BASE}/{path}", params={"key": a1_key}).status_code == 401, path


def bearer_admin() -> dict[str, str]:
    from tests.api.conftest import AUTH

    return dict(AUTH)
