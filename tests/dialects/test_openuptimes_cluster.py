"""/api/status and /v1/status on a 3-node Redis Cluster: the status reads span slots (pipelined there)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH, now_ms, record

pytestmark = pytest.mark.cluster


def test_status_on_a_cluster(cluster_env: str) -> None:
    from upstat.api.app import create_app
    from upstat.store.client import get_redis

    r: Any = get_redis()
    with TestClient(create_app()) as client:
        for i in range(20):
            res = client.post(
                "/api/services", json={"name": f"s{i}", "url": f"https://s{i}.example"}, headers=AUTH
            )
            assert res.status_code == 200, res.text
        t = now_ms() - 60_000
        record(r, "s3", (t, "down", None))
        record(r, "s4", (t, "up", 42.0))
        body = client.get("/api/status").json()
        assert body["overall"] == "down" and len(body["services"]) == 20
        rows = {s["name"]: s for s in body["services"]}
        assert rows["s3"]["status"] == "down" and rows["s4"]["responseTime"] == 42
        assert rows["s0"]["status"] == "pending"
        v1 = {s["name"]: s for s in client.get("/v1/status", headers=AUTH).json()["services"]}
        assert v1["s4"]["uptime"]["24h"] == 100.0 and v1["s3"]["uptime"]["24h"] == 0.0
