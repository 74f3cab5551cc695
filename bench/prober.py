"""The prober against 1,000 local targets (issue 4: at least 1,000 checks in at most 2 s).

Targets: aiohttp servers in 4 separate processes (so they do not share the prober's GIL), each on its own
port of 127.0.0.1; 1,000 checks with distinct paths spread over the ports, concurrency 200, one
``probe_many`` call per run (a fresh session, as in one ping invocation). The policy allows 127.0.0.0/8
explicitly. Figures are medians over RUNS runs:

* ``prober_checks_per_s`` / ``prober_1000_checks_s``: the 1,000 checks above (connections are kept alive
  and reused within a run, because many checks share a host:port);
* ``prober_distinct_hosts_checks_per_s``: every check names a different host (``t<i>.bench.test``,
  resolved to 127.0.0.1 by an injected lookup), so every check resolves, passes the guard and opens its
  own connection: a fleet of 1,000 different sites;
* ``prober_keyword_checks_per_s``: as the first, with a keyword so every body is read.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import statistics
import time
from typing import Any

from upstat.uptime.checks import CheckSpec
from upstat.uptime.probe import probe_many
from upstat.uptime.ssrf import AddressPolicy

TARGETS = 1000
CONCURRENCY = 200
SERVERS = 4
RUNS = 5
POLICY = AddressPolicy.from_text("127.0.0.0/8")


def _serve(port: int, ready: Any) -> None:
    from aiohttp import web

    async def target(request: web.Request) -> web.Response:
        return web.Response(text=f"ok {request.match_info['n']} upstat")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/t/{n}", target)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_servers() -> tuple[list[int], list[Any]]:
    ctx = multiprocessing.get_context("spawn")
    ports = [_free_port() for _ in range(SERVERS)]
    procs = []
    for port in ports:
        event = ctx.Event()
        proc = ctx.Process(target=_serve, args=(port, event), daemon=True)
        proc.start()
        if not event.wait(30):
            raise RuntimeError("target server did not start")
        procs.append(proc)
    return ports, procs


async def _bench_lookup(host: str, family: int) -> list[str]:
    return ["127.0.0.1"]


def _timed(specs: list[CheckSpec], **kwargs: object) -> float:
    async def go() -> float:
        started = time.perf_counter()
        results = await probe_many(specs, policy=POLICY, concurrency=CONCURRENCY, **kwargs)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        down = [r for r in results if r.status != "up"]
        if down:
            raise RuntimeError(f"{len(down)} checks down, e.g. {down[0]}")
        return elapsed

    return asyncio.run(go())


def _median(specs: list[CheckSpec], **kwargs: object) -> float:
    _timed(specs, **kwargs)  # warm-up (imports, first connections of the server processes)
    return statistics.median(_timed(specs, **kwargs) for _ in range(RUNS))


def run() -> None:
    ports, procs = _start_servers()
    try:
        plain = [
            CheckSpec(f"svc{i}", f"http://127.0.0.1:{ports[i % SERVERS]}/t/{i}", timeout_ms=10_000)
            for i in range(TARGETS)
        ]
        hosts = [
            CheckSpec(f"svc{i}", f"http://t{i}.bench.test:{ports[i % SERVERS]}/t/{i}", timeout_ms=10_000)
            for i in range(TARGETS)
        ]
        keyword = [CheckSpec(s.service_id, s.url, keyword="upstat") for s in plain]
        seconds = _median(plain)
        distinct = _median(hosts, lookup=_bench_lookup)
        with_keyword = _median(keyword)
    finally:
        for proc in procs:
            proc.terminate()
            proc.join(5)
    print(f"prober_checks_per_s: {TARGETS / seconds:.0f} checks/s")
    print(f"prober_1000_checks_s: {seconds:.3f} s")
    print(f"prober_distinct_hosts_checks_per_s: {TARGETS / distinct:.0f} checks/s")
    print(f"prober_distinct_hosts_1000_checks_s: {distinct:.3f} s")
    print(f"prober_keyword_checks_per_s: {TARGETS / with_keyword:.0f} checks/s")


if __name__ == "__main__":
    run()
