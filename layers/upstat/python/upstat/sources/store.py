"""The sources registry in Redis: every command it sends is here (key names in upstat.sources.keyspace,
scripts in upstat.sources.lua). Found through indexes (per kind, organization and group), never KEYS or SCAN.

A source is one field of one hash (its JSON), indexed in sets and, when it has a location, in a GEO set;
an organization is one field of another hash, with a slug -> id index. All of it shares one hash tag, so a
change is one script: a compare-and-set on the record as read, retried when another writer came first.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, replace
from typing import Any

from upstat.errors import Conflict, InvalidInput, NotFound
from upstat.names import check_name
from upstat.sources import lua
from upstat.sources import models as m
from upstat.sources.keyspace import SourceKeys
from upstat.sources.models import Location, Organization, Source
from upstat.store.keyspace import keyspace
from upstat.store.scripts import Scripts

#: Compare-and-set attempts before a write gives up with a 409 (only under extreme contention).
MAX_CAS_ATTEMPTS = 50
#: Farther than any two points on Earth (half the circumference of Redis' sphere is 20,020 km): "no bound".
EVERYWHERE_M = 21_000_000.0
MIN_RADIUS_M = 1e-9


def _keys() -> SourceKeys:
    return keyspace(SourceKeys)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


# ------------------------------------------------------------------------------------------------------
# The stored form


def encode(source: Source) -> str:
    return json.dumps(asdict(source), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def decode(raw: Any) -> Source | None:
    """The source of a stored JSON (None for a missing one)."""
    if raw is None:
        return None
    doc = json.loads(_text(raw))
    location = doc.get("location")
    doc["location"] = Location(**location) if location else None
    doc["channels"] = tuple(doc.get("channels") or ())
    return Source(**doc)


def _index_keys(keys: SourceKeys, source: Source) -> list[str]:
    out = [keys.by_kind(source.kind)]
    if source.organization:
        out.append(keys.by_organization(source.organization))
    if source.group:
        out.append(keys.by_group(source.group))
    return out


def _put(client: Any, source: Source, expected: str, old: Source | None) -> list[Any]:
    """Run ``source_put`` for ``source`` replacing ``old`` (read as ``expected``; '' and None: absent)."""
    keys = _keys()
    leave = _index_keys(keys, old) if old is not None else []
    where = source.location
    args = [
        source.id,
        expected,
        encode(source),
        source.created_at,
        "" if where is None else repr(where.lng),
        "" if where is None else repr(where.lat),
        source.organization or "",
        len(leave),
    ]
    script_keys = [keys.docs(), keys.order(), keys.geo(), keys.slugs(), *leave, *_index_keys(keys, source)]
    reply = _run(client, lua.SOURCE_PUT, script_keys, args)
    if reply[0] == "no_org":
        raise InvalidInput(
            f"organization: no organization '{source.organization}' (create it with POST /v1/organizations)",
            field="organization",
        )
    return reply


# ------------------------------------------------------------------------------------------------------
# Sources: reads


def not_registered(source_id: str, field: str = "id") -> NotFound:
    return NotFound(f"{field}: no registered source '{source_id}'", field=field)


def get_source(client: Any, source_id: str) -> Source | None:
    """The registered source ``source_id`` (None when it is not registered)."""
    if not isinstance(source_id, str) or not source_id:
        return None
    return decode(client.hget(_keys().docs(), source_id))


def get_sources(client: Any, ids: Sequence[str]) -> list[Source | None]:
    """The registered sources of ``ids``, in order (None where one is not registered), in one command."""
    if not ids:
        return []
    return [decode(raw) for raw in client.hmget(_keys().docs(), list(ids))]


def list_sources(
    client: Any,
    *,
    kind: str | None = None,
    organization: str | None = None,
    group: str | None = None,
    model: str | None = None,
    floorplan: str | None = None,
) -> list[Source]:
    """The registered sources matching every filter given, oldest first (two commands: the index, or the
    intersection of the kind, organization and group indexes, then the records)."""
    keys = _keys()
    given = ((keys.by_kind, kind), (keys.by_organization, organization), (keys.by_group, group))
    wanted = [index(value) for index, value in given if value is not None]
    if wanted:
        ids = [_text(x) for x in client.sinter(wanted)]
    else:
        ids = [_text(x) for x in client.zrange(keys.order(), 0, -1)]
    found = [s for s in get_sources(client, ids) if s is not None]
    found = [
        s
        for s in found
        if (model is None or s.model == model) and (floorplan is None or s.floorplan == floorplan)
    ]
    return sorted(found, key=lambda s: (s.created_at, s.id))


def nearby(client: Any, source_id: str, *, within_m: float | None = None) -> list[tuple[Source, float]]:
    """The located sources around ``source_id``, nearest first, with their distance in metres (Redis GEO:
    haversine on a sphere of radius 6,372,797.56 m, positions to about 0.6 m), within ``within_m`` metres
    when given. NotFound for an unregistered source; [] for one without a location."""
    if within_m is not None and (
        isinstance(within_m, bool)
        or not isinstance(within_m, int | float)
        or not math.isfinite(within_m)
        or within_m < 0
    ):
        raise InvalidInput("within_m: must be a finite number of metres, at least 0", field="within_m")
    source = get_source(client, source_id)
    if source is None:
        raise not_registered(source_id)
    if source.location is None:
        return []
    # 0 m means "at the very same position": redis-py drops a radius of 0 from GEOSEARCH (a malformed
    # command), so the smallest positive radius stands for it (positions are exact to about 0.6 m anyway).
    radius = EVERYWHERE_M if within_m is None else max(float(within_m), MIN_RADIUS_M)
    found = client.geosearch(
        _keys().geo(), member=source_id, radius=radius, unit="m", sort="ASC", withdist=True
    )
    pairs = [(_text(member), float(dist)) for member, dist in found if _text(member) != source_id]
    sources = get_sources(client, [member for member, _ in pairs])
    return [(s, dist) for s, (_, dist) in zip(sources, pairs, strict=True) if s is not None]


# ------------------------------------------------------------------------------------------------------
# Sources: writes


def new_source(
    source_id: str | None,
    *,
    kind: str,
    now_ms: int,
    name: str | None = None,
    **fields: Any,
) -> Source:
    """A checked Source (not stored): ``source_id`` generated when None (a UUID, as OpenWISP's device ids),
    ``name`` defaulting to the id."""
    sid = str(uuid.uuid4()) if source_id is None else m.check_source_id(source_id)
    given = {"kind": kind, "name": sid if name is None else name, **fields}
    return Source(id=sid, created_at=now_ms, updated_at=now_ms, **m.checked_fields(given))


def create_source(
    client: Any, source_id: str | None = None, *, kind: str, now_ms: int, **fields: Any
) -> Source:
    """Register a new source (fields as :class:`Source`'s); Conflict (409) when the id is taken."""
    source = new_source(source_id, kind=kind, now_ms=now_ms, **fields)
    reply = _put(client, source, "", None)
    if reply[0] == "exists":
        raise Conflict(f"id: source '{source.id}' is already registered", field="id")
    return source


def ensure_source(
    client: Any,
    source_id: str,
    *,
    kind: str,
    name: str | None = None,
    organization: str | None = None,
    now_ms: int,
) -> Source:
    """The source ``source_id``, registered with these fields on first sight (idempotent: a source already
    registered is returned as it is, whatever was passed). For dialects, whose agents report before anyone
    registers them; one command when it exists."""
    found = get_source(client, source_id)
    if found is not None:
        return found
    source = new_source(source_id, kind=kind, name=name, organization=organization, now_ms=now_ms)
    reply = _put(client, source, "", None)
    if reply[0] == "exists":  # registered meanwhile by someone else
        existing = decode(reply[1])
        assert existing is not None
        return existing
    return source


def _run(client: Any, name: str, keys: list[str], args: list[Any]) -> list[Any]:
    """One registry script call; its reply as a list of text (bytes decoded)."""
    reply = Scripts(client).run(name, keys, args)
    return [x.decode() if isinstance(x, bytes) else x for x in reply]


def update_source(client: Any, source_id: str, *, now_ms: int | None = None, **fields: Any) -> Source:
    """Change some fields of a registered source (``extra`` is merged: a None value removes its field;
    None clears ``organization``, ``model``, ``group``, ``location`` and ``floorplan``). NotFound (404)
    when it is not registered; InvalidInput naming a bad field."""
    from upstat.clock import now_ms as clock

    keys = _keys()
    for _ in range(MAX_CAS_ATTEMPTS):
        raw = client.hget(keys.docs(), source_id)
        current = decode(raw)
        if current is None:
            raise not_registered(source_id)
        stamp = clock() if now_ms is None else now_ms
        updated = replace(
            current, **m.checked_fields(fields, current), updated_at=max(stamp, current.created_at)
        )
        if updated == replace(current, updated_at=updated.updated_at):
            return current  # nothing changes: keep the record (and its time) as it is
        reply = _put(client, updated, _text(raw), current)
        if reply[0] == "ok":
            _forget(source_id)
            return updated
        if reply[0] == "gone":
            raise not_registered(source_id)
    raise Conflict(f"id: source '{source_id}' is changing too often; try again", field="id")


def delete_source(client: Any, source_id: str) -> Source:
    """Unregister a source (its series are the engine's: the caller deletes them). NotFound (404) when it is
    not registered."""
    keys = _keys()
    for _ in range(MAX_CAS_ATTEMPTS):
        raw = client.hget(keys.docs(), source_id)
        current = decode(raw)
        if current is None:
            raise not_registered(source_id)
        script_keys = [keys.docs(), keys.order(), keys.geo(), *_index_keys(keys, current)]
        reply = _run(client, lua.SOURCE_DELETE, script_keys, [source_id, _text(raw)])
        if reply[0] == "ok":
            _forget(source_id)
            return current
        if reply[0] == "gone":
            raise not_registered(source_id)
    raise Conflict(f"id: source '{source_id}' is changing too often; try again", field="id")


def _forget(source_id: str) -> None:
    """This process stops trusting what it remembered of the source's organization (upstat.sources.access)."""
    from upstat.sources import access

    access.forget(source_id)


# ------------------------------------------------------------------------------------------------------
# Organizations


def encode_organization(org: Organization) -> str:
    return json.dumps(asdict(org), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def decode_organization(raw: Any) -> Organization | None:
    return None if raw is None else Organization(**json.loads(_text(raw)))


def _organization_raw(client: Any, ref: str) -> tuple[Any, Organization | None]:
    """The stored JSON and the organization whose id, else whose slug, is ``ref``."""
    keys = _keys()
    raw = client.hget(keys.organizations(), ref)
    if raw is None:
        owner = client.hget(keys.slugs(), ref)
        raw = None if owner is None else client.hget(keys.organizations(), _text(owner))
    return raw, decode_organization(raw)


def get_organization(client: Any, ref: str) -> Organization | None:
    """The organization whose id or slug is ``ref`` (None when there is none)."""
    if not isinstance(ref, str) or not ref:
        return None
    return _organization_raw(client, ref)[1]


def require_organization(client: Any, slug: Any, field: str = "organization") -> Organization:
    """The organization whose slug is ``slug``; InvalidInput (400) naming ``field`` when there is none (a
    source or a key naming it would belong nowhere)."""
    found = get_organization(client, m.check_slug(slug, field))
    if found is None or found.slug != slug:
        raise InvalidInput(f"{field}: no organization '{slug}'", field=field)
    return found


def list_organizations(client: Any, *, slug: str | None = None) -> list[Organization]:
    """Every organization, oldest first (``slug``: only that one)."""
    keys = _keys()
    if slug is not None:
        found = get_organization(client, slug)
        return [found] if found is not None and found.slug == slug else []
    ids = [_text(x) for x in client.zrange(keys.organization_order(), 0, -1)]
    if not ids:
        return []
    orgs = [decode_organization(raw) for raw in client.hmget(keys.organizations(), ids)]
    return [o for o in orgs if o is not None]


def create_organization(client: Any, *, slug: str, name: str, now_ms: int) -> Organization:
    """A new organization; Conflict (409) when its slug is taken."""
    org = Organization(
        id=str(uuid.uuid4()),
        slug=m.check_slug(slug, "slug"),
        name=check_name(name, "name"),
        created_at=now_ms,
        updated_at=now_ms,
    )
    keys = _keys()
    script_keys = [keys.organizations(), keys.slugs(), keys.organization_order()]
    reply = _run(client, lua.ORG_CREATE, script_keys, [org.id, org.slug, encode_organization(org), now_ms])
    if reply[0] == "exists":
        raise Conflict(f"slug: organization '{slug}' exists", field="slug")
    return org


def update_organization(client: Any, ref: str, *, name: str, now_ms: int) -> Organization:
    """Rename an organization (its slug never changes: sources name it by its slug). NotFound (404)."""
    check_name(name, "name")
    for _ in range(MAX_CAS_ATTEMPTS):
        raw, current = _organization_raw(client, ref)
        if current is None:
            raise NotFound(f"id: no organization '{ref}'", field="id")
        updated = replace(current, name=name, updated_at=max(now_ms, current.created_at))
        reply = _run(
            client,
            lua.ORG_UPDATE,
            [_keys().organizations()],
            [current.id, _text(raw), encode_organization(updated)],
        )
        if reply[0] == "ok":
            return updated
    raise Conflict(f"organization: '{ref}' is changing too often; try again", field="organization")


def delete_organization(client: Any, ref: str) -> Organization:
    """Delete an organization that has no sources (Conflict, 409, while it has: delete or move them first,
    so no source is left naming an organization that does not exist). NotFound (404)."""
    keys = _keys()
    for _ in range(MAX_CAS_ATTEMPTS):
        raw, current = _organization_raw(client, ref)
        if current is None:
            raise NotFound(f"id: no organization '{ref}'", field="id")
        script_keys = [
            keys.organizations(),
            keys.slugs(),
            keys.organization_order(),
            keys.by_organization(current.slug),
        ]
        reply = _run(client, lua.ORG_DELETE, script_keys, [current.id, current.slug, _text(raw)])
        if reply[0] == "ok":
            return current
        if reply[0] == "busy":
            raise Conflict(
                f"organization: '{current.slug}' still has {reply[1]} source(s); delete or move them first",
                field="organization",
            )
    raise Conflict(f"organization: '{ref}' is changing too often; try again", field="organization")


def organizations_of(client: Any, ids: Iterable[str]) -> dict[str, str | None]:
    """Each id's organization slug (None: registered without one, or not registered), in one command."""
    ids = list(dict.fromkeys(ids))
    return {
        sid: (s.organization if s is not None else None)
        for sid, s in zip(ids, get_sources(client, ids), strict=True)
    }
