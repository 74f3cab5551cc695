"""API fixtures: the application built after the ``env`` fixture, a TestClient on it, and auth headers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_TOKEN
from tests.notify.receivers import pointed, services  # noqa: F401  (fixtures, registered by import)
from tests.uptime.targets import (  # noqa: F401  (fixtures, registered by import)
    _http_target,
    local_target,
    target_thread,
)
from tests.uptime.test_alerts_and_fanout import receiver  # noqa: F401  (a fixture, registered by import)

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def app(env: dict[str, str], r: Any) -> FastAPI:
    """A new application on the flushed test server (settings read from the test environment)."""
    from upstat.api.app import create_app

    return create_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as http:
        yield http


def now_ms() -> int:
    return int(time.time() * 1000)


def record(r: Any, name: str, *checks: tuple[int, str, float | None]) -> None:
    """Record checks of the service ``name`` through the recorder, one at a time: (time ms, status, ms).

    Down checks get code 500 and error "HTTP 500"; the others code 200."""
    from upstat.uptime.checks import CheckResult
    from upstat.uptime.recorder import record_results
    from upstat.uptime.services import ServiceStore

    service = ServiceStore(r).require(name)
    for t, status, ms in checks:
        down = status == "down"
        result = CheckResult(
            service.id,
            status,  # type: ignore[arg-type]
            500 if down else 200,
            ms,
            "status" if down else None,
            "HTTP 500" if down else None,
            None,
            t,
        )
        record_results(r, [(service, result)], schedule=False)


@pytest.fixture
def auth() -> dict[str, str]:
    """The bearer header of the bootstrap admin token."""
    return dict(AUTH)
