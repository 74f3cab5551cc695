"""VPN servers and their clients as sources of the shared registry (``upstat.sources``).

A server is the registered source ``openvpn:<server>`` of kind ``vpn-server``; each of its clients the
source ``openvpn:<server>:<common name>`` of kind ``device``, in the server's organization. Both are
registered on first sight (:func:`register`, idempotent), so the registry is the one list of servers
(:func:`server_names`), an organization owns a server by the registry's word, and an admin may register a
server ahead of its first file (``POST /v1/sources``, e.g. to put it in an organization).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from upstat.errors import NotFound
from upstat.sources.models import Source
from upstat.sources.store import ensure_source, get_sources, list_sources

SOURCE_PREFIX = "openvpn:"
DEFAULT_SERVER = "openvpn"
SERVER_KIND = "vpn-server"
CLIENT_KIND = "device"


def server_source(server: str) -> str:
    return f"{SOURCE_PREFIX}{server}"


def client_source(server: str, common_name: str) -> str:
    return f"{SOURCE_PREFIX}{server}:{common_name}"


def server_names(client: Any) -> list[str]:
    """Every VPN server the registry knows (reported, or registered ahead), sorted."""
    found = list_sources(client, kind=SERVER_KIND)
    return sorted(s.id.removeprefix(SOURCE_PREFIX) for s in found if s.id.startswith(SOURCE_PREFIX))


def require_server(client: Any, server: str) -> str:
    """``server`` if the registry knows it as a VPN server, else NotFound (404) naming ``server``."""
    if server not in server_names(client):
        raise NotFound(f"server: no VPN server named {server!r}", field="server")
    return server


def register(client: Any, server: str, common_names: Iterable[str], *, now: int) -> Source:
    """The server's source, registered on first sight, and its clients' not registered yet, in the server's
    organization (one command each for the server and the clients when nothing is new)."""
    source = ensure_source(client, server_source(server), kind=SERVER_KIND, name=server, now_ms=now)
    names = list(dict.fromkeys(common_names))
    ids = [client_source(server, name) for name in names]
    for name, sid, found in zip(names, ids, get_sources(client, ids), strict=True):
        if found is None:
            ensure_source(
                client, sid, kind=CLIENT_KIND, name=name, organization=source.organization, now_ms=now
            )
    return source
