"""A browser opened on the API's address sees the status page, not a JSON 404; its assets and its data
route are where its relative links say, with the strict policy, and nothing else is served as an asset."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from upstat.config import get_settings


@pytest.mark.parametrize("page", ["/status", "/dashboard"])
def test_each_page_links_only_assets_it_serves(client: TestClient, page: str) -> None:
    res = client.get(page)
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in res.headers["content-security-policy"]
    links = re.findall(r'(?:src|href)="([^"]+)"', res.text)
    assets = [
        urlsplit(urljoin(f"http://testserver{page}", link)).path
        for link in links
        if "." in link and not link.startswith("data:")
    ]
    assert len(assets) == 6  # uPlot's script and style, the shared and the page's own script and style
    for path in assets:
        assert path.startswith(page + "/")
        assert client.get(path).status_code == 200, path


def test_the_root_shows_the_status_page_and_its_script_reads_the_status_page_route(
    client: TestClient,
) -> None:
    res = client.get("/")
    assert res.status_code == 200 and res.text == client.get("/status").text
    script = client.get("/status/status.js").text
    [api] = re.findall(r'fetch\("([^"?]+)\?', script)
    assert urljoin("http://testserver/", api) == "http://testserver/v1/status/page"
    assert client.get("/v1/status/page").status_code == 200


def test_only_the_listed_assets_are_served(client: TestClient) -> None:
    for path in ("/status/pages.py", "/status/..%2Fpages.py", "/dashboard/status.html", "/status/nope.js"):
        assert client.get(path).status_code == 404, path


def test_the_configured_title_is_in_the_page_escaped(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPSTAT_STATUS_PAGE_TITLE", "Acme <b>status</b>")
    get_settings.cache_clear()
    text = client.get("/status").text
    assert "<title>Acme &lt;b&gt;status&lt;/b&gt;</title>" in text and "<b>status</b>" not in text
    assert "{{title}}" not in text
