"""Factories and reference computations shared by the tests."""

from __future__ import annotations

from typing import Any

from upstat.store.keyspace import Keys
from upstat.timeseries import timemath as tm
from upstat.timeseries.engine import Engine

DEFAULT_RETENTION = "raw=48h,5m=14d,15m=35d,1h=90d,6h=400d,1d=0"
# The OpenVPN monitor document's "Dynamic Aggregation" table: range, automatic resolution, points.
OPENVPN_TABLE = (
    ("1h", "30s", 120),
    ("3h", "1m", 180),
    ("6h", "2m", 180),
    ("12h", "5m", 144),
    ("24h", "15m", 96),
    ("7d", "1h", 168),
    ("30d", "6h", 120),
)
# Beyond 30 days upstat answers daily.
BEYOND_THE_TABLE = (("90d", "1d", 90), ("1y", "1d", 365))

# A fixed "now" (2026-06-01T12:00:00Z + 7 s) keeps the tests' arithmetic readable.
NOW = 1_780_315_207_000


def make_engine(client: Any, retention: str = DEFAULT_RETENTION, tiers: str = "5m,15m,1h,6h,1d") -> Engine:
    return Engine(client, Keys("upstat:"), tm.build_tiers(tiers, retention))


def reference_buckets(
    points: dict[int, float], start: int, step: int, n: int
) -> list[dict[str, float] | None]:
    """Per-bucket figures computed the slow, obvious way from the final set of points."""
    out: list[dict[str, float] | None] = []
    for i in range(n):
        lo, hi = start + i * step, start + (i + 1) * step
        vals = [v for t, v in sorted(points.items()) if lo <= t < hi]
        if not vals:
            out.append(None)
            continue
        out.append(
            {
                "count": len(vals),
                "sum": sum(vals),
                "min": min(vals),
                "max": max(vals),
                "last": vals[-1],
                "first": vals[0],
            }
        )
    return out


def reference_increase(points: dict[int, float], start: int, step: int, n: int) -> list[float | None]:
    """Counter increase per bucket: steps between consecutive points, a drop read as a restart from zero."""
    items = sorted(points.items())
    out: list[float | None] = [None] * n
    prev: float | None = None
    for t, v in items:
        j = (t - start) // step
        if 0 <= j < n:
            step_inc = 0.0 if prev is None else (v - prev if v >= prev else v)
            out[j] = (out[j] or 0.0) + step_inc
        prev = v
    return out


# goflow2's default JSON formatter (ingestion-formats.md 4.2): every field, in its order, zero values
# included. ``goflow2_record`` fills the ones a test cares about; the rest are as goflow2 writes them.
GOFLOW2_FIELDS: dict[str, Any] = {
    "type": "NETFLOW_V5",
    "time_received_ns": 0,
    "sequence_num": 0,
    "sampling_rate": 0,
    "sampler_address": "",
    "time_flow_start_ns": 0,
    "time_flow_end_ns": 0,
    "bytes": 0,
    "packets": 0,
    "src_addr": "10.0.0.5",
    "dst_addr": "198.51.100.80",
    "etype": "IPv4",
    "proto": "TCP",
    "src_port": 51514,
    "dst_port": 443,
    "in_if": 2,
    "out_if": 3,
    "src_mac": "00:00:00:00:00:00",
    "dst_mac": "00:00:00:00:00:00",
    "src_vlan": 0,
    "dst_vlan": 0,
    "vlan_id": 0,
    "ip_tos": 0,
    "forwarding_status": 0,
    "ip_ttl": 0,
    "ip_flags": 0,
    "tcp_flags": 27,
    "icmp_type": 0,
    "icmp_code": 0,
    "ipv6_flow_label": 0,
    "fragment_id": 0,
    "fragment_offset": 0,
    "src_as": 0,
    "dst_as": 0,
    "next_hop": "10.0.0.1",
    "next_hop_as": 0,
    "src_net": "10.0.0.0/24",
    "dst_net": "0.0.0.0/0",
    "bgp_next_hop": "",
    "bgp_communities": [],
    "as_path": [],
    "mpls_ttl": [],
    "mpls_label": [],
    "mpls_ip": [],
    "observation_domain_id": 0,
    "observation_point_id": 0,
    "layer_stack": [],
    "layer_size": [],
    "ipv6_routing_header_addresses": [],
    "ipv6_routing_header_seg_left": 0,
}
GOFLOW2_TYPES = ("NETFLOW_V5", "NETFLOW_V9", "IPFIX", "SFLOW_5")


def goflow2_record(
    kind: str,
    exporter: str,
    start_ms: int,
    nbytes: int,
    packets: int,
    *,
    sampling_rate: int = 0,
    seq: int = 1,
) -> dict[str, Any]:
    """A goflow2 record of ``kind`` as its default formatter writes it. NetFlow and IPFIX flows end a minute
    after they start and reach the collector a second later; sFlow samples start, end and arrive at once
    (ingestion-formats.md 4.2). IPFIX records carry an observation domain; sFlow a layer stack."""
    start = start_ms * 1_000_000 + 123_456
    sflow = kind == "SFLOW_5"
    end = start if sflow else start + 59_000_000_000
    rec = dict(GOFLOW2_FIELDS)
    rec.update(
        type=kind,
        time_received_ns=end if sflow else end + 1_000_000_000,
        sequence_num=seq,
        sampling_rate=sampling_rate,
        sampler_address=exporter,
        time_flow_start_ns=start,
        time_flow_end_ns=end,
        bytes=nbytes,
        packets=packets,
    )
    if kind == "IPFIX":
        rec["observation_domain_id"] = 256
    if sflow:
        rec["layer_stack"] = ["Ethernet", "IPv4", "TCP"]
        rec["layer_size"] = [14, 20, 20]
    return rec
