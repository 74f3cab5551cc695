"""The registry's routes: /v1/sources (register with a source key shown once, read, change, delete with its
series and keys; the dashboard's list with registry fields) and /v1/organizations."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH, now_ms
from tests.auth.helpers import bearer, every_value
from upstat.auth import cache
from upstat.sources import access
from upstat.uptime.services import ServiceStore

ROUTER = {
    "id": "edge-1",
    "name": "Edge router",
    "kind": "device",
    "organization": "acme",
    "model": "WDR4300",
    "group": "lyon",
    "location": {"lat": 45.764, "lng": 4.8357},
    "floorplan": "hq-1",
    "extra": {"os": "OpenWrt"},
}


@pytest.fixture
def http(client: TestClient) -> TestClient:
    cache.clear()
    access.clear()
    assert (
        client.post("/v1/organizations", json={"slug": "acme", "name": "Acme"}, headers=AUTH).status_code
        == 201
    )
    return client


def register(http: TestClient, **body: Any) -> dict[str, Any]:
    res = http.post("/v1/sources", json=body, headers=AUTH)
    assert res.status_code == 201, res.text
    return res.json()


def ingest(http: TestClient, source: str, token: str, value: float = 1.0) -> int:
    body = {"source": source, "metrics": {"rx": value}}
    return http.post("/v1/ingest", json=body, headers=bearer(token)).status_code


def test_registering_answers_the_source_and_a_key_shown_once_and_stored_hashed(
    http: TestClient, r: Any
) -> None:
    res = http.post("/v1/sources", json=ROUTER, headers=AUTH)
    assert res.status_code == 201 and res.headers["cache-control"] == "no-store"
    body = res.json()
    token = body.pop("key")
    assert {k: body[k] for k in ROUTER} == ROUTER
    assert body["createdAt"] == body["updatedAt"] and abs(body["createdAt"] - now_ms()) < 60_000
    assert token.startswith("upk_") and token.split("_")[2].encode() not in every_value(r)
    key = http.get(f"/v1/keys/{body['key_id']}", headers=AUTH).json()
    assert (key["source"], key["scopes"], key["status"]) == ("edge-1", ["read", "write"], "active")
    assert http.get("/v1/sources/edge-1", headers=AUTH).json() == {
        k: v for k, v in body.items() if k != "key_id"
    }


def test_the_source_key_authorizes_its_own_source_only(http: TestClient) -> None:
    token = register(http, id="edge-1", kind="device")["key"]
    register(http, id="edge-2", kind="device")
    assert ingest(http, "edge-1", token) == 200
    assert ingest(http, "edge-2", token) == 403
    own = {"source": "edge-1", "metric": "rx"}
    assert http.get("/v1/chart", params=own, headers=bearer(token)).status_code == 200
    assert http.get("/v1/chart", params={**own, "source": "edge-2"}, headers=bearer(token)).status_code == 403
    assert http.get("/v1/sources/edge-1", headers=bearer(token)).status_code == 200
    assert http.get("/v1/sources/edge-2", headers=bearer(token)).status_code == 403
    for method, path in (("GET", "/v1/sources"), ("POST", "/v1/sources"), ("GET", "/v1/total?metric=rx")):
        assert http.request(method, path, json={"kind": "device"}, headers=bearer(token)).status_code == 403


def test_an_id_is_generated_when_absent_and_a_taken_id_is_409(http: TestClient) -> None:
    longest = register(http, id="a" * 200, name="b" * 200, kind="device")  # the name rule's 200 characters
    assert longest["id"] == "a" * 200
    made = register(http, kind="backup-server")
    assert uuid.UUID(made["id"]) and made["name"] == made["id"] and made["organization"] is None
    res = http.post("/v1/sources", json={"id": made["id"], "kind": "device"}, headers=AUTH)
    assert res.status_code == 409 and res.json()["field"] == "id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "kind"),
        ({"kind": "router"}, "kind"),
        ({"kind": "device", "id": "service:abc"}, "id"),
        ({"kind": "device", "id": "a/b"}, "id"),
        ({"kind": "device", "id": "a" * 201}, "id"),
        ({"kind": "device", "name": "a" * 201}, "name"),
        ({"kind": "device", "organization": "globex"}, "organization"),
        ({"kind": "device", "organization": "not a slug"}, "organization"),
        ({"kind": "device", "location": {"lat": 89.0, "lng": 0}}, "location.lat"),
        ({"kind": "device", "location": {"lat": "1", "lng": 0}}, "location.lat"),
        ({"kind": "device", "location": {"lat": 1}}, "location.lng"),
        ({"kind": "device", "extra": {"k": "v" * 1001}}, "extra.k"),
        ({"kind": "device", "extra": {f"k{i}": "v" for i in range(51)}}, "extra"),
        ({"kind": "device", "extra": {" k": "v"}}, "extra. k"),
        ({"kind": "device", "colour": "red"}, "colour"),
    ],
)
def test_bad_bodies_are_400_naming_the_field_and_store_nothing(
    http: TestClient, body: dict[str, Any], field: str
) -> None:
    res = http.post("/v1/sources", json=body, headers=AUTH)
    assert res.status_code == 400, res.text
    assert res.json()["field"] == field and res.json()["error"] == "invalid_input"
    listed = http.get("/v1/sources", headers=AUTH).json()["sources"]
    assert listed == [] and http.get("/v1/keys", headers=AUTH).json()["count"] == 0


def test_patch_changes_clears_and_merges_and_names_bad_fields(http: TestClient) -> None:
    register(http, **ROUTER)
    res = http.patch(
        "/v1/sources/edge-1",
        json={"name": "Spare", "group": None, "location": None, "extra": {"os": None, "rack": "B2"}},
        headers=AUTH,
    )
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["name"], body["group"], body["location"], body["extra"]) == (
        "Spare",
        None,
        None,
        {"rack": "B2"},
    )
    assert body["model"] == "WDR4300" and body["updatedAt"] >= body["createdAt"]
    assert http.get("/v1/sources/edge-1", headers=AUTH).json() == body
    for bad, field in (
        ({"name": None}, "name"),
        ({"kind": None}, "kind"),
        ({"organization": "nope"}, "organization"),
    ):
        res = http.patch("/v1/sources/edge-1", json=bad, headers=AUTH)
        assert res.status_code == 400 and res.json()["field"] == field, res.text
    assert http.patch("/v1/sources/none", json={"name": "x"}, headers=AUTH).status_code == 404
    assert http.get("/v1/sources/none", headers=AUTH).json()["field"] == "id"


def test_delete_removes_the_series_revokes_its_keys_and_unregisters(http: TestClient) -> None:
    token = register(http, id="edge-1", kind="device")["key"]
    assert ingest(http, "edge-1", token) == 200
    http.put("/v1/series/kind", json={"source": "edge-1", "metric": "tx", "kind": "counter"}, headers=AUTH)
    res = http.delete("/v1/sources/edge-1", headers=AUTH)
    assert res.status_code == 200 and res.json() == {"deleted": "edge-1", "series": 2, "keys_revoked": 1}
    assert ingest(http, "edge-1", token) == 401  # the agent's key no longer works
    assert http.get("/v1/chart", params={"source": "edge-1", "metric": "rx"}, headers=AUTH).status_code == 404
    assert http.get("/v1/sources/edge-1", headers=AUTH).status_code == 404
    assert http.get("/v1/sources", headers=AUTH).json()["sources"] == []
    assert http.delete("/v1/sources/edge-1", headers=AUTH).status_code == 404


def test_the_list_keeps_services_and_unregistered_sources_and_adds_registry_fields(
    http: TestClient, r: Any, local_target: Any
) -> None:
    ServiceStore(r).create({"name": "api", "url": local_target.url("/ok")})
    token = register(http, **ROUTER)["key"]
    register(http, id="nas", kind="backup-server")  # registered, no data yet
    assert ingest(http, "edge-1", token) == 200
    assert (
        http.post("/v1/ingest", json={"source": "lab", "metrics": {"rtt": 3}}, headers=AUTH).status_code
        == 200
    )

    rows = {s["source"]: s for s in http.get("/v1/sources", headers=AUTH).json()["sources"]}
    service = next(iter(rows.values()))
    assert service["source"].startswith("service:") and service["service"] == "api"
    assert service["registered"] is False
    edge = rows["edge-1"]
    assert (edge["registered"], edge["health"], edge["metrics"], edge["kind"]) == (
        True,
        "active",
        ["rx"],
        "device",
    )
    assert edge["location"] == ROUTER["location"] and edge["organization"] == "acme"
    assert (rows["lab"]["registered"], rows["lab"]["health"], rows["lab"]["kind"]) == (False, "active", None)
    assert (rows["nas"]["health"], rows["nas"]["metrics"], rows["nas"]["kind"]) == (
        "empty",
        [],
        "backup-server",
    )

    def listed(**params: str) -> list[str]:
        res = http.get("/v1/sources", params=params, headers=AUTH)
        assert res.status_code == 200, res.text
        return [s["source"] for s in res.json()["sources"]]

    assert listed(kind="device") == ["edge-1"] and listed(kind="backup-server") == ["nas"]
    assert listed(organization="acme") == ["edge-1"] and listed(group="lyon", model="WDR4300") == ["edge-1"]
    assert listed(floorplan="hq-1") == ["edge-1"] and listed(kind="exporter") == []
    assert http.get("/v1/sources", params={"kind": "router"}, headers=AUTH).json()["field"] == "kind"


def test_organizations_are_created_read_renamed_and_deleted_once_empty(http: TestClient) -> None:
    res = http.post("/v1/organizations", json={"slug": "globex", "name": "Globex"}, headers=AUTH)
    assert res.status_code == 201
    globex = res.json()
    assert (
        http.post("/v1/organizations", json={"slug": "globex", "name": "x"}, headers=AUTH).status_code == 409
    )
    assert http.get(f"/v1/organizations/{globex['id']}", headers=AUTH).json() == globex
    assert http.get("/v1/organizations/globex", headers=AUTH).json() == globex
    listed = http.get("/v1/organizations", headers=AUTH).json()
    assert listed["count"] == 2 and [o["slug"] for o in listed["organizations"]] == ["acme", "globex"]
    assert http.get("/v1/organizations", params={"slug": "globex"}, headers=AUTH).json()["organizations"] == [
        globex
    ]
    renamed = http.patch("/v1/organizations/globex", json={"name": "Globex SA"}, headers=AUTH).json()
    assert (renamed["id"], renamed["slug"], renamed["name"]) == (globex["id"], "globex", "Globex SA")
    assert (
        http.patch("/v1/organizations/globex", json={"name": "G", "slug": "g"}, headers=AUTH).json()["field"]
        == "slug"
    )

    register(http, id="ap", kind="device", organization="globex")
    res = http.delete("/v1/organizations/globex", headers=AUTH)
    assert res.status_code == 409 and "1 source" in res.json()["message"]
    http.patch("/v1/sources/ap", json={"organization": None}, headers=AUTH)
    assert http.delete("/v1/organizations/globex", headers=AUTH).json() == {"deleted": globex["id"]}
    assert http.get("/v1/organizations/globex", headers=AUTH).status_code == 404


def test_key_in_the_query_is_refused_here_and_never_logged(
    http: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = register(http, id="edge-1", kind="device")["key"]
    caplog.set_level(logging.DEBUG)
    for path in ("/v1/sources/edge-1", "/v1/sources", "/v1/organizations"):
        res = http.get(path, params={"key": token})
        assert res.status_code == 401 and res.json()["field"] == "Authorization"
    lines = [caplog.handler.format(rec) for rec in caplog.records]
    assert any("/v1/sources/edge-1?key=[REDACTED]" in line for line in lines)
    assert not any(token.split("_")[2] in line for line in lines)
