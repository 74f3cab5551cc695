"""Who is calling: bearer tokens (API keys, source keys, the bootstrap admin token) and their scopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCOPES = ("read", "write", "admin")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``source`` is set for a source key: it may use only that source's data;
    ``organization`` (a slug) for an organization-bound key: it may use only that organization's sources
    (upstat.sources.access)."""

    key_id: str
    scopes: frozenset[str]
    source: str | None = None
    organization: str | None = None

    def has(self, scope: str) -> bool:
        """admin holds every scope; read and write are separate (an ingest-only key cannot read)."""
        return "admin" in self.scopes or scope in self.scopes


ANONYMOUS_READER = Principal("anonymous", frozenset({"read"}))


def ensure_source(
    principal: Principal, source: str | None, *, field: str = "source", client: Any = None
) -> None:
    """Forbidden (403) unless ``principal`` may use ``source``: a source key only its own (``None``, every
    source at once, is never its own); an organization-bound key only the sources registered in its
    organization (looked up in the registry through ``client``, default the process's client, and
    remembered briefly: upstat.sources.access). Every route and dialect that names a source calls this."""
    from upstat.errors import Forbidden

    if principal.source is not None and principal.source != source:
        raise Forbidden(f"{field}: this key may use only source '{principal.source}'", field=field)
    if principal.organization is not None:
        from upstat.sources.access import check_source

        if client is None:
            from upstat.store.client import get_redis

            client = get_redis()
        check_source(client, principal, source, field=field)
