"""The outbound prober: runs many checks at once and returns one CheckResult per check, in input order.

All outbound traffic of upstat's checks goes through here. One aiohttp session per run (keep-alive, at most
``concurrency`` connections), each check under its own ``asyncio.timeout`` so a hanging target costs only
its own timeout. Every connection goes through the SSRF guard (:mod:`upstat.uptime.ssrf`): URLs are
validated before connecting, names are resolved once by the guarded resolver, and redirects are followed
here, one validated hop at a time. No proxy is taken from the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from yarl import URL

from upstat import clock
from upstat.config import Settings
from upstat.uptime.checks import (
    DNS_RECORD_TYPES,
    STANDARD_METHODS,
    CheckResult,
    CheckSpec,
    ErrorKind,
    judge_http,
)
from upstat.uptime.ssrf import (
    AddressPolicy,
    BlockedAddress,
    GuardedResolver,
    Lookup,
    TargetRefused,
    check_host,
    check_url,
    resolve_allowed,
    system_lookup,
)

#: Redirect hops followed at most; one more redirect is a "too_many_redirects" failure.
MAX_REDIRECTS = 5
#: Bytes of body read at most (only when a keyword is set): enough for any status page's marker text.
DEFAULT_BODY_CAP = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Credentials the user set for one host are not sent on to another one (as browsers and requests do).
#: The user's headers that still go along when a redirect leaves the origin (scheme, host and port): none of
#: them can carry a credential. Every other one (Authorization, Cookie, X-Api-Key, any custom header) stays
#: with the origin it was configured for, as browsers and curl do for Authorization.
_CROSS_ORIGIN_SAFE = frozenset(
    {"accept", "accept-encoding", "accept-language", "cache-control", "content-type", "user-agent"}
)
USER_AGENT = "upstat-uptime-check/1.0"
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE = re.compile(r"[\r\n\x00]")


def policy_from_settings(settings: Settings) -> AddressPolicy:
    """The address policy of ``UPSTAT_ALLOWED_TARGETS``."""
    return AddressPolicy.from_text(settings.allowed_targets)


class _Failure(Exception):
    """A check ended with a classified failure (internal; becomes a down CheckResult)."""

    def __init__(self, kind: ErrorKind, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.code = code


class _Run:
    """State shared by the checks of one probe_many call."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        policy: AddressPolicy,
        lookup: Lookup,
        body_cap: int,
        ssl_context: ssl.SSLContext | None,
        now_ms: int | None,
    ) -> None:
        self.session = session
        self.policy = policy
        self.lookup = lookup
        self.body_cap = body_cap
        self.ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._tls_context = ssl_context
        self.now_ms = now_ms

    @property
    def tls_context(self) -> ssl.SSLContext:
        """The verifying context of TLS-kind checks (built on first use: loading the CA store costs)."""
        if self._tls_context is None:
            self._tls_context = ssl.create_default_context()
        return self._tls_context


async def probe_many(
    specs: Sequence[CheckSpec],
    *,
    policy: AddressPolicy,
    concurrency: int = 200,
    body_cap: int = DEFAULT_BODY_CAP,
    ssl_context: ssl.SSLContext | None = None,
    now_ms: int | None = None,
    lookup: Lookup | None = None,
) -> list[CheckResult]:
    """Run every check concurrently (at most ``concurrency`` at a time); results in input order.

    ``policy`` decides which addresses may be contacted. ``ssl_context`` replaces the default verifying
    context (tests pass one trusting their own CA). ``now_ms`` stamps every result (and is the "now" of
    certificate expiry) when given; otherwise each result is stamped when its check starts. ``lookup`` is
    the name-resolution seam (default: the system resolver).
    """
    results = await probe_until(
        specs,
        None,
        policy=policy,
        concurrency=concurrency,
        body_cap=body_cap,
        ssl_context=ssl_context,
        now_ms=now_ms,
        lookup=lookup,
    )
    return [r for r in results if r is not None]


async def probe_until(
    specs: Sequence[CheckSpec],
    deadline: float | None,
    *,
    policy: AddressPolicy,
    concurrency: int = 200,
    body_cap: int = DEFAULT_BODY_CAP,
    ssl_context: ssl.SSLContext | None = None,
    now_ms: int | None = None,
    lookup: Lookup | None = None,
) -> list[CheckResult | None]:
    """:func:`probe_many`, starting a check only if its whole timeout ends by ``deadline`` (a
    ``time.monotonic()`` value; None: no deadline). A check waiting for one of the ``concurrency`` slots
    past that point is not run (None): a scheduled tick with more checks than its budget holds ends on time
    and leaves them to the next tick, instead of overrunning, or cutting timeouts short (false downs)."""
    if not specs:
        return []
    lookup = lookup or system_lookup
    connector = aiohttp.TCPConnector(
        limit=concurrency, resolver=GuardedResolver(policy, lookup), ttl_dns_cache=10, force_close=False
    )
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(
        connector=connector,
        trust_env=False,
        timeout=aiohttp.ClientTimeout(total=None),
        cookie_jar=aiohttp.DummyCookieJar(),
        headers={"User-Agent": USER_AGENT},
    ) as session:
        run = _Run(session, policy, lookup, body_cap, ssl_context, now_ms)

        async def one(spec: CheckSpec) -> CheckResult | None:
            async with gate:
                if deadline is not None and time.monotonic() + spec.timeout_ms / 1000 > deadline:
                    return None
                return await probe_one(run, spec)

        return list(await asyncio.gather(*(one(spec) for spec in specs)))


def run_probes(specs: Sequence[CheckSpec], **kwargs: Any) -> list[CheckResult]:
    """Synchronous :func:`probe_many` for Lambda handlers (runs its own event loop)."""
    return asyncio.run(probe_many(specs, **kwargs))


async def probe_one(run: _Run, spec: CheckSpec) -> CheckResult:
    """One check under its own timeout; every target failure becomes a down result."""
    checked_at = run.now_ms if run.now_ms is not None else clock.now_ms()
    started = time.perf_counter()
    try:
        async with asyncio.timeout(spec.timeout_ms / 1000):
            check = _KINDS.get(spec.kind)
            if check is None:
                raise TargetRefused("invalid", f"unknown check kind {spec.kind!r}")
            return await check(run, spec, started, checked_at)
    except _Failure as failure:
        return _down(spec, failure.kind, failure.message, checked_at, started, failure.code)
    except TargetRefused as refused:
        return _down(spec, refused.kind, refused.message, checked_at, None)  # type: ignore[arg-type]
    except TimeoutError:
        return _down(spec, "timeout", f"no answer within {spec.timeout_ms} ms", checked_at, started)
    except (aiohttp.ClientError, OSError, ssl.SSLError, ValueError) as exc:
        kind, message = classify(exc)
        return _down(spec, kind, message, checked_at, started)


def _down(
    spec: CheckSpec,
    kind: ErrorKind,
    message: str,
    checked_at: int,
    started: float | None,
    code: int | None = None,
) -> CheckResult:
    elapsed = None if started is None else _ms_since(started)
    return CheckResult(spec.service_id, "down", code, elapsed, kind, message, None, checked_at)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def classify(exc: BaseException) -> tuple[ErrorKind, str]:
    """The error class of a failed connection or request (never matched on message text)."""
    cause = getattr(exc, "os_error", None) or exc.__cause__
    text = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorError) and not isinstance(exc, aiohttp.ClientSSLError):
        reason = exc.strerror or str(exc.os_error) or type(exc.os_error).__name__
        text = f"cannot connect to {exc.host}:{exc.port}: {reason}"
    if isinstance(exc, BlockedAddress) or isinstance(cause, BlockedAddress):
        return "blocked", str(cause if isinstance(cause, BlockedAddress) else exc)
    if isinstance(exc, TimeoutError):
        return "timeout", text
    if isinstance(exc, aiohttp.ClientConnectorDNSError | socket.gaierror):
        return "dns", text
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError | ssl.CertificateError):
        return "tls", text
    if isinstance(exc, ConnectionRefusedError) or isinstance(cause, ConnectionRefusedError):
        return "refused", text
    if isinstance(exc, aiohttp.InvalidURL | ValueError):
        return "invalid", text
    return "connection", text


# --- http ------------------------------------------------------------------------------------------


async def _check_http(run: _Run, spec: CheckSpec, started: float, checked_at: int) -> CheckResult:
    method = spec.method.upper()
    if method not in STANDARD_METHODS:
        raise TargetRefused("invalid", f"method {spec.method!r} is not a standard HTTP method")
    url = check_url(spec.url, run.policy)
    headers = _checked_headers(spec.headers)
    body = spec.body
    for _hop in range(MAX_REDIRECTS + 1):
        async with run.session.request(
            method, url, headers=headers, data=body, allow_redirects=False, ssl=run.ssl
        ) as resp:
            location = resp.headers.get("Location")
            if spec.follow_redirects and resp.status in _REDIRECTS and location:
                next_url = _next_hop(url, location, run.policy)
                method, body = _redirected_method(resp.status, method, body)
                if next_url.origin() != url.origin():
                    headers = _cross_origin_headers(headers)
                url = next_url
                continue
            response_ms = _ms_since(started)
            cert_days = _cert_days(resp, run.now_ms)
            text = await _read_capped(resp, run.body_cap) if spec.keyword is not None else None
            status, kind, error = judge_http(spec, resp.status, response_ms, text)
            return CheckResult(
                spec.service_id, status, resp.status, response_ms, kind, error, cert_days, checked_at
            )
    raise _Failure("too_many_redirects", f"more than {MAX_REDIRECTS} redirects", code=None)


def _cross_origin_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers sent on after a redirect to another origin: only those that carry no credential."""
    return {k: v for k, v in headers.items() if k.lower() in _CROSS_ORIGIN_SAFE}


def _checked_headers(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The user's headers, refused if a name is not a token or a value could split the request."""
    for name, value in pairs:
        if not _TOKEN.match(name) or _BAD_VALUE.search(value):
            raise TargetRefused("invalid", f"header {name!r} has a bad name or value")
    return dict(pairs)


def _next_hop(current: URL, location: str, policy: AddressPolicy) -> URL:
    try:
        target = current.join(URL(location))
    except ValueError as exc:
        raise TargetRefused("invalid", f"redirect to an unparsable location {location!r}") from exc
    try:
        return check_url(str(target), policy)
    except TargetRefused as refused:
        raise TargetRefused(refused.kind, f"redirect to {target}: {refused.message}") from refused


def _redirected_method(status: int, method: str, body: str | None) -> tuple[str, str | None]:
    """303 turns anything but HEAD into GET; 301/302 turn POST into GET (what browsers do)."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET", None
    return method, body


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> str:
    chunks: list[bytes] = []
    size = 0
    while size < cap:
        chunk = await resp.content.read(cap - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    raw = b"".join(chunks)
    try:
        encoding = resp.get_encoding()
    except (RuntimeError, LookupError):
        encoding = "utf-8"
    return raw.decode(encoding, errors="replace")


def _cert_days(resp: aiohttp.ClientResponse, now_ms: int | None) -> float | None:
    if resp.url.scheme != "https":
        return None
    # aiohttp hands a fully read (small) response's connection back to the pool before we see it, so
    # ``resp.connection`` is often None already; the response keeps its protocol, whose transport is
    # still the TLS connection we were answered on (test_probe pins this for every https check).
    protocol = resp.connection.protocol if resp.connection is not None else getattr(resp, "_protocol", None)
    transport = getattr(protocol, "transport", None)
    if transport is None:
        return None
    return _days_left(transport.get_extra_info("ssl_object"), now_ms)


def _days_left(ssl_object: Any, now_ms: int | None) -> float | None:
    """Days until the peer certificate's notAfter (negative once expired); None if not available."""
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None
    cert = ssl_object.getpeercert()
    if not cert or "notAfter" not in cert:
        return None  # verification off: the decoded certificate is not available
    expires = ssl.cert_time_to_seconds(str(cert["notAfter"]))
    now = now_ms / 1000 if now_ms is not None else time.time()
    return round((expires - now) / 86_400, 4)


# --- tcp, tls, dns -------------------------------------------------------------------------------


def _host_port(spec: CheckSpec, run: _Run, scheme: str, default_port: int | None) -> tuple[str, int]:
    """Validated host and port of a ``tcp://host:port`` or ``https://host[:port]`` target (an IP literal
    host has passed the policy already; a name is resolved and filtered by :func:`_connect`)."""
    url = check_url(spec.url, run.policy, schemes=(scheme,))
    port = url.explicit_port or default_port
    if port is None:
        raise TargetRefused("invalid", f"{scheme}:// target needs a port")
    if url.path not in ("", "/") or url.query_string:
        raise TargetRefused("invalid", f"{scheme}:// target is host and port only")
    assert url.raw_host is not None  # check_url refuses a URL without a host
    return url.raw_host, port


async def _connect(
    run: _Run, host: str, port: int, tls: ssl.SSLContext | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the first allowed address of ``host`` that answers (validated, then connected to)."""
    literal = check_host(host, run.policy)  # the IP itself for a literal (allowed, or this raises)
    addresses = [literal] if literal is not None else await resolve_allowed(host, run.policy, run.lookup)
    last: OSError | None = None
    for ip in addresses:
        try:
            return await asyncio.open_connection(
                str(ip), port, ssl=tls, server_hostname=host if tls is not None else None
            )
        except ssl.SSLError:
            raise
        except OSError as exc:
            last = exc
    assert last is not None
    raise last


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    # The check already has its answer; a messy close of a probe socket is not the target's state.
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()


async def _check_tcp(run: _Run, spec: CheckSpec, started: float, checked_at: int) -> CheckResult:
    host, port = _host_port(spec, run, "tcp", None)
    _reader, writer = await _connect(run, host, port, None)
    response_ms = _ms_since(started)
    await _close(writer)
    return _timed_up(spec, response_ms, None, checked_at)


async def _check_tls(run: _Run, spec: CheckSpec, started: float, checked_at: int) -> CheckResult:
    host, port = _host_port(spec, run, "https", 443)
    _reader, writer = await _connect(run, host, port, run.tls_context)
    response_ms = _ms_since(started)
    days = _days_left(writer.get_extra_info("ssl_object"), run.now_ms)
    await _close(writer)
    if days is not None and days <= 0:
        return CheckResult(
            spec.service_id, "down", None, response_ms, "tls", "certificate expired", days, checked_at
        )
    return _timed_up(spec, response_ms, days, checked_at)


async def _check_dns(run: _Run, spec: CheckSpec, started: float, checked_at: int) -> CheckResult:
    # No connection is made to the answers, so the SSRF guard does not apply to a DNS check.
    record = spec.dns_record_type.upper()
    if record not in DNS_RECORD_TYPES:
        raise TargetRefused("invalid", f"DNS record type {spec.dns_record_type!r}: only A and AAAA")
    if not spec.url.startswith("dns://") or not spec.url[6:].strip("/"):
        raise TargetRefused("invalid", "DNS target must be dns://name")
    name = spec.url[6:].strip("/")
    family = socket.AF_INET if record == "A" else socket.AF_INET6
    answers = [_normal_ip(a) for a in await run.lookup(name, family)]
    response_ms = _ms_since(started)
    missing = sorted({_normal_ip(e) for e in spec.dns_expected} - set(answers))
    if not answers or missing:
        got = ", ".join(answers) or "no answer"
        raise _Failure("dns", f"{name} {record}: {got}; expected {', '.join(missing) or 'an answer'}")
    return _timed_up(spec, response_ms, None, checked_at)


def _normal_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text.strip()


def _timed_up(spec: CheckSpec, response_ms: float, cert_days: float | None, checked_at: int) -> CheckResult:
    if spec.degraded_ms is not None and response_ms > spec.degraded_ms:
        message = f"took {response_ms:.0f} ms (degraded above {spec.degraded_ms} ms)"
        return CheckResult(
            spec.service_id, "degraded", None, response_ms, None, message, cert_days, checked_at
        )
    return CheckResult(spec.service_id, "up", None, response_ms, None, None, cert_days, checked_at)


_KINDS = {"http": _check_http, "tcp": _check_tcp, "tls": _check_tls, "dns": _check_dns}
