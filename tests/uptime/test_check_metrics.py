"""The uptime ticks' CloudWatch metrics: checks run and failed (alert deliveries: test_alerts_and_fanout)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.emf import emf_lines, values
from tests.functions.conftest import LambdaContext, function_module, load_event
from tests.uptime.targets import LocalTarget
from upstat.uptime.services import ServiceStore


def test_a_ping_tick_counts_checks_run_and_failed(
    r: Any, emf: None, capsys: pytest.CaptureFixture[str], local_target: LocalTarget
) -> None:
    store = ServiceStore(r)
    t0 = int(time.time() * 1000) - 600_000
    store.create({"name": "up", "url": local_target.url("/ok")}, now_ms=t0)
    store.create({"name": "down", "url": local_target.url("/down")}, now_ms=t0)
    function_module("ping").handler(load_event("scheduler_input"), LambdaContext())
    docs = emf_lines(capsys.readouterr().out)
    assert values(docs, "ChecksRun") == [2] and values(docs, "ChecksFailed") == [1]
    assert values(docs, "AlertsSent") == [0] and values(docs, "AlertsFailed") == [0]  # no channel set up
    # The ping function runs three jobs, each under its own lock: the checks, the backup schedules, then
    # the maintenance events of the status page's subscribers.
    ran = [(d["job"], d["JobRunsSkipped"]) for d in docs if "JobRunsSkipped" in d]
    assert ran == [("ping", 0), ("backup-schedules", 0), ("subscriber-events", 0)]


def test_a_repeated_tick_counts_no_check_twice(
    r: Any, emf: None, capsys: pytest.CaptureFixture[str], local_target: LocalTarget
) -> None:
    store = ServiceStore(r)
    t0 = int(time.time() * 1000) - 600_000
    svc = store.create({"name": "up", "url": local_target.url("/ok")}, now_ms=t0)
    from upstat.uptime.ticks import check_services

    for _ in range(2):
        check_services(r, [svc], now_ms=t0, deadline=time.monotonic() + 20)
    assert values(emf_lines(capsys.readouterr().out), "ChecksRun") == [1, 0]
