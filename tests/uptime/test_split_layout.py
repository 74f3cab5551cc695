"""The split layout end to end: the ping job (scheduler) -> SQS (moto) -> the checker, run in-process with
no Redis reachable -> SQS -> the writer, against real Valkey and real local targets. It stores what the
single layout stores, a redelivered message writes nothing twice, and on-demand checks are refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.functions.conftest import LambdaContext, function_module
from tests.uptime.targets import KEYWORD, LocalTarget
from tests.uptime.test_alerts_and_fanout import Receiver, aws_env, configure, receiver  # noqa: F401
from upstat.store import client as store_client
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import Query
from upstat.timeseries.retention import current_engine
from upstat.uptime import checklog, handoff, incidents
from upstat.uptime.keyspace import service_source
from upstat.uptime.services import ServiceStore
from upstat.uptime.ticks import run_ping_now, run_ping_tick

MIN = 60_000


class Queues:
    """The check and result queues (moto), and what went through them."""

    def __init__(self) -> None:
        self.sqs = boto3.client("sqs")
        self.checks = self.sqs.create_queue(QueueName="upstat-test-checks")["QueueUrl"]
        self.results = self.sqs.create_queue(QueueName="upstat-test-results")["QueueUrl"]

    def event(self, queue: str) -> dict[str, Any]:
        """Every message waiting in ``queue`` as the SQS event Lambda's event source would deliver."""
        messages: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
            messages += batch
            for m in batch:
                self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        return {
            "Records": [
                {"messageId": m["MessageId"], "body": m["Body"], "eventSource": "aws:sqs"} for m in messages
            ]
        }


@pytest.fixture
def queues(aws_env: None) -> Iterator[Queues]:  # noqa: F811
    yield Queues()


@pytest.fixture
def split(queues: Queues, monkeypatch: pytest.MonkeyPatch) -> Queues:
    configure(monkeypatch, check_queue_url=queues.checks, result_queue_url=queues.results)
    return queues


@pytest.fixture
def now() -> int:
    return (int(time.time() * 1000) // MIN) * MIN - 10 * MIN


def no_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the checker sees outside the VPC: no Redis address, and any attempt to reach one fails."""

    def refuse() -> Any:
        raise AssertionError("the checker reached for Redis")

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(store_client, "get_redis", refuse)


def create_services(store: ServiceStore, target: LocalTarget, at: int) -> None:
    store.create({"name": "ok", "url": target.url("/ok")}, now_ms=at)
    store.create({"name": "down", "url": target.url("/down")}, now_ms=at)
    store.create({"name": "kw", "url": target.url("/keyword"), "keyword": KEYWORD}, now_ms=at)
    store.create({"name": "slow", "url": target.url("/slow?ms=3000"), "timeout": 300}, now_ms=at)
    store.create({"name": "beat", "kind": "push", "interval": 60, "grace": 0}, now_ms=at - 10 * MIN)
    store.create({"name": "off", "url": target.url("/ok"), "paused": True}, now_ms=at)


def stored(r: Any, store: ServiceStore, at: int) -> dict[str, Any]:
    """What a user sees of each service after the tick: state, check log, incidents and uptime points (the
    measured response time aside, which differs from run to run)."""
    engine = current_engine(r)
    q = Query(tm.parse_range("2h", now=at + MIN), tm.parse_resolution("1h"))
    out: dict[str, Any] = {}
    for service in store.list():
        state = checklog.read_state(r, service.id)
        log = [(e.timestamp, e.status, e.code, e.error) for e in checklog.history(r, service.id, now_ms=at)]
        [up] = engine.read_many([(service_source(service.id), "up")], q, now=at + MIN)
        out[service.name] = {
            "state": (state.status, state.last_checked_ms, state.last_code, state.last_error_kind),
            "log": log,
            "incidents": [(i.start, i.open) for i in incidents.for_service(r, service.id)],
            "up": None if up is None else (sum(up.count), sum(s or 0 for s in up.sum)),
        }
    return out


def run_split_tick(r: Any, queues: Queues, at: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    summary = run_ping_tick(r, now_ms=at, deadline=time.monotonic() + 20)
    checks = queues.event(queues.checks)
    with monkeypatch.context() as m:
        no_redis(m)
        assert function_module("checker").handler(checks, LambdaContext()) == {"batchItemFailures": []}
    written = function_module("writer").handler(queues.event(queues.results), LambdaContext())
    assert written == {"batchItemFailures": []}
    return summary


def test_the_split_layout_stores_what_the_single_layout_stores(
    r: Any, queues: Queues, local_target: LocalTarget, now: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ServiceStore(r)
    create_services(store, local_target, now)
    run_ping_tick(r, now_ms=now, deadline=time.monotonic() + 20)
    single = stored(r, store, now)
    assert local_target.hits("/ok") == 1

    r.flushall()
    local_target.reset()
    configure(monkeypatch, check_queue_url=queues.checks, result_queue_url=queues.results)
    create_services(store, local_target, now)
    summary = run_split_tick(r, queues, now, monkeypatch)
    # The scheduler probed nothing: it handed out the four probed checks, recorded the late push monitor.
    assert (summary["due"], summary["handed_out"], summary["recorded"]) == (5, 4, 1)
    assert local_target.hits("/ok") == 1  # probed once, by the checker
    assert stored(r, store, now) == single
    assert single["down"]["state"][0] == "down" and single["ok"]["state"][:3] == ("up", now, 200)
    assert single["beat"]["state"][0] == "down" and single["off"]["log"] == []
    assert single["slow"]["state"][3] == "timeout" and len(single["down"]["incidents"]) == 1
    assert single["ok"]["up"] == (1, 1.0) and single["down"]["up"] == (1, 0.0)


def test_a_redelivered_message_writes_nothing_twice(
    r: Any,
    split: Queues,
    local_target: LocalTarget,
    now: int,
    monkeypatch: pytest.MonkeyPatch,
    receiver: Receiver,  # noqa: F811
) -> None:
    store = ServiceStore(r)
    store.create({"name": "down", "url": local_target.url("/down"), "webhooks": [receiver.url]}, now_ms=now)
    store.create({"name": "ok", "url": local_target.url("/ok")}, now_ms=now)
    run_ping_tick(r, now_ms=now, deadline=time.monotonic() + 20)
    checks = split.event(split.checks)
    with monkeypatch.context() as m:
        no_redis(m)
        function_module("checker").handler(checks, LambdaContext())
        function_module("checker").handler(checks, LambdaContext())  # the check batch redelivered
    results = split.event(split.results)
    assert len(results["Records"]) == 2  # each delivery of the check batch sent its results
    writer = function_module("writer").handler
    for _ in range(2):  # and the result batch redelivered too
        assert writer(results, LambdaContext()) == {"batchItemFailures": []}
    before = stored(r, store, now)
    assert writer(results, LambdaContext()) == {"batchItemFailures": []}
    assert stored(r, store, now) == before
    for name in ("down", "ok"):
        assert len(checklog.history(r, store.require(name).id, now_ms=now)) == 1
    assert len(incidents.for_service(r, store.require("down").id)) == 1
    assert [p["transition"] for p in receiver.payloads()] == ["down"]  # one alert, from the writer


def test_the_writer_names_only_the_bad_message_and_records_the_rest(
    r: Any, split: Queues, local_target: LocalTarget, now: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ServiceStore(r)
    ok = store.create({"name": "ok", "url": local_target.url("/ok")}, now_ms=now)
    run_ping_tick(r, now_ms=now, deadline=time.monotonic() + 20)
    with monkeypatch.context() as m:
        no_redis(m)
        function_module("checker").handler(split.event(split.checks), LambdaContext())
    event = split.event(split.results)
    event["Records"] += [
        {"messageId": "not-json", "body": "{", "eventSource": "aws:sqs"},
        {"messageId": "bad-status", "body": json.dumps({"at": now, "results": [{"service_id": ok.id}]})},
    ]
    answer = function_module("writer").handler(event, LambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "not-json"}, {"itemIdentifier": "bad-status"}]}
    [entry] = checklog.history(r, ok.id, now_ms=now)
    assert (entry.timestamp, entry.status) == (now, "up")


def test_the_checker_names_only_the_unreadable_message(
    split: Queues, local_target: LocalTarget, now: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_redis(monkeypatch)
    good = {"service_id": "s1", "url": local_target.url("/ok"), "kind": "http"}
    event = {
        "Records": [
            {"messageId": "good", "body": json.dumps({"at": now, "checks": [good]})},
            {"messageId": "no-kind", "body": json.dumps({"at": now, "checks": [{"service_id": "s2"}]})},
            {"messageId": "no-at", "body": json.dumps({"checks": [good]})},
        ]
    }
    answer = function_module("checker").handler(event, LambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "no-kind"}, {"itemIdentifier": "no-at"}]}
    [message] = split.event(split.results)["Records"]
    at, [result] = handoff.decode(message["body"], "results")
    assert (at, result["service_id"], result["status"], result["code"]) == (now, "s1", "up", 200)


def test_a_check_request_carries_what_probing_needs_and_no_alert_secret(
    r: Any, split: Queues, local_target: LocalTarget, now: int
) -> None:
    store = ServiceStore(r)
    store.create(
        {
            "name": "private",
            "url": local_target.url("/ok"),
            "headers": {"Authorization": "Bearer target-token"},
            "webhooks": ["https://hooks.example.com/services/T000/B000/hook-secret"],
        },
        now_ms=now,
    )
    run_ping_tick(r, now_ms=now, deadline=time.monotonic() + 20)
    [message] = split.event(split.checks)["Records"]
    assert "target-token" in message["body"]  # the checker must send it to the target
    assert "hook-secret" not in message["body"] and "private" not in message["body"]


def test_a_check_too_large_for_one_message_is_recorded_down_with_the_reason(
    r: Any, split: Queues, local_target: LocalTarget, now: int
) -> None:
    store = ServiceStore(r)
    headers = {f"X-Big-{i}": "v" * 4096 for i in range(50)}
    big = store.create(
        {"name": "big", "url": local_target.url("/ok"), "headers": headers, "body": "b" * 60_000}, now_ms=now
    )
    store.create({"name": "small", "url": local_target.url("/ok")}, now_ms=now)
    summary = run_ping_tick(r, now_ms=now, deadline=time.monotonic() + 20)
    assert (summary["handed_out"], summary["recorded"]) == (1, 1)
    [message] = split.event(split.checks)["Records"]
    assert len(message["body"].encode()) <= handoff.MAX_MESSAGE_BYTES and "X-Big" not in message["body"]
    state = checklog.read_state(r, big.id)
    assert (state.status, state.last_error_kind) == ("down", "invalid")
    assert "larger than one SQS message" in (state.last_error or "")


def test_checks_on_demand_are_refused_in_the_split_layout(
    r: Any, split: Queues, local_target: LocalTarget
) -> None:
    from upstat.errors import Conflict

    ServiceStore(r).create({"name": "ok", "url": local_target.url("/ok")})
    with pytest.raises(Conflict, match="split layout"):
        run_ping_now(r, names=["ok"])
    assert local_target.hits("/ok") == 0


def test_many_checks_go_in_several_messages_within_sqs_limits() -> None:
    items = [{"service_id": f"s{i}", "url": "https://e.example/" + "p" * 9_000} for i in range(100)]
    bodies, too_large = handoff.pack(1, "checks", items, max_items=50)
    assert too_large == [] and len(bodies) > 2
    assert all(len(b.encode()) <= handoff.MAX_MESSAGE_BYTES for b in bodies)
    assert [i["service_id"] for b in bodies for i in json.loads(b)["checks"]] == [f"s{i}" for i in range(100)]


def test_the_api_answers_409_to_a_check_on_demand_in_the_split_layout(
    r: Any, monkeypatch: pytest.MonkeyPatch, local_target: LocalTarget
) -> None:
    from fastapi.testclient import TestClient

    from tests.conftest import ADMIN_TOKEN
    from upstat.api.app import create_app

    configure(monkeypatch, check_queue_url="https://sqs.eu-west-1.amazonaws.com/1/checks")
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with TestClient(create_app()) as client:
        assert client.post("/v1/services", json={"name": "ok", "url": local_target.url("/ok")}, headers=auth)
        for method, path in (("POST", "/v1/services/ok/check"), ("GET", "/api/ping")):
            res = client.request(method, path, headers=auth)
            assert res.status_code == 409, (path, res.text)
            assert "split layout" in res.text and "Traceback" not in res.text
    assert local_target.hits("/ok") == 0
