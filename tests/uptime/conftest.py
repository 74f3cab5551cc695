"""Uptime test fixtures: the local target servers (see tests/uptime/targets.py) and address policies."""

from __future__ import annotations

import pytest

from tests.uptime.targets import (  # noqa: F401  (fixtures, registered by import)
    _http_target,
    _second_target,
    closed_port,
    expired_tls_target,
    local_target,
    second_target,
    silent_port,
    target_thread,
    tls_target,
)
from upstat.uptime.ssrf import AddressPolicy

#: What the test environment allows (tests/conftest.py `env`): loopback only, explicitly.
LOOPBACK = "127.0.0.0/8,::1/128"


@pytest.fixture
def loopback_policy() -> AddressPolicy:
    """A policy that allows loopback explicitly (as UPSTAT_ALLOWED_TARGETS does in tests)."""
    return AddressPolicy.from_text(LOOPBACK)


@pytest.fixture
def strict_policy() -> AddressPolicy:
    """The production default: nothing allowed beyond public addresses."""
    return AddressPolicy()
