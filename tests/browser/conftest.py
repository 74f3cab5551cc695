"""Browser tests: the app under uvicorn on a free loopback port, over a real Valkey holding the seeded fleet
(tests/browser/seed.py), driven by Playwright in Debian's chromium.

Without chromium (``make test`` installs it with apt-get when it runs as root) or without Playwright, these
tests skip with the reason, and the run's summary says so in a line of its own, never silently. Screenshots
go to build/screenshots (or UPSTAT_SCREENSHOTS); the summary prints the folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.browser.seed import seed
from tests.conftest import ADMIN_TOKEN
from upstat.config import get_settings
from upstat.store import client as store_client

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("UPSTAT_SCREENSHOTS") or ROOT / "build" / "screenshots")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_notes: list[str] = []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _why_no_browser() -> str | None:
    if shutil.which("chromium") is None:
        return "Debian's chromium is not installed (make test installs it with apt-get when run as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (make install)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module. Playwright's sync API runs an event loop in this thread while it is open,
    so it is closed after the module: tests elsewhere run their own loops (asyncio.run)."""
    reason = _why_no_browser()
    if reason is not None:
        _notes.append(f"browser tests skipped: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(redis_env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The app on 127.0.0.1 over the seeded fleet: ``base`` URL, ``redis`` client, ``now`` of the seed."""
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("UPSTAT_")]:
            mp.delenv(name)
        port = _free_port()
        for name, value in redis_env.items():
            mp.setenv(name, value)
        mp.setenv("UPSTAT_ADMIN_TOKEN", ADMIN_TOKEN)
        mp.setenv("UPSTAT_ALLOWED_TARGETS", "127.0.0.0/8,::1/128")
        mp.setenv("UPSTAT_PORT", str(port))
        mp.setenv("UPSTAT_STATUS_PAGE_TITLE", "Example Corp status")
        mp.setenv("UPSTAT_RATE_LIMIT_PER_IP", "100000")
        mp.setenv("UPSTAT_RATE_LIMIT_PER_KEY", "100000")
        get_settings.cache_clear()
        store_client.reset_client()
        client = store_client.get_redis()
        client.flushall()
        now = int(time.time() * 1000)
        seed(client, now)
        from upstat.api.app import create_app
        from upstat.local import uvicorn_options

        server = uvicorn.Server(
            uvicorn.Config(create_app(), **{**uvicorn_options(get_settings()), "log_level": "warning"})
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        try:
            yield {"base": f"http://127.0.0.1:{port}", "redis": client, "now": now}
        finally:
            server.should_exit = True
            thread.join(5)
            get_settings.cache_clear()
            store_client.reset_client()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    _notes.append(f"browser tests: screenshots in {SHOTS}")
    return SHOTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for note in dict.fromkeys(_notes):
        terminalreporter.write_line(note)
