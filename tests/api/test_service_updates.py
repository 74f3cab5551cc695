"""Service changes on every method: one table of bad values for POST, PATCH (/v1) and PUT (OpenUptimes),
each a 400 naming the field in its dialect's shape with nothing changed; and the targets' secrets, hidden
from every response unless an admin asks, kept when sent back hidden."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.auth.helpers import bearer, make_key
from tests.conftest import ADMIN_TOKEN
from upstat.api.app import create_app

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
GOOD = {"name": "api", "url": "https://example.com/health", "timeout": 5000, "interval": 60}

#: (change, field named): each refused on create, on PATCH /v1/services/{name} and PUT /api/services.
BAD = [
    ({"timeout": 50}, "timeout"),
    ({"timeout": "abc"}, "timeout"),
    ({"timeout": 61_000}, "timeout"),
    ({"url": None}, "url"),
    ({"url": "ftp://example.com"}, "url"),
    ({"method": "FOO"}, "method"),
    ({"tags": "x"}, "tags"),
    ({"interval": 5}, "interval"),
    ({"interval": True}, "interval"),
    ({"expectedStatus": "abc"}, "expectedStatus"),
    ({"headers": {"bad name": "x"}}, "headers"),
    ({"confirmations": {"down": 0}}, "confirmations.down"),
    ({"kind": "smtp"}, "kind"),
    ({"webhooks": ["not a url"]}, "webhooks"),
    ({"name": "a/b"}, "name"),
    ({"name": "a\x00b"}, "name"),
    ({"invert": True, "keywordAbsent": False}, "body"),
    ({"degradedMs": 9000}, "degradedMs"),
]


@pytest.fixture
def http(env: dict[str, str], r: Any) -> Iterator[TestClient]:
    with TestClient(create_app()) as client:
        assert client.post("/v1/services", json=GOOD, headers=AUTH).status_code == 201
        yield client


def stored(http: TestClient) -> dict[str, Any]:
    return dict(http.get("/v1/services/api?reveal=true", headers=AUTH).json())


@pytest.mark.parametrize(("change", "field"), BAD, ids=[str(c) for c, _ in BAD])
def test_bad_values_are_400_naming_the_field_on_every_method(
    http: TestClient, change: dict[str, Any], field: str
) -> None:
    before = stored(http)
    created = http.post("/v1/services", json={**GOOD, "name": "other", **change}, headers=AUTH)
    patched = http.patch("/v1/services/api", json=change, headers=AUTH)
    put = http.put("/api/services", params={"name": "api"}, json=change, headers=AUTH)
    for res in (created, patched):
        assert res.status_code == 400, res.text
        if field != "body":
            assert res.json()["field"].startswith(field.split(".")[0]), res.json()
    assert put.status_code == 400 and put.json()["error"] is True and put.json()["status"] == 400
    assert stored(http) == before


def test_invert_and_keyword_absent_are_one_rule_on_create_and_update(http: TestClient) -> None:
    both = {"keyword": "ok", "invert": True, "keywordAbsent": False}
    assert http.post("/v1/services", json={**GOOD, "name": "x", **both}, headers=AUTH).status_code == 400
    assert http.patch("/v1/services/api", json=both, headers=AUTH).status_code == 400
    res = http.patch("/v1/services/api", json={"keyword": "ok", "invert": True}, headers=AUTH)
    assert res.status_code == 200 and res.json()["keywordAbsent"] is True


def test_a_missing_url_says_it_is_required(http: TestClient) -> None:
    res = http.post("/v1/services", json={"name": "nourl"}, headers=AUTH)
    assert res.status_code == 400 and res.json()["field"] == "url"
    assert "url is required for a http check" in res.json()["message"]
    res = http.post("/v1/services", json={"url": "https://example.com"}, headers=AUTH)
    assert res.json()["message"] == "name: is required"


SECRET_SERVICE = {
    "name": "private",
    "url": "https://example.com/health?api_key=url-secret&region=eu",
    "headers": {"Authorization": "Bearer header-secret", "Accept": "application/json"},
    "method": "POST",
    "body": '{"password": "body-secret"}',
    "webhooks": ["https://hooks.example.com/services/T000/B000/webhook-secret"],
}
SECRETS = ("url-secret", "header-secret", "body-secret", "webhook-secret")


def test_target_secrets_are_hidden_from_every_response(
    http: TestClient, r: Any, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = bearer(make_key(r, ("read",))), bearer(make_key(r, ("write",)))
    with caplog.at_level(logging.DEBUG):
        answers = [
            http.post("/v1/services", json=SECRET_SERVICE, headers=writer),
            http.get("/v1/services", headers=reader),
            http.get("/v1/services/private", headers=reader),
            http.get("/v1/services", headers=AUTH),  # admins too, unless they ask
            http.patch("/v1/services/private", json={"description": "d"}, headers=writer),
            http.get("/v1/status", headers=reader),
            http.get("/v1/services/private/status", headers=reader),
            http.get("/api/services", headers=reader),
            http.put("/api/services", params={"name": "private"}, json={"timeout": 4000}, headers=writer),
        ]
    for res in answers:
        assert res.status_code in (200, 201), res.text
        assert not any(secret in res.text for secret in SECRETS), res.text
    assert not any(secret in caplog.text for secret in SECRETS)
    shown = http.get("/v1/services/private", headers=reader).json()
    assert shown["headers"] == {"Authorization": "********", "Accept": "********"}
    assert shown["url"] == "https://example.com/health?api_key=********&region=eu"
    assert shown["webhooks"] == ["https://hooks.example.com/********"] and shown["body"] == "********"


def test_only_an_admin_who_asks_sees_them(http: TestClient, r: Any) -> None:
    http.post("/v1/services", json=SECRET_SERVICE, headers=AUTH)
    reader = bearer(make_key(r, ("read", "write")))
    refused = http.get("/v1/services/private", params={"reveal": "true"}, headers=reader)
    assert refused.status_code == 403 and refused.json()["field"] == "reveal"
    assert http.get("/v1/services", params={"reveal": "true"}, headers=reader).status_code == 403
    revealed = http.get("/v1/services/private", params={"reveal": "true"}, headers=AUTH).json()
    assert all(secret in str(revealed) for secret in SECRETS)


def test_hidden_values_sent_back_keep_the_stored_ones(http: TestClient, r: Any) -> None:
    http.post("/v1/services", json=SECRET_SERVICE, headers=AUTH)
    writer = bearer(make_key(r, ("read", "write")))
    shown = http.get("/v1/services/private", headers=writer).json()
    editable = {k: shown[k] for k in ("url", "headers", "body", "webhooks")}
    res = http.patch("/v1/services/private", json={**editable, "description": "edited"}, headers=writer)
    assert res.status_code == 200, res.text
    six = http.get("/api/services", headers=writer).json()["services"]
    put = {k: v for k, v in next(s for s in six if s["name"] == "private").items() if k != "name"}
    assert http.put("/api/services", params={"name": "private"}, json=put, headers=writer).status_code == 200
    revealed = http.get("/v1/services/private", params={"reveal": "true"}, headers=AUTH).json()
    for key in ("url", "headers", "body", "webhooks"):
        assert revealed[key] == SECRET_SERVICE[key], key
    assert revealed["description"] == "edited"
    unknown = http.patch("/v1/services/private", json={"headers": {"X-New": "********"}}, headers=writer)
    assert unknown.status_code == 400 and unknown.json()["field"] == "headers.X-New"


def test_two_hidden_webhooks_on_one_host_keep_their_own_urls(http: TestClient, r: Any) -> None:
    hooks = ["https://hooks.example.com/hookA?token=A", "https://hooks.example.com/hookB?token=B"]
    http.post("/v1/services", json={**GOOD, "name": "two", "webhooks": hooks}, headers=AUTH)
    shown = http.get("/v1/services/two", headers=AUTH).json()["webhooks"]
    assert shown == ["https://hooks.example.com/********"] * 2
    assert http.patch("/v1/services/two", json={"webhooks": shown}, headers=AUTH).status_code == 200
    assert http.patch("/v1/services/two", json={"webhooks": shown[::-1]}, headers=AUTH).status_code == 200
    assert http.get("/v1/services/two?reveal=true", headers=AUTH).json()["webhooks"] == hooks
    one = http.patch("/v1/services/two", json={"webhooks": [shown[0]]}, headers=AUTH)
    assert one.status_code == 200  # position 0: hookA
    assert http.get("/v1/services/two?reveal=true", headers=AUTH).json()["webhooks"] == hooks[:1]


def test_a_hidden_query_value_is_kept_when_another_parameter_changes(http: TestClient) -> None:
    url = "https://example.com/health?api_key=url-secret&region=eu"
    http.post("/v1/services", json={**GOOD, "name": "q", "url": url}, headers=AUTH)
    shown = http.get("/v1/services/q", headers=AUTH).json()["url"]
    changed = shown.replace("region=eu", "region=us")
    assert http.patch("/v1/services/q", json={"url": changed}, headers=AUTH).status_code == 200
    stored = http.get("/v1/services/q?reveal=true", headers=AUTH).json()["url"]
    assert stored == "https://example.com/health?api_key=url-secret&region=us"
    bad = http.patch("/v1/services/q", json={"url": "https://example.com/?token=********"}, headers=AUTH)
    assert bad.status_code == 400 and bad.json()["field"] == "url"


@pytest.mark.parametrize(("sent", "kept"), [(131.0, 131), ([200.0, "300-302"], "200,300-302")])
def test_an_expected_status_written_as_a_whole_float_is_that_code(
    http: TestClient, sent: Any, kept: Any
) -> None:
    # JSON Schema counts 131.0 as an integer (the contract test sends it): refusing it broke the document.
    created = http.post(
        "/api/services", json={**GOOD, "name": "floaty", "expectedStatus": sent}, headers=AUTH
    )
    assert created.status_code == 200, created.text
    assert http.get("/v1/services/floaty", headers=AUTH).json()["expectedStatus"] == kept
