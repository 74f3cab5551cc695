"""Debian's openvpn, for real: a server and clients on 127.0.0.1 (only loopback UDP moves: interfaces are
never configured, ``--ifconfig-noexec --route-noexec``), the server writing its status file every second in
version 1, 2 or 3, each file posted to upstat as a cron job posts it (``curl --data-binary @file``), and the
document's routes checked against what the file says.

Skipped, saying why, without the openvpn binary (``make test`` installs it as root) or /dev/net/tun.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.api.test_client_address import _free_port, serve
from tests.conftest import ADMIN_TOKEN
from upstat.config import get_settings
from upstat.errors import InvalidInput
from upstat.vpn.statusfile import StatusFile, parse

OPENVPN = shutil.which("openvpn") or ("/usr/sbin/openvpn" if os.path.exists("/usr/sbin/openvpn") else None)
pytestmark = [
    pytest.mark.agent,
    pytest.mark.skipif(OPENVPN is None, reason="openvpn is not installed (make test installs it when root)"),
    pytest.mark.skipif(
        not os.path.exists("/dev/net/tun"), reason="no /dev/net/tun: openvpn cannot open a tun"
    ),
]
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(path: Path, cn: str, ca: tuple[Any, Any] | None, usage: Any | None) -> tuple[Any, Any]:
    """A key and certificate for ``cn`` (self-signed when ``ca`` is None), written as ``cn``.crt/.key."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    issuer_cert, issuer_key = ca if ca else (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_cert.subject if issuer_cert else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=20 if ca else 30))
        .add_extension(x509.BasicConstraints(ca=ca is None, path_length=None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    cert = builder.sign(issuer_key, hashes.SHA256())
    (path / f"{cn}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (path / f"{cn}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert, key


def _udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Lab:
    """Throwaway PKI, one openvpn server and its clients on 127.0.0.1; every process stopped at the end."""

    def __init__(self, path: Path, version: int) -> None:
        self.path, self.version, self.port = path, version, _udp_port()
        self.status = path / "server.status"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        ca = _issue(path, "ca", None, None)
        _issue(path, "server", ca, ExtendedKeyUsageOID.SERVER_AUTH)
        for cn in ("alice", "bob"):
            _issue(path, cn, ca, ExtendedKeyUsageOID.CLIENT_AUTH)

    def _start(self, name: str, args: list[str]) -> None:
        log = open(self.path / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        common = ["--dev", "tun", "--ifconfig-noexec", "--route-noexec", "--ca", "ca.crt", "--verb", "3"]
        self.procs[name] = subprocess.Popen(
            [str(OPENVPN), *common, *args], cwd=self.path, stdout=log, stderr=subprocess.STDOUT
        )

    def server(self) -> None:
        self._start(
            "server",
            [
                "--mode",
                "server",
                "--tls-server",
                "--proto",
                "udp4",
                "--local",
                "127.0.0.1",
                "--lport",
                str(self.port),
                "--topology",
                "subnet",
                "--ifconfig",
                "10.77.0.1",
                "255.255.255.0",
                "--ifconfig-pool",
                "10.77.0.10",
                "10.77.0.100",
                "255.255.255.0",
                "--push",
                "topology subnet",
                "--cert",
                "server.crt",
                "--key",
                "server.key",
                "--dh",
                "none",
                "--keepalive",
                "1",
                "10",
                "--status",
                str(self.status),
                "1",
                "--status-version",
                str(self.version),
            ],
        )

    def client(self, cn: str) -> None:
        self._start(
            cn,
            [
                "--client",
                "--proto",
                "udp4",
                "--remote",
                "127.0.0.1",
                str(self.port),
                "--nobind",
                "--cert",
                f"{cn}.crt",
                "--key",
                f"{cn}.key",
                "--ping",
                "1",
                "--explicit-exit-notify",
                "1",
                "--status",
                str(self.path / f"{cn}.status"),
                "1",
            ],
        )

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def close(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def wait_file(self, path: Path, check: Any, timeout: float = 30) -> tuple[bytes, StatusFile]:
        """The first complete status file at ``path`` that passes ``check``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = path.read_bytes()
                status = parse(raw, peer="tunnel")
            except (OSError, InvalidInput):  # read while openvpn rewrites it: cut short, refused
                time.sleep(0.2)
                continue
            if check(status):
                return raw, status
            time.sleep(0.2)
        logs = {p.name: p.read_text()[-1500:] for p in self.path.glob("*.log")}
        raise AssertionError(f"no status file at {path} as expected within {timeout} s: {logs}")


@pytest.fixture
def api(env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("UPSTAT_PORT", str(_free_port()))
    get_settings.cache_clear()
    with serve() as base:
        yield base


def _cron_post(base: str, file: Path, server: str) -> dict[str, Any]:
    """What a cron job runs: curl --data-binary @file with the bearer header (no content type of its own)."""
    url = f"{base}/api/v1/ingest/openvpn?server={server}"
    if shutil.which("curl"):
        done = subprocess.run(
            [
                "curl",
                "-sS",
                "--data-binary",
                f"@{file}",
                "-H",
                f"Authorization: {AUTH['Authorization']}",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        import json

        body = json.loads(done.stdout)
    else:
        body = httpx.post(url, content=file.read_bytes(), headers=AUTH, timeout=30).json()
    assert body["success"] is True, body
    return body["data"]


def _get(base: str, path: str, **params: str) -> Any:
    answer = httpx.get(f"{base}/api/v1{path}", headers=AUTH, params=params, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _snapshot(lab: Lab, status: StatusFile, raw: bytes, name: str) -> Path:
    """The file as it was read (openvpn rewrites it every second), kept to be posted."""
    kept = lab.path / name
    kept.write_bytes(raw)
    return kept


@pytest.mark.timeout(180)
@pytest.mark.parametrize("version", [1, 2, 3])
def test_status_files_of_a_real_openvpn_server(api: str, tmp_path: Path, version: int) -> None:
    lab = Lab(tmp_path, version)
    server = f"lab-v{version}"
    try:
        lab.server()
        lab.client("alice")
        lab.client("bob")
        names = lambda s: {c.common_name for c in s.clients}  # noqa: E731
        moving = lambda s: names(s) == {"alice", "bob"} and min(c.received for c in s.clients) > 2000  # noqa: E731
        raw, first = lab.wait_file(lab.status, moving)
        assert first.form == f"v{version}"
        done = _cron_post(api, _snapshot(lab, first, raw, "one.status"), server)
        assert sorted(done["started"]) == ["alice", "bob"] and done["clients"] == 2

        alice = next(c for c in first.clients if c.common_name == "alice")
        stats = {s["common_name"]: s for s in _get(api, "/stats", server=server)["data"]}
        assert stats["alice"]["status"] == stats["bob"]["status"] == "Active"
        assert stats["alice"]["connected_since"] == time.strftime(
            "%Y-%m-%d %H:%M:%S", time.gmtime(alice.connected_since // 1000)
        )
        assert stats["alice"]["real_address"] == alice.real_address
        detail = _get(api, "/stats/alice", range="1h", server=server)["data"]
        # The session counts from its start (a zero there): the history sums to the file's counters.
        assert sum(h["bytes_received"] for h in detail["history"]) == alice.received
        assert sum(h["bytes_sent"] for h in detail["history"]) == alice.sent
        assert detail["meta"]["record_count"] == 120

        # bob leaves (explicit exit notify): the next file lists alice only, and bob is Disconnected.
        lab.stop("bob")
        raw, second = lab.wait_file(lab.status, lambda s: names(s) == {"alice"} and s.time > first.time)
        done = _cron_post(api, _snapshot(lab, second, raw, "two.status"), server)
        assert done["ended"] == ["bob"]
        clients = {c["common_name"]: c["status"] for c in _get(api, "/clients", server=server)["data"]}
        assert clients == {"alice": "Active", "bob": "Disconnected"}

        if version != 2:
            return  # the reconnect is the same for every version and takes ~30 s: run once
        # alice reconnects: a new session, counters from zero; nothing moved is lost or negative.
        before = next(c for c in second.clients if c.common_name == "alice")
        lab.stop("alice")
        lab.wait_file(lab.status, lambda s: not s.clients)
        lab.client("alice")
        again = lambda s: names(s) == {"alice"} and s.clients[0].connected_since != before.connected_since  # noqa: E731
        raw, third = lab.wait_file(lab.status, again)
        done = _cron_post(api, _snapshot(lab, third, raw, "three.status"), server)
        assert done["started"] == ["alice"] or done["restarted"] == ["alice"]
        now = third.clients[0]
        raw_history = _get(api, "/stats/alice", range="1h", resolution="raw", server=server)["data"][
            "history"
        ]
        assert all(h["bytes_received"] >= 0 for h in raw_history)
        assert sum(h["bytes_received"] for h in raw_history) == before.received + now.received
        system = _get(api, "/stats/system", server=server)["data"]
        assert (system["total_clients"], system["active_clients"]) == (2, 1)
        bob = next(c for c in first.clients if c.common_name == "bob")
        analytics = _get(api, "/analytics", server=server)["data"]
        assert analytics["traffic_distribution"]["rx"] == before.received + now.received + bob.received
        assert analytics["max_concurrent_24h"] == 2
        assert [c["common_name"] for c in analytics["top_clients_24h"]][:1] == ["alice"]
    finally:
        lab.close()


@pytest.mark.timeout(120)
def test_the_point_to_point_statistics_form_of_a_real_client(api: str, tmp_path: Path) -> None:
    lab = Lab(tmp_path, 2)
    try:
        lab.server()
        lab.client("alice")
        raw, stats = lab.wait_file(lab.path / "alice.status", lambda s: s.clients[0].received > 2000)
        assert stats.form == "statistics"
        kept = _snapshot(lab, stats, raw, "alice-stats.status")
        done = _cron_post(api, kept, "alice-tunnel")
        assert done["form"] == "statistics" and done["started"] == ["alice-tunnel"]
        # The tunnel's first file starts its counter; the next one's growth is what the client read.
        raw2, later = lab.wait_file(
            lab.path / "alice.status",
            lambda s: s.time > stats.time and s.clients[0].received > stats.clients[0].received,
        )
        _cron_post(api, _snapshot(lab, later, raw2, "alice-stats-2.status"), "alice-tunnel")
        moved = later.clients[0].received - stats.clients[0].received
        history = _get(api, "/stats/alice-tunnel", range="1h", resolution="raw")["data"]["history"]
        assert sum(h["bytes_received"] for h in history) == moved
        # The server counts the same link from its side: what it sent alice is what alice's instance read.
        _, server_view = lab.wait_file(lab.status, lambda s: bool(s.clients))
        assert server_view.clients[0].sent > 0
    finally:
        lab.close()
