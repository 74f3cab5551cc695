"""Who may use which source: the one rule every route and dialect that admits organization keys applies,
:func:`check_source` on each source it names and :func:`visible` on what it lists. (``upstat.auth.
ensure_source`` knows only what a key says, so it refuses organization keys outright.)

- a source key uses only its own source;
- an organization-bound key uses only the sources registered in its organization: another organization's,
  one registered without an organization and one not registered at all are refused alike (a key bound to
  an organization never reaches beyond it, whatever the registry holds);
- any other key uses every source (its scopes still apply).

A source's organization is looked up in the registry and remembered by this process for at most
``UPSTAT_KEY_CACHE_SECONDS`` (5 s, like API keys): a source moved to another organization through another
process is refused to its old organization's keys within that time (at once through this process).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from upstat.auth import Principal
from upstat.config import get_settings
from upstat.errors import Forbidden

MAX_ENTRIES = 100_000

_lock = threading.Lock()
_entries: dict[tuple[str, str], tuple[float, str | None]] = {}


def may_use_source(principal: Principal, source: str | None, organization: str | None) -> bool:
    """Whether ``principal`` may use ``source`` (None: every source at once), registered in
    ``organization`` (None: in none, or not registered). Pure."""
    if principal.source is not None and principal.source != source:
        return False
    if principal.organization is not None:
        return source is not None and organization == principal.organization
    return True


def organizations(client: Any, sources: Iterable[str]) -> dict[str, str | None]:
    """Each source's organization slug (None: none, or not registered), from this process's memory when it
    is fresh, else in one registry command for all the others."""
    from upstat.sources.store import organizations_of

    prefix = get_settings().key_prefix
    now = time.monotonic()
    out: dict[str, str | None] = {}
    missing = []
    for source in dict.fromkeys(sources):
        hit = _entries.get((prefix, source))
        if hit is not None and now < hit[0]:
            out[source] = hit[1]
        else:
            missing.append(source)
    if missing:
        found = organizations_of(client, missing)
        _remember(prefix, found, now + get_settings().key_cache_seconds)
        out.update(found)
    return out


def check_source(client: Any, principal: Principal, source: str | None, *, field: str = "source") -> None:
    """Forbidden (403, naming ``field``) unless ``principal`` may use ``source``. No Redis command unless the
    key is bound to an organization (and then none while the answer is remembered)."""
    if principal.source is not None and principal.source != source:
        raise Forbidden(f"{field}: this key may use only source '{principal.source}'", field=field)
    if principal.organization is None:
        return
    if source is None:
        raise Forbidden(
            f"{field}: this key may use only organization '{principal.organization}''s sources: name one",
            field=field,
        )
    if organizations(client, [source])[source] != principal.organization:
        raise Forbidden(
            f"{field}: source '{source}' is not registered in this key's organization "
            f"'{principal.organization}'",
            field=field,
        )


def visible(client: Any, principal: Principal, sources: Iterable[str]) -> list[str]:
    """The ``sources`` ``principal`` may use, in their order (all of them for an unbound key)."""
    sources = list(sources)
    if principal.source is None and principal.organization is None:
        return sources
    orgs = organizations(client, sources) if principal.organization is not None else {}
    return [s for s in sources if may_use_source(principal, s, orgs.get(s))]


def _remember(prefix: str, found: dict[str, str | None], deadline: float) -> None:
    if get_settings().key_cache_seconds <= 0:
        return
    with _lock:
        if len(_entries) + len(found) > MAX_ENTRIES:
            _entries.clear()
        for source, org in found.items():
            _entries[(prefix, source)] = (deadline, org)


def forget(source: str) -> None:
    """Drop what this process remembers of ``source`` (after changing or deleting it here)."""
    _entries.pop((get_settings().key_prefix, source), None)


def clear() -> None:
    with _lock:
        _entries.clear()
