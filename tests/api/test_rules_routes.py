"""/v1/rules over HTTP: a rule made from an expression or from fields, refusals naming the field, the
series' states a rule shows once the rollup run evaluated it, changes and deletion."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import AUTH, now_ms
from tests.auth.helpers import bearer, make_key
from upstat.rules.run import evaluate_rules
from upstat.timeseries import timemath as tm
from upstat.timeseries.retention import current_engine


def make(client: TestClient, **body: Any) -> Any:
    answer = client.post("/v1/rules", json={"name": "slow api", "source": "api", **body}, headers=AUTH)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_rule_from_an_expression_reads_back_as_fields_and_as_its_expression(client: TestClient) -> None:
    ops = client.post(
        "/v1/channels",
        json={"name": "ops", "kind": "webhook", "config": {"url": "https://x.io/h"}},
        headers=AUTH,
    ).json()["id"]
    made = make(client, expression="p95(response_ms, 15m) > 800 for 3", channels=[ops])
    assert {k: made[k] for k in ("metric", "aggregate", "window", "op", "threshold", "for")} == {
        "metric": "response_ms",
        "aggregate": "p95",
        "window": "15m",
        "op": ">",
        "threshold": 800.0,
        "for": 3,
    }
    assert made["expression"] == "p95(response_ms, 15m) > 800 for 3" and made["channels"] == [ops]
    fields = make(client, metric="bytes_received", aggregate="increase", window="1h", op="<", threshold=1)
    assert fields["expression"] == "increase(bytes_received, 1h) < 1" and fields["for"] == 1
    listed = client.get("/v1/rules", headers=AUTH).json()
    assert listed["count"] == 2 and [x["id"] for x in listed["rules"]] == [made["id"], fields["id"]]


def test_bad_rules_are_refused_with_400_naming_the_field(client: TestClient) -> None:
    cases = [
        ({"expression": "p95(response_ms, 1m) > 800"}, "window"),
        ({"expression": "absent(duration, 26h) > 0"}, "op"),
        ({"expression": "avg(x, 15m) > 1", "metric": "x"}, "expression"),
        ({"expression": "avg(x, 15m) > 1", "kind": "device"}, "source"),
        ({"metric": "x", "aggregate": "avg", "window": "15m"}, "op"),
        ({"expression": "nonsense"}, "expression"),
        ({"expression": "avg(x, 15m) > 1", "channels": ["no-such-channel"]}, "channels[0]"),
    ]
    for body, field in cases:
        answer = client.post("/v1/rules", json={"name": "n", "source": "api", **body}, headers=AUTH)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["message"].startswith(f"{field}: "), answer.json()
    answer = client.post("/v1/rules", json={"source": "api", "expression": "avg(x, 5m) > 1"}, headers=AUTH)
    assert answer.status_code == 400 and "name" in answer.text
    assert client.get("/v1/rules", headers=AUTH).json()["count"] == 0
    made = make(client, expression="avg(x, 15m) > 1")
    answer = client.patch(f"/v1/rules/{made['id']}", json={"channels": ["gone"]}, headers=AUTH)
    assert answer.status_code == 400 and answer.json()["message"].startswith("channels[0]: no channel 'gone'")
    assert client.get(f"/v1/rules/{made['id']}", headers=AUTH).json()["channels"] == []


def test_increase_of_a_gauge_series_is_refused(client: TestClient, r: Any) -> None:
    current_engine(r, fresh=True).write("api", "response_ms", [(now_ms(), 12.0)])
    answer = client.post(
        "/v1/rules",
        json={"name": "n", "source": "api", "expression": "increase(response_ms, 1h) < 1"},
        headers=AUTH,
    )
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("aggregate: increase needs a counter series; api/response_ms")


def test_a_rule_shows_each_series_state_value_and_since_after_an_evaluation(
    client: TestClient, r: Any
) -> None:
    made = make(client, source=None, kind="device", expression="max(temperature, 5m) > 70 for 2")
    for device in ("ap-1", "ap-2"):
        assert client.post("/v1/sources", json={"id": device, "kind": "device"}, headers=AUTH).is_success
    engine = current_engine(r, fresh=True)
    now = now_ms()
    slot = now - now % (5 * tm.MINUTE)
    engine.write("ap-1", "temperature", [(slot - tm.MINUTE, 40.0)], now=now)
    engine.write("ap-2", "temperature", [(slot - tm.MINUTE, 90.0)], now=now)
    evaluate_rules(r, engine, now=now)
    shown = client.get(f"/v1/rules/{made['id']}", headers=AUTH).json()
    assert shown["series"] == [
        {"source": "ap-1", "state": "ok", "value": 40.0, "since": slot, "evaluatedAt": slot, "breaches": 0},
        {
            "source": "ap-2",
            "state": "pending",
            "value": 90.0,
            "since": slot,
            "evaluatedAt": slot,
            "breaches": 1,
        },
    ]


def test_a_rule_is_changed_disabled_and_deleted_by_admin_only(client: TestClient, r: Any) -> None:
    made = make(client, expression="avg(response_ms, 15m) > 800")
    reader = bearer(make_key(r, ("read",)))
    assert client.get(f"/v1/rules/{made['id']}", headers=reader).status_code == 200
    assert client.patch(f"/v1/rules/{made['id']}", json={"enabled": False}, headers=reader).status_code == 403
    changed = client.patch(
        f"/v1/rules/{made['id']}",
        json={"expression": "absent(response_ms, 1h)", "enabled": False},
        headers=AUTH,
    ).json()
    assert (changed["expression"], changed["op"], changed["enabled"]) == (
        "absent(response_ms, 1h)",
        None,
        False,
    )
    assert changed["name"] == "slow api" and changed["createdAt"] == made["createdAt"]
    assert client.delete(f"/v1/rules/{made['id']}", headers=AUTH).json() == {"deleted": made["id"]}
    missing = client.get(f"/v1/rules/{made['id']}", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["message"].startswith("id: no rule")
