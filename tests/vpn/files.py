"""Status files composed the way OpenVPN writes them (ingestion-formats.md section 3), at chosen times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

TITLE = "OpenVPN 2.6.12 x86_64-pc-linux-gnu [SSL (OpenSSL)] [LZO] [LZ4] [EPOLL] [MH/PKTINFO] [AEAD] [DCO]"
HEADER_26 = (
    "Common Name,Real Address,Virtual Address,Virtual IPv6 Address,Bytes Received,Bytes Sent,"
    "Connected Since,Connected Since (time_t),Username,Client ID,Peer ID,Data Channel Cipher"
)


@dataclass(frozen=True)
class Conn:
    """A connected client: common name, bytes received from it and sent to it, session start (epoch s)."""

    name: str
    rx: int
    tx: int
    since: int
    real: str = "198.51.100.7:52011"
    vaddr: str = "10.8.0.2"


def text_time(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M:%S")


def ctime(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%a %b %d %H:%M:%S %Y").replace(" 0", "  ", 1)


def v2(at: int, conns: list[Conn], sep: str = ",") -> str:
    lines = [
        f"TITLE{sep}{TITLE}",
        f"TIME{sep}{text_time(at)}{sep}{at}",
        f"HEADER{sep}CLIENT_LIST{sep}" + HEADER_26.replace(",", sep),
    ]
    for i, c in enumerate(conns):
        row = [
            c.name,
            c.real,
            c.vaddr,
            "",
            str(c.rx),
            str(c.tx),
            text_time(c.since),
            str(c.since),
            "UNDEF",
            str(i),
            str(i),
            "AES-256-GCM",
        ]
        lines.append(sep.join(["CLIENT_LIST", *row]))
    lines.append(
        sep.join(
            [
                "HEADER",
                "ROUTING_TABLE",
                "Virtual Address",
                "Common Name",
                "Real Address",
                "Last Ref",
                "Last Ref (time_t)",
            ]
        )
    )
    for c in conns:
        lines.append(sep.join(["ROUTING_TABLE", c.vaddr, c.name, c.real, text_time(at), str(at)]))
    lines += [
        sep.join(["GLOBAL_STATS", "Max bcast/mcast queue length", "0"]),
        sep.join(["GLOBAL_STATS", "dco_enabled", "0"]),
        "END",
    ]
    return "\n".join(lines) + "\n"


def v3(at: int, conns: list[Conn]) -> str:
    return v2(at, conns, "\t")


def v1(at: int, conns: list[Conn]) -> str:
    lines = [
        "OpenVPN CLIENT LIST",
        f"Updated,{text_time(at)}",
        "Common Name,Real Address,Bytes Received,Bytes Sent,Connected Since",
    ]
    lines += [f"{c.name},{c.real},{c.rx},{c.tx},{text_time(c.since)}" for c in conns]
    lines += ["ROUTING TABLE", "Virtual Address,Common Name,Real Address,Last Ref"]
    lines += [f"{c.vaddr},{c.name},{c.real},{text_time(at)}" for c in conns]
    lines += ["GLOBAL STATS", "Max bcast/mcast queue length,0", "END"]
    return "\n".join(lines) + "\n"


def statistics(at: int, read: int, write: int) -> str:
    return (
        "\n".join(
            [
                "OpenVPN STATISTICS",
                f"Updated,{text_time(at)}",
                "TUN/TAP read bytes,0",
                "TUN/TAP write bytes,0",
                f"TCP/UDP read bytes,{read}",
                f"TCP/UDP write bytes,{write}",
                "Auth read bytes,16",
                "END",
            ]
        )
        + "\n"
    )
