"""A check's URL of the wrong form is refused with the form expected and the URL likely meant."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH


@pytest.mark.parametrize(
    ("kind", "url", "said"),
    [
        ("tcp", "127.0.0.1:8102", ["tcp://host:port", "did you mean tcp://127.0.0.1:8102?"]),
        ("tcp", "http://127.0.0.1:8102/", ["tcp://host:port", "http:// is the form of http checks"]),
        (None, "tcp://127.0.0.1:8102", ["http(s)://host[:port][/path]", "tcp:// is the form of tcp checks"]),
        (None, "example.com/health", ["did you mean http://example.com/health?"]),
        ("dns", "example.com", ["dns://name", "did you mean dns://example.com?"]),
        ("tls", "http://example.com", ["https://host[:port]", "http:// is the form of http checks"]),
    ],
)
def test_a_url_of_the_wrong_form_gets_the_form_expected(
    client: TestClient, kind: str | None, url: str, said: list[str]
) -> None:
    body = {"name": "svc", "url": url, **({"kind": kind} if kind else {})}
    res = client.post("/v1/services", json=body, headers=AUTH)
    assert res.status_code == 400, res.text
    err = res.json()
    assert err["field"] == "url"
    for text in said:
        assert text in err["message"], err["message"]


def test_the_form_suggested_is_accepted(client: TestClient) -> None:
    res = client.post(
        "/v1/services", json={"name": "db", "kind": "tcp", "url": "tcp://db.example.com:5432"}, headers=AUTH
    )
    assert res.status_code == 201, res.text
