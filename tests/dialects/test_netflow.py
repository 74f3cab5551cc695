"""The Netflow Collector API over HTTP (netflow-collector-api.txt): goflow2 JSON and nfdump CSV in, devices,
summaries over an interval and grouped series out, with the document's fields and error shape, against the
real Valkey. Sums are checked exactly against a recomputation from the records sent."""

from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH, now_ms
from tests.factories import GOFLOW2_TYPES, goflow2_record
from tests.redis_helpers import all_keys, command_stats, slot_groups

NDJSON = {**AUTH, "Content-Type": "application/x-ndjson"}
EXPORTERS = ("192.0.2.1", "198.51.100.7", "2001:db8::9")
DEVICE_FIELDS = ["ID", "CreatedAt", "UpdatedAt", "DeletedAt", "Device", "Name", "Info"]
SUMMARY_FIELDS = [
    "device_id",
    "device",
    "flow_count",
    "device_name",
    "device_info",
    "total_bytes",
    "total_packets",
]


def ndjson(records: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(r, separators=(",", ":")) for r in records) + "\n"


def post(client: TestClient, records: list[dict[str, Any]], **headers: str) -> dict[str, Any]:
    res = client.post("/v1/api/flows", content=ndjson(records), headers={**NDJSON, **headers})
    assert res.status_code == 200, res.text
    return res.json()


def expected(records: list[dict[str, Any]], since_ms: int = 0) -> dict[str, list[int]]:
    """Per exporter: flows, bytes and packets, recomputed the obvious way from the records."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for rec in records:
        start = rec["time_flow_start_ns"] or rec["time_received_ns"]
        if start // 1_000_000 < since_ms - since_ms % 1000:
            continue
        rate = rec["sampling_rate"] if rec["sampling_rate"] > 1 else 1
        row = out[rec["sampler_address"]]
        row[0] += 1
        row[1] += rec["bytes"] * rate
        row[2] += rec["packets"] * rate
    return dict(out)


def realistic(n: int, seed: int, *, within_ms: int = 50 * 60_000) -> list[dict[str, Any]]:
    """n goflow2 records of every kind (v5, v9, IPFIX, sFlow sampled 1:100) from three exporters."""
    rnd = random.Random(seed)
    now = now_ms()
    out = []
    for i in range(n):
        kind = GOFLOW2_TYPES[i % 4]
        rate = 100 if kind == "SFLOW_5" else rnd.choice([0, 0, 1, 10])
        out.append(
            goflow2_record(
                kind,
                EXPORTERS[rnd.randrange(3)],
                now - rnd.randrange(10_000, within_ms),
                rnd.randrange(40, 1_500_000),
                rnd.randrange(1, 2000),
                sampling_rate=rate,
                seq=i,
            )
        )
    return out


def summary(client: TestClient, interval: str, **params: str) -> dict[str, dict[str, Any]]:
    res = client.get(f"/v1/api/device/get/summary/interval/{interval}", headers=AUTH, params=params)
    assert res.status_code == 200, res.text
    rows = res.json()
    assert all(list(row) == SUMMARY_FIELDS for row in rows)
    return {row["device"]: row for row in rows}


def group(client: TestClient, interval: str, device_id: int, **params: str) -> list[dict[str, Any]]:
    res = client.get(
        f"/v1/api/device/get/summary/group/{interval}/by/{device_id}", headers=AUTH, params=params
    )
    assert res.status_code == 200, res.text
    return res.json()


def devices(client: TestClient) -> list[dict[str, Any]]:
    res = client.get("/v1/api/device/get/all", headers=AUTH)
    assert res.status_code == 200, res.text
    return res.json()


def assert_error(res: Any, status: int, *words: str) -> None:
    assert res.status_code == status, res.text
    body = res.json()
    assert list(body) == ["error", "message"] and body["error"] is True
    for word in words:
        assert word in body["message"], body["message"]


# ------------------------------------------------------------------------------------------------------
# Sums


def test_goflow2_batches_of_every_kind_sum_exactly_per_device(client: TestClient) -> None:
    records = realistic(600, seed=1)
    post(client, records[:250])
    res = client.post("/v1/api/flows", json=records[250:], headers=AUTH)  # a JSON array
    assert res.status_code == 200 and res.json()["records"] == 350
    want = expected(records)
    got = summary(client, "1h")
    assert set(got) == set(want)
    for address, (flows, nbytes, packets) in want.items():
        row = got[address]
        assert (row["flow_count"], row["total_bytes"], row["total_packets"]) == (flows, nbytes, packets)
        assert (row["device_name"], row["device_info"]) == ("", "")


def test_devices_are_numbered_in_the_order_first_seen_and_listed_with_the_document_s_fields(
    client: TestClient,
) -> None:
    now = now_ms()
    post(client, [goflow2_record("NETFLOW_V9", "198.51.100.7", now - 60_000, 10, 1)])
    post(client, [goflow2_record("IPFIX", "::ffff:192.0.2.1", now - 60_000, 10, 1)])
    post(client, [goflow2_record("NETFLOW_V5", "198.51.100.7", now - 30_000, 10, 1)])
    listed = devices(client)
    assert [list(d) for d in listed] == [DEVICE_FIELDS, DEVICE_FIELDS]
    assert [(d["ID"], d["Device"], d["DeletedAt"], d["Name"], d["Info"]) for d in listed] == [
        (1, "198.51.100.7", None, "", ""),
        (2, "192.0.2.1", None, "", ""),
    ]
    created = datetime.fromisoformat(listed[0]["CreatedAt"])
    assert created.utcoffset() is not None and abs(created.timestamp() * 1000 - now) < 10_000
    assert listed[0]["UpdatedAt"] == listed[0]["CreatedAt"]


def test_a_device_is_an_exporter_of_the_registry_named_through_it(client: TestClient) -> None:
    now = now_ms()
    post(client, [goflow2_record("NETFLOW_V5", "2001:db8::9", now - 60_000, 100, 2)])
    source = client.get("/v1/sources/2001:db8::9", headers=AUTH).json()
    assert (source["kind"], source["name"], source["extra"]) == ("exporter", "2001:db8::9", {})
    res = client.patch(
        "/v1/sources/2001:db8::9", json={"extra": {"Name": "edge-1", "Info": "rack 4"}}, headers=AUTH
    )
    assert res.status_code == 200, res.text
    [device] = devices(client)
    assert (device["ID"], device["Name"], device["Info"]) == (1, "edge-1", "rack 4")
    assert datetime.fromisoformat(device["UpdatedAt"]) >= datetime.fromisoformat(device["CreatedAt"])
    row = summary(client, "1h")["2001:db8::9"]
    assert (row["device_name"], row["device_info"], row["total_bytes"]) == ("edge-1", "rack 4", 100)
    assert group(client, "1h", 1)[0]["device_name"] == "edge-1"
    # Deleted through the registry (series and all), it is gone; its next record brings it back as ID 1.
    assert client.delete("/v1/sources/2001:db8::9", headers=AUTH).status_code == 200
    assert devices(client) == [] and summary(client, "1h") == {}
    res = client.get("/v1/api/device/get/summary/group/1h/by/1", headers=AUTH)
    assert_error(res, 404, "DeviceID: no device with ID 1")
    post(client, [goflow2_record("NETFLOW_V5", "2001:db8::9", now - 30_000, 7, 1)])
    assert [(d["ID"], d["Name"]) for d in devices(client)] == [(1, "")]
    assert summary(client, "1h")["2001:db8::9"]["total_bytes"] == 7


def test_grouped_series_sum_to_the_summary_at_the_document_s_steps(client: TestClient) -> None:
    records = realistic(400, seed=2, within_ms=170 * 60_000)
    post(client, records)
    ids = {d["Device"]: d["ID"] for d in devices(client)}
    for interval, step_ms in (("1h", 60_000), ("3h", 3_600_000), ("24h", 86_400_000), ("15m", 60_000)):
        got = summary(client, interval)
        for address, device_id in ids.items():
            rows = group(client, interval, device_id)
            totals = [sum(r[f] for r in rows) for f in ("flow_count", "total_bytes", "total_packets")]
            want = got.get(address)
            assert totals == (
                [want["flow_count"], want["total_bytes"], want["total_packets"]] if want else [0, 0, 0]
            )
            times = [datetime.fromisoformat(r["_time"]) for r in rows]
            assert times == sorted(times) and all(t.utcoffset().total_seconds() == 0 for t in times)
            assert all(int(t.timestamp() * 1000) % step_ms == 0 for t in times)
            assert all(list(r) == ["_time", *SUMMARY_FIELDS] for r in rows)


def test_an_interval_counts_only_its_own_records_and_an_invalid_one_reads_as_15m(client: TestClient) -> None:
    now = now_ms()
    recent = goflow2_record("NETFLOW_V5", "192.0.2.1", now - 10 * 60_000, 100, 2)
    older = goflow2_record("NETFLOW_V5", "192.0.2.1", now - 20 * 60_000, 1000, 20)
    oldest = goflow2_record("NETFLOW_V5", "192.0.2.1", now - 100 * 60_000, 10000, 200)
    post(client, [recent, older, oldest])
    assert summary(client, "15m")["192.0.2.1"]["total_bytes"] == 100
    assert summary(client, "30m")["192.0.2.1"]["total_bytes"] == 1100
    assert summary(client, "2h")["192.0.2.1"]["total_bytes"] == 11100
    assert summary(client, "999999999y") == summary(client, "100y") == summary(client, "2h")
    assert sum(g["total_bytes"] for g in group(client, "999999999y", 1)) == 11100
    for invalid in ("bogus", "0m", "15", "1.5h", "15min", "1000000000s", "-5m"):
        assert summary(client, invalid) == summary(client, "15m")
        assert group(client, invalid, 1) == group(client, "15m", 1)
    assert summary(client, "1m") == {}  # no flow in the last minute: no row, as the collector sums its rows


def test_times_are_answered_with_the_offset_of_tz_and_days_follow_its_calendar(client: TestClient) -> None:
    now = now_ms()
    post(client, [goflow2_record("NETFLOW_V5", "192.0.2.1", now - 60_000, 100, 2)])
    [row] = group(client, "24h", 1, tz="Asia/Tehran")
    start = datetime.fromisoformat(row["_time"])
    assert start.utcoffset().total_seconds() == 3.5 * 3600 and (start.hour, start.minute) == (0, 0)
    assert datetime.fromisoformat(devices(client)[0]["CreatedAt"]).utcoffset().total_seconds() == 0
    listed = client.get("/v1/api/device/get/all", headers=AUTH, params={"tz": "Asia/Tehran"}).json()
    assert listed[0]["CreatedAt"].endswith("+03:30")


def test_an_unknown_device_is_404_and_a_quiet_one_an_empty_array(client: TestClient) -> None:
    now = now_ms()
    post(client, [goflow2_record("NETFLOW_V5", "192.0.2.1", now - 50 * 60_000, 100, 2)])
    assert group(client, "15m", 1) == []
    assert_error(client.get("/v1/api/device/get/summary/group/15m/by/2", headers=AUTH), 404, "DeviceID", "2")
    assert_error(client.get("/v1/api/device/get/summary/group/15m/by/0", headers=AUTH), 400, "DeviceID")


# ------------------------------------------------------------------------------------------------------
# Retries


def test_the_same_body_sent_twice_counts_once(client: TestClient) -> None:
    records = realistic(50, seed=3)
    first = post(client, records)
    again = post(client, records)
    assert not first["replayed"] and again["replayed"]
    assert first["idempotency_key"] == again["idempotency_key"] and first["idempotency_key"].startswith(
        "sha256:"
    )
    post(client, records[:10])  # another batch (other bytes): it counts
    want = expected(records + records[:10])
    got = summary(client, "1h")
    assert {a: [r["flow_count"], r["total_bytes"], r["total_packets"]] for a, r in got.items()} == want


def test_an_idempotency_key_makes_a_retry_count_once_however_it_is_encoded(client: TestClient) -> None:
    records = realistic(30, seed=4)
    post(client, records, **{"Idempotency-Key": "collector-7:batch-12"})
    res = client.post(
        "/v1/api/flows",
        json=list(reversed(records)),
        headers={**AUTH, "Idempotency-Key": "collector-7:batch-12"},
    )
    assert res.status_code == 200 and res.json()["replayed"] is True
    got = summary(client, "1h")
    assert {a: [r["flow_count"], r["total_bytes"], r["total_packets"]] for a, r in got.items()} == expected(
        records
    )


def test_an_idempotency_key_sent_again_with_other_records_is_409_and_stores_nothing(
    client: TestClient,
) -> None:
    records = realistic(20, seed=5)
    post(client, records, **{"Idempotency-Key": "k1"})
    other = [dict(records[0], bytes=records[0]["bytes"] + 1), *records[1:]]
    res = client.post("/v1/api/flows", content=ndjson(other), headers={**NDJSON, "Idempotency-Key": "k1"})
    assert_error(res, 409, "Idempotency-Key", "'k1' was already used for other records")
    got = summary(client, "1h")
    assert {a: [r["flow_count"], r["total_bytes"], r["total_packets"]] for a, r in got.items()} == expected(
        records
    )


# ------------------------------------------------------------------------------------------------------
# Refusals: 400 naming the line, nothing of the batch stored


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("{not json", ["line 3: not valid JSON"]),
        ('{"bytes":1,"packets":1,"time_received_ns":1}', ["line 3: sampler_address: is required"]),
        ("bytes=-1", ["line 3: bytes: must be an integer from 0"]),
        ("bytes=1.5", ["line 3: bytes: must be an integer"]),
        ("old", ["line 3: time_flow_start_ns:", "older than the raw tier's retention"]),
        ("future", ["line 3: time_flow_start_ns:", "more than 5 minutes in the future"]),
    ],
)
def test_a_bad_line_is_refused_naming_it_and_nothing_of_the_batch_is_stored(
    client: TestClient, line: str, words: list[str]
) -> None:
    now = now_ms()
    good = goflow2_record("NETFLOW_V5", "192.0.2.1", now - 60_000, 100, 2)
    bad = dict(goflow2_record("NETFLOW_V5", "198.51.100.7", now - 60_000, 100, 2))
    if line == "bytes=-1":
        bad["bytes"] = -1
    elif line == "bytes=1.5":
        bad["bytes"] = 1.5
    elif line == "old":
        bad["time_flow_start_ns"] = (now - 49 * 3_600_000) * 1_000_000
    elif line == "future":
        bad["time_flow_start_ns"] = (now + 10 * 60_000) * 1_000_000
    text = json.dumps(bad) if "=" in line or line in ("old", "future") else line
    body = json.dumps(good) + "\n" + json.dumps(good) + "\n" + text + "\n"
    assert_error(client.post("/v1/api/flows", content=body, headers=NDJSON), 400, *words)
    assert devices(client) == [] and summary(client, "1h") == {}


@pytest.mark.parametrize(
    ("headers", "status", "words"),
    [
        (
            {"Content-Type": "application/x-www-form-urlencoded"},
            415,
            ["Content-Type", "application/x-ndjson"],
        ),
        ({"Content-Type": "application/x-ndjson", "Content-Encoding": "br"}, 415, ["Content-Encoding"]),
        ({"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}, 400, ["body: not valid gzip"]),
    ],
)
def test_a_body_of_another_kind_is_refused(
    client: TestClient, headers: dict[str, str], status: int, words: list[str]
) -> None:
    res = client.post("/v1/api/flows", content=b'{"a":1}', headers={**AUTH, **headers})
    assert_error(res, status, *words)


def test_a_gzip_body_is_read_and_its_decoded_size_bounded(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = realistic(100, seed=6)
    body = gzip.compress(ndjson(records).encode())
    res = client.post("/v1/api/flows", content=body, headers={**NDJSON, "Content-Encoding": "gzip"})
    assert res.status_code == 200 and res.json()["records"] == 100
    from upstat.config import get_settings

    monkeypatch.setenv("UPSTAT_MAX_FLOW_BODY_BYTES", str(len(body) + 10))
    get_settings.cache_clear()
    bomb = gzip.compress(b"\n" * 10_000_000)
    res = client.post("/v1/api/flows", content=bomb, headers={**NDJSON, "Content-Encoding": "gzip"})
    assert_error(res, 413, "decoded body is larger than the limit")


def test_the_flows_route_has_its_own_body_limit(
    env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upstat.api.app import create_app
    from upstat.config import get_settings

    monkeypatch.setenv("UPSTAT_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("UPSTAT_MAX_FLOW_BODY_BYTES", "200000")
    get_settings.cache_clear()
    records = realistic(100, seed=7)  # about 90 kB: over the general limit, within the flows one
    with TestClient(create_app()) as client:
        assert post(client, records)["records"] == 100
        assert_error(
            client.post("/v1/api/flows", content=ndjson(records * 3), headers=NDJSON),
            413,
            "limit of 200000 bytes",
        )
        res = client.post("/v1/ingest", json={"source": "a", "metrics": {"x" * 3000: 1}}, headers=AUTH)
        assert res.status_code == 413


# ------------------------------------------------------------------------------------------------------
# nfdump CSV

NEW_HEADER = "firstSeen,duration,proto,srcAddr,srcPort,dstAddr,dstPort,packets,bytes,flows"


def test_nfdump_csv_is_counted_like_goflow2_records(client: TestClient) -> None:
    # nfdump writes the local time of its machine: here Tehran's (UTC+03:30), said with tz
    at = datetime.fromtimestamp((now_ms() - 5 * 60_000) / 1000, ZoneInfo("Asia/Tehran"))
    t1 = at.strftime("%Y-%m-%d %H:%M:%S.000")
    csv = (
        f"{NEW_HEADER}\n{t1},59.000,6,10.0.0.5,51514,198.51.100.80,443,12,15200,1\n"
        f"{t1},0.000,1,10.0.0.5,0,198.51.100.80,8.0,1,84,4\n"
    )
    res = client.post(
        "/v1/api/flows",
        content=csv,
        headers={**AUTH, "Content-Type": "text/csv; charset=utf-8"},
        params={"exporter": "203.0.113.4", "tz": "Asia/Tehran"},
    )
    assert res.status_code == 200, res.text
    row = summary(client, "10m")["203.0.113.4"]
    assert (row["flow_count"], row["total_bytes"], row["total_packets"]) == (5, 15284, 13)
    [grouped] = group(client, "10m", 1)
    minute = at.replace(second=0, microsecond=0)
    assert datetime.fromisoformat(grouped["_time"]).timestamp() == minute.timestamp()
    res = client.post("/v1/api/flows", content=csv, headers={**AUTH, "Content-Type": "text/csv"})
    assert_error(res, 400, "exporter: this CSV names no exporter")
    res = client.post("/v1/api/flows", content=ndjson([]), headers=NDJSON, params={"exporter": "192.0.2.1"})
    assert_error(res, 400, "exporter: goes only with nfdump CSV")


# ------------------------------------------------------------------------------------------------------
# OPTIONS, CORS, keys


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/api/", "GET, HEAD, OPTIONS"),
        ("/v1/api/device/get/all", "GET, HEAD, OPTIONS"),
        ("/v1/api/device/get/summary/interval/15m", "GET, HEAD, OPTIONS"),
        ("/v1/api/device/get/summary/group/15m/by/1", "GET, HEAD, OPTIONS"),
        ("/v1/api/flows", "POST, OPTIONS"),
    ],
)
def test_options_answers_the_methods_of_each_path_without_a_key(
    client: TestClient, path: str, allow: str
) -> None:
    res = client.options(path)
    assert res.status_code == 204 and res.headers["allow"] == allow and res.content == b""
    if "GET" in allow:  # HEAD answers as GET does, headers only
        got, head = client.get(path, headers=AUTH), client.head(path, headers=AUTH)
        assert (
            head.status_code == got.status_code and head.content == b"" and got.content
        )  # (no device 1: 404)


def test_a_dashboard_on_another_origin_passes_the_preflight_when_its_origin_is_configured(
    env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upstat.api.app import create_app
    from upstat.config import get_settings

    preflight = {
        "Origin": "https://dash.example.com",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    with TestClient(create_app()) as client:  # no origins configured: no CORS headers
        res = client.options("/v1/api/device/get/all", headers=preflight)
        assert "access-control-allow-origin" not in res.headers
    monkeypatch.setenv("UPSTAT_CORS_ORIGINS", "https://dash.example.com")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        res = client.options("/v1/api/device/get/all", headers=preflight)
        assert res.status_code == 200
        assert res.headers["access-control-allow-origin"] == "https://dash.example.com"
        assert "GET" in res.headers["access-control-allow-methods"]
        assert "authorization" in res.headers["access-control-allow-headers"].lower()
        res = client.get("/v1/api/device/get/all", headers={**AUTH, "Origin": "https://dash.example.com"})
        assert (
            res.status_code == 200
            and res.headers["access-control-allow-origin"] == "https://dash.example.com"
        )
        res = client.options(
            "/v1/api/device/get/all", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in res.headers


def test_the_root_is_alive_without_a_key_and_reads_need_one(client: TestClient) -> None:
    res = client.get("/v1/api/")
    assert res.status_code == 200 and res.json()["alive"] is True
    assert_error(client.get("/v1/api/device/get/all"), 401, "Authorization")
    assert_error(
        client.post("/v1/api/flows", content="", headers={"Content-Type": "application/x-ndjson"}), 401
    )


def test_a_batch_of_ten_thousand_records_is_a_handful_of_engine_writes(client: TestClient, r: Any) -> None:
    records = realistic(10_000, seed=8, within_ms=5 * 60_000)
    post(client, [dict(records[0], sampler_address=a) for a in EXPORTERS])  # numbered and registered
    before = command_stats(r)
    res = client.post(
        "/v1/api/flows",
        content=gzip.compress(ndjson(records).encode()),
        headers={**NDJSON, "Content-Encoding": "gzip"},
    )
    assert res.status_code == 200 and res.json()["records"] == 10_000
    after = command_stats(r)
    scripts = after["cmdstat_evalsha"]["calls"] - before.get("cmdstat_evalsha", {"calls": 0})["calls"]
    # One write call for every (device, metric) series (the engine sends many series in one script call; on
    # a cluster one call per hash slot), a claim per device, the rate limit.
    assert scripts == slot_groups(r, all_keys(r, "upstat:ts:*")) + 3 + 1
    got = summary(client, "1h")
    want = expected([*records, *(dict(records[0], sampler_address=a) for a in EXPORTERS)])
    assert {a: [r["flow_count"], r["total_bytes"], r["total_packets"]] for a, r in got.items()} == want
