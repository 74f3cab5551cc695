"""Targets the SSRF guard will never contact are refused when a service is created or changed (400 naming
the field and the reason), in every form of address literal the guard reads; names that resolve to such
addresses are still refused at check time, saying so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_TOKEN
from upstat.api.app import create_app
from upstat.config import get_settings

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def http(env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("UPSTAT_ALLOWED_TARGETS", "127.0.0.0/8")  # loopback v4 only: ::1 stays refused
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        yield client


REFUSED = [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://2852039166/", "link-local"),  # 169.254.169.254 as one decimal number
    ("http://0xa9fea9fe/", "link-local"),  # hex
    ("http://0251.0376.0251.0376/", "link-local"),  # octal
    ("http://[::ffff:169.254.169.254]/", "link-local"),  # IPv4-mapped
    ("http://[64:ff9b::a9fe:a9fe]/", "link-local"),  # NAT64
    ("http://[2002:a9fe:a9fe::]/", "link-local"),  # 6to4
    ("http://10.0.0.1/", "private"),
    ("https://[fd00::1]/", "unique local"),
    ("http://[::1]/", "loopback"),  # only 127.0.0.0/8 is allowed here
    ("http://100.64.0.1/", "CGNAT"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_blocked_address_literals_are_refused_on_create(http: TestClient, url: str, reason: str) -> None:
    res = http.post("/v1/services", json={"name": "x", "url": url}, headers=AUTH)
    assert res.status_code == 400, res.text
    assert res.json()["field"] == "url" and reason in res.json()["message"]
    assert http.get("/v1/services", headers=AUTH).json()["services"] == []


def test_every_method_and_every_target_field_refuses_them(
    http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        http.post("/v1/services", json={"name": "ok", "url": "https://example.com"}, headers=AUTH).status_code
        == 201
    )
    tcp = http.post(
        "/v1/services", json={"name": "t", "url": "tcp://10.0.0.1:22", "kind": "tcp"}, headers=AUTH
    )
    assert tcp.status_code == 400 and "private" in tcp.json()["message"]
    patched = http.patch("/v1/services/ok", json={"url": "http://10.0.0.1/"}, headers=AUTH)
    assert patched.status_code == 400 and patched.json()["field"] == "url"
    put = http.put(
        "/api/services", params={"name": "ok"}, json={"url": "http://169.254.169.254/"}, headers=AUTH
    )
    assert put.status_code == 400 and put.json()["error"] is True and "link-local" in put.json()["message"]
    openuptimes = http.post(
        "/api/services", json={"name": "o", "url": "http://169.254.169.254/"}, headers=AUTH
    )
    assert openuptimes.status_code == 400
    hook = http.patch("/v1/services/ok", json={"webhooks": ["http://192.168.1.1/hook"]}, headers=AUTH)
    assert hook.status_code == 400 and hook.json()["field"] == "webhooks[0]"
    monkeypatch.setenv("UPSTAT_ALLOWED_TARGETS", "")
    get_settings.cache_clear()
    local = http.post("/v1/services", json={"name": "l", "url": "http://localhost:8080/"}, headers=AUTH)
    assert local.status_code == 400 and "loopback" in local.json()["message"]


def test_allowed_networks_and_names_pass_the_door(http: TestClient) -> None:
    for i, url in enumerate(["http://127.0.0.1:8102/", "http://localhost:8102/", "https://example.com/"]):
        res = http.post("/v1/services", json={"name": f"s{i}", "url": url}, headers=AUTH)
        assert res.status_code == 201, res.text
