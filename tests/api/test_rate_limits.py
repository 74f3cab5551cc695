"""Rate limits over HTTP: per key, per client address, 429 with Retry-After, the Redis cost per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.auth.helpers import bearer, command_calls, counting_round_trips, make_key
from tests.conftest import ADMIN_TOKEN
from tests.redis_helpers import all_keys, reset_stats
from upstat.api.app import create_app
from upstat.auth import cache
from upstat.auth import tokens as tk
from upstat.config import get_settings


@pytest.fixture
def limits(env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Small limits set through the environment (the tests change them before building the app)."""
    cache.clear()
    yield monkeypatch
    cache.clear()


SCRIPT_INTERNAL = {"time", "get", "set", "exists", "hget", "hset"}


def top_level(calls: dict[str, int]) -> dict[str, int]:
    return {name: n for name, n in calls.items() if name not in SCRIPT_INTERNAL}


def app_with(monkeypatch: pytest.MonkeyPatch, **settings: str) -> TestClient:
    for name, value in settings.items():
        monkeypatch.setenv(f"UPSTAT_{name.upper()}", value)
    get_settings.cache_clear()
    return TestClient(create_app())


def test_a_key_over_its_limit_gets_429_with_retry_after(limits: pytest.MonkeyPatch, r: Any) -> None:
    http = app_with(limits, rate_limit_per_key="3", rate_limit_window_s="60")
    token, other = make_key(r, ("read",)), make_key(r, ("read",))
    assert [http.get("/v1/series", headers=bearer(token)).status_code for _ in range(3)] == [200] * 3
    refused = http.get("/v1/series", headers=bearer(token))
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "20"  # one request per 60/3 s
    assert refused.json()["error"] == "rate_limited" and refused.json()["status"] == 429
    assert http.get("/v1/series", headers=bearer(other)).status_code == 200  # per key, not global
    buckets = {k.decode() for k in all_keys(r, "upstat:*rate*")}
    assert buckets == {
        f"upstat:key:{{{token.split('_')[1]}}}:rate",
        f"upstat:key:{{{other.split('_')[1]}}}:rate",
    }
    assert not any(token.split("_")[2] in b for b in buckets)  # keyed by key id, never the secret


def test_the_bootstrap_admin_token_is_limited_too(limits: pytest.MonkeyPatch) -> None:
    http = app_with(limits, rate_limit_per_key="2")
    codes = [http.get("/v1/keys", headers=bearer(ADMIN_TOKEN)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_anonymous_public_reads_are_limited_per_client_address(limits: pytest.MonkeyPatch) -> None:
    for name, value in {"public_read": "true", "rate_limit_per_ip": "2"}.items():
        limits.setenv(f"UPSTAT_{name.upper()}", value)
    get_settings.cache_clear()
    app = create_app()
    first = TestClient(app, client=("192.0.2.1", 5000))
    second = TestClient(app, client=("192.0.2.2", 5000))
    assert [first.get("/v1/series").status_code for _ in range(3)] == [200, 200, 429]
    assert int(first.get("/v1/series").headers["Retry-After"]) == 30
    assert second.get("/v1/series").status_code == 200
    v6a, v6b = TestClient(app, client=("2001:db8::1", 1)), TestClient(app, client=("2001:db8::2", 1))
    assert [
        v6a.get("/v1/series").status_code,
        v6b.get("/v1/series").status_code,
        v6a.get("/v1/series").status_code,
    ] == [
        200,
        200,
        429,
    ]  # one /64


def test_guessing_tokens_is_limited_per_client_address(limits: pytest.MonkeyPatch) -> None:
    http = app_with(limits, rate_limit_per_ip="3")
    codes = [http.get("/v1/keys", headers=bearer(tk.new_token().token)).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]


def test_many_keys_behind_one_address_are_not_limited_by_the_address(
    limits: pytest.MonkeyPatch, r: Any
) -> None:
    http = app_with(limits, rate_limit_per_ip="2", rate_limit_per_key="100")
    tokens = [make_key(r, ("write",), source=f"dev-{i}") for i in range(5)]
    for _ in range(3):
        for i, token in enumerate(tokens):
            res = http.post(
                "/v1/ingest", json={"source": f"dev-{i}", "metrics": {"x": 1}}, headers=bearer(token)
            )
            assert res.status_code == 200, res.text


def test_behind_api_gateway_the_source_ip_is_the_client_address(limits: pytest.MonkeyPatch) -> None:
    from mangum import Mangum

    from tests.functions.conftest import LambdaContext, load_event

    for name, value in {"public_read": "true", "rate_limit_per_ip": "1"}.items():
        limits.setenv(f"UPSTAT_{name.upper()}", value)
    get_settings.cache_clear()
    handler = Mangum(create_app(), lifespan="off")

    def call(source_ip: str, forwarded_for: str) -> int:
        event = load_event("apigw_http_v2")
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/v1/series"
        event["requestContext"]["http"]["sourceIp"] = source_ip
        event["headers"]["x-forwarded-for"] = forwarded_for
        return int(handler(event, LambdaContext())["statusCode"])  # type: ignore[arg-type]

    assert call("203.0.113.10", "198.51.100.1") == 200
    assert call("203.0.113.10", "198.51.100.2") == 429  # a forged X-Forwarded-For does not buy a new bucket
    assert call("203.0.113.11", "198.51.100.1") == 200


def test_an_authenticated_request_costs_one_round_trip_and_one_command(
    limits: pytest.MonkeyPatch, r: Any
) -> None:
    http = app_with(limits)
    token = make_key(r, ("read",))
    http.get("/v1/retention", headers=bearer(token))  # warms the engine's retention cache and the client
    cache.clear()
    with counting_round_trips(limits) as trips:
        reset_stats(r)
        trips.enabled = True
        assert http.get("/v1/retention", headers=bearer(token)).status_code == 200  # key not cached
        trips.enabled = False
        cold = (trips.count, command_calls(r))
        trips.count = 0
        reset_stats(r)
        trips.enabled = True
        for _ in range(10):
            assert http.get("/v1/retention", headers=bearer(token)).status_code == 200
        trips.enabled = False
        warm = (trips.count, command_calls(r))
    # Commands sent by the client; the rest of commandstats (TIME, GET, SET...) runs inside the script.
    assert cold[0] == 1 and top_level(cold[1]) == {"hgetall": 1, "evalsha": 2}  # record, key, address look
    assert warm[0] == 10 and top_level(warm[1]) == {"evalsha": 10}  # steady state: one EVALSHA per request


def test_an_anonymous_read_costs_one_round_trip(limits: pytest.MonkeyPatch, r: Any) -> None:
    http = app_with(limits, public_read="true")
    http.get("/v1/retention")
    with counting_round_trips(limits) as trips:
        reset_stats(r)
        trips.enabled = True
        for _ in range(5):
            assert http.get("/v1/retention").status_code == 200
        trips.enabled = False
    assert (trips.count, top_level(command_calls(r))) == (5, {"evalsha": 5})


@pytest.mark.cluster
def test_keys_and_limits_work_on_a_cluster(cluster_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from upstat.store.client import get_redis

    cache.clear()
    http = app_with(monkeypatch, rate_limit_per_key="3", rate_limit_per_ip="2")
    token = make_key(get_redis(), ("read",))
    assert [http.get("/v1/retention", headers=bearer(token)).status_code for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]
    guesses = [http.get("/v1/keys", headers=bearer(tk.new_token().token)).status_code for _ in range(3)]
    assert guesses == [401, 401, 429]
    cache.clear()


def test_a_refused_token_pays_a_second_round_trip_and_leaves_no_key_bucket(
    limits: pytest.MonkeyPatch, r: Any
) -> None:
    # One request per 10 s and key: the bootstrap token's bucket, charged once, outlives the test on a slow
    # machine (at the default 600 a minute it expired 100 ms later, and the last line found no bucket).
    http = app_with(limits, rate_limit_per_ip="1", rate_limit_per_key="6")
    http.get("/v1/retention", headers=bearer(ADMIN_TOKEN))
    costs = []
    with counting_round_trips(limits) as trips:
        for expected in (401, 429, 429):
            trips.count, trips.enabled = 0, True
            assert http.get("/v1/keys", headers=bearer(tk.new_token().token)).status_code == expected
            trips.enabled = False
            costs.append(trips.count)
    assert costs == [2, 1, 1]  # lookup + address charge; then the look alone says 429
    assert [k.decode() for k in all_keys(r, "upstat:key:*")] == ["upstat:key:{admin-bootstrap}:rate"]
