"""The SSRF guard: which addresses a check may connect to, and which URLs it may ask for.

Two layers, both needed:

* :func:`check_url` runs before any connection. It accepts http/https URLs with a plain host name or a
  canonical IP literal only (no userinfo, no backslash, no percent-encoding, no legacy numeric IPv4 forms
  such as ``2130706433``, ``0x7f000001`` or ``0177.0.0.1``), and checks IP literals against the policy,
  because aiohttp connects to an IP literal without asking the resolver.
* :class:`GuardedResolver` is the connector's resolver: it resolves a name once, drops every refused
  address and returns only the rest, so the address checked is the address connected to (no window for
  DNS rebinding between a check and the connect). If nothing is left it raises :class:`BlockedAddress`.

:class:`AddressPolicy` decides on one address. It uses explicit tables (below) instead of
``ipaddress.is_private``, which misses CGNAT, benchmarking and the IPv4 embedded in IPv6 transition forms.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from upstat.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: ``async lookup(host, family) -> addresses``: the name-resolution seam (tests inject a fake one).
Lookup = Callable[[str, int], Awaitable[Sequence[str]]]

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

REFUSED_V4: tuple[tuple[IPNetwork, str], ...] = (
    (_V4("0.0.0.0/8"), "'this network' (unspecified)"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "shared address space (CGNAT)"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local (cloud metadata)"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "IETF protocol assignments"),
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("192.88.99.0/24"), "6to4 relay anycast"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "reserved (incl. broadcast)"),
)

REFUSED_V6: tuple[tuple[IPNetwork, str], ...] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("::/96"), "IPv4-compatible (deprecated)"),
    (_V6("64:ff9b:1::/48"), "local-use NAT64"),
    (_V6("100::/64"), "discard-only"),
    (_V6("2001::/32"), "Teredo"),
    (_V6("2001:2::/48"), "benchmarking"),
    (_V6("2001:10::/28"), "ORCHID"),
    (_V6("2001:20::/28"), "ORCHIDv2"),
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("3fff::/20"), "documentation"),
    (_V6("fc00::/7"), "unique local (private)"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local (deprecated)"),
    (_V6("ff00::/8"), "multicast"),
)

_MAPPED = _V6("::ffff:0:0/96")
_NAT64 = _V6("64:ff9b::/96")
_SIX_TO_FOUR = _V6("2002::/16")
_GLOBAL_UNICAST_V6 = _V6("2000::/3")

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_NUMERIC_PART = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
MAX_URL_LENGTH = 2048


class TargetRefused(Exception):
    """A check target the guard will not contact. ``kind`` is the CheckResult error_kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class BlockedAddress(OSError):
    """Every address a name resolved to was refused by the policy (raised by the resolver)."""


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried by an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address."""
    if ip in _MAPPED or ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Refuses non-public addresses unless one of ``allowed`` contains them."""

    allowed: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def from_text(cls, text: str) -> AddressPolicy:
        """From ``UPSTAT_ALLOWED_TARGETS``: comma-separated networks (``127.0.0.0/8,::1/128``)."""
        nets: list[IPNetwork] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            try:
                nets.append(ipaddress.ip_network(part, strict=False))
            except ValueError as exc:
                raise InvalidInput(f"{part!r} is not a network", field="allowed_targets") from exc
        return cls(tuple(nets))

    def is_allowed_explicitly(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.allowed)

    def is_refused(self, ip: IPAddress | str) -> str | None:
        """Why ``ip`` may not be contacted, or None when it may."""
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
        if self.is_allowed_explicitly(addr):
            return None
        if isinstance(addr, ipaddress.IPv6Address):
            inner = embedded_ipv4(addr)
            if inner is not None:
                reason = self.is_refused(inner)
                return f"{addr} embeds {inner}: {reason}" if reason else None
            table = REFUSED_V6
        else:
            table = REFUSED_V4
        for net, reason in table:
            if addr in net:
                return f"{addr} is {reason}"
        if isinstance(addr, ipaddress.IPv6Address) and addr not in _GLOBAL_UNICAST_V6:
            return f"{addr} is reserved (outside global unicast 2000::/3)"
        if not addr.is_global:  # belt and braces: anything the standard library knows is not global
            return f"{addr} is not globally routable"
        return None


# --- URL validation ------------------------------------------------------------------------------------


def legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address libc's ``inet_aton`` (and browsers) read in a numeric host, or None if not numeric.

    Accepts 1-4 parts, each decimal, octal (leading 0) or hex (0x): ``2130706433``, ``0x7f000001``,
    ``0177.0.0.1`` and ``127.1`` all read as 127.0.0.1. Raises TargetRefused("invalid") for numeric
    hosts that do not parse (``08.1.1.1``, ``1.2.3.256``, ``1.2.3.4.5``, ``name.1``).
    """
    parts = host.lower().rstrip(".").split(".") if host.rstrip(".") else []
    if not parts or not _NUMERIC_PART.match(parts[-1]):
        return None  # a name: no top-level domain is numeric (the WHATWG URL rule)
    if len(parts) > 4 or not all(_NUMERIC_PART.match(p) for p in parts):
        raise TargetRefused("invalid", f"host {host!r} is neither an IPv4 address nor a name")
    values: list[int] = []
    for part in parts:
        try:
            if part.startswith("0x"):
                values.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part))
        except ValueError as exc:
            raise TargetRefused("invalid", f"host {host!r} is not a valid IPv4 address") from exc
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        raise TargetRefused("invalid", f"host {host!r} is not a valid IPv4 address")
    number = last
    for i, value in enumerate(head):
        number |= value << (24 - 8 * i)
    return ipaddress.IPv4Address(number)


def check_host(host: str, policy: AddressPolicy) -> IPAddress | None:
    """Validate a URL's host: the IP it names (checked against the policy), or None for a DNS name.

    Raises TargetRefused: "blocked" for a refused address, "invalid" for anything that is neither a
    canonical IP literal nor a plain DNS name.
    """
    if not host or "%" in host:
        raise TargetRefused("invalid", f"host {host!r} is empty or percent-encoded")
    if ":" in host:
        try:
            ip: IPAddress = ipaddress.IPv6Address(host.strip("[]"))
        except ValueError as exc:
            raise TargetRefused("invalid", f"host {host!r} is not a valid IPv6 address") from exc
        _refuse(ip, policy)
        return ip
    v4 = legacy_ipv4(host)
    if v4 is not None:
        _refuse(v4, policy)
        if str(v4) != host:
            raise TargetRefused("invalid", f"host {host!r} is a non-canonical IPv4 literal; write {v4}")
        return v4
    labels = host.lower().rstrip(".").split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise TargetRefused("invalid", f"host {host!r} is not a valid host name")
    return None


def _refuse(ip: IPAddress, policy: AddressPolicy) -> None:
    reason = policy.is_refused(ip)
    if reason is not None:
        raise TargetRefused("blocked", f"target refused: {reason}")


def check_url(url: str, policy: AddressPolicy, *, schemes: Iterable[str] = ("http", "https")) -> URL:
    """Parse and validate a check URL before anything connects; returns the URL aiohttp will use.

    Raises TargetRefused ("invalid" or "blocked"). Names are resolved later, by :class:`GuardedResolver`.
    """
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        raise TargetRefused("invalid", "URL must be a string of at most 2048 characters")
    if _FORBIDDEN_CHARS.search(url):
        raise TargetRefused("invalid", "URL must not contain spaces, control characters or backslashes")
    try:
        split = urlsplit(url)
        parsed = URL(url)
    except ValueError as exc:
        raise TargetRefused("invalid", f"URL does not parse: {exc}") from exc
    if split.scheme.lower() not in schemes or parsed.scheme not in schemes:
        raise TargetRefused("invalid", f"URL scheme must be one of {', '.join(schemes)}")
    if "@" in split.netloc or parsed.user is not None or parsed.password is not None:
        raise TargetRefused("invalid", "URL must not contain credentials (user@host)")
    host = parsed.raw_host
    if host is None or "%" in split.netloc:
        raise TargetRefused("invalid", "URL must name a host, without percent-encoding")
    try:
        port = parsed.port
    except ValueError as exc:
        raise TargetRefused("invalid", "URL port is not valid") from exc
    if port is not None and not 1 <= port <= 65535:
        raise TargetRefused("invalid", "URL port must be 1-65535")
    check_host(host, policy)
    return parsed


# --- resolution --------------------------------------------------------------------------------------


async def system_lookup(host: str, family: int = socket.AF_UNSPEC) -> list[str]:
    """The system resolver (getaddrinfo in a thread): every address ``host`` names, in resolver order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, family=family, type=socket.SOCK_STREAM)
    out: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in out:
            out.append(address)
    return out


async def resolve_allowed(
    host: str, policy: AddressPolicy, lookup: Lookup = system_lookup, family: int = socket.AF_UNSPEC
) -> list[IPAddress]:
    """Resolve ``host`` once and keep only the addresses the policy allows.

    Raises ``socket.gaierror`` when the name does not resolve and :class:`BlockedAddress` when every
    address is refused.
    """
    answers = await lookup(host, family)
    allowed: list[IPAddress] = []
    reasons: list[str] = []
    for answer in answers:
        ip = ipaddress.ip_address(answer.split("%", 1)[0])
        reason = policy.is_refused(ip)
        if reason is None:
            allowed.append(ip)
        else:
            reasons.append(reason)
    if not allowed:
        if not reasons:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} has no addresses")
        raise BlockedAddress(
            f"target refused: {host} resolves only to refused addresses ({'; '.join(reasons)})"
        )
    return allowed


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that returns only the addresses the policy allows (see module docstring)."""

    def __init__(self, policy: AddressPolicy, lookup: Lookup | None = None) -> None:
        self.policy = policy
        self.lookup: Lookup = lookup or system_lookup

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await resolve_allowed(host, self.policy, self.lookup, family)
        return [
            ResolveResult(
                hostname=host,
                host=str(ip),
                port=port,
                family=socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for ip in addresses
        ]

    async def close(self) -> None:
        return None


# --- at the door ---------------------------------------------------------------------------------------


def refused_target(url: str, policy: AddressPolicy) -> str | None:
    """Why a service's or webhook's URL names a target the guard will never contact (an address literal
    in a refused range, in any form the guard reads, or a ``localhost`` name), or None. Checked when a
    service is created or changed, so the mistake is answered at once; names are resolved only at check
    time (their addresses may change), where the guard refuses them again."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None  # the URL's shape is the model's to refuse
    if not host:
        return None
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        loopback = ipaddress.ip_address("127.0.0.1")
        reason = policy.is_refused(loopback)
        return None if reason is None else f"{host} is loopback ({reason})"
    try:
        check_host(host, policy)
    except TargetRefused as refused:
        return refused.message.removeprefix("target refused: ")
    return None
