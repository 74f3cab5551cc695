"""Hand-made hostile values schemathesis does not produce: NaN and Infinity tokens, 1e309, booleans where
numbers go, times in seconds and beyond year 9999, ids with the characters Redis keys and cluster hash tags
care about, unicode, and a 10 MB body. Each is refused with a 4xx naming a field (or stored exactly as
sent, where it is a valid name), never a 5xx, and a refused request changes nothing stored."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_TOKEN
from tests.redis_helpers import all_keys
from upstat.api.app import create_app

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
NOW = int(time.time() * 1000)


@pytest.fixture
def http(env: dict[str, str], r: Any) -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        yield client


def _snapshot(r: Any) -> dict[bytes, Any]:
    keys = [k for k in all_keys(r) if not k.endswith(b":rate") and b":rate:" not in k]
    return {key: r.dump(key) for key in keys}


# Raw JSON texts (the json module would refuse to write some of them), each a request that must be refused.
INGEST = [
    ('{"source": "a", "metrics": {"m": NaN}}', "metrics.m"),
    ('{"source": "a", "metrics": {"m": Infinity}}', "metrics.m"),
    ('{"source": "a", "metrics": {"m": -Infinity}}', "metrics.m"),
    ('{"source": "a", "metrics": {"m": 1e309}}', "metrics.m"),
    ('{"source": "a", "metrics": {"m": true}}', "metrics.m"),
    ('{"source": "a", "metrics": {"m": "1"}}', "metrics.m"),
    (f'{{"source": "a", "time": {NOW // 1000}, "metrics": {{"m": 1}}}}', "time"),
    ('{"source": "a", "time": 253402300800000, "metrics": {"m": 1}}', "time"),
    ('{"source": "a", "time": "10000-01-01T00:00:00Z", "metrics": {"m": 1}}', "time"),
    ('{"source": "a", "time": true, "metrics": {"m": 1}}', "time"),
    ('{"source": "a\\u0000b", "metrics": {"m": 1}}', "source"),
    ('{"source": "a\\u2028b", "metrics": {"m": 1}}', "source"),
    ('{"source": " a", "metrics": {"m": 1}}', "source"),
    ('{"source": "a", "metrics": {"m\\u0007": 1}}', "metrics"),
    ('{"source": "' + "x" * 201 + '", "metrics": {"m": 1}}', "source"),
    ('{"source": "a", "points": [{"metric": "m", "value": 1, "time": 1e30}]}', "points[0].time"),
    ('{"source": "a", "points": [{"metric": "m", "value": 1}, {"metric": "m", "value": NaN}]}', "points[1]"),
]


@pytest.mark.parametrize(("text", "field"), INGEST)
def test_hostile_ingest_values_are_refused_naming_the_field_and_store_nothing(
    http: TestClient, r: Any, text: str, field: str
) -> None:
    before = _snapshot(r)
    res = http.post("/v1/ingest", content=text.encode(), headers=AUTH)
    assert res.status_code == 400, res.text
    assert res.json()["field"].startswith(field), res.json()
    assert _snapshot(r) == before


NAMES = ["{tag}", "a{b}c", "a:b", "a*b", "a?b[c]", "ключ", "名前", "emoji-😀", "a/b\\c"]


@pytest.mark.parametrize("name", NAMES)
def test_names_redis_and_cluster_tags_care_about_are_stored_as_sent_and_read_back(
    http: TestClient, name: str
) -> None:
    body = {"source": name, "metrics": {name: 1.5}}
    assert http.post("/v1/ingest", json=body, headers=AUTH).status_code == 200
    assert name in http.get("/v1/series", headers=AUTH).json()["sources"]
    chart = http.get("/v1/chart", params={"source": name, "metric": name, "range": "1h"}, headers=AUTH)
    assert chart.status_code == 200 and 1.5 in [v for _, v in chart.json()["points"]]
    others = http.get("/v1/series", params={"source": name + "x"}, headers=AUTH).json()
    assert name not in json.dumps(others.get("metrics", []))  # a glob-like id matched nothing else


SERVICE = [
    ({"name": "s", "url": "https://example.com", "interval": float("nan")}, "interval"),
    ({"name": "s", "url": "https://example.com", "interval": True}, "interval"),
    ({"name": "s", "url": "https://example.com", "interval": 1e309}, "interval"),
    ({"name": "s", "url": "https://example.com", "timeout": -1}, "timeout"),
    ({"name": "s{x}", "url": "https://exa mple.com"}, "url"),
    ({"name": "a/b", "url": "https://example.com"}, "name"),
    ({"name": "s", "url": "https://example.com", "headers": {"X": "a\r\nInjected: 1"}}, "headers"),
]


@pytest.mark.parametrize(("body", "field"), SERVICE)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_hostile_service_values_are_refused_on_every_method(
    http: TestClient, r: Any, body: dict[str, Any], field: str, method: str
) -> None:
    first = {"name": "s", "url": "https://example.com"}
    assert http.post("/v1/services", json=first, headers=AUTH).is_success
    before = _snapshot(r)
    text = json.dumps(body, allow_nan=True).replace("1e309", "Infinity")
    if method == "POST":
        res = http.post("/v1/services", content=text.replace('"name": "s"', '"name": "t"'), headers=AUTH)
    else:
        res = http.patch("/v1/services/s", content=text, headers=AUTH)
    assert 400 <= res.status_code < 500 and res.status_code != 404, res.text
    assert field in json.dumps(res.json()), res.json()
    assert _snapshot(r) == before


def test_a_10_mb_body_is_413_naming_the_body_and_nothing_is_stored(http: TestClient, r: Any) -> None:
    before = _snapshot(r)
    points = [{"metric": "m", "value": 1, "time": NOW - i} for i in range(200_000)]
    text = json.dumps({"source": "a", "points": points}).encode()
    text += b" " * max(0, 10_000_000 - len(text))
    res = http.post("/v1/ingest", content=text, headers=AUTH)
    assert res.status_code == 413 and res.json()["field"] == "body"
    assert _snapshot(r) == before
