"""Alerts delivered to channels: each kind's payload accepted by a local stand-in of its service that checks
the documented schema, once per transition per channel (also under concurrent and retried ticks), retried
on 5xx and 429, to the channels a subject names (else the default set), and flap control."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.notify.receivers import BOT_TOKEN, CHAT, GENIE_KEY, NTFY_TOKEN, ROUTING_KEY, Services
from tests.uptime.targets import LocalTarget
from upstat import aws
from upstat.config import get_settings
from upstat.notify.models import Channel
from upstat.notify.store import ChannelStore
from upstat.uptime import alerts
from upstat.uptime.alerts import Alert, send_alerts, settle_flapping
from upstat.uptime.services import ServiceStore
from upstat.uptime.ticks import run_ping_tick

HOUR_MS = 3_600_000


def now_ms() -> int:
    return int(time.time() * 1000)


def every_http_kind(r: Any, base: str, **extra: Any) -> dict[str, Channel]:
    """One default channel of each kind that speaks HTTP, pointed at the local stand-ins."""
    store = ChannelStore(r)
    configs = {
        "slack": {"webhookUrl": f"{base}/slack/services/T0/B0/secretslack"},
        "discord": {"webhookUrl": f"{base}/discord/api/webhooks/1/secretdiscord"},
        "teams": {"webhookUrl": f"{base}/teams/workflows/secretteams"},
        "telegram": {"botToken": BOT_TOKEN, "chatId": CHAT},
        "ntfy": {"topic": "upstat-alerts", "token": NTFY_TOKEN},
        "pagerduty": {"routingKey": ROUTING_KEY},
        "opsgenie": {"apiKey": GENIE_KEY},
    }
    return {
        kind: store.create(
            {"name": kind, "kind": kind, "default": True, "timezone": "Asia/Tokyo", "config": config, **extra}
        )
        for kind, config in configs.items()
    }


def test_every_kind_gets_a_valid_message_on_down_and_on_recovery(
    r: Any, pointed: Services, local_target: LocalTarget
) -> None:
    channels = every_http_kind(r, pointed.base)
    store = ServiceStore(r)
    t0 = now_ms() - HOUR_MS
    svc = store.create({"name": "checkout", "url": local_target.url("/down")}, now_ms=t0)
    run_ping_tick(r, now_ms=t0, deadline=time.monotonic() + 20)
    store.update("checkout", {"url": local_target.url("/ok")}, now_ms=t0)
    run_ping_tick(r, now_ms=t0 + 1_500_000, deadline=time.monotonic() + 20)  # 25 minutes later
    assert pointed.problems == []
    for kind in channels:
        assert len(pointed.of(kind)) == 2, kind  # the down message and the recovery, once each
    down_outcome, up_outcome = reversed(alerts.recent_outcomes(r, svc.id))
    for outcome in (down_outcome, up_outcome):
        assert sorted(o["kind"] for o in outcome["channels"] if o["ok"]) == sorted(channels)
    # Slack: names the service, the change, the cause, the time in the channel's zone, the status page
    down, up = (s.json() for s in pointed.of("slack"))
    assert down["blocks"][0]["text"]["text"] == "checkout is DOWN"
    assert "Cause: unexpected status code: status 500, expected 200" in down["text"] and "JST" in down["text"]
    assert down["blocks"][-1]["elements"][0]["url"] == "https://status.example.com/status"
    assert "Down for: 25 min" in up["text"] and up["blocks"][0]["text"]["text"] == "checkout is UP again"
    # PagerDuty: a trigger, then the resolve of the same dedup key
    trigger, resolve = (s.json() for s in pointed.of("pagerduty"))
    assert (trigger["event_action"], resolve["event_action"]) == ("trigger", "resolve")
    assert trigger["dedup_key"] == resolve["dedup_key"] == f"upstat-service-{svc.id}"
    # Opsgenie: create, then close by alias
    create, close = pointed.of("opsgenie")
    assert create.path == "/opsgenie/v2/alerts"
    assert close.path == f"/opsgenie/v2/alerts/upstat-service-{svc.id}/close?identifierType=alias"
    # Telegram: the bot's URL, the chat; ntfy: its token and headers
    assert pointed.of("telegram")[0].json()["chat_id"] == CHAT
    ntfy = pointed.of("ntfy")[0]
    assert ntfy.headers["Authorization"] == f"Bearer {NTFY_TOKEN}" and ntfy.headers["Priority"] == "4"
    assert ntfy.headers["Title"] == "checkout is DOWN" and ntfy.path == "/ntfy/upstat-alerts"


def test_two_concurrent_ticks_and_a_retried_one_send_each_message_once(r: Any, pointed: Services) -> None:
    every_http_kind(r, pointed.base)
    batch = [
        Alert(f"svc{i}", f"s{i}", "", "down", "up", "down", now_ms(), 1, "status", "HTTP 500")
        for i in range(5)
    ]
    outs: list[list[dict[str, Any]]] = []
    threads = [threading.Thread(target=lambda: outs.append(send_alerts(r, batch))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert send_alerts(r, batch) == []  # a retried tick: everything claimed already
    assert sum(len(o) for o in outs) == 5
    for kind in ("slack", "discord", "teams", "telegram", "ntfy", "pagerduty", "opsgenie"):
        assert len(pointed.of(kind)) == 5, kind
    assert pointed.problems == []


def test_a_5xx_and_a_429_are_retried_a_400_is_not(r: Any, pointed: Services) -> None:
    store = ChannelStore(r)
    slack = store.create(
        {"name": "s", "kind": "slack", "default": True, "config": {"webhookUrl": f"{pointed.base}/slack/x"}}
    )
    store.create(
        {"name": "t", "kind": "telegram", "default": True, "config": {"botToken": BOT_TOKEN, "chatId": "-42"}}
    )
    pointed.statuses["slack"] = [503, 429]
    [outcome] = send_alerts(r, [Alert("svc", "api", "", "down", "up", "down", now_ms(), 1)])
    by_kind = {o["kind"]: o for o in outcome["channels"]}
    assert by_kind["slack"] == {
        "channel": slack.id,
        "name": "s",
        "kind": "slack",
        "ok": True,
        "attempts": 3,
        "status": 200,
        "answer": "ok",
    }
    tg = by_kind["telegram"]  # the chat does not exist: refused at once, with the service's reason
    assert (tg["ok"], tg["attempts"], tg["status"]) == (False, 1, 400) and "chat not found" in tg["error"]
    assert BOT_TOKEN not in str(outcome)


def test_a_subject_gets_the_channels_it_names_else_the_default_set(
    r: Any, pointed: Services, local_target: LocalTarget
) -> None:
    store = ChannelStore(r)
    default = store.create(
        {"name": "d", "kind": "slack", "default": True, "config": {"webhookUrl": f"{pointed.base}/slack/d"}}
    )
    named = store.create(
        {"name": "n", "kind": "discord", "config": {"webhookUrl": f"{pointed.base}/discord/n"}}
    )
    t0 = now_ms() - HOUR_MS
    services = ServiceStore(r)
    services.create({"name": "a", "url": local_target.url("/down"), "channels": [named.id]}, now_ms=t0)
    services.create({"name": "b", "url": local_target.url("/down")}, now_ms=t0)
    run_ping_tick(r, now_ms=t0, deadline=time.monotonic() + 20)
    assert [s.path for s in pointed.of("discord")] == ["/discord/n"]
    assert [s.path for s in pointed.of("slack")] == ["/slack/d"]
    assert "a is DOWN" in pointed.of("discord")[0].json()["embeds"][0]["title"]
    assert "b is DOWN" in pointed.of("slack")[0].json()["text"]
    # a device's health and a backup job name none: the default set
    [device] = send_alerts(
        r, [Alert("device:router1", "router1", "", "critical", "ok", "critical", t0, 3, kind="device")]
    )
    assert [o["channel"] for o in device["channels"]] == [default.id]
    # a channel deleted after the alert named it: an outcome, not an error
    [gone] = send_alerts(r, [Alert("x", "x", "", "down", "up", "down", t0, 1, channels=("nochannel",))])
    assert gone["channels"] == [
        {"channel": "nochannel", "ok": False, "attempts": 0, "error": "no such channel (deleted?)"}
    ]


def flip(i: int, t0: int) -> Alert:
    state, before = ("down", "up") if i % 2 == 0 else ("up", "down")
    return Alert("svc", "api", "", state, before, state, t0 + i * 10_000, i + 1)


def test_a_flapping_service_sends_one_flapping_message_then_one_summary(
    r: Any, pointed: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPSTAT_FLAP_CHANGES", "3")
    monkeypatch.setenv("UPSTAT_FLAP_WINDOW_S", "600")
    get_settings.cache_clear()
    ChannelStore(r).create(
        {"name": "s", "kind": "slack", "default": True, "config": {"webhookUrl": f"{pointed.base}/slack/x"}}
    )
    t0 = now_ms() - HOUR_MS
    for i in range(10):  # ten changes, 10 s apart
        send_alerts(r, [flip(i, t0)])
    titles = [s.json()["blocks"][0]["text"]["text"] for s in pointed.of("slack")]
    assert titles == ["api is DOWN", "api is UP again", "api is DOWN", "api is FLAPPING"]
    assert "changed 4 times recently, now up" in pointed.of("slack")[3].json()["text"]
    held = [o for o in alerts.recent_outcomes(r, "svc") if o.get("held")]
    assert len(held) == 6  # recorded, not sent
    last = t0 + 9 * 10_000
    deadline = time.monotonic() + 10
    assert settle_flapping(r, now_ms=last + 599_000, deadline=deadline) == []  # not yet quiet for a window
    results: list[list[dict[str, Any]]] = []
    sweeps = [
        threading.Thread(
            target=lambda: results.append(settle_flapping(r, now_ms=last + 601_000, deadline=deadline))
        )
        for _ in range(2)
    ]
    for t in sweeps:
        t.start()
    for t in sweeps:
        t.join()
    assert sorted(len(x) for x in results) == [0, 1]  # two sweeps at once: one summary
    summary = pointed.of("slack")[-1].json()
    assert summary["blocks"][0]["text"]["text"] == "api has settled: up"
    assert "changed 10 times since" in summary["text"]
    assert len(pointed.of("slack")) == 5
    send_alerts(r, [flip(10, t0 + 3 * HOUR_MS)])  # long after: counted afresh, sent
    assert pointed.of("slack")[-1].json()["blocks"][0]["text"]["text"] == "api is DOWN"


def test_a_certificate_warning_is_never_held_and_counts_no_change(
    r: Any, pointed: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPSTAT_FLAP_CHANGES", "1")
    get_settings.cache_clear()
    ChannelStore(r).create(
        {"name": "s", "kind": "slack", "default": True, "config": {"webhookUrl": f"{pointed.base}/slack/x"}}
    )
    t0 = now_ms()
    for i in range(3):
        send_alerts(r, [Alert("svc", "api", "", "cert_expiring", "up", "up", t0 + i, i + 1, cert_days=3.2)])
    assert len(pointed.of("slack")) == 3
    assert "certificate expires in 3 days" in pointed.of("slack")[0].json()["text"]


@pytest.fixture
def aws_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    aws.reset()
    with mock_aws():
        yield
    aws.reset()


def test_email_goes_through_ses_and_sns_channels_publish(r: Any, aws_env: None) -> None:
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress="alerts@example.com")
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="team")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    store = ChannelStore(r)
    store.create(
        {
            "name": "mail",
            "kind": "email",
            "default": True,
            "timezone": "Europe/Berlin",
            "config": {"to": ["oncall@example.com"], "from": "alerts@example.com"},
        }
    )
    store.create({"name": "topic", "kind": "sns", "default": True, "config": {"topicArn": topic}})
    store.create(
        {
            "name": "bad",
            "kind": "email",
            "default": True,
            "config": {"to": ["x@example.com"], "from": "unverified@example.com"},
        }
    )
    at = 1_767_225_600_000  # 2026-01-01 00:00 UTC: 01:00 CET
    [outcome] = send_alerts(
        r,
        [
            Alert(
                "svc",
                "api",
                "https://api.example.com",
                "down",
                "up",
                "down",
                at,
                1,
                "timeout",
                "timed out after 10000 ms",
            )
        ],
    )
    by_name = {o["name"]: o for o in outcome["channels"]}
    assert by_name["mail"]["ok"] is True and by_name["topic"]["ok"] is True
    assert by_name["bad"]["ok"] is False and "MessageRejected" in by_name["bad"]["error"]
    from moto.backends import get_backend

    [sent] = get_backend("ses")["123456789012"]["eu-west-1"].sent_messages
    assert sent.subject == "[upstat] api is DOWN" and sent.destinations["ToAddresses"] == [
        "oncall@example.com"
    ]
    assert "2026-01-01 01:00:00 CET" in sent.body and "timed out: timed out after 10000 ms" in sent.body
    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert '"event": "service.down"' in message["Body"].replace('\\"', '"')


def test_failed_deliveries_log_and_record_no_secret(
    r: Any, pointed: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = ChannelStore(r)
    store.create(
        {"name": "tg", "kind": "telegram", "default": True, "config": {"botToken": BOT_TOKEN, "chatId": CHAT}}
    )
    store.create(
        {"name": "og", "kind": "opsgenie", "default": True, "config": {"apiKey": "wrong-genie-key-42"}}
    )
    monkeypatch.setenv("UPSTAT_TELEGRAM_API_URL", "http://127.0.0.1:9/telegram")  # nothing listens
    get_settings.cache_clear()
    [outcome] = send_alerts(r, [Alert("svc", "api", "", "down", "up", "down", now_ms(), 1)])
    by_kind = {o["kind"]: o for o in outcome["channels"]}
    assert by_kind["telegram"]["ok"] is False and by_kind["telegram"]["attempts"] == 3
    assert by_kind["opsgenie"]["status"] == 401 and "Key format is not valid" in by_kind["opsgenie"]["error"]
    stored = str(alerts.recent_outcomes(r, "svc"))
    for secret in (BOT_TOKEN, "wrong-genie-key-42"):
        assert secret not in caplog.text and secret not in str(outcome) and secret not in stored


def test_a_channel_whose_secrets_no_longer_open_is_an_outcome(
    r: Any, pointed: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ChannelStore(r)
    broken = store.create(
        {"name": "s", "kind": "slack", "default": True, "config": {"webhookUrl": f"{pointed.base}/slack/x"}}
    )
    monkeypatch.setenv(
        "UPSTAT_CHANNEL_KEY", "dGhpcyBpcyBhbm90aGVyIGtleSBvZiAzMiBieXRlcyE="
    )  # the key was rotated
    get_settings.cache_clear()
    ChannelStore(r).create(
        {
            "name": "d",
            "kind": "discord",
            "default": True,
            "config": {"webhookUrl": f"{pointed.base}/discord/x"},
        }
    )
    [outcome] = send_alerts(r, [Alert("svc", "api", "", "down", "up", "down", now_ms(), 1)])
    by_channel = {o["channel"]: o for o in outcome["channels"]}
    assert by_channel[broken.id]["ok"] is False and "save the channel again" in by_channel[broken.id]["error"]
    assert [o["kind"] for o in outcome["channels"] if o["ok"]] == ["discord"]


def test_the_channel_key_can_live_in_ssm(r: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from upstat.errors import Conflict

    monkeypatch.delenv("UPSTAT_CHANNEL_KEY")
    monkeypatch.setenv("UPSTAT_CHANNEL_KEY_SSM_PARAMETER", "/upstat/test/channel-key")
    get_settings.cache_clear()
    slack = {"name": "s", "kind": "slack", "config": {"webhookUrl": "https://hooks.slack.com/services/T/B/x"}}
    with pytest.raises(Conflict, match="/upstat/test/channel-key does not exist"):
        ChannelStore(r).create(slack)
    key = "dGhpcyBpcyBhbm90aGVyIGtleSBvZiAzMiBieXRlcyE="
    boto3.client("ssm").put_parameter(Name="/upstat/test/channel-key", Value=key, Type="SecureString")
    made = ChannelStore(r).create(slack)
    assert ChannelStore(r).require(made.id).config == slack["config"]
    assert b"hooks.slack.com/services" not in r.hget("upstat:notify:channels", made.id)


def test_the_ping_job_sends_the_summary_of_a_subject_that_settled(
    r: Any, pointed: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upstat.jobs.handlers import ping as run_ping_job

    monkeypatch.setenv("UPSTAT_FLAP_CHANGES", "2")
    get_settings.cache_clear()
    ChannelStore(r).create(
        {"name": "s", "kind": "slack", "default": True, "config": {"webhookUrl": f"{pointed.base}/slack/x"}}
    )
    t0 = now_ms() - HOUR_MS  # flapped an hour ago, quiet since: past the 10-minute window
    for i in range(5):
        send_alerts(r, [flip(i, t0)])
    assert len(pointed.of("slack")) == 3  # two changes, then "flapping"
    assert run_ping_job({}, None)["settled"] == 1
    assert "settled" not in run_ping_job({}, None)  # once
    assert pointed.of("slack")[-1].json()["blocks"][0]["text"]["text"] == "api has settled: down"


def test_channels_and_flap_control_on_a_cluster(cluster_env: str, pointed: Services) -> None:
    from upstat.store.client import get_redis

    client = get_redis()
    ChannelStore(client).create(
        {"name": "s", "kind": "slack", "default": True, "config": {"webhookUrl": f"{pointed.base}/slack/x"}}
    )
    t0 = now_ms() - HOUR_MS
    for i in range(8):
        send_alerts(client, [flip(i, t0), Alert(f"other{i}", "o", "", "down", "up", "down", t0, 1)])
    assert len(settle_flapping(client, now_ms=now_ms(), deadline=time.monotonic() + 10)) == 1
    titles = [s.json()["blocks"][0]["text"]["text"] for s in pointed.of("slack") if "api" in s.json()["text"]]
    assert titles[-2:] == ["api is FLAPPING", "api has settled: up"] and len(titles) == 7
    assert len(alerts.deliveries(client, limit=100)) == 17  # 16 alerts and the summary
