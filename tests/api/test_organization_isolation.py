"""Organization-bound keys never read or write another organization's sources, in any route: what the
listings show (the authorization matrix checks the statuses), what writes store, and the one check
dialects call (upstat.sources.access.check_source; upstat.auth.ensure_source fails closed for them),
the OpenVPN Monitor API's servers included."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH
from tests.auth.helpers import bearer, command_calls, make_key
from tests.redis_helpers import reset_stats
from upstat.auth import Principal, cache, ensure_source
from upstat.errors import Forbidden, InvalidInput
from upstat.sources import access
from upstat.sources import store as registry
from upstat.sources.access import check_source
from upstat.timeseries.retention import current_engine
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
    reset_stats(r)
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


# ------------------------------------------------------------------------------------------------------
# The OpenVPN Monitor API (/api/v1): a VPN server is the source openvpn:<server>; its organization decides.

VPN = "/api/v1"


def _status_file(at: int, clients: dict[str, int]) -> str:
    from tests.vpn.files import Conn, v2

    return v2(at, [Conn(name, rx, rx * 2, at - 600) for name, rx in clients.items()])


@pytest.fixture
def vpn(client: TestClient, world: dict[str, str], r: Any) -> dict[str, str]:
    """Server hq in acme (alice rx 1 MB, dora 3 MB), branch in globex (bob rx 20 MB, alice 50 MB),
    lab reported without being registered (in no organization: carl rx 7)."""
    import time

    registry.create_source(r, "openvpn:hq", kind="vpn-server", organization="acme", now_ms=1)
    registry.create_source(r, "openvpn:branch", kind="vpn-server", organization="globex", now_ms=1)
    at = int(time.time()) - 60
    for server, clients in (
        ("hq", {"alice": 1_000_000, "dora": 3_000_000}),
        ("branch", {"bob": 20_000_000, "alice": 50_000_000}),
        ("lab", {"carl": 7}),
    ):
        res = client.post(
            f"{VPN}/ingest/openvpn",
            params={"server": server},
            content=_status_file(at, clients),
            headers=AUTH,
        )
        assert res.status_code == 200, res.text
    return {**world, "at": str(at)}


def test_vpn_reads_cover_only_the_organizations_servers(client: TestClient, vpn: dict[str, str]) -> None:
    key = vpn["acme"]
    clients = get(client, key, f"{VPN}/clients")
    assert [c["common_name"] for c in clients["data"]] == ["alice", "dora"]
    stats = {s["common_name"]: s for s in get(client, key, f"{VPN}/stats")["data"]}
    assert sorted(stats) == ["alice", "dora"] and stats["alice"]["servers"] == ["hq"]
    assert stats["alice"]["total_received_mb"] == 1.0  # alice's 50 MB on branch are not here
    system = get(client, key, f"{VPN}/stats/system")["data"]
    assert (system["total_clients"], system["active_clients"]) == (2, 2)
    analytics = get(client, key, f"{VPN}/analytics", range="24h")["data"]
    assert analytics["traffic_distribution"] == {"rx": 4_000_000, "tx": 8_000_000}
    assert [t["common_name"] for t in analytics["top_clients_24h"]] == ["dora", "alice"]
    alice = get(client, key, f"{VPN}/stats/alice", range="1h")["data"]
    assert sum(h["bytes_received"] for h in alice["history"]) == 1_000_000
    res = client.get(f"{VPN}/stats/bob", headers=bearer(key))  # only on globex's server: not found here
    assert res.status_code == 404 and res.json()["success"] is False
    # An unbound read key sees every server, for comparison.
    admin = AUTH["Authorization"].split()[1]
    assert get(client, admin, f"{VPN}/analytics")["data"]["traffic_distribution"]["rx"] == 74_000_007
    assert [c["common_name"] for c in get(client, admin, f"{VPN}/clients")["data"]] == [
        "alice",
        "bob",
        "carl",
        "dora",
    ]


@pytest.mark.parametrize("server", ["branch", "lab", "nowhere"])
def test_vpn_servers_outside_the_organization_are_refused_and_store_nothing(
    client: TestClient, vpn: dict[str, str], r: Any, server: str
) -> None:
    from upstat.vpn import reports
    from upstat.vpn.store import vpn_store

    key = vpn["acme"]
    before = reports.people(vpn_store(r), now=now(), servers=[server])
    sources_before = registry.list_sources(r)
    res = client.post(
        f"{VPN}/ingest/openvpn",
        params={"server": server},
        content=_status_file(int(vpn["at"]) + 30, {"mallory": 10**9}),
        headers=bearer(key),
    )
    assert res.status_code == 403
    assert res.json() == {"success": False, "message": res.json()["message"]}
    assert res.json()["message"].startswith("server: ")
    assert reports.people(vpn_store(r), now=now(), servers=[server]) == before
    assert registry.list_sources(r) == sources_before
    assert current_engine(r).metrics_of(f"openvpn:{server}:mallory") == []
    for path in ("analytics", "stats", "stats/system", "clients", "stats/alice"):
        res = client.get(f"{VPN}/{path}", params={"server": server}, headers=bearer(key))
        assert res.status_code == 403 and res.json()["message"].startswith("server: "), path


def test_vpn_files_of_the_organizations_server_register_its_clients_in_it(
    client: TestClient, vpn: dict[str, str], r: Any
) -> None:
    key = vpn["acme"]
    res = client.post(
        f"{VPN}/ingest/openvpn",
        params={"server": "hq"},
        content=_status_file(int(vpn["at"]) + 30, {"alice": 1_500_000, "erin": 10}),
        headers=bearer(key),
    )
    assert res.status_code == 200 and res.json()["data"]["started"] == ["erin"]
    erin = registry.get_source(r, "openvpn:hq:erin")
    assert erin is not None and (erin.kind, erin.organization, erin.name) == ("device", "acme", "erin")
    chart = get(client, key, "/v1/chart", source="openvpn:hq:erin", metric="bytes_received", range="1h")
    assert chart["source"] == "openvpn:hq:erin"
    assert [c["common_name"] for c in get(client, key, f"{VPN}/clients")["data"]] == ["alice", "dora", "erin"]
    # Clients of servers in no organization are in none: an organization key never reads them.
    carl = registry.get_source(r, "openvpn:lab:carl")
    assert carl is not None and carl.organization is None
    assert (
        client.get(
            "/v1/chart",
            params={"source": "openvpn:lab:carl", "metric": "bytes_received"},
            headers=bearer(key),
        ).status_code
        == 403
    )


def test_moving_a_vpn_server_moves_its_dashboard_at_once(client: TestClient, vpn: dict[str, str]) -> None:
    key = vpn["acme"]
    moved = client.patch("/v1/sources/openvpn:branch", json={"organization": "acme"}, headers=AUTH)
    assert moved.status_code == 200
    assert [c["common_name"] for c in get(client, key, f"{VPN}/clients")["data"]] == ["alice", "bob", "dora"]
    assert (
        client.patch("/v1/sources/openvpn:hq", json={"organization": "globex"}, headers=AUTH).status_code
        == 200
    )
    assert [c["common_name"] for c in get(client, key, f"{VPN}/clients")["data"]] == ["alice", "bob"]
    assert client.get(f"{VPN}/clients", params={"server": "hq"}, headers=bearer(key)).status_code == 403


def test_vpn_certificates_refuse_organization_keys_and_every_vpn_route_refuses_source_keys(
    client: TestClient, vpn: dict[str, str], r: Any
) -> None:
    """Certificates belong to no server, so to no organization; a source key (even the server's own) is
    bound to one source, while every /api/v1 route covers a server's clients too."""
    key = vpn["acme"]
    assert client.get(f"{VPN}/certificates", headers=bearer(key)).status_code == 403
    res = client.post(f"{VPN}/certificates", params={"file": "a.crt"}, content=b"x", headers=bearer(key))
    assert res.status_code == 403 and res.json()["success"] is False
    own = make_key(r, ("read", "write"), source="openvpn:hq")
    res = client.post(
        f"{VPN}/ingest/openvpn",
        params={"server": "hq"},
        content=_status_file(int(vpn["at"]) + 30, {"alice": 1}),
        headers=bearer(own),
    )
    assert res.status_code == 403
    for path in ("analytics", "stats", "stats/system", "clients", "stats/alice", "certificates"):
        assert client.get(f"{VPN}/{path}", headers=bearer(own)).status_code == 403, path


def now() -> int:
    from upstat.clock import now_ms

    return now_ms()


# ------------------------------------------------------------------------------------------------------
# duplistatus and /v1/backups: a backup server is the source of its machine-id; its organization decides.


def backup_world(client: TestClient, r: Any) -> None:
    """Backup servers alice (acme, number 1) and bob (globex, number 2), each with job "documents" run
    once, reported as Duplicati sends it (an unbound write key)."""
    from tests.api.test_authorization_matrix import duplicati_report, now_ms

    for source in ("alice", "bob"):
        res = client.post("/api/upload", json=duplicati_report(source, now_ms() - 60_000), headers=AUTH)
        assert res.status_code == 200, res.text


def test_backup_listings_show_only_the_organizations_servers(
    client: TestClient, world: dict[str, str], r: Any
) -> None:
    backup_world(client, r)
    key = world["acme"]
    assert [s["id"] for s in get(client, key, "/v1/backups/servers")["servers"]] == ["alice"]
    summary = get(client, key, "/api/chart-data/aggregated", period="1d")["data"]["summary"]
    assert summary["totalBackups"] == 1  # alice's run, not bob's
    everyone = get(client, AUTH["Authorization"].split()[1], "/api/chart-data/aggregated", period="1d")
    assert everyone["data"]["summary"]["totalBackups"] == 2
    assert get(client, key, "/api/chart-data/server/alice")["data"]["server"]["id"] == 1
    assert get(client, key, "/api/chart-data/server/1/backup/documents")["data"]["backup"]["name"] == (
        "documents"
    )


@pytest.mark.parametrize("server", ["bob", "2", "99", "nobody"])
def test_another_organizations_backup_server_is_refused_whether_it_exists_or_not(
    client: TestClient, world: dict[str, str], r: Any, server: str
) -> None:
    backup_world(client, r)
    key = world["acme"]
    for path in (f"/api/chart-data/server/{server}", f"/api/chart-data/server/{server}/backup/documents"):
        res = client.get(path, headers=bearer(key))
        assert res.status_code == 403 and res.json()["error"] == "ForbiddenError", path
        assert "bob" not in res.json()["message"] or server == "bob"  # a number reveals no machine-id
    res = client.patch(f"/v1/backups/servers/{server}", json={"alias": "mine"}, headers=bearer(key))
    assert res.status_code == 403 and res.json()["field"] == "server"
    res = client.patch(
        f"/v1/backups/servers/{server}/jobs/documents", json={"schedule": "0 2 * * *"}, headers=bearer(key)
    )
    assert res.status_code == 403
    bob = client.get("/v1/backups/servers", headers=AUTH).json()["servers"][1]
    assert (bob["alias"], bob["jobs"][0]["schedule"]) == ("", None)


@pytest.mark.parametrize("machine", ["bob", "carol", "new-one"])
def test_an_organization_key_uploads_only_for_its_organizations_servers(
    client: TestClient, world: dict[str, str], r: Any, machine: str
) -> None:
    from tests.api.test_authorization_matrix import duplicati_report, now_ms

    key = world["acme"]
    registered = registry.get_source(r, machine)
    res = client.post("/api/upload", json=duplicati_report(machine, now_ms()), headers=bearer(key))
    assert res.status_code == 403 and res.json()["error"].startswith("Extra.machine-id: ")
    assert current_engine(r).sources_of("duration") == []  # no run stored
    assert client.get("/v1/backups/servers", headers=AUTH).json() == {"servers": []}
    assert registry.get_source(r, machine) == registered  # "new-one" stays unregistered
    res = client.post("/api/upload", json=duplicati_report("alice", now_ms()), headers=bearer(key))
    assert res.status_code == 200
    assert [s["id"] for s in client.get("/v1/backups/servers", headers=AUTH).json()["servers"]] == ["alice"]


# ------------------------------------------------------------------------------------------------------
# The Netflow Collector API (/v1/api): exporter devices are sources of the registry


def flows(client: TestClient, headers: dict[str, str], *exporters: str) -> Any:
    from tests.factories import goflow2_record

    at = current_ms() - 60_000
    records = [goflow2_record("NETFLOW_V5", e, at, 1000 * (i + 1), i + 1) for i, e in enumerate(exporters)]
    return client.post("/v1/api/flows", json=records, headers=headers)


def current_ms() -> int:
    import time

    return int(time.time() * 1000)


@pytest.fixture
def devices(client: TestClient, r: Any, world: dict[str, str]) -> dict[str, int]:
    """Exporter devices: 192.0.2.1 in acme (ID 1), 192.0.2.2 in globex (2), 192.0.2.3 in none (3), each
    with one flow of 1000, 2000 and 3000 bytes."""
    registry.create_source(r, "192.0.2.1", kind="exporter", organization="acme", now_ms=1)
    registry.create_source(r, "192.0.2.2", kind="exporter", organization="globex", now_ms=1)
    res = flows(client, AUTH, "192.0.2.1", "192.0.2.2", "192.0.2.3")
    assert res.status_code == 200, res.text
    listed = client.get("/v1/api/device/get/all", headers=AUTH).json()
    return {d["Device"]: d["ID"] for d in listed}


def netflow_bytes(client: TestClient, headers: dict[str, str]) -> dict[str, int]:
    res = client.get("/v1/api/device/get/summary/interval/1h", headers=headers)
    assert res.status_code == 200, res.text
    return {row["device"]: row["total_bytes"] for row in res.json()}


def test_netflow_lists_and_sums_only_the_organizations_devices(
    client: TestClient, world: dict[str, str], devices: dict[str, int]
) -> None:
    key = bearer(world["acme"])
    assert devices == {"192.0.2.1": 1, "192.0.2.2": 2, "192.0.2.3": 3}
    assert [d["Device"] for d in get(client, world["acme"], "/v1/api/device/get/all")] == ["192.0.2.1"]
    assert netflow_bytes(client, key) == {"192.0.2.1": 1000}
    assert netflow_bytes(client, AUTH) == {"192.0.2.1": 1000, "192.0.2.2": 2000, "192.0.2.3": 3000}
    rows = get(client, world["acme"], "/v1/api/device/get/summary/group/1h/by/1")
    assert sum(row["total_bytes"] for row in rows) == 1000


@pytest.mark.parametrize("device_id", [2, 3, 4])
def test_netflow_refuses_another_organizations_device_and_an_unknown_id_alike(
    client: TestClient, world: dict[str, str], devices: dict[str, int], device_id: int
) -> None:
    res = client.get(f"/v1/api/device/get/summary/group/1h/by/{device_id}", headers=bearer(world["acme"]))
    assert res.status_code == 403 and list(res.json()) == ["error", "message"]  # the document's shape
    # The same words whether the ID is another's or nobody's: neither its existence nor its address told.
    assert (
        res.json()["message"] == f"DeviceID: no device with ID {device_id} in this key's organization 'acme'"
    )


@pytest.mark.parametrize("exporter", ["192.0.2.2", "192.0.2.3"])
def test_netflow_flows_for_another_organizations_device_are_refused_and_store_nothing(
    client: TestClient, world: dict[str, str], devices: dict[str, int], r: Any, exporter: str
) -> None:
    before = netflow_bytes(client, AUTH)
    res = flows(client, bearer(world["acme"]), "192.0.2.1", "198.51.100.9", exporter)
    assert res.status_code == 403, res.text
    assert f"sampler_address: source '{exporter}' is not registered" in res.json()["message"]
    assert netflow_bytes(client, AUTH) == before
    assert registry.get_source(r, "198.51.100.9") is None  # the new device of that batch: not registered
    assert [d["Device"] for d in client.get("/v1/api/device/get/all", headers=AUTH).json()] == list(devices)


def test_netflow_flows_register_a_new_device_in_the_keys_organization(
    client: TestClient, world: dict[str, str], devices: dict[str, int], r: Any
) -> None:
    key = bearer(world["acme"])
    assert flows(client, key, "192.0.2.1").status_code == 200  # its own device: counted
    res = flows(client, key, "198.51.100.9")
    assert res.status_code == 200, res.text
    source = registry.get_source(r, "198.51.100.9")
    assert source is not None and (source.kind, source.organization) == ("exporter", "acme")
    assert netflow_bytes(client, key) == {"192.0.2.1": 2000, "198.51.100.9": 1000}
    listed = get(client, world["acme"], "/v1/api/device/get/all")
    assert [(d["ID"], d["Device"]) for d in listed] == [(1, "192.0.2.1"), (4, "198.51.100.9")]
    # Moved to globex through the registry, it leaves acme's key at once.
    assert (
        client.patch("/v1/sources/198.51.100.9", json={"organization": "globex"}, headers=AUTH).status_code
        == 200
    )
    assert client.get("/v1/api/device/get/summary/group/1h/by/4", headers=key).status_code == 403
    assert flows(client, key, "198.51.100.9").status_code == 403
