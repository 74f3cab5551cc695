"""Status-page webhook subscribers: admin CRUD with the URL masked, and the page's events (incident opened
and resolved, maintenance scheduled, started and ended) POSTed to a real local receiver, signed, once each
even when runs repeat or overlap."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH
from tests.uptime.targets import LocalTarget
from tests.uptime.test_alerts_and_fanout import Receiver
from upstat.config import get_settings
from upstat.jobs.handlers import subscriber_events
from upstat.uptime import alerts, events, subscribers
from upstat.uptime.services import ServiceStore
from upstat.uptime.ticks import run_ping_tick

SECRET = "subscriber-secret-0123456789"
MINUTE = 60_000
HOUR_MS = 60 * MINUTE


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def signed(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTAT_WEBHOOK_SECRET", SECRET)
    get_settings.cache_clear()


def subscribe(client: TestClient, url: str, **extra: Any) -> dict[str, Any]:
    res = client.post("/v1/subscribers", json={"url": url, **extra}, headers=AUTH)
    assert res.status_code == 201, res.text
    return res.json()


# ----------------------------------------------------------------------------------------------------
# CRUD


def test_subscribers_are_listed_with_their_url_masked(client: TestClient) -> None:
    made = subscribe(client, "http://127.0.0.1:9/hooks/T000/secret-token", description="chat")
    assert made["url"] == "http://127.0.0.1:9/********"
    assert made["events"] == list(events.EVENT_KINDS)
    listed = client.get("/v1/subscribers", headers=AUTH).json()["subscribers"]
    assert listed == [made]
    assert "secret-token" not in client.get(f"/v1/subscribers/{made['id']}", headers=AUTH).text
    revealed = client.get("/v1/subscribers", params={"reveal": "true"}, headers=AUTH).json()
    assert revealed["subscribers"][0]["url"] == "http://127.0.0.1:9/hooks/T000/secret-token"


def test_a_patch_with_the_masked_url_keeps_the_stored_one(client: TestClient) -> None:
    made = subscribe(client, "http://127.0.0.1:9/hooks/secret")
    res = client.patch(
        f"/v1/subscribers/{made['id']}",
        json={"url": made["url"], "events": ["incident.opened"]},
        headers=AUTH,
    )
    assert res.status_code == 200, res.text
    assert res.json()["events"] == ["incident.opened"]
    [stored] = subscribers.list_all(_redis())
    assert stored.url == "http://127.0.0.1:9/hooks/secret"
    res = client.patch(f"/v1/subscribers/{made['id']}", json={"url": "http://other:9/********"}, headers=AUTH)
    assert res.status_code == 400 and res.json()["field"] == "url"  # a hidden form of no stored URL
    res = client.patch(f"/v1/subscribers/{made['id']}", json={"url": "http://127.0.0.1:8/new"}, headers=AUTH)
    assert res.json()["url"] == "http://127.0.0.1:8/********"
    assert client.delete(f"/v1/subscribers/{made['id']}", headers=AUTH).json() == {"deleted": made["id"]}
    assert client.get(f"/v1/subscribers/{made['id']}", headers=AUTH).status_code == 404


def _redis() -> Any:
    from upstat.store.client import get_redis

    return get_redis()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "http://10.0.0.1/hook"}, "url"),  # the SSRF guard refuses private addresses
        ({"url": "http://user:pw@example.com/"}, "url"),
        ({"url": "https://example.com/", "events": ["incident.exploded"]}, "events[0]"),
        ({"url": "https://example.com/", "events": []}, "events"),
    ],
)
def test_bad_subscribers_are_a_400_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    res = client.post("/v1/subscribers", json=body, headers=AUTH)
    assert res.status_code == 400, res.text
    assert res.json()["field"] == field


def test_unknown_subscribers_are_a_404(client: TestClient) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        res = client.request(method, "/v1/subscribers/nope", json={"description": "x"}, headers=AUTH)
        assert res.status_code == 404, method
        assert res.json()["field"] == "subscriber_id"


# ----------------------------------------------------------------------------------------------------
# Delivery


def test_an_incident_is_posted_when_it_opens_and_when_it_is_resolved_signed_and_once(
    client: TestClient, r: Any, signed: None, receiver: Receiver, local_target: LocalTarget
) -> None:
    subscribe(client, receiver.url)
    store = ServiceStore(r)
    t0 = now_ms() - 10 * MINUTE
    store.create({"name": "api", "url": local_target.url("/flap?key=api")}, now_ms=t0)
    store.create({"name": "hidden", "url": local_target.url("/down"), "visible": False}, now_ms=t0)
    for i in range(3):  # up, down, up
        run_ping_tick(r, now_ms=t0 + i * MINUTE, deadline=time.monotonic() + 20)
        run_ping_tick(r, now_ms=t0 + i * MINUTE, deadline=time.monotonic() + 20)  # a retried tick
    payloads = receiver.payloads()
    assert [p["event"] for p in payloads] == ["incident.opened", "incident.resolved"]
    opened, resolved = payloads
    assert opened["services"] == ["api"] and opened["cause"] == "HTTP 500"
    assert opened["start"] == t0 + MINUTE
    assert resolved["end"] == t0 + 2 * MINUTE
    assert "after 1 min down" in resolved["text"]
    for headers, body in receiver.requests:
        assert alerts.verify(SECRET, headers["X-Upstat-Timestamp"], body, headers["X-Upstat-Signature"])
    sub = subscribers.list_all(r)[0]
    shown = client.get(f"/v1/subscribers/{sub.id}", headers=AUTH).json()
    assert [d["event"] for d in shown["deliveries"]] == ["incident.resolved", "incident.opened"]
    assert all(d["ok"] for d in shown["deliveries"])
    assert receiver.url.split("//")[1] not in str(shown)  # outcomes do not carry the URL


def test_overlapping_runs_deliver_an_event_once(r: Any, signed: None, receiver: Receiver) -> None:
    subscribers.create(r, subscribers.SubscriberIn(url=receiver.url), now_ms=now_ms())
    event = events.Event("incident.opened", "incident.opened:s1:1", 1, "api is down", ("api",), 1, None, "x")
    threads = [threading.Thread(target=subscribers.notify, args=(r, [event])) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert subscribers.notify(r, [event]) == []  # and a later retry
    assert len(receiver.requests) == 1


def test_a_subscriber_gets_only_the_events_it_asked_for(r: Any, receiver: Receiver) -> None:
    subscribers.create(
        r, subscribers.SubscriberIn(url=receiver.url, events=["maintenance.started"]), now_ms=1
    )
    opened = events.Event("incident.opened", "incident.opened:s1:2", 1, "t", ("api",), 1, None, "x")
    assert subscribers.notify(r, [opened]) == []
    assert receiver.requests == []


def test_maintenance_is_posted_when_scheduled_started_and_ended(
    client: TestClient, r: Any, signed: None, receiver: Receiver
) -> None:
    subscribe(client, receiver.url)
    start = now_ms() + 5 * MINUTE
    res = client.post(
        "/v1/maintenance",
        json={"title": "DB upgrade", "start": start, "end": start + 30 * MINUTE},
        headers=AUTH,
    )
    assert res.status_code == 201
    assert [p["event"] for p in receiver.payloads()] == ["maintenance.scheduled"]
    assert receiver.payloads()[0]["title"] == "Maintenance: DB upgrade"
    assert receiver.payloads()[0]["services"] is None  # a global window: every service
    for minute in (1, 2, 3):  # sweeps once a minute see the start within their look-back: sent once
        subscribers.sweep_windows(r, now=start + minute * MINUTE)
    subscribers.sweep_windows(r, now=start + 31 * MINUTE)
    subscribers.sweep_windows(r, now=start + 32 * MINUTE)
    assert [p["event"] for p in receiver.payloads()] == [
        "maintenance.scheduled",
        "maintenance.started",
        "maintenance.ended",
    ]
    assert receiver.payloads()[2]["end"] == start + 30 * MINUTE


def test_a_hidden_services_window_is_not_posted(client: TestClient, r: Any, receiver: Receiver) -> None:
    subscribe(client, receiver.url)
    ServiceStore(r).create({"name": "db", "url": "http://127.0.0.1:9/", "visible": False})
    start = now_ms() + MINUTE
    res = client.post(
        "/v1/services/db/maintenance",
        json={"title": "t", "start": start, "end": start + MINUTE},
        headers=AUTH,
    )
    assert res.status_code == 201
    subscribers.sweep_windows(r, now=start + MINUTE // 2)
    assert receiver.requests == []


def test_the_ping_job_runs_the_sweep_under_its_own_lock(r: Any, receiver: Receiver) -> None:
    subscribers.create(r, subscribers.SubscriberIn(url=receiver.url), now_ms=now_ms())
    from upstat.uptime import maintenance
    from upstat.uptime.maintenance import MaintenanceIn

    maintenance.add_window(r, MaintenanceIn(title="now", start=now_ms() - MINUTE, end=now_ms() + HOUR_MS))
    summary = subscriber_events({}, None)
    assert summary["events"] == 1 and summary["sent"] == 1
    assert [p["event"] for p in receiver.payloads()] == ["maintenance.started"]
