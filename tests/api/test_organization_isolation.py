"""Organization-bound keys never read or write another organization's sources, in any route: what the
listings show (the authorization matrix checks the statuses), what writes store, and the one check
dialects call (upstat.auth.ensure_source)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH
from tests.auth.helpers import bearer, command_calls, make_key
from upstat.auth import Principal, cache, ensure_source
from upstat.errors import Forbidden, InvalidInput
from upstat.sources import access
from upstat.sources import store as registry
from upstat.sources.access import check_source
from upstat.timeseries.config import current_engine
from upstat.uptime.services import ServiceStore

T = 1_000  # ms before now of every point written here


@pytest.fixture
def world(client: TestClient, r: Any, local_target: Any) -> dict[str, str]:
    """acme owns alice (rx 1), globex owns bob (rx 10), carol is unregistered (rx 100), one service."""
    cache.clear()
    access.clear()
    for slug in ("acme", "globex"):
        registry.create_organization(r, slug=slug, name=slug, now_ms=1)
    registry.create_source(r, "alice", kind="device", organization="acme", now_ms=1)
    registry.create_source(r, "bob", kind="device", organization="globex", now_ms=1)
    registry.create_source(r, "dave", kind="exporter", now_ms=1)  # registered in no organization
    for source, value in (("alice", 1.0), ("bob", 10.0), ("carol", 100.0), ("dave", 1000.0)):
        res = client.post("/v1/ingest", json={"source": source, "metrics": {"rx": value}}, headers=AUTH)
        assert res.status_code == 200
    ServiceStore(r).create({"name": "api", "url": local_target.url("/ok")})
    return {"acme": make_key(r, ("read", "write"), organization="acme")}


def get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    res = client.get(path, params=params, headers=bearer(token))
    assert res.status_code == 200, res.text
    return res.json()


def test_listings_show_only_the_organizations_sources(client: TestClient, world: dict[str, str]) -> None:
    key = world["acme"]
    assert [s["source"] for s in get(client, key, "/v1/sources")["sources"]] == ["alice"]
    assert get(client, key, "/v1/sources", organization="globex")["sources"] == []
    assert get(client, key, "/v1/series") == {"sources": ["alice"]}
    assert get(client, key, "/v1/series", metric="rx", services="true") == {
        "sources": ["alice"],
        "metric": "rx",
        "services": [],
    }
    total = get(client, key, "/v1/total", metric="rx", range="1h", resolution="1h")
    assert (total["sources"], total["total"]) == (1, 1.0)
    top = get(client, key, "/v1/top", metric="rx", range="1h")
    assert [row["source"] for row in top["top"]] == ["alice"] and top["sources"] == 1
    orgs = get(client, key, "/v1/organizations")
    assert [o["slug"] for o in orgs["organizations"]] == ["acme"]
    assert get(client, key, "/v1/organizations", slug="globex")["count"] == 0
    # An unbound read key sees everything, for comparison.
    everyone = get(
        client, AUTH["Authorization"].split()[1], "/v1/total", metric="rx", range="1h", resolution="1h"
    )
    assert (everyone["sources"], everyone["total"]) == (4, 1111.0)


@pytest.mark.parametrize("source", ["bob", "carol", "dave", "service:x", "new-one"])
def test_writes_and_reads_outside_the_organization_are_refused_and_store_nothing(
    client: TestClient, world: dict[str, str], r: Any, source: str
) -> None:
    key = world["acme"]
    before = current_engine(r).metrics_of(source)
    res = client.post("/v1/ingest", json={"source": source, "metrics": {"tx": 5}}, headers=bearer(key))
    assert res.status_code == 403 and res.json()["field"] == "source"
    res = client.put(
        "/v1/series/kind", json={"source": source, "metric": "tx", "kind": "counter"}, headers=bearer(key)
    )
    assert res.status_code == 403
    assert current_engine(r).metrics_of(source) == before
    for path, params in (
        ("/v1/chart", {"source": source, "metric": "rx"}),
        ("/v1/series", {"source": source}),
    ):
        assert client.get(path, params=params, headers=bearer(key)).status_code == 403
    assert client.get(f"/v1/sources/{source}", headers=bearer(key)).status_code == 403


def test_the_organizations_own_sources_are_read_and_written(
    client: TestClient, world: dict[str, str]
) -> None:
    key = world["acme"]
    res = client.post("/v1/ingest", json={"source": "alice", "metrics": {"tx": 5}}, headers=bearer(key))
    assert res.status_code == 200
    assert get(client, key, "/v1/series", source="alice") == {"source": "alice", "metrics": ["rx", "tx"]}
    assert get(client, key, "/v1/chart", source="alice", metric="tx")["stats"]["max"] == 5
    assert get(client, key, "/v1/sources/alice")["organization"] == "acme"
    assert get(client, key, "/v1/organizations/acme")["slug"] == "acme"
    assert client.get("/v1/organizations/globex", headers=bearer(key)).status_code == 403
    assert (
        client.get("/v1/organizations/missing", headers=bearer(key)).status_code == 403
    )  # not 404: no probing


def test_moving_a_source_to_another_organization_moves_its_access_at_once(
    client: TestClient, world: dict[str, str]
) -> None:
    key = world["acme"]
    assert (
        client.get("/v1/chart", params={"source": "alice", "metric": "rx"}, headers=bearer(key)).status_code
        == 200
    )
    assert client.patch("/v1/sources/alice", json={"organization": "globex"}, headers=AUTH).status_code == 200
    assert (
        client.get("/v1/chart", params={"source": "alice", "metric": "rx"}, headers=bearer(key)).status_code
        == 403
    )
    assert client.patch("/v1/sources/bob", json={"organization": "acme"}, headers=AUTH).status_code == 200
    assert (
        client.get("/v1/chart", params={"source": "bob", "metric": "rx"}, headers=bearer(key)).status_code
        == 200
    )


def test_uptime_and_admin_routes_refuse_organization_keys(client: TestClient, world: dict[str, str]) -> None:
    key = world["acme"]
    for method, path in (
        ("GET", "/v1/services"),
        ("GET", "/v1/status"),
        ("GET", "/v1/retention"),
        ("GET", "/v1/keys"),
    ):
        res = client.request(method, path, headers=bearer(key))
        assert res.status_code == 403 and "organization" in res.json()["message"], path


def test_the_check_dialects_call_looks_the_organization_up_once_per_short_while(
    world: dict[str, str], r: Any
) -> None:
    caller = Principal("k", frozenset({"read"}), organization="acme")
    r.config_resetstat()
    check_source(r, caller, "alice")
    check_source(r, caller, "alice")
    assert command_calls(r).get("hmget") == 1  # the second check was answered from memory
    with pytest.raises(Forbidden) as err:
        check_source(r, caller, "bob", field="pk")
    assert err.value.field == "pk"
    with pytest.raises(Forbidden):
        check_source(r, caller, None)
    check_source(r, Principal("k", frozenset({"read"})), "bob")  # an unbound key: no lookup, no refusal
    with pytest.raises(Forbidden):
        check_source(r, Principal("k", frozenset({"read"}), source="alice"), "bob")
    assert command_calls(r).get("hmget") == 2


def test_the_check_that_knows_no_registry_refuses_organization_keys_outright() -> None:
    """A route written before organization keys (``upstat.auth.ensure_source``) fails closed for them."""
    with pytest.raises(Forbidden) as err:
        ensure_source(Principal("k", frozenset({"read"}), organization="acme"), "alice")
    assert "organization 'acme'" in err.value.message


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"scopes": ("admin",), "organization": "acme"}, "organization"),
        ({"scopes": ("read",), "organization": "acme", "source": "alice"}, "organization"),
        ({"scopes": ("read",), "organization": " acme"}, "organization"),
    ],
)
def test_organization_keys_are_refused_when_they_could_escape_or_name_nothing(
    world: dict[str, str], r: Any, fields: dict[str, Any], field: str
) -> None:
    scopes = fields.pop("scopes")
    with pytest.raises(InvalidInput) as err:
        make_key(r, scopes, **fields)
    assert err.value.field == field


def test_keys_route_and_cli_bind_keys_to_an_organization(
    client: TestClient, world: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from upstat.cli import main

    res = client.post(
        "/v1/keys", json={"name": "dash", "scopes": ["read"], "organization": "globex"}, headers=AUTH
    )
    assert res.status_code == 201 and res.json()["organization"] == "globex"
    assert [s["source"] for s in get(client, res.json()["token"], "/v1/sources")["sources"]] == ["bob"]
    res = client.post(
        "/v1/keys", json={"name": "x", "scopes": ["read"], "organization": "nope"}, headers=AUTH
    )
    assert res.status_code == 400 and res.json()["field"] == "organization"

    assert main(["keys", "create", "--scope", "read", "--organization", "acme"]) == 0
    token = capsys.readouterr().out.strip()
    assert [s["source"] for s in get(client, token, "/v1/sources")["sources"]] == ["alice"]
    assert main(["keys", "create", "--scope", "read", "--organization", "nope"]) == 1
    assert "organization: no organization 'nope'" in capsys.readouterr().err
