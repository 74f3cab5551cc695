"""API fixtures: the application built after the ``env`` fixture, a TestClient on it, and auth headers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_TOKEN
from tests.uptime.targets import (  # noqa: F401  (fixtures, registered by import)
    _http_target,
    local_target,
    target_thread,
)

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


@pytest.fixture
def auth() -> dict[str, str]:
    """The bearer header of the bootstrap admin token."""
    return dict(AUTH)
