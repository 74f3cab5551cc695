"""Push beats under abuse: limits per token and per address (429 with Retry-After), no incident or alert
storm from flapping beats, each real change alerted, and tokens kept out of access logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH
from tests.uptime.test_alerts_and_fanout import Receiver
from upstat.api.logging import redact
from upstat.config import get_settings


def push_monitor(client: TestClient, name: str = "backup", **fields: Any) -> str:
    res = client.post(
        "/v1/services", json={"name": name, "kind": "push", "interval": 60, **fields}, headers=AUTH
    )
    assert res.status_code == 201, res.text
    return str(res.json()["pushToken"])


def test_flapping_beats_make_no_incident_storm_and_are_limited_per_token(client: TestClient) -> None:
    token = push_monitor(client)
    codes = [
        client.post(f"/v1/push/{token}", params={"status": "down" if i % 2 else "up"}).status_code
        for i in range(60)
    ]
    limit = get_settings().rate_limit_per_push_token
    assert codes[:limit] == [200] * limit
    assert set(codes[limit:]) == {429}
    refused = client.post(f"/v1/push/{token}")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    incidents = client.get("/v1/services/backup/incidents", headers=AUTH).json()["incidents"]
    assert incidents == []  # every change within the 30 s dwell was held
    assert client.get("/v1/services/backup/status", headers=AUTH).json()["status"] in ("up", "pending")
    # Another monitor's token has its own bucket.
    other = push_monitor(client, "other")
    assert client.post(f"/v1/push/{other}").status_code == 200


def test_beats_from_one_address_are_limited_whatever_the_tokens(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPSTAT_RATE_LIMIT_PER_IP", "20")
    get_settings.cache_clear()
    codes = [client.post(f"/v1/push/guess-{i}").status_code for i in range(25)]
    assert codes[:20] == [404] * 20 and set(codes[20:]) == {429}


def test_a_beat_that_changes_the_status_is_alerted_once(client: TestClient, receiver: Receiver) -> None:
    token = push_monitor(client, webhooks=[receiver.url])
    res = client.post(f"/v1/push/{token}", params={"status": "down", "msg": "disk full"})
    assert res.json()["status"] == "down"
    assert [(p["transition"], p["error"]) for p in receiver.payloads()] == [("down", "disk full")]
    client.post(f"/v1/push/{token}", params={"status": "down"})  # no change: no second alert
    assert len(receiver.payloads()) == 1


def test_push_tokens_are_redacted_from_access_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = push_monitor(client)
    assert token not in redact(f'127.0.0.1:5555 - "POST /v1/push/{token}?status=up HTTP/1.1" 200')
    assert "/v1/push/[REDACTED]" in redact(f"GET /v1/push/{token}")
    with caplog.at_level(logging.INFO):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/1.1" %d', "1.2.3.4", "GET", f"/v1/push/{token}", 200
        )
    assert token not in caplog.text
