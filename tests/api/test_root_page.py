"""A browser opened on the API's address sees the status page, not a JSON 404."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from fastapi.testclient import TestClient


def test_the_root_shows_the_status_page_with_working_assets(client: TestClient) -> None:
    res = client.get("/")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    assert res.text == client.get("/status").text
    assert "script-src 'self'" in res.headers["content-security-policy"]
    for link in re.findall(r'(?:src|href)="([^"]+)"', res.text):
        path = urlsplit(urljoin("http://testserver/", link)).path
        assert path.startswith("/status/")
        assert client.get(path).status_code == 200
    script = client.get("/status/status.js").text
    [api] = re.findall(r'fetch\("([^"]+)"', script)
    assert urljoin("http://testserver/", api) == "http://testserver/api/status"
    assert client.get(urlsplit(urljoin("http://testserver/", api)).path).status_code == 200
