"""Keys and scopes over HTTP: admin routes, 401/403 never 500, revocation and expiry, source keys, ?key=."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from tests.auth.helpers import bearer, command_calls, every_value, make_key
from tests.conftest import ADMIN_TOKEN
from tests.redis_helpers import reset_stats
from upstat.api.app import create_app
from upstat.api.deps import require_source_key_query
from upstat.auth import Principal, cache, ensure_source
from upstat.auth import tokens as tk

ADMIN = bearer(ADMIN_TOKEN)
POINT = {"metrics": {"x": 1}}


@pytest.fixture
def http(env: dict[str, str], r: Any) -> Iterator[TestClient]:
    cache.clear()
    with TestClient(create_app()) as client:
        yield client
    cache.clear()


def new_key(http: TestClient, **body: Any) -> dict[str, Any]:
    res = http.post("/v1/keys", json={"name": "test", **body}, headers=ADMIN)
    assert res.status_code == 201, res.text
    return res.json()


def ingest(http: TestClient, token: str, source: str) -> int:
    return http.post("/v1/ingest", json={"source": source, **POINT}, headers=bearer(token)).status_code


def test_the_bootstrap_admin_token_from_the_environment_creates_keys(http: TestClient) -> None:
    created = new_key(http, scopes=["read"], name="grafana")
    assert created["token"].startswith("upk_" + created["key_id"] + "_")
    assert created["status"] == "active" and created["created_by"] == "admin-bootstrap"
    assert created["scopes"] == ["read"] and created["hint"] == f"upk_{created['key_id']}_…"
    listed = http.get("/v1/keys", headers=ADMIN)
    assert listed.status_code == 200


def test_a_key_works_for_its_scope_and_gets_403_outside_it(http: TestClient) -> None:
    reader = new_key(http, scopes=["read"])["token"]
    writer = new_key(http, scopes=["write"])["token"]
    admin = new_key(http, scopes=["admin"])["token"]
    assert http.get("/v1/series", headers=bearer(reader)).status_code == 200
    assert ingest(http, writer, "alice") == 200
    assert ingest(http, admin, "alice") == 200
    denied = http.post("/v1/ingest", json={"source": "a", **POINT}, headers=bearer(reader))
    assert denied.status_code == 403
    assert denied.json() == {
        "status": 403,
        "error": "forbidden",
        "message": "Authorization: this key lacks the 'write' scope",
        "field": "Authorization",
    }
    assert http.get("/v1/series", headers=bearer(writer)).status_code == 403  # write does not imply read
    assert http.get("/v1/keys", headers=bearer(writer)).status_code == 403
    assert http.get("/v1/keys", headers=bearer(admin)).status_code == 200
    used = {k["key_id"]: k["last_used"] for k in http.get("/v1/keys", headers=ADMIN).json()["keys"]}
    assert all(used.values())  # refreshed by the rate-limit script, no extra round trip


def test_a_revoked_key_is_refused_on_the_next_request(http: TestClient) -> None:
    key = new_key(http, scopes=["read"])
    assert http.get("/v1/series", headers=bearer(key["token"])).status_code == 200  # now cached
    res = http.delete(f"/v1/keys/{key['key_id']}", headers=ADMIN)
    assert res.status_code == 200 and res.json()["status"] == "revoked" and res.json()["revoked_at"]
    refused = http.get("/v1/series", headers=bearer(key["token"]))
    assert refused.status_code == 401
    assert refused.json()["error"] == "unauthorized" and "revoked" in refused.json()["message"]
    assert http.get(f"/v1/keys/{key['key_id']}", headers=ADMIN).json()["status"] == "revoked"


def test_a_key_revoked_by_another_process_is_refused_within_the_cache_lifetime(
    http: TestClient, r: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upstat.config import get_settings

    monkeypatch.setenv("UPSTAT_KEY_CACHE_SECONDS", "0.3")
    get_settings.cache_clear()
    key = new_key(http, scopes=["read"])
    assert http.get("/v1/series", headers=bearer(key["token"])).status_code == 200
    r.hset(f"upstat:key:{{{key['key_id']}}}", "revoked_at", "1")  # as the CLI in another process would
    time.sleep(0.35)
    assert http.get("/v1/series", headers=bearer(key["token"])).status_code == 401


def test_an_expired_key_is_refused(http: TestClient, r: Any) -> None:
    # The route's router is built on its first request (0.6 s on a busy machine): before the key's 400 ms.
    http.get("/v1/series")
    token = make_key(r, ("read",), expires_at=int(time.time() * 1000) + 400)
    assert http.get("/v1/series", headers=bearer(token)).status_code == 200
    time.sleep(0.45)
    res = http.get("/v1/series", headers=bearer(token))
    assert res.status_code == 401 and "expired" in res.json()["message"]


def test_keys_can_be_made_to_expire_in_days_or_at_a_time(http: TestClient) -> None:
    in_days = new_key(http, scopes=["read"], expires_in_days=30)
    assert in_days["expires_at"] and in_days["status"] == "active"
    at = new_key(http, scopes=["read"], expires_at="2030-01-01T00:00:00Z")
    assert at["expires_at"].startswith("2030-01-01T00:00:00")
    ms = new_key(http, scopes=["read"], expires_at=1_900_000_000_000)
    assert ms["expires_at"].startswith("2030-03-17")


@pytest.mark.parametrize(
    ("expires", "words"),
    [
        ({"expires_at": "9999-12-31T23:59:59-05:00"}, "at most 3650 days"),
        ({"expires_at": 1_900_000_000}, "looks like epoch seconds"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "must be in the future"),
        ({"expires_in_days": 100_000_000}, "less than or equal to 3650"),
    ],
)
def test_an_expiry_out_of_bounds_is_refused_and_nothing_is_stored(
    http: TestClient, expires: dict[str, Any], words: str
) -> None:
    res = http.post("/v1/keys", json={"name": "far", "scopes": ["read"], **expires}, headers=ADMIN)
    assert res.status_code == 400 and words in res.json()["message"], res.text
    listed = http.get("/v1/keys", headers=ADMIN)
    assert listed.status_code == 200 and listed.json()["count"] == 0


def test_listing_shows_no_token_and_no_digest_anywhere(http: TestClient, r: Any) -> None:
    tokens = [new_key(http, scopes=["write"], source=f"dev-{i}")["token"] for i in range(3)]
    listed = http.get("/v1/keys", headers=ADMIN)
    shown = [http.get(f"/v1/keys/{t.split('_')[1]}", headers=ADMIN).text for t in tokens]
    assert listed.json()["count"] == 3
    stored = every_value(r)
    for token in tokens:
        secret = token.split("_")[2]
        assert secret not in listed.text and all(secret not in s for s in shown)
        assert tk.token_digest(token) not in listed.text and all(
            tk.token_digest(token) not in s for s in shown
        )
        assert token.encode() not in stored and secret.encode() not in stored
    assert "digest" not in listed.text and "token" not in listed.json()["keys"][0]


def test_create_errors_name_the_field(http: TestClient) -> None:
    cases = [
        ({"name": "x", "scopes": ["root"]}, 400, "scopes[0]"),
        ({"name": "x", "scopes": []}, 400, "scopes"),
        ({"name": "x", "scopes": ["admin"], "source": "d"}, 400, "source"),
        (
            {"name": "x", "scopes": ["read"], "expires_in_days": 1, "expires_at": "2099-01-01T00:00:00Z"},
            400,
            "expires_at",
        ),
        ({"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, 400, "expires_at"),
        ({"name": "x", "scopes": ["read"], "expires_in_days": 0}, 400, "expires_in_days"),
        ({"scopes": ["read"]}, 400, "name"),
        ({"name": "x", "scopes": ["read"], "secret": "mine"}, 400, "secret"),
    ]
    for body, status, field in cases:
        res = http.post("/v1/keys", json=body, headers=ADMIN)
        assert (res.status_code, res.json()["field"]) == (status, field), (body, res.text)
    assert http.get("/v1/keys/abcdefghijkl", headers=ADMIN).json()["error"] == "not_found"
    assert http.delete("/v1/keys/nope", headers=ADMIN).status_code == 404


def test_a_source_key_writes_only_its_own_source(http: TestClient) -> None:
    token = new_key(http, scopes=["write"], source="router-17")["token"]
    assert ingest(http, token, "router-17") == 200
    res = http.post("/v1/ingest", json={"source": "router-18", **POINT}, headers=bearer(token))
    assert res.status_code == 403 and res.json()["field"] == "source"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "bearer    ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer a b c",
        "Bearer " + "x" * 20_000,
        "Bearer upk_" + "x" * 5000,
        "Bearer upk_",
        "Bearer upk_a_b_c",
        "Bearer \x7f\x01",
        "Bearer tést-tökén".encode().decode("latin-1"),
        "Bearer " + ADMIN_TOKEN + "x",
        "Bearer " + ADMIN_TOKEN[:-1],
    ],
)
def test_garbage_authorization_is_401_in_the_envelope(http: TestClient, header: str) -> None:
    res = http.get("/v1/series", headers={"Authorization": header.encode("latin-1")})  # type: ignore[dict-item]
    assert res.status_code == 401, res.text
    body = res.json()
    assert body["status"] == 401 and body["error"] == "unauthorized" and body["field"] == "Authorization"


def test_missing_and_unknown_tokens_are_401(http: TestClient) -> None:
    assert http.get("/v1/keys").status_code == 401
    unknown = tk.new_token().token
    res = http.get("/v1/keys", headers=bearer(unknown))
    assert res.status_code == 401 and res.json()["message"] == "Authorization: unknown token"


def test_a_right_key_id_with_a_wrong_secret_is_unknown(http: TestClient) -> None:
    key = new_key(http, scopes=["read"])
    forged = tk.new_token(key["key_id"]).token
    assert http.get("/v1/series", headers=bearer(key["token"])).status_code == 200
    res = http.get("/v1/series", headers=bearer(forged))
    assert res.status_code == 401 and res.json()["message"] == "Authorization: unknown token"


def test_a_typo_is_not_looked_up_but_counts_against_its_address(http: TestClient, r: Any) -> None:
    token = new_key(http, scopes=["read"])["token"]
    typo = token[:-1] + ("a" if token[-1] != "a" else "b")
    reset_stats(r)
    res = http.get("/v1/keys", headers=bearer(typo))
    assert res.status_code == 401
    assert res.json()["message"] == "Authorization: malformed token (mistyped? its checksum does not match)"
    calls = command_calls(r)
    assert calls.get("evalsha") == 1 and "hgetall" not in calls  # the address bucket; no key lookup


@pytest.mark.parametrize(
    "header",
    [
        "Bearer guess-admin-password",  # not an API key: compared with the bootstrap token only
        "Bearer upk_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb_00000000",  # a bad checksum
        "Bearer " + "x" * 600,  # malformed
        "Basic YWRtaW46YWRtaW4=",  # not a bearer token at all
    ],
)
def test_every_refused_credential_counts_against_its_address(
    env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch, header: str
) -> None:
    from upstat.config import get_settings

    monkeypatch.setenv("UPSTAT_RATE_LIMIT_PER_IP", "20")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        codes = [client.get("/v1/keys", headers={"Authorization": header}).status_code for _ in range(25)]
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}


def test_the_bootstrap_admin_token_from_an_ssm_securestring(
    env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from moto import mock_aws

    from upstat import aws
    from upstat.config import get_settings

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("UPSTAT_ADMIN_TOKEN")
    monkeypatch.setenv("UPSTAT_ADMIN_TOKEN_SSM_PARAMETER", "/upstat/test/admin")
    get_settings.cache_clear()
    aws.reset()
    try:
        with mock_aws():
            boto3.client("ssm").put_parameter(
                Name="/upstat/test/admin", Value="from-ssm-0123456789", Type="SecureString"
            )
            with TestClient(create_app()) as client:
                assert client.get("/v1/keys", headers=bearer("from-ssm-0123456789")).status_code == 200
                assert client.get("/v1/keys", headers=ADMIN).status_code == 401  # the env token is gone
                created = client.post(
                    "/v1/keys", json={"name": "n", "scopes": ["read"]}, headers=bearer("from-ssm-0123456789")
                )
                assert created.status_code == 201
    finally:
        aws.reset()


def test_an_unreadable_ssm_parameter_is_a_503_not_a_500(
    env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    from upstat import aws
    from upstat.config import get_settings

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("UPSTAT_ADMIN_TOKEN")
    monkeypatch.setenv("UPSTAT_ADMIN_TOKEN_SSM_PARAMETER", "/upstat/test/missing")
    get_settings.cache_clear()
    aws.reset()
    try:
        with mock_aws(), TestClient(create_app()) as client:
            res = client.get("/v1/keys", headers=bearer("anything"))
            assert res.status_code == 503 and res.json()["error"] == "store_unavailable"
    finally:
        aws.reset()


# --- ?key= (OpenWISP-style device pushes) ---


@pytest.fixture
def device_http(env: dict[str, str], r: Any) -> Iterator[TestClient]:
    from fastapi import Depends

    cache.clear()
    app = create_app()
    router = APIRouter()

    @router.post("/test/device/{source}/")
    def push(source: str, caller: Principal = Depends(require_source_key_query())) -> dict[str, str]:
        ensure_source(caller, source)
        return {"source": source, "by": caller.key_id}

    app.include_router(router)
    with TestClient(app) as client:
        yield client


def test_a_source_key_is_accepted_as_key_in_the_query_where_the_route_declares_it(
    device_http: TestClient,
) -> None:
    key = new_key(device_http, scopes=["write"], source="dev-1")
    res = device_http.post("/test/device/dev-1/", params={"key": key["token"]})
    assert res.status_code == 200 and res.json() == {"source": "dev-1", "by": key["key_id"]}
    assert device_http.post("/test/device/dev-2/", params={"key": key["token"]}).status_code == 403
    assert device_http.post("/test/device/dev-1/", headers=bearer(key["token"])).status_code == 200


def test_only_source_keys_are_accepted_in_the_query(device_http: TestClient) -> None:
    general = new_key(device_http, scopes=["write"])["token"]
    res = device_http.post("/test/device/dev-1/", params={"key": general})
    assert res.status_code == 401 and res.json()["field"] == "key"
    assert device_http.post("/test/device/dev-1/", params={"key": ADMIN_TOKEN}).status_code == 401
    assert device_http.post("/test/device/dev-1/", params={"key": "upk_typo"}).json()["field"] == "key"
    assert device_http.post("/test/device/dev-1/").status_code == 401


def test_key_in_the_query_is_ignored_by_other_routes(http: TestClient) -> None:
    token = new_key(http, scopes=["write"], source="dev-1")["token"]
    res = http.post("/v1/ingest", params={"key": token}, json={"source": "dev-1", **POINT})
    assert res.status_code == 401 and res.json()["message"] == "Authorization: a bearer token is required"


def test_no_log_line_holds_a_query_key_or_a_bearer_token(
    device_http: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key(device_http, scopes=["write"], source="dev-1")
    secret = key["token"].split("_")[2]
    caplog.set_level(logging.DEBUG)
    device_http.post("/test/device/dev-1/", params={"key": key["token"], "time": "1"})
    device_http.get("/v1/series", params={"key": key["token"]}, headers=bearer(ADMIN_TOKEN))
    logging.getLogger("upstat.anything").warning("GET /api/v1/monitoring/device/1/?key=%s", key["token"])
    logging.getLogger("other.library").info("headers %s", {"authorization": f"Bearer {ADMIN_TOKEN}"})
    lines = [caplog.handler.format(rec) for rec in caplog.records]
    assert any("key=[REDACTED]" in line for line in lines)  # the request lines were logged, redacted
    for line in lines:
        assert secret not in line and key["token"] not in line and ADMIN_TOKEN not in line


def test_a_source_key_lists_its_own_source(http: TestClient, r: Any) -> None:
    token = make_key(r, ("read", "write"), source="alice")
    assert ingest(http, token, "alice") == 200
    listing = http.get("/v1/series", headers=bearer(token))
    assert listing.status_code == 200 and listing.json() == {"source": "alice", "metrics": ["x"]}
    assert http.get("/v1/series", params={"metric": "x"}, headers=bearer(token)).status_code == 403
