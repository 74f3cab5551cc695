"""Who is calling: bearer tokens (API keys, source keys, the bootstrap admin token) and their scopes."""

from __future__ import annotations

from dataclasses import dataclass

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


def ensure_source(principal: Principal, source: str | None, *, field: str = "source") -> None:
    """Forbidden (403) unless ``principal`` may use ``source`` by what the key itself says: a source key
    only its own source (``None``, every source at once, is never its own). An organization-bound key is
    always refused here: whether a source is its organization's is the registry's to say, so a route that
    admits such keys checks with ``upstat.sources.access.check_source`` (which applies this rule too)."""
    from upstat.errors import Forbidden

    if principal.source is not None and principal.source != source:
        raise Forbidden(f"{field}: this key may use only source '{principal.source}'", field=field)
    if principal.organization is not None:
        raise Forbidden(
            f"{field}: a key bound to organization '{principal.organization}' may not use this route",
            field=field,
        )
