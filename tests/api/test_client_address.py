"""Which address a request is limited as: never one the client writes itself.

Under `make run` (uvicorn) X-Forwarded-For counts only from UPSTAT_TRUSTED_PROXIES; on Lambda the address is
API Gateway's ``sourceIp``, whatever X-Forwarded-For says.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from tests.functions.conftest import LambdaContext, function_module
from tests.functions.test_api_handler import v2
from upstat.api.app import create_app
from upstat.config import get_settings
from upstat.local import uvicorn_options

LIMIT = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def limited(env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTAT_RATE_LIMIT_PER_IP", str(LIMIT))
    monkeypatch.setenv("UPSTAT_PORT", str(_free_port()))
    get_settings.cache_clear()


@contextmanager
def serve() -> Iterator[str]:
    """The app under uvicorn with `make run`'s options, on a free loopback port."""
    settings = get_settings()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), **{**uvicorn_options(settings), "log_level": "warning"})
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{settings.port}"
    server.should_exit = True
    thread.join(5)


def forwarded_codes(base: str) -> list[int]:
    return [
        httpx.get(f"{base}/api/status", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
        for i in range(LIMIT + 5)
    ]


def test_make_run_ignores_x_forwarded_for_by_default(limited: None) -> None:
    with serve() as base:
        codes = forwarded_codes(base)
    assert codes[:LIMIT] == [200] * LIMIT and set(codes[LIMIT:]) == {429}


def test_make_run_believes_x_forwarded_for_from_a_trusted_proxy(
    limited: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPSTAT_TRUSTED_PROXIES", "127.0.0.1")
    get_settings.cache_clear()
    with serve() as base:
        assert forwarded_codes(base) == [200] * (LIMIT + 5)  # each forwarded address has its own bucket


def test_lambda_limits_by_source_ip_whatever_x_forwarded_for_says(limited: None) -> None:
    api = function_module("api")
    codes = []
    for i in range(LIMIT + 5):
        event = v2("GET", "/api/status")
        event["headers"]["x-forwarded-for"] = f"198.51.100.{i}"
        codes.append(api.handler(event, LambdaContext())["statusCode"])
    assert codes[:LIMIT] == [200] * LIMIT and set(codes[LIMIT:]) == {429}
