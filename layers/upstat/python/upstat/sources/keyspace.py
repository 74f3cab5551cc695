"""Key names of the sources registry, built by pure functions in one place.

Every key of the registry (sources, their indexes, their positions, organizations) lives under the one
hash tag ``{registry}``, so each change is one Lua script over one cluster slot: a source's record, its
index entries and its position change together or not at all, and an organization cannot be deleted while
a source is being added to it. The cost is that the registry is not spread over a cluster's nodes: it is
metadata (a source's record is a few hundred bytes, bounded by upstat.sources.models), so even 100,000
sources are tens of megabytes in one slot, while the series themselves spread as before.
"""

from __future__ import annotations

from upstat.store.keyspace import name_id


class SourceKeys:
    """Key builder bound to a prefix (``UPSTAT_KEY_PREFIX``)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._base = f"{prefix}registry:{{registry}}"

    # --- sources ---
    def docs(self) -> str:
        """Hash: source id -> the source as JSON."""
        return f"{self._base}:sources"

    def order(self) -> str:
        """Sorted set: source id scored by its creation time (ms): the listing order."""
        return f"{self._base}:order"

    def geo(self) -> str:
        """GEO set: source id -> its location, for the sources near a source."""
        return f"{self._base}:geo"

    def by_kind(self, kind: str) -> str:
        """Set: the ids of the sources of one kind (kinds are fixed words)."""
        return f"{self._base}:kind:{kind}"

    def by_organization(self, slug: str) -> str:
        """Set: the ids of one organization's sources (slugs are ``[-a-zA-Z0-9_]``)."""
        return f"{self._base}:org:{slug}"

    def by_group(self, group: str) -> str:
        """Set: the ids of one group's sources (any name: digested)."""
        return f"{self._base}:group:{name_id('group', group)}"

    # --- organizations ---
    def organizations(self) -> str:
        """Hash: organization id -> the organization as JSON."""
        return f"{self._base}:orgs"

    def slugs(self) -> str:
        """Hash: organization slug -> organization id."""
        return f"{self._base}:org-slugs"

    def organization_order(self) -> str:
        """Sorted set: organization id scored by its creation time (ms)."""
        return f"{self._base}:org-order"
