"""The OpenVPN Monitor API v3 (its published document; README "OpenVPN Monitor API") at ``/api/v1``.

Every route of the document with its fields, units and time format, over the VPN domain (``upstat.vpn``):
status files in (``POST /api/v1/ingest/openvpn``, as a cron job sends them), per-client traffic, clients
connected, totals and certificate expiry out. Errors answer in one shape for the whole dialect,
``{"success": false, "message": "..."}``, with the status (400 bad parameter or file, 401/403, 404
unknown client, 503 data store unreachable); successes carry ``"success": true``.

Whose data: a VPN server is the registered source ``openvpn:<server>`` (``upstat.vpn.servers``). An
organization key reads and writes only the servers registered in its organization (the one check,
``upstat.sources.access``: 403 naming ``server`` for any other; its listings and sums cover only its own);
source keys are refused here, and on the certificates, which belong to no server, organization keys too.

Units: bytes in history items and analytics, MB (10^6 bytes) and GB (10^9 bytes) where the field says so,
rates in Mbps (bits / seconds / 10^6). Times as the document prints them, ``YYYY-MM-DD HH:MM:SS``, in UTC
unless ``tz`` names another zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from upstat.api.deps import EngineDep, OrganizationReader, OrganizationWriter, Reader, RedisDep, Writer
from upstat.api.errors import register_error_format
from upstat.api.params import UTC as UTC_ZONE
from upstat.api.params import Tz
from upstat.auth import Principal
from upstat.clock import now_ms
from upstat.names import NAME_PATTERN, SEGMENT_PATTERN
from upstat.sources.access import check_source, visible
from upstat.store.client import reachable
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import Query as EngineQuery
from upstat.timeseries.timemath import Interval, RangeSpec
from upstat.vpn import certificates, reports
from upstat.vpn.ingest import ingest_status
from upstat.vpn.servers import DEFAULT_SERVER, require_server, server_names, server_source
from upstat.vpn.statusfile import parse
from upstat.vpn.store import vpn_store

PREFIX = "/api/v1"


def openvpn_error(status: int, error: str, message: str, field: str | None) -> dict[str, Any]:
    """The dialect's one error shape."""
    return {"success": False, "message": message}


register_error_format(f"{PREFIX}/", openvpn_error)


class ErrorOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"success": False, "message": "range: must be one of 24h, 7d, 30d"}]}
    )
    success: bool = False
    message: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in (
        (400, "A bad parameter, or a status file that is not one (the message names the line)"),
        (401, "Missing or unknown bearer token"),
        (403, "The token lacks the route's scope, or the server is not the organization key's"),
        (404, "No such client, or no such server (`server=`)"),
        (413, "Request body over the configured limit"),
        (429, "Rate limit reached: see Retry-After"),
        (503, "The data store is unreachable"),
    )
}

router = APIRouter(prefix=PREFIX, tags=["OpenVPN Monitor"], responses=_ERRORS)

MB, GB, MEGABIT = 1e6, 1e9, 1e6
ACTIVE, DISCONNECTED = "Active", "Disconnected"
#: Analytics ranges: exactly 96 buckets of 15, 105 and 450 minutes (each a whole number of the 15-minute
#: tier's buckets, so every figure is exact).
ANALYTICS = {"24h": 15, "7d": 105, "30d": 450}
ANALYTICS_POINTS = 96
STATS_RANGES = ("1h", "3h", "6h", "12h", "24h", "7d", "30d", "1y")
RESOLUTIONS = {"auto": "auto", "raw": "raw", "5min": "5m", "hourly": "1h", "daily": "1d"}
#: The document's names for the tables a resolution reads from.
TIER_NAMES = {"1h": "stats_hourly", "6h": "stats_6h", "1d": "stats_daily"}
HIRES = "usage_history_hires"

ServerParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=100,
        pattern=SEGMENT_PATTERN,
        description="Only this VPN server's clients (default: every server the key may read)",
    ),
]
CommonName = Annotated[
    str, Path(min_length=1, max_length=200, pattern=SEGMENT_PATTERN, description="The client's common name")
]


def readable_servers(client: Any, caller: Principal, server: str | None) -> list[str]:
    """The servers a read covers: the one named (403 when it is not the caller's, 404 when unknown), else
    every server the caller may read (an organization key: its organization's)."""
    if server is not None:
        check_source(client, caller, server_source(server), field="server")
        return [require_server(client, server)]
    names = server_names(client)
    allowed = set(visible(client, caller, [server_source(n) for n in names]))
    return [n for n in names if server_source(n) in allowed]


def stamp(ms: int, tz: str) -> str:
    """Epoch ms as the document prints times: ``YYYY-MM-DD HH:MM:SS`` in ``tz``."""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tm.zone(tz)).strftime("%Y-%m-%d %H:%M:%S")


def _mb(value: float) -> float:
    return round(value / MB, 2)


def _mbps(bytes_per_second: float) -> float:
    return round(bytes_per_second * 8 / MEGABIT, 6)


def _ok(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"success": True, **body}, headers={"Cache-Control": "no-store"})


# ----------------------------------------------------------------------------------------------------
# Ingestion


async def _body(request: Request) -> bytes:
    return await request.body()


class IngestData(BaseModel):
    server: str
    form: str = Field(description="v1, v2, v3 or statistics (the point-to-point form)")
    time: str = Field(description="the file's own time (its TIME or Updated line)")
    clients: int = Field(description="clients the file lists")
    started: list[str] = Field(description="clients whose session began since the previous file")
    restarted: list[str] = Field(description="clients that reconnected (counters began again from zero)")
    ended: list[str] = Field(description="clients of the previous file missing from this one")
    points: int = Field(description="points stored")
    late: bool = Field(description="older than a file already stored: its points landed, the state stayed")


class IngestOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "data": {
                        "server": "openvpn",
                        "form": "v2",
                        "time": "2026-01-09 12:00:00",
                        "clients": 2,
                        "started": ["bob"],
                        "restarted": [],
                        "ended": [],
                        "points": 9,
                        "late": False,
                    },
                }
            ]
        }
    )
    success: bool = True
    data: IngestData


STATUS_FILE_RULES = (
    "An OpenVPN status file as OpenVPN writes it (`--status FILE` with `--status-version 1`, 2 or 3, or a "
    "point-to-point instance's `OpenVPN STATISTICS`), sent as it is, e.g. `curl --data-binary @server.status`"
    " (any content type). Refused with 400, the message starting with `status file line N:`, when it is "
    "not one: no known first line, a row whose column count differs from its header, a byte count that is "
    "not a whole number, a time that cannot be read, no `END` line (a file cut while written), or a file "
    "time older than the raw tier's retention or more than 5 minutes ahead. Nothing of a refused file is "
    "stored; an empty client list is valid."
)


@router.post(
    "/ingest/openvpn",
    summary="Ingest a VPN server's status file (versions 1, 2, 3 and the point-to-point form)",
    response_model=IngestOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": STATUS_FILE_RULES,
            "content": {"text/plain": {"schema": {"type": "string", "minLength": 1}}},
        }
    },
)
def ingest_openvpn(
    body: Annotated[bytes, Depends(_body)],
    client: RedisDep,
    engine: EngineDep,
    caller: OrganizationWriter,
    server: Annotated[
        str,
        Query(
            min_length=1,
            max_length=100,
            pattern=SEGMENT_PATTERN,
            description="The VPN server the file comes from (several servers may report to one upstat); "
            "an organization key sends only for a server registered in its organization "
            "(source `openvpn:<server>`, kind `vpn-server`)",
        ),
    ] = DEFAULT_SERVER,
    tz: Annotated[Tz, Query(description="The server's time zone, for times written only as text (v1)")] = (
        UTC_ZONE
    ),
    peer: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=90,
            pattern=SEGMENT_PATTERN,
            description="The point-to-point form's one client (default: the server's name; at most 90 "
            "characters, else the file is refused naming line 1)",
        ),
    ] = None,
) -> JSONResponse:
    """The file's own time (TIME or Updated) is the data's time, so a file sent late lands at its time.
    Byte counters become per-client counters; a reconnect is a restart, never a negative rate. The server
    and its new clients are registered as sources on first sight (the clients in the server's
    organization)."""
    check_source(client, caller, server_source(server), field="server")
    status = parse(body, tz=tz.value, peer=peer or server)
    done = ingest_status(client, engine, vpn_store(client), status, server=server, now=now_ms())
    data = {
        "server": done.server,
        "form": status.form,
        "time": stamp(done.time, "UTC"),
        "clients": done.clients,
        "started": done.started,
        "restarted": done.restarted,
        "ended": done.ended,
        "points": done.points,
        "late": done.late,
    }
    return _ok({"data": data})


# ----------------------------------------------------------------------------------------------------
# Global analytics


class HistoryPoint(BaseModel):
    timestamp: str = Field(description="the bucket's start, YYYY-MM-DD HH:MM:SS")
    total_rx: int = Field(description="bytes every server received from its clients in the bucket")
    total_tx: int = Field(description="bytes sent to the clients in the bucket")
    active_count: int = Field(description="the most clients connected at once in the bucket")


class TopClient(BaseModel):
    common_name: str
    total_rx: int = Field(description="bytes received from the client over the range")
    total_tx: int = Field(description="bytes sent to it over the range")
    total_bytes: int


class Distribution(BaseModel):
    rx: int = Field(description="bytes received over the range")
    tx: int = Field(description="bytes sent over the range")


class AnalyticsData(BaseModel):
    """``global_history_<range>`` (96 points), ``max_concurrent_<range>``, ``top_clients_<range>`` (the
    keys carry the range) and ``traffic_distribution``."""

    model_config = ConfigDict(extra="allow")
    traffic_distribution: Distribution


class AnalyticsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "timestamp": "2026-01-09 12:00:00",
                    "range": "24h",
                    "data": {
                        "global_history_24h": [
                            {
                                "timestamp": "2026-01-09 11:45:00",
                                "total_rx": 102400,
                                "total_tx": 51200,
                                "active_count": 5,
                            }
                        ],
                        "max_concurrent_24h": 12,
                        "top_clients_24h": [
                            {
                                "common_name": "user-alice",
                                "total_rx": 1000,
                                "total_tx": 500,
                                "total_bytes": 1500,
                            }
                        ],
                        "traffic_distribution": {"rx": 1000, "tx": 500},
                    },
                }
            ]
        }
    )
    success: bool = True
    timestamp: str
    range: str
    data: AnalyticsData


@router.get(
    "/analytics", summary="Global analytics: 96 points over 24h, 7d or 30d", response_model=AnalyticsOut
)
def analytics(
    client: RedisDep,
    engine: EngineDep,
    caller: OrganizationReader,
    range: Annotated[
        Literal["24h", "7d", "30d"], Query(description="24h: 15-minute points; 7d: 105 minutes; 30d: 450")
    ] = "24h",
    tz: Tz = UTC_ZONE,
    server: ServerParam = None,
) -> JSONResponse:
    """Exactly 96 bucket-aligned points, the last holding now, zero where nothing was reported."""
    now = now_ms()
    minutes = ANALYTICS[range]
    query = EngineQuery(RangeSpec(last_ms=ANALYTICS_POINTS * minutes * tm.MINUTE), Interval(minutes, "m"))
    servers = readable_servers(client, caller, server)
    t = reports.traffic(engine, vpn_store(client), query, now=now, servers=servers)
    history = [
        {"timestamp": stamp(s, tz.value), "total_rx": round(rx), "total_tx": round(tx), "active_count": n}
        for s, rx, tx, n in zip(t.starts, t.received, t.sent, t.connected, strict=True)
    ]
    top = [
        {
            "common_name": r.common_name,
            "total_rx": round(r.received),
            "total_tx": round(r.sent),
            "total_bytes": round(r.received + r.sent),
        }
        for r in t.top
    ]
    data = {
        f"global_history_{range}": history,
        f"max_concurrent_{range}": t.peak,
        f"top_clients_{range}": top,
        "traffic_distribution": {"rx": round(sum(t.received)), "tx": round(sum(t.sent))},
    }
    return _ok({"timestamp": stamp(now, tz.value), "range": range, "data": data})


# ----------------------------------------------------------------------------------------------------
# Clients and statistics


class ClientItem(BaseModel):
    common_name: str
    status: Literal["Active", "Disconnected"]


class ClientsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"success": True, "count": 1, "data": [{"common_name": "user-alice", "status": "Active"}]}
            ]
        }
    )
    success: bool = True
    count: int
    data: list[ClientItem]


class StatsItem(BaseModel):
    common_name: str
    status: Literal["Active", "Disconnected"]
    current_recv_rate_mbps: float = Field(description="received from the client now (0 when disconnected)")
    current_sent_rate_mbps: float
    total_received_mb: float = Field(description="MB received from it since upstat first saw it")
    total_sent_mb: float
    connected_since: str | None = Field(description="its current (or last) session's start")
    last_seen: str = Field(description="the time of the newest status file that listed it")
    real_address: str
    virtual_address: str
    servers: list[str]


class StatsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "count": 1,
                    "data": [
                        {
                            "common_name": "user-alice",
                            "status": "Active",
                            "current_recv_rate_mbps": 1.5,
                            "current_sent_rate_mbps": 0.2,
                            "total_received_mb": 500.2,
                            "total_sent_mb": 120.1,
                            "connected_since": "2026-01-09 08:00:00",
                            "last_seen": "2026-01-09 12:00:00",
                            "real_address": "198.51.100.7:52011",
                            "virtual_address": "10.8.0.2",
                            "servers": ["openvpn"],
                        }
                    ],
                }
            ]
        }
    )
    success: bool = True
    count: int
    data: list[StatsItem]


def _status(active: bool) -> str:
    return ACTIVE if active else DISCONNECTED


@router.get("/clients", summary="Every known client: common name and status", response_model=ClientsOut)
def list_clients(client: RedisDep, caller: OrganizationReader, server: ServerParam = None) -> JSONResponse:
    servers = readable_servers(client, caller, server)
    people = reports.people(vpn_store(client), now=now_ms(), servers=servers)
    items = [{"common_name": p.common_name, "status": _status(p.active)} for p in people]
    return _ok({"count": len(items), "data": items})


@router.get("/stats", summary="Current statistics of every known client", response_model=StatsOut)
def all_stats(
    client: RedisDep, caller: OrganizationReader, tz: Tz = UTC_ZONE, server: ServerParam = None
) -> JSONResponse:
    servers = readable_servers(client, caller, server)
    people = reports.people(vpn_store(client), now=now_ms(), servers=servers)
    items = [
        {
            "common_name": p.common_name,
            "status": _status(p.active),
            "current_recv_rate_mbps": _mbps(p.received_rate),
            "current_sent_rate_mbps": _mbps(p.sent_rate),
            "total_received_mb": _mb(p.received_total),
            "total_sent_mb": _mb(p.sent_total),
            "connected_since": None if p.since is None else stamp(p.since, tz.value),
            "last_seen": stamp(p.last_seen, tz.value),
            "real_address": p.real_address,
            "virtual_address": p.virtual_address,
            "servers": p.servers,
        }
        for p in people
    ]
    return _ok({"count": len(items), "data": items})


class SystemData(BaseModel):
    total_clients: int
    active_clients: int
    total_received_gb: float = Field(description="GB received from every client since upstat first saw it")
    total_sent_gb: float


class SystemOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "data": {
                        "total_clients": 15,
                        "active_clients": 3,
                        "total_received_gb": 10.0,
                        "total_sent_gb": 5.0,
                    },
                }
            ]
        }
    )
    success: bool = True
    data: SystemData


@router.get("/stats/system", summary="System statistics: clients and totals", response_model=SystemOut)
def system_stats(client: RedisDep, caller: OrganizationReader, server: ServerParam = None) -> JSONResponse:
    servers = readable_servers(client, caller, server)
    t = reports.totals(vpn_store(client), now=now_ms(), servers=servers)
    data = {
        "total_clients": t.clients,
        "active_clients": t.active,
        "total_received_gb": round(t.received / GB, 2),
        "total_sent_gb": round(t.sent / GB, 2),
    }
    return _ok({"data": data})


class Rates(BaseModel):
    recv_mbps: float
    sent_mbps: float


class ClientTotals(BaseModel):
    received_mb: float = Field(description="MB received from the client over the range (the history's sum)")
    sent_mb: float


class HistoryItem(BaseModel):
    timestamp: str
    bytes_received: int = Field(description="bytes received from the client in the bucket")
    bytes_sent: int
    bytes_received_rate_mbps: float = Field(description="bytes_received x 8 / the bucket's seconds / 10^6")
    bytes_sent_rate_mbps: float


class Meta(BaseModel):
    resolution_used: Literal["usage_history_hires", "stats_hourly", "stats_6h", "stats_daily"]
    record_count: int
    resolution: str = Field(description="the bucket: 30s, 1m, 2m, 5m, 15m, 1h, 6h, 1d, or raw")


class ClientData(BaseModel):
    common_name: str
    status: Literal["Active", "Disconnected"]
    current_rates: Rates
    totals: ClientTotals
    history: list[HistoryItem]
    meta: Meta


class ClientOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "data": {
                        "common_name": "user-alice",
                        "status": "Active",
                        "current_rates": {"recv_mbps": 1.5, "sent_mbps": 0.2},
                        "totals": {"received_mb": 500.25, "sent_mb": 120.1},
                        "history": [
                            {
                                "timestamp": "2026-01-09 11:30:00",
                                "bytes_received": 5000,
                                "bytes_sent": 2000,
                                "bytes_received_rate_mbps": 0.5,
                                "bytes_sent_rate_mbps": 0.1,
                            }
                        ],
                        "meta": {
                            "resolution_used": "usage_history_hires",
                            "record_count": 120,
                            "resolution": "30s",
                        },
                    },
                }
            ]
        }
    )
    success: bool = True
    data: ClientData


def _resolution_used(resolution: str) -> str:
    return TIER_NAMES.get(resolution, HIRES)


def _rate(moved: float, seconds: float) -> float:
    return round(moved * 8 / seconds / MEGABIT, 6) if seconds > 0 else 0.0


@router.get(
    "/stats/{common_name}",
    summary="One client's statistics and history, with automatic resolution",
    response_model=ClientOut,
)
def client_stats(
    common_name: CommonName,
    client: RedisDep,
    engine: EngineDep,
    caller: OrganizationReader,
    range: Annotated[
        Literal[STATS_RANGES],  # type: ignore[valid-type]
        Query(description="1h, 3h, 6h, 12h, 24h, 7d, 30d or 1y"),
    ] = "24h",
    resolution: Annotated[
        Literal["auto", "raw", "5min", "hourly", "daily"],
        Query(
            description="auto: 1h → 30 s (120 points), 3h → 1 min (180), 6h → 2 min (180), 12h → 5 min "
            "(144), 24h → 15 min (96), 7d → 1 hour (168), 30d → 6 hours (120), 1y → daily (365); raw: each "
            "status file. A range and resolution giving more than 10,000 points are refused (the limit is "
            "10000)."
        ),
    ] = "auto",
    tz: Tz = UTC_ZONE,
    server: ServerParam = None,
) -> JSONResponse:
    """History per bucket, zero where nothing moved; ``totals`` is the history's sum in MB."""
    now = now_ms()
    query = EngineQuery(
        tm.parse_range(range, now=now), tm.parse_resolution(RESOLUTIONS[resolution]), tz.value
    )
    servers = readable_servers(client, caller, server)
    t = reports.client_traffic(engine, vpn_store(client), common_name, query, now=now, servers=servers)
    history = [
        {
            "timestamp": stamp(s, tz.value),
            "bytes_received": round(rx),
            "bytes_sent": round(tx),
            "bytes_received_rate_mbps": _rate(rx, sec),
            "bytes_sent_rate_mbps": _rate(tx, sec),
        }
        for s, sec, rx, tx in zip(t.starts, t.seconds, t.received, t.sent, strict=True)
    ]
    data = {
        "common_name": t.common_name,
        "status": _status(t.active),
        "current_rates": {"recv_mbps": _mbps(t.received_rate), "sent_mbps": _mbps(t.sent_rate)},
        "totals": {"received_mb": _mb(sum(t.received)), "sent_mb": _mb(sum(t.sent))},
        "history": history,
        "meta": {
            "resolution_used": _resolution_used(t.resolution),
            "record_count": len(history),
            "resolution": t.resolution,
        },
    }
    return _ok({"data": data})


# ----------------------------------------------------------------------------------------------------
# Utility


class HealthOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"success": True, "status": "healthy"}]})
    success: bool = True
    status: Literal["healthy"]


@router.get(
    "/health",
    summary="Database connectivity check",
    response_model=HealthOut,
    responses={503: {"model": ErrorOut, "description": "The data store did not answer"}},
)
def health(client: RedisDep) -> JSONResponse:
    if not reachable(client):
        return JSONResponse(
            {"success": False, "status": "unhealthy", "message": "the data store is unreachable"},
            status_code=503,
        )
    return _ok({"status": "healthy"})


# ----------------------------------------------------------------------------------------------------
# Certificates


class CertificateItem(BaseModel):
    file: str
    days_remaining: str = Field(description="'N days' (negative once expired)")
    is_expired: bool
    subject: str
    not_after: str = Field(description="the end of its validity, YYYY-MM-DD HH:MM:SS")


class CertificatesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "data": [
                        {
                            "file": "user-alice.crt",
                            "days_remaining": "360 days",
                            "is_expired": False,
                            "subject": "CN=user-alice",
                            "not_after": "2027-01-04 12:00:00",
                        }
                    ],
                }
            ]
        }
    )
    success: bool = True
    data: list[CertificateItem]


class CertificateOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "success": True,
                    "data": {
                        "file": "user-alice.crt",
                        "days_remaining": "360 days",
                        "is_expired": False,
                        "subject": "CN=user-alice",
                        "not_after": "2027-01-04 12:00:00",
                    },
                }
            ]
        }
    )
    success: bool = True
    data: CertificateItem


def _certificate(e: certificates.Expiry, tz: str) -> dict[str, Any]:
    return {
        "file": e.certificate.file,
        "days_remaining": f"{e.days_remaining} days",
        "is_expired": e.expired,
        "subject": e.certificate.subject,
        "not_after": stamp(e.certificate.not_after, tz),
    }


@router.get("/certificates", summary="Certificate expiry tracking", response_model=CertificatesOut)
def list_certificates(client: RedisDep, _: Reader, tz: Tz = UTC_ZONE) -> JSONResponse:
    """Every uploaded certificate, soonest expiry first."""
    items = [_certificate(e, tz.value) for e in certificates.expiries(vpn_store(client), now_ms())]
    return _ok({"data": items})


@router.post(
    "/certificates",
    summary="Upload a certificate (PEM) to track its expiry",
    response_model=CertificateOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A PEM certificate as it is (`curl --data-binary @user-alice.crt`); a chain's "
            "first certificate is the one kept. Refused with 400 when it holds no readable PEM certificate.",
            "content": {"text/plain": {"schema": {"type": "string", "minLength": 1}}},
        }
    },
)
def upload_certificate(
    body: Annotated[bytes, Depends(_body)],
    client: RedisDep,
    _: Writer,
    file: Annotated[
        str,
        Query(
            min_length=1, max_length=200, pattern=NAME_PATTERN, description="The file's name, e.g. alice.crt"
        ),
    ],
) -> JSONResponse:
    """Uploading a file name again replaces it (a renewed certificate)."""
    now = now_ms()
    cert = certificates.store_pem(vpn_store(client), body, file=file, now=now)
    return _ok({"data": _certificate(certificates.expiry(cert, now), "UTC")})
