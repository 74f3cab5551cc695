"""A small TCP proxy on 127.0.0.1 between upstat and a Redis, whose faults a test switches while traffic runs
(Toxiproxy is not installable here).

Modes (``proxy.mode``), read for every chunk of data, so a switch applies to connections already open:

* ``pass``: bytes go through (after ``latency`` seconds on the way back, when set: the command runs on the
  server, its reply comes late; past the socket timeout the client cannot tell whether it ran).
* ``blackhole``: bytes are read and dropped both ways; connections stay open and silent.
* ``reset``: a request is passed to the server, then the client's connection is reset (RST) before the
  reply: the command ran, the client sees a connection error.
* ``close``: the same with a clean close (FIN) instead of a reset.

``counts`` tallies what each mode did, so a test can check its faults really happened.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections import Counter
from typing import Literal

Mode = Literal["pass", "blackhole", "reset", "close"]
HOST = "127.0.0.1"


class FaultyProxy:
    """``with FaultyProxy(upstream_port) as proxy:`` then ``proxy.url``; switch ``proxy.mode`` any time."""

    def __init__(self, upstream_port: int, *, upstream_host: str = HOST) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode: Mode = "pass"
        self.latency = 0.0
        self.one_shot = False  # back to "pass" after the next reset or close
        self.counts: Counter[str] = Counter()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}"

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._accept, HOST, 0), self._loop
        ).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def set(self, mode: Mode, latency: float = 0.0) -> None:
        self.mode, self.latency, self.one_shot = mode, latency, False

    def once(self, mode: Mode) -> None:
        """Cut the next request's connection after passing it on (``reset`` or ``close``), then pass."""
        self.mode, self.latency, self.one_shot = mode, 0.0, True

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.transport.abort()
            return
        self._writers.update((client_w, server_w))
        up = asyncio.ensure_future(self._upstream(client_r, client_w, server_w))
        down = asyncio.ensure_future(self._downstream(server_r, client_w))
        await asyncio.wait([up, down], return_when=asyncio.FIRST_COMPLETED)
        for task in (up, down):
            task.cancel()
        for writer in (client_w, server_w):
            writer.transport.abort()
            self._writers.discard(writer)

    async def _upstream(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, server_w: asyncio.StreamWriter
    ) -> None:
        while data := await client_r.read(65536):
            mode = self.mode
            if mode == "blackhole":
                self.counts["blackholed"] += 1
                continue
            server_w.write(data)
            await server_w.drain()
            if mode in ("reset", "close"):
                await asyncio.sleep(0.01)  # the server has the request: it runs, the reply is lost
                self.counts[mode] += 1
                if self.one_shot:
                    self.mode, self.one_shot = "pass", False
                if mode == "reset":
                    sock = client_w.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    client_w.transport.abort()
                else:
                    client_w.close()
                return

    async def _downstream(self, server_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        while data := await server_r.read(65536):
            if self.mode == "blackhole":
                self.counts["blackholed"] += 1
                continue
            if self.mode in ("reset", "close"):
                continue  # the connection is being cut: this reply never arrives
            if self.latency:
                self.counts["delayed"] += 1
                await asyncio.sleep(self.latency)
            client_w.write(data)
            await client_w.drain()
