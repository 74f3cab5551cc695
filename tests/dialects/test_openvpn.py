"""The OpenVPN Monitor API v3 dialect: status files in, the document's routes out, checked by value."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.vpn.files import Conn, statistics, v1, v2, v3
from upstat.config import get_settings

API = "/api/v1"
MIN = 60


def now_s() -> int:
    return int(time.time())


def post(client: TestClient, auth: dict[str, str], text: str, **params: str) -> Any:
    return client.post(f"{API}/ingest/openvpn", content=text.encode(), headers=auth, params=params)


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    return body


def history(client: TestClient, auth: dict[str, str], name: str, **params: str) -> list[dict[str, Any]]:
    return ok(client.get(f"{API}/stats/{name}", headers=auth, params=params))["data"]["history"]


def test_a_reconnect_is_a_restart_never_a_negative_rate(client: TestClient, auth: dict[str, str]) -> None:
    t = now_s() - 50 * MIN
    s0 = t - 5 * MIN
    files = [
        v2(t, [Conn("alice", 1000, 2000, s0)]),
        v2(t + 10 * MIN, [Conn("alice", 5000, 9000, s0)]),
        v2(t + 20 * MIN, [Conn("alice", 300, 400, t + 18 * MIN)]),  # reconnected: counters from zero
        v2(t + 30 * MIN, [Conn("alice", 800, 900, t + 18 * MIN)]),
        v2(t + 40 * MIN, [Conn("alice", 9000, 9500, t + 35 * MIN)]),  # reconnected, moved more than before
    ]
    answers = [ok(post(client, auth, f))["data"] for f in files]
    assert answers[0]["started"] == ["alice"]
    assert answers[2]["restarted"] == ["alice"] and answers[4]["restarted"] == ["alice"]
    # Bytes moved: the first session from its start, then each file's step, each restart counted whole.
    rx = 1000 + 4000 + 300 + 500 + 9000
    tx = 2000 + 7000 + 400 + 500 + 9500
    raw = history(client, auth, "alice", range="1h", resolution="raw")
    assert all(h["bytes_received"] >= 0 and h["bytes_sent"] >= 0 for h in raw)
    assert sum(h["bytes_received"] for h in raw) == rx
    assert sum(h["bytes_sent"] for h in raw) == tx
    for resolution in ("auto", "5min"):
        buckets = history(client, auth, "alice", range="1h", resolution=resolution)
        assert sum(h["bytes_received"] for h in buckets) == rx
        assert sum(h["bytes_sent"] for h in buckets) == tx
    body = ok(client.get(f"{API}/stats/alice", headers=auth, params={"range": "1h"}))["data"]
    assert body["totals"] == {"received_mb": round(rx / 1e6, 2), "sent_mb": round(tx / 1e6, 2)}
    stats = ok(client.get(f"{API}/stats", headers=auth))["data"][0]
    assert stats["total_received_mb"] == round(rx / 1e6, 2)
    analytics = ok(client.get(f"{API}/analytics", headers=auth))["data"]
    assert analytics["traffic_distribution"] == {"rx": rx, "tx": tx}
    assert sum(p["total_rx"] for p in analytics["global_history_24h"]) == rx


def test_rates_are_bytes_times_8_over_seconds(client: TestClient, auth: dict[str, str]) -> None:
    t = now_s() - 5 * MIN
    ok(post(client, auth, v2(t, [Conn("alice", 10, 20, t - 60)])))
    ok(post(client, auth, v2(t + 60, [Conn("alice", 1_500_010, 250_020, t - 60)])))
    for resolution, seconds in (("auto", 30), ("5min", 300)):
        items = history(client, auth, "alice", range="1h", resolution=resolution)
        moving = [h for h in items if h["bytes_received"]]
        assert moving
        for h in items:
            assert h["bytes_received_rate_mbps"] == pytest.approx(
                h["bytes_received"] * 8 / seconds / 1e6, abs=1e-6
            )
            assert h["bytes_sent_rate_mbps"] == pytest.approx(h["bytes_sent"] * 8 / seconds / 1e6, abs=1e-6)
    body = ok(client.get(f"{API}/stats/alice", headers=auth))["data"]
    # The current rate: between the last two files of the session (1.5 MB in 60 s = 0.2 Mbps).
    assert body["current_rates"] == {
        "recv_mbps": 0.2,
        "sent_mbps": pytest.approx(250_000 * 8 / 60 / 1e6, abs=1e-6),
    }
    assert body["status"] == "Active"


AUTO = {
    "1h": (120, 30, "usage_history_hires"),
    "3h": (180, 60, "usage_history_hires"),
    "6h": (180, 120, "usage_history_hires"),
    "12h": (144, 300, "usage_history_hires"),
    "24h": (96, 900, "usage_history_hires"),
    "7d": (168, 3600, "stats_hourly"),
    "30d": (120, 21600, "stats_6h"),
    "1y": (365, 86400, "stats_daily"),
}


@pytest.mark.parametrize("rng", list(AUTO))
def test_automatic_resolution_follows_the_documents_table(
    client: TestClient, auth: dict[str, str], rng: str
) -> None:
    t = now_s() - 10 * MIN
    ok(post(client, auth, v2(t, [Conn("alice", 100, 200, t - 60)])))
    body = ok(client.get(f"{API}/stats/alice", headers=auth, params={"range": rng}))["data"]
    count, step, table = AUTO[rng]
    assert body["meta"]["record_count"] == len(body["history"]) == count
    assert body["meta"]["resolution_used"] == table
    if rng != "1y":
        stamps = [time.mktime(time.strptime(h["timestamp"], "%Y-%m-%d %H:%M:%S")) for h in body["history"]]
        assert {b - a for a, b in itertools.pairwise(stamps)} == {step}
    assert sum(h["bytes_received"] for h in body["history"]) == 100
    assert sum(1 for h in body["history"] if h["bytes_received"]) <= 2  # zero-filled elsewhere


@pytest.mark.parametrize(
    ("rng", "resolution", "count", "table"),
    [
        ("24h", "5min", 288, "usage_history_hires"),
        ("7d", "hourly", 168, "stats_hourly"),
        ("30d", "daily", 30, "stats_daily"),
        ("1y", "daily", 365, "stats_daily"),
    ],
)
def test_forced_resolutions(
    client: TestClient, auth: dict[str, str], rng: str, resolution: str, count: int, table: str
) -> None:
    t = now_s() - 10 * MIN
    ok(post(client, auth, v2(t, [Conn("alice", 100, 200, t - 60)])))
    body = ok(
        client.get(f"{API}/stats/alice", headers=auth, params={"range": rng, "resolution": resolution})
    )["data"]
    assert body["meta"]["record_count"] == count
    assert body["meta"]["resolution_used"] == table
    assert sum(h["bytes_sent"] for h in body["history"]) == 200


SECONDS = {"1h": 3600, "3h": 3 * 3600, "6h": 6 * 3600, "12h": 12 * 3600, "24h": 86400, "7d": 7 * 86400}
SECONDS |= {"30d": 30 * 86400, "1y": 365 * 86400}
FORCED = {
    "5min": (300, "usage_history_hires"),
    "hourly": (3600, "stats_hourly"),
    "daily": (86400, "stats_daily"),
}


def test_point_counts_for_every_range_and_forced_resolution(client: TestClient, auth: dict[str, str]) -> None:
    """A forced resolution gives range / step points (at least one, the bucket holding now), over the
    10,000-point limit a 400; raw gives each stored point (here the session's start and the file)."""
    t = now_s() - 10 * MIN
    ok(post(client, auth, v2(t, [Conn("alice", 100, 200, t - 60)])))
    for rng, seconds in SECONDS.items():
        for resolution, (step, table) in FORCED.items():
            res = client.get(
                f"{API}/stats/alice", headers=auth, params={"range": rng, "resolution": resolution}
            )
            if seconds // step > 10_000:
                assert res.status_code == 400 and "the limit is 10000" in res.json()["message"]
                continue
            body = ok(res)["data"]
            count = max(1, seconds // step)
            assert body["meta"] == {
                "resolution_used": table,
                "record_count": count,
                "resolution": {"5min": "5m", "hourly": "1h", "daily": "1d"}[resolution],
            }, (rng, resolution)
            assert len(body["history"]) == count
            if count > 1:  # a single bucket is the one holding now, which may have begun after the file
                assert sum(h["bytes_sent"] for h in body["history"]) == 200, (rng, resolution)
        raw = ok(client.get(f"{API}/stats/alice", headers=auth, params={"range": rng, "resolution": "raw"}))
        assert raw["data"]["meta"]["record_count"] == 2
        assert [h["bytes_sent"] for h in raw["data"]["history"]] == [0, 200]


def test_bad_parameters_answer_400_in_the_documents_shape(client: TestClient, auth: dict[str, str]) -> None:
    t = now_s() - 10 * MIN
    ok(post(client, auth, v2(t, [Conn("alice", 100, 200, t - 60)])))
    for path, params, word in [
        ("/analytics", {"range": "1h"}, "range"),
        ("/stats/alice", {"range": "2d"}, "range"),
        ("/stats/alice", {"resolution": "weekly"}, "resolution"),
        ("/stats/alice", {"range": "1y", "resolution": "5min"}, "the limit is 10000"),
    ]:
        r = client.get(f"{API}{path}", headers=auth, params=params)
        assert r.status_code == 400, (path, params)
        assert r.json()["success"] is False and word in r.json()["message"]
    r = client.get(f"{API}/stats/bob", headers=auth)
    assert r.status_code == 404 and r.json() == {
        "success": False,
        "message": "common_name: no client named 'bob'",
    }
    assert client.get(f"{API}/stats").status_code == 401
    assert client.get(f"{API}/stats").json()["success"] is False


def test_a_client_missing_from_the_latest_file_is_no_longer_active(
    client: TestClient, auth: dict[str, str]
) -> None:
    t = now_s() - 5 * MIN
    ok(post(client, auth, v2(t, [Conn("alice", 100, 200, t - 60), Conn("bob", 10, 20, t - 60)])))
    done = ok(post(client, auth, v3(t + 60, [Conn("alice", 150, 250, t - 60)])))["data"]
    assert done["ended"] == ["bob"] and done["form"] == "v3"
    clients = ok(client.get(f"{API}/clients", headers=auth))
    assert clients["data"] == [
        {"common_name": "alice", "status": "Active"},
        {"common_name": "bob", "status": "Disconnected"},
    ]
    system = ok(client.get(f"{API}/stats/system", headers=auth))["data"]
    assert system == {"total_clients": 2, "active_clients": 1, "total_received_gb": 0.0, "total_sent_gb": 0.0}
    bob = ok(client.get(f"{API}/stats/bob", headers=auth))["data"]
    assert bob["status"] == "Disconnected" and bob["current_rates"] == {"recv_mbps": 0.0, "sent_mbps": 0.0}
    # Back with a new session: counted whole, and active again.
    ok(post(client, auth, v2(t + 120, [Conn("bob", 70, 80, t + 100)])))
    assert ok(client.get(f"{API}/stats/bob", headers=auth))["data"]["status"] == "Active"
    assert sum(h["bytes_received"] for h in history(client, auth, "bob", range="1h")) == 10 + 70


def test_the_analytics_96_points_with_clients_connected(client: TestClient, auth: dict[str, str]) -> None:
    t = now_s() - 40 * MIN
    ok(
        post(
            client,
            auth,
            v2(t, [Conn("a", 100, 1, t - 60), Conn("b", 200, 2, t - 60), Conn("c", 300, 3, t - 60)]),
        )
    )
    ok(post(client, auth, v2(t + 30 * MIN, [Conn("a", 150, 1, t - 60)])))
    for rng, minutes in (("24h", 15), ("7d", 105), ("30d", 450)):
        body = ok(client.get(f"{API}/analytics", headers=auth, params={"range": rng}))
        data = body["data"]
        points = data[f"global_history_{rng}"]
        assert body["range"] == rng and len(points) == 96
        stamps = [time.mktime(time.strptime(p["timestamp"], "%Y-%m-%d %H:%M:%S")) for p in points]
        assert {b - a for a, b in itertools.pairwise(stamps)} == {minutes * 60}
        assert sum(p["total_rx"] for p in points) == 650 == data["traffic_distribution"]["rx"]
        assert data[f"max_concurrent_{rng}"] == 3
        assert [c["common_name"] for c in data[f"top_clients_{rng}"]] == ["c", "b", "a"]
        assert data[f"top_clients_{rng}"][0] == {
            "common_name": "c",
            "total_rx": 300,
            "total_tx": 3,
            "total_bytes": 303,
        }
        assert all(p["total_rx"] == 0 and p["active_count"] == 0 for p in points[:-4])


def test_every_version_and_the_point_to_point_form(client: TestClient, auth: dict[str, str]) -> None:
    t = now_s() - 10 * MIN
    ok(post(client, auth, v1(t, [Conn("one", 100, 200, t - 60)]), server="v1"))
    ok(post(client, auth, v3(t, [Conn("three", 300, 400, t - 60)]), server="v3"))
    done = ok(post(client, auth, statistics(t, 500, 600), server="site-b"))["data"]
    assert done["form"] == "statistics" and done["started"] == ["site-b"]
    ok(post(client, auth, statistics(t + 60, 50, 60), server="site-b"))  # the tunnel restarted
    names = [c["common_name"] for c in ok(client.get(f"{API}/clients", headers=auth))["data"]]
    assert names == ["one", "site-b", "three"]
    assert [
        c["common_name"]
        for c in ok(client.get(f"{API}/clients", headers=auth, params={"server": "v3"}))["data"]
    ] == ["three"]
    assert sum(h["bytes_received"] for h in history(client, auth, "one", range="1h")) == 100
    # A point-to-point tunnel has no session start: its first file starts the counter, a drop restarts it.
    assert sum(h["bytes_received"] for h in history(client, auth, "site-b", range="1h")) == 50


def test_version_1_text_times_in_the_servers_zone(client: TestClient, auth: dict[str, str]) -> None:
    t = now_s() - 10 * MIN
    local = v1(t, [Conn("one", 100, 200, t - 60)])
    done = ok(post(client, auth, local, tz="UTC"))["data"]
    assert done["time"] == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
    # The same text read as New York time is 4 or 5 hours later: in the future, refused naming the line.
    r = post(client, auth, local, tz="America/New_York", server="ny")
    assert r.status_code == 400 and r.json()["message"].startswith("status file line 2: the file's time")


def test_a_bad_file_stores_nothing(client: TestClient, auth: dict[str, str]) -> None:
    t = now_s() - 10 * MIN
    good = v2(t, [Conn("alice", 100, 200, t - 60), Conn("bob", 1, 2, t - 60)])
    for bad, line in [
        (good.replace(",1,2,", ",1,two,"), 5),
        (good.replace("END\n", ""), 11),
        (v2(now_s() + 3600, [Conn("alice", 1, 2, t)]), 2),
    ]:
        r = post(client, auth, bad)
        assert r.status_code == 400 and r.json()["success"] is False
        assert r.json()["message"].startswith(f"status file line {line}:"), r.json()
    assert ok(client.get(f"{API}/clients", headers=auth))["count"] == 0
    assert ok(client.get(f"{API}/stats/system", headers=auth))["data"]["total_clients"] == 0
    r = client.post(f"{API}/ingest/openvpn", content=b"", headers=auth)
    assert r.status_code == 400


def test_a_reporting_server_and_its_clients_are_registered_sources_once(
    client: TestClient, auth: dict[str, str]
) -> None:
    t = now_s() - 10 * MIN
    r = post(client, auth, v2(t, [Conn("alice", 100, 200, t - 60)]).replace(",200,", ",two,"), server="bad")
    assert r.status_code == 400
    assert client.get("/v1/sources/openvpn:bad", headers=auth).status_code == 404  # a refused file: nothing
    ok(post(client, auth, v2(t, [Conn("alice", 100, 200, t - 60), Conn("bob", 1, 2, t - 60)]), server="edge"))
    edge = client.get("/v1/sources/openvpn:edge", headers=auth).json()
    assert (edge["kind"], edge["name"], edge["organization"]) == ("vpn-server", "edge", None)
    alice = client.get("/v1/sources/openvpn:edge:alice", headers=auth).json()
    assert (alice["kind"], alice["name"]) == ("device", "alice")
    ok(
        post(
            client,
            auth,
            v2(t + MIN, [Conn("alice", 300, 400, t - 60), Conn("carol", 1, 1, t)]),
            server="edge",
        )
    )
    assert client.get("/v1/sources/openvpn:edge", headers=auth).json() == edge  # idempotent: unchanged
    listed = client.get("/v1/sources", params={"kind": "vpn-server"}, headers=auth).json()["sources"]
    assert [s["source"] for s in listed] == ["openvpn:edge"]
    devices = client.get("/v1/sources", params={"kind": "device"}, headers=auth).json()["sources"]
    assert [s["source"] for s in devices] == ["openvpn:edge:alice", "openvpn:edge:bob", "openvpn:edge:carol"]


def test_a_server_registered_ahead_of_its_first_file_is_known_with_no_clients(
    client: TestClient, auth: dict[str, str]
) -> None:
    res = client.post("/v1/sources", json={"id": "openvpn:spare", "kind": "vpn-server"}, headers=auth)
    assert res.status_code == 201
    system = ok(client.get(f"{API}/stats/system", headers=auth, params={"server": "spare"}))["data"]
    assert (system["total_clients"], system["total_received_gb"]) == (0, 0.0)
    res = client.get(f"{API}/clients", headers=auth, params={"server": "elsewhere"})
    assert res.status_code == 404 and res.json() == {
        "success": False,
        "message": "server: no VPN server named 'elsewhere'",
    }


def test_an_empty_client_list_is_zero_clients(client: TestClient, auth: dict[str, str]) -> None:
    t = now_s() - 10 * MIN
    done = ok(post(client, auth, v2(t, [])))["data"]
    assert done["clients"] == 0
    assert ok(client.get(f"{API}/clients", headers=auth))["count"] == 0


def test_a_late_file_lands_at_its_time_and_keeps_the_state(client: TestClient, auth: dict[str, str]) -> None:
    t = now_s() - 12 * MIN
    ok(post(client, auth, v2(t, [Conn("alice", 100, 200, t - 60)])))
    ok(post(client, auth, v2(t + 10 * MIN, [Conn("alice", 900, 1000, t - 60)])))
    late = ok(post(client, auth, v2(t + 5 * MIN, [Conn("alice", 400, 500, t - 60), Conn("bob", 5, 5, t)])))[
        "data"
    ]
    assert late["late"] is True
    raw = history(client, auth, "alice", range="1h", resolution="raw")
    assert [h["bytes_received"] for h in raw] == [0, 100, 300, 500]
    clients = {c["common_name"]: c["status"] for c in ok(client.get(f"{API}/clients", headers=auth))["data"]}
    assert clients == {"alice": "Active"}  # the late file's bob is no client of the newest state
    again = ok(post(client, auth, v2(t + 10 * MIN, [Conn("alice", 900, 1000, t - 60)])))["data"]
    assert again["late"] is True  # the same file twice stores once
    assert sum(h["bytes_received"] for h in raw) == 900


def test_times_in_a_named_zone(client: TestClient, auth: dict[str, str]) -> None:
    t = now_s() - 10 * MIN
    ok(post(client, auth, v2(t, [Conn("alice", 100, 200, t - 60)])))
    utc = ok(client.get(f"{API}/stats", headers=auth))["data"][0]
    tokyo = ok(client.get(f"{API}/stats", headers=auth, params={"tz": "Asia/Tokyo"}))["data"][0]
    assert utc["last_seen"] == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
    assert tokyo["last_seen"] == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t + 9 * 3600))


def test_a_server_that_stopped_reporting_has_no_active_client(
    client: TestClient, auth: dict[str, str]
) -> None:
    t = now_s() - 30 * MIN
    ok(post(client, auth, v2(t, [Conn("alice", 100, 200, t - 60)])))
    assert ok(client.get(f"{API}/clients", headers=auth))["data"] == [
        {"common_name": "alice", "status": "Disconnected"}
    ]


def test_health(client: TestClient) -> None:
    assert ok(client.get(f"{API}/health")) == {"success": True, "status": "healthy"}


@pytest.fixture
def month_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Raw points kept 32 days, so status files of the last 30 days can be sent now."""
    monkeypatch.setenv("UPSTAT_RETENTION", "raw=32d,5m=33d,15m=35d,1h=90d,6h=400d,1d=0")
    get_settings.cache_clear()


def test_the_30_day_analytics_is_exact(month_env: None, r: Any, auth: dict[str, str]) -> None:
    from upstat.api.app import create_app

    with TestClient(create_app()) as client:
        end = now_s() - 60
        step = 97 * MIN  # prime to the buckets, so files fall everywhere in them
        times = list(range(end - 29 * 86400, end, step))
        rx = 0
        expected: dict[int, int] = {}
        for i, t in enumerate(times):
            rx += 1000 + i
            ok(post(client, auth, v2(t, [Conn("alice", rx, 2 * rx, times[0] - 60)])))
            bucket = t - t % (450 * 60)
            expected[bucket] = expected.get(bucket, 0) + (rx if i == 0 else 1000 + i)
        data = ok(client.get(f"{API}/analytics", headers=auth, params={"range": "30d"}))["data"]
        points = data["global_history_30d"]
        got = {
            int(time.mktime(time.strptime(p["timestamp"], "%Y-%m-%d %H:%M:%S")) - time.timezone): p[
                "total_rx"
            ]
            for p in points
        }
        assert {k: v for k, v in got.items() if v} == expected
        assert data["traffic_distribution"]["rx"] == rx
        assert data["top_clients_30d"] == [
            {"common_name": "alice", "total_rx": rx, "total_tx": 2 * rx, "total_bytes": 3 * rx}
        ]
        body = ok(client.get(f"{API}/stats/alice", headers=auth, params={"range": "30d"}))["data"]
        assert body["meta"] == {"resolution_used": "stats_6h", "record_count": 120, "resolution": "6h"}
        assert sum(h["bytes_received"] for h in body["history"]) == rx


def test_health_says_unhealthy_when_redis_cannot_be_reached(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from upstat.api.app import create_app
    from upstat.store import client as store_client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}")
    monkeypatch.setenv("UPSTAT_REDIS_RETRIES", "0")
    get_settings.cache_clear()
    store_client.reset_client()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        answer = client.get(f"{API}/health")
        assert answer.status_code == 503
        assert answer.json() == {
            "success": False,
            "status": "unhealthy",
            "message": "the data store is unreachable",
        }
        stats = client.get(
            f"{API}/stats", headers={"Authorization": "Bearer test-admin-token-0123456789abcdef"}
        )
        assert stats.status_code == 503 and stats.json()["success"] is False
    store_client.reset_client()
