"""Redis key names of API keys and rate limits, built by pure functions.

Everything of one API key lives under the hash tag ``{<key id>}`` (its record and its rate-limit state), so a
script may touch both on Redis Cluster. The index of key ids and each client address's limit are their own
slots; no command ever spans two of them.
"""

from __future__ import annotations

import hashlib
import ipaddress


class AuthKeys:
    """Key builder bound to a prefix (``UPSTAT_KEY_PREFIX``)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def record(self, key_id: str) -> str:
        """The hash of one API key (fields in upstat.auth.keys)."""
        return f"{self.prefix}key:{{{key_id}}}"

    def key_rate(self, key_id: str) -> str:
        """The rate-limit state (GCRA arrival time) of one key id: same slot as its record."""
        return f"{self.prefix}key:{{{key_id}}}:rate"

    def index(self) -> str:
        """The set of every key id (listing reads it: no KEYS or SCAN)."""
        return f"{self.prefix}keys"

    def push_rate(self, token: str) -> str:
        """The rate-limit state of one push token (by a digest: the token itself is a credential)."""
        digest = hashlib.blake2b(token.encode("utf-8", "replace"), digest_size=12).hexdigest()
        return f"{self.prefix}rate:push:{{{digest}}}"

    def address_rate(self, address: str) -> str:
        """The rate-limit state of one client address (see ``address_bucket``)."""
        return f"{self.prefix}rate:addr:{{{address_bucket(address)}}}"


def address_bucket(address: str) -> str:
    """Which bucket a client address counts against.

    IPv4 addresses count alone; IPv6 addresses count per /64, the block one host or one customer line
    receives (per-address limits on IPv6 are otherwise trivially sidestepped). Anything that is not an IP
    address (a test client's name, a Unix socket) becomes a short digest, so it never carries braces.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "h" + hashlib.blake2b(address.encode("utf-8", "replace"), digest_size=8).hexdigest()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
