"""Certificates uploaded as PEM, their expiry read with cryptography, and bad uploads refused."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from tests.vpn.certs import make_pem

API = "/api/v1/certificates"


def test_days_remaining_and_expiry(client: TestClient, auth: dict[str, str]) -> None:
    now = dt.datetime.now(dt.UTC)
    for file, days in (("alice.crt", 360), ("old.crt", -3), ("bob.crt", 20)):
        pem = make_pem(file.split(".")[0], not_after=now + dt.timedelta(days=days, hours=-1))
        answer = client.post(API, params={"file": file}, content=pem, headers=auth)
        assert answer.status_code == 200, answer.text
    items = client.get(API, headers=auth).json()
    assert items["success"] is True
    assert [(c["file"], c["days_remaining"], c["is_expired"]) for c in items["data"]] == [
        ("old.crt", "-4 days", True),
        ("bob.crt", "20 days", False),
        ("alice.crt", "360 days", False),
    ]
    assert items["data"][2]["subject"] == "CN=alice"


def test_a_renewed_certificate_replaces_the_old_one(client: TestClient, auth: dict[str, str]) -> None:
    now = dt.datetime.now(dt.UTC)
    for days in (5, 400):
        pem = make_pem("alice", not_after=now + dt.timedelta(days=days, minutes=-5))
        assert client.post(API, params={"file": "alice.crt"}, content=pem, headers=auth).status_code == 200
    assert [c["days_remaining"] for c in client.get(API, headers=auth).json()["data"]] == ["400 days"]


def test_what_is_not_a_certificate_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    for body, words in (
        (b"hello", "holds no PEM certificate"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "is not a readable PEM"),
    ):
        answer = client.post(API, params={"file": "x.crt"}, content=body, headers=auth)
        assert answer.status_code == 400 and answer.json()["success"] is False
        assert words in answer.json()["message"]
    assert client.get(API, headers=auth).json()["data"] == []
    assert client.post(API, content=b"x", headers=auth).status_code == 400  # file is required
