"""The status page and the dashboard in a real headless Chromium, against the app served on 127.0.0.1 over
the seeded fleet: what a reader sees, at desktop and phone widths, with no console error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import record
from tests.browser.seed import FLEET, HIDDEN, SECRET
from tests.conftest import ADMIN_TOKEN

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


class Tab:
    """A page in a fresh browser context, with every console error and page error it raised."""

    def __init__(self, browser: Any, viewport: dict[str, int], **context: Any) -> None:
        self.context = browser.new_context(viewport=viewport, **context)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.expected: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console(self, message: Any) -> None:
        if message.type == "error" and not any(e in message.text for e in self.expected):
            self.errors.append(message.text)

    def expect_refusal(self) -> None:
        """The test means to be refused once: Chromium logs the 401 of that request as a console error."""
        self.expected.append("status of 401 (Unauthorized)")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    opened: list[Tab] = []

    def make(viewport: dict[str, int] = DESKTOP, **context: Any) -> Tab:
        t = Tab(browser, viewport, **context)
        opened.append(t)
        return t

    yield make
    errors = [e for t in opened for e in t.errors]
    for t in opened:
        t.close()
    assert errors == [], "console errors"


def open_status(t: Tab, base: str, query: str = "") -> Any:
    page = t.page
    page.goto(f"{base}/status{query}")
    page.wait_for_selector(".svc")
    return page


def visible_names() -> list[str]:
    return list(FLEET)


def test_the_status_page_lists_every_visible_service_with_90_daily_bars(
    site: dict[str, Any], tab: Any
) -> None:
    t = tab()
    data: list[Any] = []
    t.page.on(
        "response",
        lambda r: data.append(r.text()) if "/v1/status/page" in r.url and r.status == 200 else None,
    )
    page = open_status(t, site["base"])
    names = page.eval_on_selector_all(".svc h3", "els => els.map(e => e.textContent)")
    assert sorted(names) == sorted(visible_names())
    for name in names:
        assert page.locator(f'.svc[data-service="{name}"] .bar').count() == 90
    assert (
        page.locator("h2", has_text="API").count() == 1
        and page.locator("h2", has_text="Website").count() == 1
    )
    assert page.title() == "Example Corp status"
    assert page.locator("#banner-title").inner_text() == "All systems operational"
    assert page.locator("#keyform").is_hidden()  # a public page never asks for a key
    # A service created 25 days ago: its older days are drawn as no data, not as down.
    cdn_bars = page.eval_on_selector_all('.svc[data-service="CDN"] .bar', "els => els.map(e => e.className)")
    assert set(cdn_bars[:60]) == {"bar"} and "bar u-ok" in cdn_bars[-10:]
    assert (
        page.locator("#incidents li").count() >= 1 and "Public API" in page.locator("#incidents").inner_text()
    )
    assert "Database upgrade" in page.locator("#maintenance").inner_text()
    # The hidden service is in neither the page nor the data it was built from.
    assert data and all(HIDDEN not in body and SECRET not in body for body in data)
    html = page.content()
    assert HIDDEN not in html and SECRET not in html and "Secret db work" not in html


def test_a_service_going_down_shows_as_down_at_the_next_refresh_without_a_reload(
    site: dict[str, Any], tab: Any
) -> None:
    t = tab()
    page = open_status(t, site["base"], "?refresh=1")
    page.evaluate("window.__sameDocument = true")
    assert page.get_attribute('.svc[data-service="Website"]', "data-state") == "up"
    import time

    now = int(time.time() * 1000)
    record(site["redis"], "Website", (now, "down", None))
    try:
        page.wait_for_selector('.svc[data-service="Website"][data-state="down"]', timeout=10_000)
        assert page.evaluate("window.__sameDocument") is True  # refreshed in place, not reloaded
        assert page.locator("#banner-title").inner_text() == "Partial outage"
        row = page.locator('.svc[data-service="Website"] .pill').inner_text()
        assert row.strip() == "Down"  # the state in words, not only a colour
        assert "Website is down" in page.locator("#notices").inner_text()
    finally:  # a status holds for half an interval (30 s) before it changes again
        record(site["redis"], "Website", (now + 31_000, "up", 100.0))
    page.wait_for_selector('.svc[data-service="Website"][data-state="up"]', timeout=10_000)


def test_the_response_time_chart_draws_and_switches_range(site: dict[str, Any], tab: Any) -> None:
    page = open_status(tab(), site["base"])
    button = page.locator('.svc[data-service="Public API"] .disclose')
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    canvas = page.locator('.svc[data-service="Public API"] .chart canvas')
    canvas.wait_for()
    assert painted(page, '.svc[data-service="Public API"] .chart canvas') > 500
    assert "p95" in page.locator('.svc[data-service="Public API"] .u-legend').inner_text()
    page.locator('.svc[data-service="Public API"] .seg button', has_text="7d").click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('.svc[data-service="Public API"] .seg button')]
                 .some(b => b.textContent === '7d' && b.getAttribute('aria-pressed') === 'true')"""
    )
    assert painted(page, '.svc[data-service="Public API"] .chart canvas') > 500


def painted(page: Any, selector: str) -> int:
    """How many pixels of the canvas are not transparent (a drawn chart has axes, grid and lines)."""
    return int(
        page.eval_on_selector(
            selector,
            """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                      let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""",
        )
    )


def test_bars_tell_their_day_by_keyboard_and_by_tap(site: dict[str, Any], tab: Any, shots: Path) -> None:
    page = open_status(tab(), site["base"])
    page.focus('.svc[data-service="Public API"] .bars')
    tip = page.locator("#tip")
    assert tip.is_visible() and "Uptime" in tip.inner_text()
    for _ in range(6):
        page.keyboard.press("ArrowLeft")
    assert tip.is_visible()
    # the seed checks old days every 3 hours, not every minute: the day says how much of it was watched
    assert "of the time; the rest is unknown" in tip.inner_text()
    phone = tab(PHONE, has_touch=True, is_mobile=True)
    mobile = open_status(phone, site["base"])
    bars = mobile.locator('.svc[data-service="Public API"] .bars')
    bars.scroll_into_view_if_needed()
    box = bars.bounding_box()
    mobile.touchscreen.tap(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    assert mobile.locator("#tip").is_visible()
    assert "Uptime" in mobile.locator("#tip").inner_text()
    mobile.screenshot(path=str(shots / "status-375-tap.png"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])
def test_the_status_page_fits_the_screen_and_is_photographed(
    site: dict[str, Any], tab: Any, shots: Path, viewport: dict[str, int]
) -> None:
    t = tab(viewport)
    page = open_status(t, site["base"])
    page.locator('.svc[data-service="Public API"] .disclose').click()
    page.locator('.svc[data-service="Public API"] .chart canvas').wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(shots / f"status-{viewport['width']}.png"), full_page=True)
    dark = open_status(tab(viewport, color_scheme="dark"), site["base"])
    assert dark.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
    dark.screenshot(path=str(shots / f"status-{viewport['width']}-dark.png"), full_page=True)


def open_dashboard(t: Tab, base: str) -> Any:
    page = t.page
    page.goto(f"{base}/dashboard")
    page.fill("#key", ADMIN_TOKEN)
    page.click("#keyform button[type=submit]")
    page.wait_for_selector(".src")
    return page


def test_the_dashboard_lists_sources_with_health_and_charts_one_with_its_statistics(
    site: dict[str, Any], tab: Any
) -> None:
    t = tab()
    page = open_dashboard(t, site["base"])
    assert ADMIN_TOKEN not in page.url
    assert page.evaluate("sessionStorage.getItem('upstat.key')") == ADMIN_TOKEN
    listed = page.eval_on_selector_all(".src .nm", "els => els.map(e => e.textContent)")
    assert {*FLEET, HIDDEN, "edge-router", "backup-job"} <= set(listed)
    assert page.locator('.src[data-source="edge-router"] .hl').inner_text() == "Active"
    assert page.locator('.src[data-source="backup-job"] .hl').inner_text() == "Quiet"
    page.click('.src[data-source="edge-router"]')
    page.select_option("#metric", "cpu_percent")
    page.click("#ranges button:has-text('7d')")
    page.wait_for_selector("#stats dd")
    page.locator("#chart canvas").first.wait_for()
    assert painted(page, "#chart canvas") > 500
    stats = page.locator("#stats").inner_text()
    for word in ("min", "max", "avg", "p95", "trend"):
        assert word in stats.lower()
    with page.expect_download() as info:
        page.click("#csv")
    csv = Path(info.value.path()).read_text()
    assert csv.splitlines()[0].startswith("time") and len(csv.splitlines()) > 100


def test_the_dashboard_asks_again_for_a_key_it_cannot_use(site: dict[str, Any], tab: Any) -> None:
    t = tab()
    t.expect_refusal()
    page = t.page
    page.goto(f"{site['base']}/dashboard")
    page.fill("#key", "upk_not_a_real_key")
    page.click("#keyform button[type=submit]")
    page.wait_for_selector("#error:not([hidden])")
    assert page.locator("#keyform").is_visible() and page.locator("#app").is_hidden()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])
def test_the_dashboard_fits_the_screen_and_is_photographed(
    site: dict[str, Any], tab: Any, shots: Path, viewport: dict[str, int]
) -> None:
    page = open_dashboard(tab(viewport), site["base"])
    page.click(f'.src[data-source="{service_source(site, "Public API")}"]')
    page.wait_for_selector("#stats dd")
    page.locator("#chart canvas").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(shots / f"dashboard-{viewport['width']}.png"), full_page=True)


def service_source(site: dict[str, Any], name: str) -> str:
    from upstat.uptime.services import ServiceStore

    return f"service:{ServiceStore(site['redis']).require(name).id}"


def test_console_stays_clean_on_a_private_page_asking_for_a_key(
    site: dict[str, Any], tab: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upstat.config import get_settings

    monkeypatch.setenv("UPSTAT_PUBLIC_STATUS_PAGE", "false")
    get_settings.cache_clear()
    try:
        t = tab()
        t.expect_refusal()  # the first, anonymous read of a private page
        page = t.page
        page.goto(f"{site['base']}/status")
        page.wait_for_selector("#keyform:not([hidden])")
        assert page.locator("#keyform").is_visible()
        page.fill("#key", ADMIN_TOKEN)
        page.click("#keyform button[type=submit]")
        page.wait_for_selector(".svc")
        assert (
            json.loads(page.evaluate("JSON.stringify(sessionStorage.getItem('upstat.key'))")) == ADMIN_TOKEN
        )
    finally:
        monkeypatch.delenv("UPSTAT_PUBLIC_STATUS_PAGE")
        get_settings.cache_clear()


def test_a_badge_renders_in_chromium_at_its_stated_size(site: dict[str, Any], tab: Any) -> None:
    """The SVG badge as a README shows it: an <img>, drawn by the browser at the width the SVG states."""
    page = open_status(tab(), site["base"])
    found = page.evaluate(
        """async (url) => {
             const svg = new DOMParser().parseFromString(await (await fetch(url)).text(), "image/svg+xml");
             const texts = [...svg.querySelectorAll("text:not([aria-hidden])")].map((t) => t.textContent);
             const drawn = await new Promise((done) => { const i = new Image();
               i.onload = () => done(i.naturalWidth); i.onerror = () => done(-1); i.src = url; });
             return { stated: Number(svg.documentElement.getAttribute("width")), texts, drawn };
           }""",
        f"{site['base']}/v1/badges/Public%20API/uptime-30d.svg",
    )
    assert found["texts"][0] == "uptime 30d" and found["texts"][1].endswith("%")
    assert found["stated"] > 60
    assert found["drawn"] == found["stated"]
