"""``/v1/channels`` and ``/v1/alerts`` over HTTP: admin CRUD with 400s naming the field and nothing
half-written, secrets sealed in Redis and masked in every response and log line, the mask round trip, the
test message answered with the receiver's answer, services naming channels, and the alerts listed."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.notify.receivers import BOT_TOKEN, CHAT, Services
from tests.uptime.targets import LocalTarget
from upstat.config import get_settings
from upstat.uptime.ticks import run_ping_tick

SLACK_SECRET = "T0AAA/B0BBB/s3cr3tSlackPath"


def slack(base: str, **extra: Any) -> dict[str, Any]:
    return {"name": "ops", "kind": "slack", "config": {"webhookUrl": f"{base}/slack/{SLACK_SECRET}"}, **extra}


def test_crud_round_trip_masks_every_secret(
    client: TestClient, auth: dict[str, str], r: Any, pointed: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    made = client.post("/v1/channels", json=slack(pointed.base, default=True), headers=auth)
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    tg = client.post(
        "/v1/channels",
        json={
            "name": "tg",
            "kind": "telegram",
            "timezone": "Europe/Berlin",
            "config": {"botToken": BOT_TOKEN, "chatId": CHAT},
        },
        headers=auth,
    ).json()
    assert tg["config"] == {"botToken": "********", "chatId": CHAT}
    answers = [
        made,
        client.get("/v1/channels", headers=auth),
        client.get(f"/v1/channels/{cid}", headers=auth),
        client.patch(f"/v1/channels/{cid}", json={"timezone": "Asia/Tokyo"}, headers=auth),
        client.put(f"/v1/channels/{cid}", json=slack(pointed.base, name="ops2"), headers=auth),
        client.post(f"/v1/channels/{cid}/test", headers=auth),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert SLACK_SECRET not in answer.text and BOT_TOKEN not in answer.text
    assert made.json()["config"] == {"webhookUrl": f"{pointed.base}/********"}
    assert answers[3].json()["timezone"] == "Asia/Tokyo" and answers[4].json()["name"] == "ops2"
    # Redis holds the secrets sealed only
    raw = b"".join(r.hgetall("upstat:notify:channels").values())
    assert SLACK_SECRET.encode() not in raw and BOT_TOKEN.encode() not in raw
    # the masked value sent back keeps the stored secret: the test message still reaches the real URL
    kept = client.patch(f"/v1/channels/{cid}", json={"config": made.json()["config"]}, headers=auth)
    assert kept.status_code == 200
    sent = client.post(f"/v1/channels/{cid}/test", headers=auth).json()
    assert sent["ok"] is True and sent["status"] == 200 and sent["answer"] == "ok"
    assert [s.path for s in pointed.of("slack")] == [f"/slack/{SLACK_SECRET}"] * 2
    assert client.delete(f"/v1/channels/{cid}", headers=auth).json() == {"deleted": cid}
    assert client.get(f"/v1/channels/{cid}", headers=auth).status_code == 404
    assert SLACK_SECRET not in caplog.text and BOT_TOKEN not in caplog.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "pager", "config": {}}, "kind"),
        ({"name": "x", "kind": "slack", "config": {}}, "config.webhookUrl"),
        ({"name": "x", "kind": "slack", "config": {"webhookUrl": "ftp://h/x"}}, "config.webhookUrl"),
        ({"name": "x", "kind": "slack", "config": {"webhookUrl": "https://h/x", "extra": 1}}, "config.extra"),
        (
            {
                "name": "x",
                "kind": "slack",
                "timezone": "Mars/Olympus",
                "config": {"webhookUrl": "https://h/x"},
            },
            "timezone",
        ),
        (
            {"name": "x", "kind": "telegram", "config": {"botToken": "nope", "chatId": CHAT}},
            "config.botToken",
        ),
        (
            {"name": "x", "kind": "telegram", "config": {"botToken": BOT_TOKEN, "chatId": "me"}},
            "config.chatId",
        ),
        ({"name": "x", "kind": "email", "config": {"to": [], "from": "a@example.com"}}, "config.to"),
        (
            {"name": "x", "kind": "email", "config": {"to": ["a@example.com"], "from": "nobody"}},
            "config.from",
        ),
        ({"name": "x", "kind": "pagerduty", "config": {"routingKey": "short"}}, "config.routingKey"),
        ({"name": "x", "kind": "opsgenie", "config": {"apiKey": "k", "priority": "P9"}}, "config.priority"),
        ({"name": "x", "kind": "ntfy", "config": {"topic": "a/b"}}, "config.topic"),
        ({"name": "x", "kind": "sns", "config": {"topicArn": "arn:nope"}}, "config.topicArn"),
        ({"name": "x", "kind": "webhook", "config": {"url": "http://169.254.169.254/latest"}}, "config.url"),
        (
            {"name": "x", "kind": "slack", "default": "yes", "config": {"webhookUrl": "https://h/x"}},
            "default",
        ),
    ],
)
def test_bad_channels_are_refused_naming_the_field(
    client: TestClient, auth: dict[str, str], body: dict[str, Any], field: str
) -> None:
    answer = client.post("/v1/channels", json=body, headers=auth)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field, answer.json()
    assert client.get("/v1/channels", headers=auth).json()["count"] == 0


def test_a_refused_change_writes_nothing(client: TestClient, auth: dict[str, str], pointed: Services) -> None:
    cid = client.post("/v1/channels", json=slack(pointed.base), headers=auth).json()["id"]
    before = client.get(f"/v1/channels/{cid}", headers=auth).json()
    changes = [
        (
            "put",
            {"name": "new", "kind": "slack", "timezone": "Nowhere/Land", "config": before["config"]},
            "timezone",
        ),
        (
            "patch",
            {"name": "new", "config": {"webhookUrl": "https://other.example.com/********"}},
            "config.webhookUrl",
        ),
        ("patch", {"kind": "discord"}, "config"),
        ("put", {"name": "new", "kind": "discord", "config": before["config"]}, "config.webhookUrl"),
    ]
    for method, body, field in changes:
        answer = getattr(client, method)(f"/v1/channels/{cid}", json=body, headers=auth)
        assert answer.status_code == 400 and answer.json()["field"] == field, answer.text
    assert client.get(f"/v1/channels/{cid}", headers=auth).json() == before


def test_without_a_channel_key_secrets_are_not_stored(
    client: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UPSTAT_CHANNEL_KEY")
    get_settings.cache_clear()
    answer = client.post("/v1/channels", json=slack("https://hooks.slack.com"), headers=auth)
    assert answer.status_code == 409 and "UPSTAT_CHANNEL_KEY" in answer.json()["message"]
    email = {"name": "m", "kind": "email", "config": {"to": ["a@example.com"], "from": "b@example.com"}}
    assert (
        client.post("/v1/channels", json=email, headers=auth).status_code == 201
    )  # no secret: no key needed


def test_the_test_message_reports_the_receivers_refusal(
    client: TestClient, auth: dict[str, str], pointed: Services
) -> None:
    body = {"name": "tg", "kind": "telegram", "config": {"botToken": BOT_TOKEN, "chatId": "-1"}}
    cid = client.post("/v1/channels", json=body, headers=auth).json()["id"]
    answer = client.post(f"/v1/channels/{cid}/test", headers=auth)
    assert answer.status_code == 200
    found = answer.json()
    assert (found["ok"], found["status"], found["attempts"]) == (False, 400, 1)
    assert "chat not found" in found["error"] and BOT_TOKEN not in answer.text
    assert pointed.of("telegram")[0].json()["text"].startswith("<b>upstat test test message</b>")


def test_services_name_existing_channels_and_a_named_channel_is_not_deleted(
    client: TestClient, auth: dict[str, str], pointed: Services, local_target: LocalTarget
) -> None:
    cid = client.post("/v1/channels", json=slack(pointed.base), headers=auth).json()["id"]
    service = {"name": "api", "url": local_target.url("/ok"), "channels": ["abc123abc123"]}
    refused = client.post("/v1/services", json=service, headers=auth)
    assert refused.status_code == 400 and refused.json()["field"] == "channels[0]"
    service["channels"] = [cid]
    assert client.post("/v1/services", json=service, headers=auth).json()["channels"] == [cid]
    bad = client.patch("/v1/services/api", json={"channels": [cid, "gone"]}, headers=auth)
    assert bad.status_code == 400 and bad.json()["field"] == "channels[1]"
    busy = client.delete(f"/v1/channels/{cid}", headers=auth)
    assert busy.status_code == 409 and "'api'" in busy.json()["message"]
    client.patch("/v1/services/api", json={"channels": []}, headers=auth)
    assert client.delete(f"/v1/channels/{cid}", headers=auth).status_code == 200


def test_alerts_are_listed_with_their_outcomes_secrets_masked(
    client: TestClient, auth: dict[str, str], r: Any, pointed: Services, local_target: LocalTarget
) -> None:
    cid = client.post("/v1/channels", json=slack(pointed.base, default=True), headers=auth).json()["id"]
    hook = f"{pointed.base}/webhook/s3cr3t-hook-path"
    for name in ("api", "web"):
        body = {"name": name, "url": local_target.url("/down?api_key=target-s3cr3t"), "webhooks": [hook]}
        assert client.post("/v1/services", json=body, headers=auth).status_code == 201
    run_ping_tick(r, now_ms=int(time.time() * 1000), deadline=time.monotonic() + 20)
    listed = client.get("/v1/alerts", headers=auth)
    assert listed.status_code == 200 and listed.json()["count"] == 2
    assert "s3cr3t-hook-path" not in listed.text and SLACK_SECRET not in listed.text
    assert "target-s3cr3t" not in listed.text and "api_key=********" in listed.text
    first = listed.json()["alerts"][0]
    assert first["webhooks"][0]["url"] == f"{pointed.base}/********" and first["webhooks"][0]["ok"] is True
    assert first["channels"][0]["channel"] == cid and first["channels"][0]["ok"] is True
    only = client.get("/v1/alerts", params={"service": "web", "limit": 5}, headers=auth).json()
    assert [a["alert"]["service"]["name"] for a in only["alerts"]] == ["web"]
    assert client.get("/v1/alerts", params={"limit": 1}, headers=auth).json()["count"] == 1
    assert client.get("/v1/alerts", params={"service": "nope"}, headers=auth).status_code == 404
    assert client.get("/v1/alerts", params={"limit": 0}, headers=auth).json()["field"] == "limit"


def test_a_source_with_health_chooses_its_channels(
    client: TestClient, auth: dict[str, str], r: Any, pointed: Services
) -> None:
    """PATCH /v1/sources/{id} names the channels of a device's health alerts (each must exist, 400 naming
    it, nothing changed); its next health change goes to them, not to the default set."""
    from upstat.config import get_settings
    from upstat.devices import monitoring
    from upstat.devices.store import Change
    from upstat.sources import store as registry

    default = client.post(
        "/v1/channels",
        json={
            "name": "d",
            "kind": "slack",
            "default": True,
            "config": {"webhookUrl": f"{pointed.base}/slack/d"},
        },
        headers=auth,
    ).json()
    named = client.post(
        "/v1/channels",
        json={"name": "n", "kind": "discord", "config": {"webhookUrl": f"{pointed.base}/discord/n"}},
        headers=auth,
    ).json()
    registry.create_source(r, "router1", kind="device", now_ms=1)
    bad = client.patch("/v1/sources/router1", json={"channels": [named["id"], "gone"]}, headers=auth)
    assert bad.status_code == 400 and bad.json()["message"].startswith("channels[1]: no channel 'gone'")
    assert client.get("/v1/sources/router1", headers=auth).json()["channels"] == []
    twice = client.patch("/v1/sources/router1", json={"channels": [named["id"], named["id"]]}, headers=auth)
    assert twice.status_code == 400 and "channels" in twice.json()["message"]
    ok = client.patch("/v1/sources/router1", json={"channels": [named["id"]]}, headers=auth)
    assert ok.status_code == 200 and ok.json()["channels"] == [named["id"]]
    at = int(time.time() * 1000)
    [sent] = monitoring.notify(r, [Change("router1", 2, "ok", "critical", at)], settings=get_settings())
    assert [o["channel"] for o in sent["channels"]] == [named["id"]]
    assert [s.path for s in pointed.of("discord")] == ["/discord/n"] and pointed.of("slack") == []
    # cleared: the default set again
    assert client.patch("/v1/sources/router1", json={"channels": []}, headers=auth).json()["channels"] == []
    [again] = monitoring.notify(r, [Change("router1", 3, "critical", "ok", at + 1)], settings=get_settings())
    assert [o["channel"] for o in again["channels"]] == [default["id"]]
