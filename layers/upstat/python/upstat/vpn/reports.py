"""What the VPN domain answers: clients and their status, a client's traffic over a range, a server's (or
every server's) traffic, clients connected and top clients over a range, and totals. Plain values in the
domain's words (bytes, bytes per second, epoch ms); each dialect maps them to its document's fields.

A client is ``active`` while the newest status file of its server lists it and that file is recent
(:data:`STALE_MS`): a server that stopped reporting has no active client. A common name known on several
servers is one client here (its traffic summed over the servers asked for). Which servers there are is the
sources registry's word (``upstat.vpn.servers``); each function reads the servers it is given (None: every
one), so a caller narrows them (one server, or an organization's) before asking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from upstat.errors import NotFound
from upstat.timeseries import multi, windows
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import Buckets, Query
from upstat.vpn.ingest import CONNECTED, RECEIVED, SENT
from upstat.vpn.servers import client_source, server_names, server_source
from upstat.vpn.store import ClientState, ServerState, VpnStore

#: A server whose newest status file is older than this has stopped reporting: none of its clients is
#: active. OpenVPN rewrites the file every minute by default; 15 minutes allows for a late cron job.
STALE_MS = 15 * tm.MINUTE


@dataclass(frozen=True, slots=True)
class Client:
    """A known client of one server, as its last sight left it."""

    server: str
    common_name: str
    active: bool
    state: ClientState


@dataclass(frozen=True, slots=True)
class Totals:
    """Every server together: clients known and active, and bytes counted since upstat first saw them."""

    clients: int
    active: int
    received: float
    sent: float


@dataclass(frozen=True)
class ClientTraffic:
    """One client's traffic per bucket of a range (``raw``: per status file, each bucket the time since the
    previous file), with its current rates (bytes per second; zero when not active)."""

    common_name: str
    servers: list[str]
    active: bool
    received_rate: float
    sent_rate: float
    resolution: str  # the grid's bucket ("30s", "1h", "raw")
    tier: str  # the stored tier read ("raw", "15m", "6h", ...)
    starts: list[int]
    seconds: list[float]
    received: list[float]
    sent: list[float]


@dataclass(frozen=True)
class Ranked:
    common_name: str
    received: float
    sent: float


@dataclass(frozen=True)
class Traffic:
    """Every server's traffic per bucket, the clients connected (the most at once in each bucket, as the
    status files saw them), the peak, and the clients that moved the most."""

    starts: list[int]
    received: list[float]
    sent: list[float]
    connected: list[int]
    peak: int
    top: list[Ranked]


def _servers(store: VpnStore, servers: Sequence[str] | None) -> list[ServerState]:
    """The servers named (None: every server of the registry), as last committed."""
    return store.load_many(server_names(store.redis) if servers is None else servers)


def _fresh(state: ServerState, now: int) -> bool:
    return state.time is not None and now - state.time <= STALE_MS


def clients(store: VpnStore, *, now: int, servers: Sequence[str] | None = None) -> list[Client]:
    """Every known client (by server, then name), active or not."""
    out = []
    for state in _servers(store, servers):
        fresh = _fresh(state, now)
        for name in sorted(state.clients):
            c = state.clients[name]
            out.append(Client(state.name, name, fresh and state.is_active(c), c))
    return out


@dataclass(frozen=True, slots=True)
class Person:
    """A common name across the servers that know it: active on any, rates of its active sessions and
    totals summed, and the newest sight's details."""

    common_name: str
    servers: list[str]
    active: bool
    received_rate: float
    sent_rate: float
    received_total: float
    sent_total: float
    since: int | None
    last_seen: int
    real_address: str
    virtual_address: str


def people(store: VpnStore, *, now: int, servers: Sequence[str] | None = None) -> list[Person]:
    """Every known common name (sorted), merged across servers."""
    groups: dict[str, list[Client]] = {}
    for c in clients(store, now=now, servers=servers):
        groups.setdefault(c.common_name, []).append(c)
    out = []
    for name in sorted(groups):
        group = groups[name]
        active = [c for c in group if c.active]
        newest = max(group, key=lambda c: c.state.time)
        out.append(
            Person(
                common_name=name,
                servers=[c.server for c in group],
                active=bool(active),
                received_rate=sum(c.state.received_rate for c in active),
                sent_rate=sum(c.state.sent_rate for c in active),
                received_total=sum(c.state.received_total for c in group),
                sent_total=sum(c.state.sent_total for c in group),
                since=newest.state.since,
                last_seen=newest.state.time,
                real_address=newest.state.real_address,
                virtual_address=newest.state.virtual_address,
            )
        )
    return out


def totals(store: VpnStore, *, now: int, servers: Sequence[str] | None = None) -> Totals:
    names = server_names(store.redis) if servers is None else list(servers)
    states = _servers(store, names)
    known = people(store, now=now, servers=names)
    return Totals(
        clients=len(known),
        active=sum(1 for c in known if c.active),
        received=sum(s.received for s in states),
        sent=sum(s.sent for s in states),
    )


def client_traffic(
    engine: Any,
    store: VpnStore,
    common_name: str,
    query: Query,
    *,
    now: int,
    servers: Sequence[str] | None = None,
) -> ClientTraffic:
    """``common_name``'s traffic over the query's range, summed over the servers that know it (404:
    none does)."""
    mine = [c for c in clients(store, now=now, servers=servers) if c.common_name == common_name]
    if not mine:
        raise NotFound(f"common_name: no client named {common_name!r}", field="common_name")
    pairs = [(client_source(c.server, common_name), metric) for c in mine for metric in (RECEIVED, SENT)]
    read = engine.read_many(pairs, query, now=now)
    received = [b for b in read[0::2] if b is not None]
    sent = [b for b in read[1::2] if b is not None]
    active = [c for c in mine if c.active]
    common = dict(
        common_name=common_name,
        servers=[c.server for c in mine],
        active=bool(active),
        received_rate=sum(c.state.received_rate for c in active),
        sent_rate=sum(c.state.sent_rate for c in active),
    )
    first = next((b for b in read if b is not None), None)
    if first is not None and first.grid.raw:
        return _raw_traffic(received, sent, first, common)
    grid = tm.make_grid(query.range, query.resolution, now=now, tz=query.tz)
    tier = first.tier.name if first is not None else engine.raw.name
    return ClientTraffic(
        **common,  # type: ignore[arg-type]
        resolution=grid.resolution,
        tier=tier,
        starts=list(grid.starts()),
        seconds=[grid.length(j) / 1000 for j in range(grid.n)],
        received=_zero(multi.total_per_bucket(received, "increase", grid.n)),
        sent=_zero(multi.total_per_bucket(sent, "increase", grid.n)),
    )


def _zero(values: Sequence[float | None]) -> list[float]:
    return [0.0 if v is None else v for v in values]


def _raw_steps(b: Buckets) -> list[tuple[int, float, float]]:
    """Each stored point of a counter as (time, increase since the point before, seconds since it)."""
    out = []
    prev, prev_t = b.prev_last, None
    for t, v in zip(b.raw_times, b.raw_values, strict=True):
        moved = 0.0 if prev is None else (v - prev if v >= prev else v)
        out.append((t, moved, 0.0 if prev_t is None else (t - prev_t) / 1000))
        prev, prev_t = v, t
    return out


def _raw_traffic(
    received: list[Buckets], sent: list[Buckets], first: Buckets, common: dict[str, Any]
) -> ClientTraffic:
    """Per stored point (each status file, and each session's start): what moved since the point before."""
    rows: dict[int, list[float]] = {}
    for i, series in enumerate((received, sent)):
        for b in series:
            for t, moved, seconds in _raw_steps(b):
                row = rows.setdefault(t, [0.0, 0.0, seconds])
                row[i] += moved
    times = sorted(rows)
    return ClientTraffic(
        **common,
        resolution="raw",
        tier=first.tier.name,
        starts=times,
        seconds=[rows[t][2] for t in times],
        received=[rows[t][0] for t in times],
        sent=[rows[t][1] for t in times],
    )


def traffic(
    engine: Any,
    store: VpnStore,
    query: Query,
    *,
    now: int,
    top: int = 10,
    servers: Sequence[str] | None = None,
) -> Traffic:
    """Every server's (or one server's) traffic and clients connected per bucket of ``query``, zero where
    nothing was reported, and the ``top`` clients by bytes moved over the range."""
    states = _servers(store, servers)
    grid = tm.make_grid(query.range, query.resolution, now=now, tz=query.tz)
    pairs = [(server_source(s.name), m) for s in states for m in (RECEIVED, SENT, CONNECTED)]
    read = engine.read_many(pairs, query, now=now)
    connected = multi.total_per_bucket([b for b in read[2::3] if b is not None], "max", grid.n)
    active = [0 if v is None else round(v) for v in connected]
    return Traffic(
        starts=list(grid.starts()),
        received=_zero(multi.total_per_bucket([b for b in read[0::3] if b is not None], "increase", grid.n)),
        sent=_zero(multi.total_per_bucket([b for b in read[1::3] if b is not None], "increase", grid.n)),
        connected=active,
        peak=max(active, default=0),
        top=_top(engine, states, grid, now=now, n=top),
    )


def _top(engine: Any, states: list[ServerState], grid: Any, *, now: int, n: int) -> list[Ranked]:
    """The ``n`` common names that moved the most bytes (received + sent) over the grid's window (read from
    the coarsest tiers that nest in it: :func:`upstat.timeseries.windows.window_increases`)."""
    names = [(s.name, c) for s in states for c in s.clients]
    pairs = [(client_source(s, c), m) for s, c in names for m in (RECEIVED, SENT)]
    moved_each = windows.window_increases(engine, pairs, start=grid.start, end=grid.end, now=now)
    moved: dict[str, list[float]] = {}
    for i, (_, name) in enumerate(names):
        row = moved.setdefault(name, [0.0, 0.0])
        row[0] += moved_each[2 * i]
        row[1] += moved_each[2 * i + 1]
    ranked = [Ranked(name, rx, tx) for name, (rx, tx) in moved.items() if rx + tx > 0]
    ranked.sort(key=lambda r: (-(r.received + r.sent), r.common_name))
    return ranked[:n]
