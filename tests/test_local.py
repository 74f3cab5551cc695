"""`make run`'s scheduler fires the deployed handlers with EventBridge-shaped events."""

from __future__ import annotations

import threading

from upstat.jobs import SCHEDULES, Schedule
from upstat.local import fire, scheduled_event


def test_scheduled_event_has_the_eventbridge_shape() -> None:
    event = scheduled_event("rollup")
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"][0].endswith("rule/upstat-rollup")


def test_local_firing_runs_the_real_rollup_and_retention_jobs(r: object) -> None:
    by_name = {s.name: s for s in SCHEDULES}
    assert fire(by_name["rollup"])["job"] == "rollup"
    assert fire(by_name["retention"])["complete"] is True


def test_two_overlapping_local_runs_do_the_work_once(r: object) -> None:
    schedule = Schedule("slow", 60, "tests.test_local:_slow_job")
    results: list[dict[str, object]] = []
    threads = [threading.Thread(target=lambda: results.append(fire(schedule))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted("skipped" in r for r in results) == [False, True]
    assert _runs == [1]


_runs: list[int] = []


def _slow_job(event: dict[str, object], context: object) -> dict[str, object]:
    import time

    from upstat.jobs.runner import run_job

    def body(ctx: object) -> dict[str, object]:
        _runs.append(1)
        time.sleep(0.3)
        return {}

    return run_job("slow", context, body)  # type: ignore[arg-type]


def test_the_local_entry_point_serves_the_api_and_fires_the_jobs(redis_url: str, tmp_path: object) -> None:
    """`make run`'s process end to end: the API answers on PORT and the scheduled jobs run at start."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    import redis

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTAT_")}
    env.update(REDIS_URL=redis_url, PORT=str(port), UPSTAT_ADMIN_TOKEN="local-e2e-token")
    proc = subprocess.Popen(
        [sys.executable, "-m", "upstat.local"],
        env=env,
        cwd=str(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        body = b""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as res:
                    body = res.read()
                    break
            except OSError:
                time.sleep(0.2)
        assert b'"status":"ok"' in body
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/retention", headers={"Authorization": "Bearer local-e2e-token"}
        )
        with urllib.request.urlopen(req, timeout=5) as res:
            assert res.status == 200
        while time.monotonic() < deadline and not client.exists("upstat:jobstate:{job}:rollup"):
            time.sleep(0.2)
        assert client.exists("upstat:jobstate:{job}:rollup"), "the rollup job did not run"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
