"""Real flow tools into the Netflow Collector API: a capture of known traffic replayed by Debian's
``softflowd`` as NetFlow v5 into ``nfcapd`` on 127.0.0.1, dumped by ``nfdump -o csv`` and posted as is;
the document's routes must then answer the capture's own flows, packets and bytes.

softflowd reads the capture with ``-r`` and exports v5, whose times come from the capture (its v9/IPFIX
mode in ``-r`` shifts them by about 49.7 days, so v5 is used). ``make test`` installs the three tools with
apt-get when run as root; elsewhere these tests skip, saying so.
"""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import AUTH

TOOLS = ("softflowd", "nfcapd", "nfdump")
MISSING = [t for t in TOOLS if shutil.which(t) is None]
pytestmark = [
    pytest.mark.agent,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"{', '.join(MISSING)} not installed (Debian packages softflowd and nfdump; `make test` "
        "installs them with apt-get when run as root)",
    ),
]

# Directed flows: (source, destination, source port, destination port, IP protocol). A TCP conversation
# in both directions is two NetFlow records, as softflowd exports it.
FLOWS = (
    ("10.0.0.1", "10.0.0.2", 40000, 80, 6),
    ("10.0.0.2", "10.0.0.1", 80, 40000, 6),
    ("10.0.0.3", "10.0.0.4", 5353, 53, 17),
    ("10.0.0.5", "10.0.0.6", 0, 0, 1),
    ("10.0.0.7", "10.0.0.8", 51000, 443, 6),
)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ip_packet(src: str, dst: str, sport: int, dport: int, proto: int, payload: bytes) -> bytes:
    """An IPv4 packet (TCP with PSH+ACK, UDP, or an ICMP echo) carrying ``payload``."""
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + payload
    elif proto == 17:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    else:
        l4 = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + payload
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(l4),
        1,
        0,
        64,
        proto,
        0,
        socket.inet_aton(src),
        socket.inet_aton(dst),
    )
    return header[:10] + struct.pack("!H", _checksum(header)) + header[12:] + l4


def write_pcap(path: Path, start: float, n: int) -> dict[str, int]:
    """A classic pcap (Ethernet) of ``n`` packets, half a second apart from ``start``, round robin over
    FLOWS with growing payloads; returns what a flow exporter should count: flows, packets and IP bytes."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    nbytes = 0
    for i in range(n):
        packet = ip_packet(*FLOWS[i % len(FLOWS)], b"x" * (11 * i % 1400))
        frame = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + packet
        ts = start + i * 0.5
        out.append(struct.pack("<IIII", int(ts), int(ts % 1 * 1e6), len(frame), len(frame)) + frame)
        nbytes += len(packet)
    path.write_bytes(b"".join(out))
    return {"flows": min(n, len(FLOWS)), "packets": n, "bytes": nbytes}


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def capture_to_csv(pcap: Path, workdir: Path, tz: str) -> str:
    """softflowd replays the capture as NetFlow v5 into nfcapd; nfdump prints what nfcapd stored, as CSV
    in the local time of ``tz``."""
    store = workdir / "nfcapd"
    store.mkdir()
    port = _free_udp_port()
    nfcapd = subprocess.Popen(
        ["nfcapd", "-l", str(store), "-p", str(port), "-b", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(0.5)  # nfcapd binds its socket
        subprocess.run(
            ["softflowd", "-r", str(pcap), "-v", "5", "-n", f"127.0.0.1:{port}"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        time.sleep(0.5)  # the datagrams reach nfcapd
    finally:
        nfcapd.terminate()  # on SIGTERM nfcapd closes its file under its final name
        nfcapd.wait(timeout=10)
    [dump] = [p for p in store.iterdir() if p.name.startswith("nfcapd.2")]
    run = subprocess.run(
        ["nfdump", "-r", str(dump), "-o", "csv"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
        env={"TZ": tz, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
    )
    return run.stdout


def totals(client: TestClient, interval: str) -> dict[str, Any]:
    res = client.get(f"/v1/api/device/get/summary/interval/{interval}", headers=AUTH)
    assert res.status_code == 200, res.text
    return {row["device"]: row for row in res.json()}


@pytest.mark.parametrize("tz", ["UTC", "Asia/Tehran"])
def test_softflowd_nfcapd_and_nfdump_counts_are_answered_exactly(
    client: TestClient, tmp_path: Path, tz: str
) -> None:
    pcap = tmp_path / "traffic.pcap"
    want = write_pcap(pcap, time.time() - 600, 60)
    csv = capture_to_csv(pcap, tmp_path, tz)
    assert csv.startswith("ts,te,td,sa,da,") and "\nSummary\n" in csv  # nfdump 1.7.1's fixed layout
    res = client.post(
        "/v1/api/flows", content=csv, headers={**AUTH, "Content-Type": "text/csv"}, params={"tz": tz}
    )
    assert res.status_code == 200, res.text
    assert res.json()["records"] == want["flows"]
    row = totals(client, "30m")["127.0.0.1"]  # nfcapd's ra: the address softflowd exported from
    assert (row["flow_count"], row["total_packets"], row["total_bytes"]) == (
        want["flows"],
        want["packets"],
        want["bytes"],
    )
    assert totals(client, "5m") == {}  # the capture starts ten minutes ago and lasts thirty seconds
    [device] = client.get("/v1/api/device/get/all", headers=AUTH).json()
    groups = client.get(f"/v1/api/device/get/summary/group/30m/by/{device['ID']}", headers=AUTH).json()
    assert sum(g["total_bytes"] for g in groups) == want["bytes"] and 1 <= len(groups) <= 2
    # the same file posted again (a retried cron job) counts once
    again = client.post(
        "/v1/api/flows", content=csv, headers={**AUTH, "Content-Type": "text/csv"}, params={"tz": tz}
    )
    assert again.json()["replayed"] is True
    assert totals(client, "30m")["127.0.0.1"]["total_bytes"] == want["bytes"]
