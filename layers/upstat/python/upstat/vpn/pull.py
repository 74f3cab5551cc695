"""Status files and certificates fetched by a scheduled job instead of pushed by an agent.

``UPSTAT_OPENVPN_STATUS_SOURCES`` lists ``server=location`` pairs (an ``s3://bucket/key`` object or an
``https://`` URL); each run fetches every file, and stores a file whose own time it has not stored before:
the time is claimed first (:meth:`VpnStore.claim_file`), so a file read twice in a row, or by two runs at
once, is stored once. A file that fails (unreachable, not a status file) is reported in the run's summary
and its claim given back, so the next run tries again. ``UPSTAT_OPENVPN_CERTIFICATES`` names an
``s3://bucket/prefix/`` whose ``.crt`` and ``.pem`` objects are read as certificates on every run.

How a location is read is the caller's (``fetch``): the job passes S3 and SSRF-guarded HTTPS readers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from upstat.errors import UpstatError
from upstat.names import name_problem
from upstat.timeseries import timemath as tm
from upstat.vpn import certificates
from upstat.vpn.ingest import MAX_SERVER, ingest_status
from upstat.vpn.statusfile import parse
from upstat.vpn.store import VpnStore

SCHEMES = ("s3://", "https://")
#: Claims are kept as long as a file could still be accepted (the default raw retention) plus a day.
CLAIM_KEEP_MS = 3 * tm.DAY
CERTIFICATE_SUFFIXES = (".crt", ".pem")


@dataclass(frozen=True)
class Location:
    server: str
    url: str


def parse_locations(text: str) -> list[Location]:
    """``server=url`` pairs separated by commas; a bad pair is a ValueError naming it."""
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        server, sep, url = part.partition("=")
        server, url = server.strip(), url.strip()
        bad_name = name_problem(server, max_len=MAX_SERVER, path_segment=True) is not None
        if not sep or bad_name or not url.startswith(SCHEMES):
            raise ValueError(
                f"UPSTAT_OPENVPN_STATUS_SOURCES: {part!r} is not server=s3://bucket/key or server=https://..."
            )
        out.append(Location(server, url))
    return out


@dataclass
class PullReport:
    stored: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    certificates: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "certificates": self.certificates,
        }


def pull_status_files(
    client: Any,
    engine: Any,
    store: VpnStore,
    locations: Iterable[Location],
    fetch: Callable[[str], bytes],
    *,
    now: int,
    tz: str = "UTC",
    deadline: float | None = None,
) -> PullReport:
    """Fetch and store each location's file once per file time; failures are reported, never raised."""
    report = PullReport()
    for loc in locations:
        if deadline is not None and time.monotonic() > deadline:
            report.failed[loc.server] = "not read: the run's time budget was spent"
            continue
        try:
            status = parse(fetch(loc.url), tz=tz, peer=loc.server)
        except (UpstatError, OSError, RuntimeError) as exc:
            report.failed[loc.server] = _reason(exc)
            continue
        if not store.claim_file(loc.server, status.time, keep_after=now - CLAIM_KEEP_MS):
            report.unchanged.append(loc.server)
            continue
        try:
            ingest_status(client, engine, store, status, server=loc.server, now=now)
        except UpstatError as exc:
            store.release_file(loc.server, status.time)
            report.failed[loc.server] = _reason(exc)
            continue
        report.stored.append(loc.server)
    return report


def pull_certificates(
    store: VpnStore, files: Iterable[tuple[str, bytes]], *, now: int, report: PullReport
) -> None:
    """Store every ``.crt``/``.pem`` file given as (name, body); a file that is no certificate is reported."""
    for name, body in files:
        if not name.endswith(CERTIFICATE_SUFFIXES):
            continue
        try:
            certificates.store_pem(store, body, file=name, now=now)
        except UpstatError as exc:
            report.failed[name] = _reason(exc)
            continue
        report.certificates += 1


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc)[:300]
