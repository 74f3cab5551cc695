"""The uptime store on a 3-node Redis Cluster: every script stays in one service's slot or one index key."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.uptime.targets import LocalTarget
from upstat.store.client import get_redis
from upstat.uptime import checklog, incidents
from upstat.uptime.services import ServiceStore
from upstat.uptime.ticks import run_ping_now, run_ping_tick, trim_check_logs

pytestmark = pytest.mark.cluster


def test_services_ticks_and_logs_work_on_a_cluster(cluster_env: Any, local_target: LocalTarget) -> None:
    client = get_redis()
    store = ServiceStore(client)
    t0 = int(time.time() * 1000) - 600_000
    for i in range(12):
        store.create({"name": f"s{i}", "url": local_target.url("/down" if i % 3 == 0 else "/ok")}, now_ms=t0)
    slots = {client.keyslot(store.keys.service(s.id)) for s in store.list()}
    assert len({client.nodes_manager.get_node_from_slot(s).port for s in slots}) > 1
    store.update("s1", {"name": "renamed", "timeout": 2000})
    summary = run_ping_tick(client, now_ms=t0, deadline=time.monotonic() + 20)
    assert summary["recorded"] == 12 and summary["down"] == 4
    assert len(incidents.across_services(client)) == 4
    renamed = store.require("renamed")
    assert checklog.read_state(client, renamed.id).status == "up"
    assert len(checklog.history(client, renamed.id, now_ms=t0)) == 1
    assert len(run_ping_now(client, now=t0 + 1000)) == 12
    checklog.set_ttl(client, 60, now_ms=t0 + 61_000)
    assert all(len(checklog.history(client, s.id, now_ms=t0 + 61_000)) == 1 for s in store.list())
    assert trim_check_logs(now_ms=t0 + 61_000, deadline=time.monotonic() + 5)["check_logs"]["complete"]
    store.delete("renamed")
    assert store.get("renamed") is None and store.count() == 11
