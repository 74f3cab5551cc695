"""`make run`'s scheduler fires the deployed handlers with EventBridge-shaped events."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from upstat.jobs import SCHEDULES, Schedule
from upstat.local import fire, scheduled_event

EMBEDDED = pytest.mark.single_redis(
    "`make run` without REDIS_URL starts its own embedded Valkey (one server), which is what this tests"
)


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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_local(cwd: object, port: int, extra: dict[str, str]) -> Any:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTAT_") and k != "REDIS_URL"}
    env.update(PORT=str(port), UPSTAT_ADMIN_TOKEN="local-e2e-token", **extra)
    return subprocess.Popen(
        [sys.executable, "-m", "upstat.local"],
        env=env,
        cwd=str(cwd),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _call(
    port: int, path: str, method: str = "GET", body: bytes | None = None, wait: float = 30, timeout: float = 2
) -> Any:
    """JSON answer of the local API, retrying until it is up (or ``wait`` seconds pass). Retried, a POST
    may be applied twice: wait for the API with a GET first and give the POST a ``timeout`` it meets."""
    import json
    import time
    import urllib.request

    deadline = time.monotonic() + wait
    while True:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            data=body,
            method=method,
            headers={"Authorization": "Bearer local-e2e-token", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                return json.loads(res.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _servers_in(directory: object) -> list[int]:
    """Pids of processes running in ``directory`` (the embedded Valkey runs with its data dir as cwd)."""
    import os
    from pathlib import Path

    target = Path(str(directory)).resolve()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")).resolve() == target:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _stop(proc: Any) -> None:
    proc.terminate()  # SIGTERM, as Ctrl-C or a process manager would
    proc.wait(timeout=15)


def test_the_local_entry_point_serves_the_api_and_fires_the_jobs(
    r: Any, redis_env: dict[str, str], tmp_path: object
) -> None:
    """`make run`'s process end to end: the API answers on PORT and the scheduled jobs run at start."""
    import time
    import urllib.request

    port = _free_port()
    client = r
    proc = _start_local(tmp_path, port, redis_env)
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
        _stop(proc)


@EMBEDDED
def test_the_embedded_valkey_keeps_data_across_restarts(tmp_path: object) -> None:
    """Without REDIS_URL, `make run` keeps its data in .local-data: a restart finds services again."""
    port = _free_port()
    service = b'{"name": "kept", "url": "http://127.0.0.1:9/", "timeout": 1000}'
    loopback: dict[str, str] = {}  # make run lets checks reach this machine (the target is a closed port)
    proc = _start_local(tmp_path, port, loopback)
    try:
        _call(port, "/api/services")  # up: the POST below is sent once (a retried one would answer 409)
        assert _call(port, "/api/services", "POST", service, wait=0, timeout=30)["success"] is True
    finally:
        _stop(proc)
    proc = _start_local(tmp_path, port, loopback)
    try:
        names = [s["name"] for s in _call(port, "/api/services")["services"]]
        assert names == ["kept"]
    finally:
        _stop(proc)
    from pathlib import Path

    assert _servers_in(Path(str(tmp_path)) / ".local-data" / "valkey") == []  # stopped with the process


def _cli(cwd: object, *args: str) -> Any:
    """The installed `upstat` command, run as a user runs it: in ``cwd``, with no REDIS_URL set."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTAT_") and k != "REDIS_URL"}
    command = str(Path(sys.executable).with_name("upstat"))
    return subprocess.run([command, *args], env=env, cwd=str(cwd), capture_output=True, text=True, timeout=60)


@EMBEDDED
def test_the_cli_finds_the_embedded_valkey_of_make_run_with_no_variable_set(tmp_path: object) -> None:
    """README: `upstat keys create` in a second terminal beside `make run`, with nothing to set."""
    import urllib.error
    import urllib.request

    port = _free_port()
    proc = _start_local(tmp_path, port, {})
    try:
        _call(port, "/v1/retention")  # up
        created = _cli(tmp_path, "keys", "create", "--scope", "admin", "--name", "ops")
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip()
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/keys", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(req, timeout=5) as res:
            assert res.status == 200 and b'"ops"' in res.read()
    finally:
        _stop(proc)
    # Stopped: the CLI says so instead of failing on a missing variable.
    after = _cli(tmp_path, "keys", "list")
    assert after.returncode == 1 and "make run" in after.stderr and "REDIS_URL" in after.stderr


@EMBEDDED
def test_the_cli_without_a_local_server_says_what_to_do(tmp_path: object) -> None:
    from pathlib import Path

    nothing = _cli(tmp_path, "keys", "list")
    assert nothing.returncode == 1
    assert "no `make run` is running here" in nothing.stderr and "set REDIS_URL" in nothing.stderr
    # A server killed without cleaning up left its address behind: the CLI says it does not answer.
    data = Path(str(tmp_path)) / ".local-data"
    data.mkdir()
    (data / "redis-url").write_text(f"redis://127.0.0.1:{_free_port()}\n")
    stale = _cli(tmp_path, "keys", "list")
    assert stale.returncode == 1
    assert "does not answer" in stale.stderr and "make run" in stale.stderr


def test_make_run_prints_where_everything_is_and_logs_each_job_result_once(
    r: Any, redis_env: dict[str, str], tmp_path: object
) -> None:
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    port = _free_port()
    out = Path(str(tmp_path)) / "run.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTAT_") and k != "REDIS_URL"}
    env.update(PORT=str(port), UPSTAT_ADMIN_TOKEN="local-e2e-token", **redis_env)
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "upstat.local"], env=env, cwd=str(tmp_path), stdout=sink, stderr=sink
        )
    try:
        _call(port, "/healthz")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "job rollup done" not in out.read_text():
            time.sleep(0.2)
        time.sleep(0.5)  # a second report of the same run would follow at once
    finally:
        _stop(proc)
    text = out.read_text()
    base = f"http://127.0.0.1:{port}"
    assert f"API on {base}" in text
    assert f"status page: {base}/status (also at {base}/)" in text
    assert f"dashboard: {base}/dashboard (enter the admin token or a read key)" in text
    assert f"API docs: {base}/docs" in text
    assert "admin token (from UPSTAT_ADMIN_TOKEN): local-e2e-token" in text
    results = [line for line in text.splitlines() if "rollup" in line and "duration_ms" in line]
    assert len(results) == 1, results


def test_a_second_make_run_in_the_same_directory_refuses_to_start(tmp_path: object) -> None:
    """Two embedded servers on one data folder would corrupt it: the second run says so and stops, and
    the first keeps serving (and its CLI address file stays)."""
    import subprocess
    import sys
    from pathlib import Path

    port = _free_port()
    first = _start_local(tmp_path, port, {})
    try:
        assert _call(port, "/healthz")["status"] == "ok"
        env = {
            k: v
            for k, v in __import__("os").environ.items()
            if not k.startswith("UPSTAT_") and k != "REDIS_URL"
        }
        second = subprocess.run(
            [sys.executable, "-m", "upstat.local"],
            env={**env, "PORT": str(_free_port()), "UPSTAT_ADMIN_TOKEN": "local-e2e-token"},
            cwd=str(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0 and "already running in this directory" in second.stderr
        assert (Path(str(tmp_path)) / ".local-data" / "redis-url").exists()
        assert _call(port, "/healthz")["status"] == "ok"
    finally:
        _stop(first)
