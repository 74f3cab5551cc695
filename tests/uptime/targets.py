"""Real local check targets: HTTP and HTTPS servers on 127.0.0.1, run by aiohttp in a background thread.

Fixtures (registered by tests/uptime/conftest.py; to use them elsewhere, import them all into that
directory's conftest.py with ``from tests.uptime.targets import *  # noqa: F403`` -- they depend on one
another, and ``pytest_plugins`` only works in the root conftest):

* ``local_target`` -> :class:`LocalTarget`: ``.base_url`` (``http://127.0.0.1:PORT``), ``.url(path)``,
  ``.hits(path)`` (requests seen for a path since the test started).
* ``tls_target`` -> :class:`TlsTarget` ``(base_url, ssl_context)``: the same routes over HTTPS with a
  certificate from a throwaway trustme CA that expires :data:`TLS_CERT_DAYS` days from now;
  ``ssl_context`` is a client context trusting that CA (pass it to ``probe_many(ssl_context=...)``).
* ``expired_tls_target`` -> :class:`TlsTarget` whose certificate expired :data:`EXPIRED_DAYS_AGO` days ago.
* ``closed_port`` -> a port on 127.0.0.1 where nothing listens (connection refused).
* ``silent_port`` -> a port on 127.0.0.1 that accepts connections and never sends a byte.
* ``trickle_port`` -> a port on 127.0.0.1 that answers with a status line and headers one byte every
  :data:`TRICKLE_S` seconds, never finishing.

Routes: ``/ok`` (200, :data:`OK_BODY`), ``/down`` (500), ``/slow?ms=N``, ``/flap?key=K`` (200, 500, 200...
per key), ``/keyword`` (200, body containing :data:`KEYWORD`), ``/big?kb=N`` (N KiB of filler, then
:data:`KEYWORD`), ``/endless`` (a body that never ends), ``/drip`` (200 at once, then a body of one byte
every :data:`TRICKLE_S` seconds, never ending), ``/redirect-loop``, ``/redirect?to=URL[&code=302]``,
``/chain/N`` (N redirects, then ``/ok``), ``/status/<code>``, ``/echo`` (JSON of method, body and headers).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from typing import Any, NamedTuple

import pytest
import trustme
from aiohttp import web

__all__ = [  # the fixtures, for `import *` into a conftest
    "_http_target",
    "_second_target",
    "closed_port",
    "expired_tls_target",
    "local_target",
    "second_target",
    "silent_port",
    "target_thread",
    "tls_target",
    "trickle_port",
]

OK_BODY = "hello upstat"
KEYWORD = "upstat-marker"
TLS_CERT_DAYS = 3
EXPIRED_DAYS_AGO = 2
HOST = "127.0.0.1"
TRICKLE_S = 0.1


def free_port(host: str = HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def make_app(hits: Counter[str], echoes: list[dict[str, str]] | None = None) -> web.Application:
    """The target routes; every request counts one hit for its path (with query string); ``/echo`` also
    keeps the headers it received in ``echoes``."""
    flaps: Counter[str] = Counter()

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        hits[request.path_qs] += 1
        hits[request.path] += 1 if request.query_string else 0
        response: web.StreamResponse = await handler(request)
        return response

    async def ok(_: web.Request) -> web.Response:
        return web.Response(text=OK_BODY)

    async def down(_: web.Request) -> web.Response:
        return web.Response(status=500, text="down")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(int(request.query.get("ms", "1000")) / 1000)
        return web.Response(text="slow " + OK_BODY)

    async def flap(request: web.Request) -> web.Response:
        key = request.query.get("key", "")
        flaps[key] += 1
        return web.Response(status=200 if flaps[key] % 2 else 500, text="flap")

    async def keyword(_: web.Request) -> web.Response:
        return web.Response(text=f"<html><body>status: {KEYWORD} all good</body></html>")

    async def big(request: web.Request) -> web.Response:
        filler = "x" * (1024 * int(request.query.get("kb", "128")))
        return web.Response(text=filler + KEYWORD)

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        while True:  # until the client goes away
            await response.write(b"y" * 8192)
            await asyncio.sleep(0.001)

    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        while True:  # until the client goes away
            await response.write(b".")
            await asyncio.sleep(TRICKLE_S)

    async def redirect_loop(_: web.Request) -> web.Response:
        raise web.HTTPFound("/redirect-loop")

    async def redirect(request: web.Request) -> web.Response:
        code = int(request.query.get("code", "302"))
        return web.Response(status=code, headers={"Location": request.query["to"]})

    async def chain(request: web.Request) -> web.Response:
        left = int(request.match_info["n"])
        raise web.HTTPFound(f"/chain/{left - 1}" if left > 1 else "/ok")

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="status")

    async def echo(request: web.Request) -> web.Response:
        body = await request.text()
        if echoes is not None:
            echoes.append(dict(request.headers))
        return web.json_response({"method": request.method, "body": body, "headers": dict(request.headers)})

    app = web.Application(middlewares=[count])
    app.router.add_get("/ok", ok)
    app.router.add_get("/down", down)
    app.router.add_get("/slow", slow)
    app.router.add_get("/flap", flap)
    app.router.add_get("/keyword", keyword)
    app.router.add_get("/big", big)
    app.router.add_get("/endless", endless)
    app.router.add_get("/drip", drip)
    app.router.add_get("/redirect-loop", redirect_loop)
    app.router.add_route("*", "/redirect", redirect)
    app.router.add_get("/chain/{n:\\d+}", chain)
    app.router.add_route("*", "/status/{code:\\d{3}}", status)
    app.router.add_route("*", "/echo", echo)
    return app


class ServerThread:
    """An event loop in a daemon thread hosting any number of aiohttp sites and raw listeners."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="targets", daemon=True)
        self._thread.start()
        self._runners: list[web.AppRunner] = []
        self._servers: list[asyncio.Server] = []

    def call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def serve(
        self,
        app: web.Application,
        host: str = HOST,
        ssl_context: ssl.SSLContext | None = None,
        port: int | None = None,
    ) -> int:
        """Serve ``app`` on ``host`` at ``port`` (default: a free one); returns the port."""

        async def start() -> int:
            runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None)
            await runner.setup()
            bound = port or free_port(host)
            await web.TCPSite(runner, host, bound, ssl_context=ssl_context).start()
            self._runners.append(runner)
            return bound

        return int(self.call(start()))

    def silent(self, host: str = HOST) -> int:
        """A listener that accepts and then never writes (keeps the socket open until stop)."""
        held: list[asyncio.StreamWriter] = []

        async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            held.append(writer)

        async def start() -> int:
            server = await asyncio.start_server(hold, host, 0)
            self._servers.append(server)
            return int(server.sockets[0].getsockname()[1])

        return int(self.call(start()))

    def trickle(self, host: str = HOST) -> int:
        """A listener that answers every connection with a response one byte every TRICKLE_S seconds."""
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Padding: " + b"z" * 10_000

        async def dribble(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                for byte in answer:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(TRICKLE_S)
            except (ConnectionError, OSError):
                pass  # the client gave up: what the test expects
            finally:
                writer.close()

        async def start() -> int:
            server = await asyncio.start_server(dribble, host, 0)
            self._servers.append(server)
            return int(server.sockets[0].getsockname()[1])

        return int(self.call(start()))

    def stop(self) -> None:
        async def stop_all() -> None:
            for server in self._servers:
                server.close()
            for runner in self._runners:
                await runner.cleanup()

        self.call(stop_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


class LocalTarget:
    """A running HTTP target: ``base_url``, ``url(path)``, ``hits(path)`` and ``echoes`` (the headers each
    ``/echo`` request carried)."""

    def __init__(
        self, base_url: str, hit_counter: Counter[str], echoes: list[dict[str, str]] | None = None
    ) -> None:
        self.base_url = base_url
        self._hits = hit_counter
        self.echoes: list[dict[str, str]] = echoes if echoes is not None else []

    def url(self, path: str) -> str:
        return self.base_url + path

    def hits(self, path: str) -> int:
        """Requests seen for ``path`` (exactly as requested, query string included if given)."""
        return self._hits[path]

    def reset(self) -> None:
        self._hits.clear()
        self.echoes.clear()


class TlsTarget(NamedTuple):
    """An HTTPS target and a client SSL context that trusts its CA."""

    base_url: str
    ssl_context: ssl.SSLContext


def tls_contexts(not_after: dt.datetime, not_before: dt.datetime | None = None) -> tuple[ssl.SSLContext, ...]:
    """(server context, client context) for a fresh CA and a leaf for 127.0.0.1/localhost."""
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost", not_before=not_before, not_after=not_after)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


@pytest.fixture(scope="session")
def target_thread() -> Iterator[ServerThread]:
    thread = ServerThread()
    yield thread
    thread.stop()


def _serve_target(thread: ServerThread) -> LocalTarget:
    hits: Counter[str] = Counter()
    echoes: list[dict[str, str]] = []
    port = thread.serve(make_app(hits, echoes))
    return LocalTarget(f"http://{HOST}:{port}", hits, echoes)


@pytest.fixture(scope="session")
def _http_target(target_thread: ServerThread) -> LocalTarget:
    return _serve_target(target_thread)


@pytest.fixture(scope="session")
def _second_target(target_thread: ServerThread) -> LocalTarget:
    return _serve_target(target_thread)


@pytest.fixture
def second_target(_second_target: LocalTarget) -> LocalTarget:
    """Another HTTP target on 127.0.0.1 (another port: another origin), reset for this test."""
    _second_target.reset()
    return _second_target


@pytest.fixture
def local_target(_http_target: LocalTarget) -> LocalTarget:
    """The shared HTTP target on 127.0.0.1, with hit counts starting from zero for this test."""
    _http_target.reset()
    return _http_target


@pytest.fixture(scope="session")
def tls_target(target_thread: ServerThread) -> TlsTarget:
    """HTTPS target whose certificate expires in TLS_CERT_DAYS days; its client context trusts the CA."""
    not_after = dt.datetime.now(dt.UTC) + dt.timedelta(days=TLS_CERT_DAYS)
    server, client = tls_contexts(not_after)
    port = target_thread.serve(make_app(Counter()), ssl_context=server)
    return TlsTarget(f"https://{HOST}:{port}", client)


@pytest.fixture(scope="session")
def expired_tls_target(target_thread: ServerThread) -> TlsTarget:
    now = dt.datetime.now(dt.UTC)
    server, client = tls_contexts(
        now - dt.timedelta(days=EXPIRED_DAYS_AGO), not_before=now - dt.timedelta(days=30)
    )
    port = target_thread.serve(make_app(Counter()), ssl_context=server)
    return TlsTarget(f"https://{HOST}:{port}", client)


@pytest.fixture
def closed_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def silent_port(target_thread: ServerThread) -> int:
    return target_thread.silent()


@pytest.fixture(scope="session")
def trickle_port(target_thread: ServerThread) -> int:
    return target_thread.trickle()
