"""infra/smoke.py, the post-deploy smoke test, against the real app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_TOKEN
from upstat.api.app import create_app

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "infra" / "smoke.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def api_url(r: Any) -> Iterator[str]:
    # The listening socket is ours, handed to uvicorn: no window for another process to take the port.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def read_key(r: Any) -> str:
    with TestClient(create_app()) as http:
        created = http.post(
            "/v1/keys",
            json={"name": "smoke", "scopes": ["read"]},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    assert created.status_code == 201
    return str(created.json()["token"])


def smoke(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "UPSTAT_SMOKE_TOKEN"}
    if token is not None:
        env["UPSTAT_SMOKE_TOKEN"] = token
    return subprocess.run(
        [sys.executable, str(SMOKE), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_healthy_stack_with_a_read_key_passes(api_url: str, read_key: str) -> None:
    out = smoke(api_url, token=read_key)
    assert out.returncode == 0, out.stderr
    assert "ok: /healthz" in out.stdout and "ok: GET /v1/series" in out.stdout
    assert read_key not in out.stdout + out.stderr


def test_a_refused_token_fails_and_says_why(api_url: str) -> None:
    out = smoke(api_url, token="upk_not_a_real_key")
    assert out.returncode == 1
    assert "refused (401)" in out.stderr and "upk_not_a_real_key" not in out.stderr


def test_without_a_token_it_fails_unless_allowed(api_url: str) -> None:
    refused = smoke(api_url)
    assert refused.returncode == 2 and "UPSTAT_SMOKE_TOKEN is not set" in refused.stderr
    allowed = smoke(api_url, "--allow-no-token")
    assert allowed.returncode == 0 and "skipped" in allowed.stderr


def test_an_api_that_does_not_answer_fails_after_the_wait() -> None:
    started = time.monotonic()
    out = smoke(f"http://127.0.0.1:{free_port()}", "--wait", "1", token="x")
    assert out.returncode == 1 and "no connection" in out.stderr
    assert time.monotonic() - started < 30
