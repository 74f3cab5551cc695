"""What a check asks for and what it found: plain values, and the pure rules that judge a response.

A target being down is data (a :class:`CheckResult` with ``status="down"``), never an exception. Only
upstat's own bugs raise out of the prober.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from upstat.errors import InvalidInput

CheckKind = Literal["http", "tcp", "dns", "tls"]
CheckStatus = Literal["up", "degraded", "down"]
ErrorKind = Literal[
    "timeout",
    "dns",
    "tls",
    "refused",
    "connection",
    "status",
    "keyword",
    "blocked",
    "invalid",
    "too_many_redirects",
]

#: The methods a check may use. Anything else (CONNECT, TRACE, custom verbs) is refused as "invalid".
STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Record types a DNS check can ask for; the system resolver (getaddrinfo) answers only addresses.
DNS_RECORD_TYPES = frozenset({"A", "AAAA"})

StatusRanges = tuple[tuple[int, int], ...]
_RANGE = re.compile(r"^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$")


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One check to run. ``url`` is ``http(s)://...`` for http, ``tcp://host:port`` for tcp,
    ``dns://name`` for dns and ``https://host[:port]`` for tls."""

    service_id: str
    url: str
    kind: CheckKind = "http"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    timeout_ms: int = 10_000
    expected_status: StatusRanges = ((200, 299),)
    keyword: str | None = None
    keyword_absent: bool = False
    follow_redirects: bool = True
    degraded_ms: int | None = None
    dns_expected: tuple[str, ...] = ()
    dns_record_type: str = "A"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one check found. ``response_ms`` is the time to the final response's headers (http), to the
    connection (tcp), to the answer (dns) or to the end of the handshake (tls)."""

    service_id: str
    status: CheckStatus
    code: int | None = None
    response_ms: float | None = None
    error_kind: ErrorKind | None = None
    error: str | None = None
    cert_days: float | None = None
    checked_at_ms: int = 0

    @property
    def up(self) -> bool:
        """True unless the target is down (a degraded target still answers)."""
        return self.status != "down"


def parse_expected_status(text: str, *, field: str = "expectedStatus") -> StatusRanges:
    """``"200-299,301"`` -> ``((200, 299), (301, 301))``. Codes are 100-599; a range's low end comes first.

    Raises :class:`InvalidInput` naming ``field`` on anything else.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("expected status must be codes or ranges like '200-299,301'", field=field)
    ranges: list[tuple[int, int]] = []
    for part in text.split(","):
        match = _RANGE.match(part)
        if match is None:
            raise InvalidInput(
                f"expected status {part.strip()!r} is not a code or a range like 200-299", field=field
            )
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if not 100 <= low <= high <= 599:
            raise InvalidInput(
                f"expected status {part.strip()!r} must be within 100-599, low to high", field=field
            )
        ranges.append((low, high))
    return tuple(ranges)


def status_matches(code: int, expected: StatusRanges) -> bool:
    """True when ``code`` falls in one of the expected ranges (inclusive)."""
    return any(low <= code <= high for low, high in expected)


def judge_http(
    spec: CheckSpec, code: int, response_ms: float, body: str | None
) -> tuple[CheckStatus, ErrorKind | None, str | None]:
    """The verdict on an HTTP answer: status mismatch, then keyword, then slowness (degraded).

    ``body`` is the text read (up to the prober's cap), or None when no keyword was asked for.
    """
    if not status_matches(code, spec.expected_status):
        wanted = ",".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in spec.expected_status)
        return "down", "status", f"status {code}, expected {wanted}"
    if spec.keyword is not None:
        found = spec.keyword in (body or "")
        if found and spec.keyword_absent:
            return "down", "keyword", f"keyword {spec.keyword!r} is present"
        if not found and not spec.keyword_absent:
            return "down", "keyword", f"keyword {spec.keyword!r} not found"
    if spec.degraded_ms is not None and response_ms > spec.degraded_ms:
        return "degraded", None, f"response took {response_ms:.0f} ms (degraded above {spec.degraded_ms} ms)"
    return "up", None, None
