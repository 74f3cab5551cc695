"""/metrics' read, badges' figures, the feed and subscribers' claims on a 3-node Redis Cluster: their
pipelines span slots (job stats under {job}, counts over the registry shards, one claim per subscriber)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.uptime.targets import LocalTarget
from tests.uptime.test_alerts_and_fanout import Receiver
from upstat import exposition
from upstat.jobs.runner import job_stats, run_job
from upstat.store.client import get_redis
from upstat.timeseries.retention import current_engine
from upstat.uptime import badges, events, feed, reports, status_page, subscribers
from upstat.uptime.services import ServiceStore
from upstat.uptime.ticks import run_ping_tick

pytestmark = pytest.mark.cluster


def test_metrics_badges_feeds_and_subscribers_work_on_a_cluster(
    cluster_env: Any, local_target: LocalTarget
) -> None:
    receiver = Receiver()
    try:
        _observe(receiver, local_target)
    finally:
        receiver.server.shutdown()


def _observe(receiver: Receiver, local_target: LocalTarget) -> None:
    client = get_redis()
    store = ServiceStore(client)
    t0 = int(time.time() * 1000) - 600_000
    for i in range(6):
        store.create({"name": f"s{i}", "url": local_target.url("/down" if i == 0 else "/ok")}, now_ms=t0)
    subscribers.create(client, subscribers.SubscriberIn(url=receiver.url), now_ms=t0)
    run_job("ping", None, lambda ctx: run_ping_tick(client, now_ms=t0, deadline=time.monotonic() + 20))
    assert job_stats(client, ["ping"])["ping"].runs == 1  # type: ignore[union-attr]
    engine = current_engine(client, fresh=True)
    snap = exposition.read(client, engine, now=t0 + 1000)
    assert len(snap.rows) == 6 and snap.sources == 6 and snap.series >= 12
    assert snap.jobs["ping"] is not None and snap.jobs["ping"].runs == 1
    assert b"upstat_service_up" in exposition.render(snap)[0]
    row = next(r for r in reports.status_rows(client) if r.name == "s0")
    assert badges.facts(engine, row, "status", now=t0 + 1000).message == "down"
    assert [e.kind for e in feed.entries(client, now=t0 + 1000)] == ["incident.opened"]
    assert [p["event"] for p in receiver.payloads()] == ["incident.opened"]
    opened = status_page.incidents_of(client, [row], since=0)[0]
    again = events.incident_opened(opened, "s0")
    assert subscribers.notify(client, [again]) == []  # claimed already
