"""Alerts (SNS under moto, signed webhooks to a real local receiver, once per transition) and the SQS
fan-out of large ticks to workers (moto), with the scheduled job entry points run twice and at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.emf import emf_lines, values
from tests.uptime.targets import LocalTarget, TlsTarget
from upstat import aws
from upstat.config import get_settings
from upstat.jobs.handlers import ping as run_ping_job
from upstat.jobs.handlers import ping_worker as run_ping_worker
from upstat.uptime import alerts, checklog
from upstat.uptime.services import ServiceStore
from upstat.uptime.ticks import run_ping_tick

SECRET = "webhook-secret-0123456789"


class Receiver:
    """A local webhook receiver: answers the queued statuses (then 200) and keeps every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers.items()), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.server.shutdown()


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


def configure(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"UPSTAT_{name.upper()}", value)
    get_settings.cache_clear()


def now_ms() -> int:
    return int(time.time() * 1000)


def test_sns_gets_one_alert_per_transition(
    r: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch, local_target: LocalTarget
) -> None:
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alert-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    configure(monkeypatch, alerts_topic_arn=topic)
    store = ServiceStore(r)
    t0 = now_ms() - 600_000
    store.create({"name": "api", "url": local_target.url("/down")}, now_ms=t0)
    run_ping_tick(r, now_ms=t0, deadline=time.monotonic() + 20)
    run_ping_tick(r, now_ms=t0, deadline=time.monotonic() + 20)  # nothing due: nothing sent again
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
        "Messages", []
    )
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    alert = json.loads(envelope["Message"])
    assert envelope["Subject"] == "[upstat] api is DOWN"
    assert (alert["transition"], alert["previous"], alert["current"]) == ("down", None, "down")
    assert alert["service"]["name"] == "api" and alert["errorKind"] == "status"
    [outcome] = alerts.recent_outcomes(r, store.require("api").id)
    assert outcome["sns"]["ok"] is True


def test_webhook_is_signed_and_retried_after_a_500(
    r: Any, monkeypatch: pytest.MonkeyPatch, receiver: Receiver, local_target: LocalTarget
) -> None:
    configure(monkeypatch, webhook_secret=SECRET)
    receiver.statuses = [500]
    store = ServiceStore(r)
    t0 = now_ms() - 600_000
    svc = store.create(
        {"name": "api", "url": local_target.url("/down"), "webhooks": [receiver.url]}, now_ms=t0
    )
    run_ping_tick(r, now_ms=t0, deadline=time.monotonic() + 20)
    assert len(receiver.requests) == 2  # the 500, then the retry
    for headers, body in receiver.requests:
        assert alerts.verify(SECRET, headers["X-Upstat-Timestamp"], body, headers["X-Upstat-Signature"])
    assert not alerts.verify(
        "other-secret", headers["X-Upstat-Timestamp"], body, headers["X-Upstat-Signature"]
    )
    assert receiver.payloads()[1]["event"] == "service.down"
    [outcome] = alerts.recent_outcomes(r, svc.id)
    assert outcome["webhooks"] == [{"url": receiver.url, "ok": True, "attempts": 2, "status": 200}]
    # recovery: one "up" alert
    store.update("api", {"url": local_target.url("/ok")}, now_ms=t0)
    run_ping_tick(r, now_ms=t0 + 60_000, deadline=time.monotonic() + 20)
    assert [p["transition"] for p in receiver.payloads()] == ["down", "down", "up"]


def test_a_webhook_that_keeps_failing_is_an_outcome_not_an_error(
    r: Any, monkeypatch: pytest.MonkeyPatch, receiver: Receiver, local_target: LocalTarget
) -> None:
    configure(monkeypatch, alert_webhooks=f"{receiver.url},http://169.254.169.254/latest")
    receiver.statuses = [503, 503, 503]
    store = ServiceStore(r)
    t0 = now_ms() - 600_000
    svc = store.create({"name": "api", "url": local_target.url("/down")}, now_ms=t0)
    assert run_ping_tick(r, now_ms=t0, deadline=time.monotonic() + 20)["transitions"] == 1
    [outcome] = alerts.recent_outcomes(r, svc.id)
    hook, metadata = outcome["webhooks"]
    assert (hook["ok"], hook["attempts"], hook["status"]) == (False, 3, 503)
    assert metadata["ok"] is False and metadata["attempts"] == 0  # refused by the SSRF guard


def test_overlapping_scheduled_jobs_record_and_alert_once(
    r: Any, monkeypatch: pytest.MonkeyPatch, receiver: Receiver, local_target: LocalTarget
) -> None:
    configure(monkeypatch, alert_webhooks=receiver.url)
    store = ServiceStore(r)
    ids = [store.create({"name": f"s{i}", "url": local_target.url("/down")}).id for i in range(5)]
    outs: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: outs.append(run_ping_job({}, None))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outs.append(run_ping_job({}, None))  # and once more afterwards
    assert sum(o.get("recorded", 0) for o in outs) == 5
    for sid in ids:
        assert len(checklog.history(r, sid)) == 1
    assert sorted(p["service"]["id"] for p in receiver.payloads()) == sorted(ids)


def test_alert_claims_survive_a_replay_of_the_same_transition(r: Any, receiver: Receiver) -> None:
    alert = alerts.Alert("sid", "api", "http://x", "down", "up", "down", 1, 7, webhooks=(receiver.url,))
    assert len(alerts.send_alerts(r, [alert])) == 1
    assert alerts.send_alerts(r, [alert, alert]) == []
    assert len(receiver.requests) == 1


def test_large_ticks_fan_out_to_sqs_and_workers_check_each_batch_once(
    r: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch, local_target: LocalTarget
) -> None:
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="ping")["QueueUrl"]
    configure(monkeypatch, ping_fanout_threshold="2", ping_queue_url=queue, ping_batch_size="2")
    store = ServiceStore(r)
    t0 = now_ms() - 600_000
    ids = [store.create({"name": f"s{i}", "url": local_target.url("/ok")}, now_ms=t0).id for i in range(5)]
    assert run_ping_tick(r, now_ms=t0, deadline=time.monotonic() + 20) == {"due": 5, "fanned_out": 3}
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 3
    assert sorted(i for m in messages for i in json.loads(m["Body"])["ids"]) == sorted(ids)
    event = {
        "Records": [
            {"messageId": m["MessageId"], "body": m["Body"], "eventSource": "aws:sqs"} for m in messages
        ]
        + [{"messageId": "broken", "body": "not json", "eventSource": "aws:sqs"}]
    }
    assert run_ping_worker(event, None) == {"batchItemFailures": [{"itemIdentifier": "broken"}]}
    assert run_ping_worker(event, None) == {"batchItemFailures": [{"itemIdentifier": "broken"}]}  # redelivery
    for sid in ids:
        [entry] = checklog.history(r, sid)
        assert entry.timestamp == t0 and entry.status == "up"
    assert run_ping_tick(r, now_ms=t0 + 1000, deadline=time.monotonic() + 20) == {"due": 0, "checked": 0}


def test_a_certificate_within_its_warning_days_alerts_once(
    r: Any, monkeypatch: pytest.MonkeyPatch, receiver: Receiver, tls_target: TlsTarget
) -> None:
    # The target's certificate expires in 3 days; the service warns 14 days ahead.
    configure(monkeypatch, webhook_secret=SECRET)
    store = ServiceStore(r)
    t0 = now_ms() - 600_000
    store.create(
        {
            "name": "tls",
            "url": f"{tls_target.base_url}/ok",
            "certWarningDays": 14,
            "webhooks": [receiver.url],
        },
        now_ms=t0,
    )
    for k in range(3):  # three checks, one alert
        run_ping_tick(
            r, now_ms=t0 + k * 60_000, deadline=time.monotonic() + 20, ssl_context=tls_target.ssl_context
        )
    payloads = receiver.payloads()
    cert = [p for p in payloads if p["transition"] == "cert_expiring"]
    assert len(cert) == 1 and abs(cert[0]["certDays"] - 3) < 0.05
    assert checklog.read_state(r, store.require("tls").id).status == "up"


SECRET_PARAM = "/upstat/test/webhook-secret"


def test_alert_deliveries_are_counted_sent_and_failed(
    r: Any,
    emf: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    receiver: Receiver,
    local_target: LocalTarget,
) -> None:
    configure(monkeypatch, alert_webhooks=f"{receiver.url},http://169.254.169.254/latest")
    store = ServiceStore(r)
    t0 = int(time.time() * 1000) - 600_000
    store.create({"name": "api", "url": local_target.url("/down")}, now_ms=t0)
    run_ping_tick(r, now_ms=t0, deadline=time.monotonic() + 20)
    docs = emf_lines(capsys.readouterr().out)
    # One alert, two webhook deliveries: the receiver's (sent) and the metadata address (refused: failed).
    assert values(docs, "AlertsSent") == [1] and values(docs, "AlertsFailed") == [1]


def test_webhooks_are_signed_with_the_secret_from_its_ssm_parameter(
    r: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    boto3.client("ssm").put_parameter(Name=SECRET_PARAM, Value="from-ssm-0123456789", Type="SecureString")
    configure(monkeypatch, webhook_secret_ssm_parameter=SECRET_PARAM)
    alert = alerts.Alert("sid", "api", "http://x", "down", "up", "down", 1, 7, webhooks=(receiver.url,))
    [outcome] = alerts.send_alerts(r, [alert])
    assert outcome["webhooks"][0]["ok"] is True
    [(headers, body)] = receiver.requests
    assert alerts.verify(
        "from-ssm-0123456789", headers["X-Upstat-Timestamp"], body, headers["X-Upstat-Signature"]
    )


def test_without_the_parameter_webhooks_go_out_unsigned(
    r: Any,
    aws_env: None,
    monkeypatch: pytest.MonkeyPatch,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure(monkeypatch, webhook_secret_ssm_parameter=SECRET_PARAM)  # named, never created
    alert = alerts.Alert("sid", "api", "http://x", "down", "up", "down", 1, 8, webhooks=(receiver.url,))
    [outcome] = alerts.send_alerts(r, [alert])
    assert outcome["webhooks"][0]["ok"] is True
    [(headers, _)] = receiver.requests
    assert "X-Upstat-Signature" not in headers
    assert "not read" not in caplog.text  # a missing parameter means signing is off, not an error
    aws.reset()
