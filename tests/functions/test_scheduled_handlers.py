"""Scheduled events (EventBridge, EventBridge Scheduler) through each scheduled function's handler.

Each job takes its Redis lock (SET NX EX) first: a second invocation while one runs, as EventBridge's
at-least-once delivery allows, returns at once without redoing the work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.factories import make_engine
from tests.functions.conftest import LambdaContext, function_module, load_event
from upstat.timeseries import rollup as rollup_module

ROOT = Path(__file__).resolve().parents[2]
SCHEDULED = ("rollup", "retention")


def write_points(r: Any, sources: int = 3) -> int:
    now = int(time.time() * 1000)
    engine = make_engine(r)
    for i in range(sources):
        engine.write(f"host-{i}", "rt", [(now - 120_000, 10.0 + i), (now - 60_000, 20.0 + i)], now=now)
    return now


@pytest.mark.parametrize("job", SCHEDULED)
@pytest.mark.parametrize("event_name", ["eventbridge_scheduled", "scheduler_input"])
def test_a_scheduled_event_runs_the_job_and_returns_a_json_summary(
    r: Any, job: str, event_name: str, context: LambdaContext
) -> None:
    write_points(r)
    summary = function_module(job).handler(load_event(event_name), context)
    assert summary["job"] == job
    assert summary["complete"] is True
    assert summary["series"] == 3
    assert summary["duration_ms"] >= 0
    assert json.loads(json.dumps(summary)) == summary  # Lambda serialises the return value


@pytest.mark.parametrize("job", SCHEDULED)
def test_a_second_invocation_while_the_first_runs_skips_without_redoing_the_work(
    r: Any, job: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_points(r)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []
    real_tick = rollup_module.run_series_tick

    def slow_tick(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        started.set()
        assert release.wait(10)
        return real_tick(*args, **kwargs)

    monkeypatch.setattr(rollup_module, "run_series_tick", slow_tick)
    handler = function_module(job).handler
    first: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: first.update(handler(load_event("eventbridge_scheduled"), LambdaContext()))
    )
    worker.start()
    try:
        assert started.wait(10)
        second = handler(load_event("eventbridge_scheduled"), LambdaContext())
    finally:
        release.set()
        worker.join(10)
    assert second == {"job": job, "skipped": "another run is in progress"}
    assert first["complete"] is True and first["series"] == 3
    assert calls == [1]
    # The lock is released: the next scheduled run does the (idempotent) work again.
    assert handler(load_event("eventbridge_scheduled"), LambdaContext())["complete"] is True


@pytest.mark.parametrize(
    "job", ["ping", "rollup", "retention", "openvpn", "ping_worker", "checker", "writer"]
)
def test_a_scheduled_function_imports_neither_fastapi_nor_boto3(job: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module('functions.{job}.handler'); "
        "print(sorted(m for m in ('fastapi', 'starlette', 'mangum', 'boto3') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_the_checker_and_the_prober_import_no_redis_client() -> None:
    """The split layout's checker runs outside the VPC with no Redis address: nothing it loads reaches one."""
    code = (
        "import sys, importlib; importlib.import_module('functions.checker.handler'); "
        "import upstat.jobs.split, upstat.uptime.checker, upstat.uptime.probe, upstat.uptime.handoff; "
        "print(sorted(m for m in sys.modules if m == 'redis' or m.startswith(('redis.', 'upstat.store'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_the_rollup_function_runs_end_to_end_without_fastapi_or_boto3(redis_env: dict[str, str]) -> None:
    """In a fresh interpreter, as on a cold Lambda: the run itself pulls in neither."""
    code = (
        "import sys, json; from functions.rollup.handler import handler; "
        "from tests.functions.conftest import LambdaContext, load_event; "
        "s = handler(load_event('eventbridge_scheduled'), LambdaContext()); "
        "print(json.dumps([s['job'], sorted(m for m in ('fastapi', 'boto3') if m in sys.modules)]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTAT_")}
    env.update(UPSTAT_KEY_PREFIX="upstat-subprocess:", **redis_env)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["rollup", []]


def test_the_ping_function_takes_the_scheduler_event(r: Any, context: LambdaContext) -> None:
    pytest.importorskip("upstat.uptime.ticks")
    summary = function_module("ping").handler(load_event("scheduler_input"), context)
    assert isinstance(summary, dict)
    json.dumps(summary)


def test_the_ping_worker_takes_an_sqs_batch_and_names_only_the_bad_message(
    r: Any, context: LambdaContext
) -> None:
    pytest.importorskip("upstat.uptime.ticks")
    event = load_event("sqs_ping_batch")
    assert function_module("ping_worker").handler(event, context) == {"batchItemFailures": []}
    event["Records"][1]["body"] = "not json"
    answer = function_module("ping_worker").handler(event, context)
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
