"""The one client on a Redis Cluster that cannot be reached: the same 503 as one server that is down.

redis-py reports a cluster with no node answering as RedisClusterException, which is not a RedisError: the
API answered 500, and the store dependency failed before a health route could say "unhealthy"."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cluster import valkey_cluster
from tests.conftest import ADMIN_TOKEN
from upstat.api.app import create_app
from upstat.config import get_settings
from upstat.store import client as store_client

pytestmark = pytest.mark.cluster
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _on_cluster(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}")
    monkeypatch.setenv("UPSTAT_REDIS_CLUSTER", "true")
    monkeypatch.setenv("UPSTAT_REDIS_RETRIES", "0")
    get_settings.cache_clear()
    store_client.reset_client()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed once the block ends: nothing listens there


def _unavailable(answer: Any) -> bool:
    return answer.status_code == 503 and answer.json()["error"] == "store_unavailable"


def test_a_cluster_down_from_the_start_is_a_503_and_health_says_unhealthy(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _on_cluster(monkeypatch, _closed_port())
    with TestClient(create_app(), raise_server_exceptions=False) as http:
        assert _unavailable(http.get("/v1/series", headers=AUTH))
        assert _unavailable(http.get("/healthz"))
        health = http.get("/api/v1/health")  # the OpenVPN dialect's own check answers in its own words
    assert health.status_code == 503 and health.json()["status"] == "unhealthy"


def test_a_cluster_that_stops_after_serving_is_a_503_for_reads_and_writes(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app(), raise_server_exceptions=False) as http:
        with valkey_cluster() as ports:
            _on_cluster(monkeypatch, ports[0])
            assert http.get("/v1/series", headers=AUTH).status_code == 200
        # Every node stopped: redis-py reads the slots again, finds no node, and says so.
        assert _unavailable(http.get("/v1/series", headers=AUTH))
        assert _unavailable(http.post("/v1/ingest", headers=AUTH, json={"source": "s", "metrics": {"m": 1}}))
