"""The registry's plain values and their rules, in the domain's words. Pure: no Redis, no HTTP.

Every check raises :class:`upstat.errors.InvalidInput` naming the field, so a dialect that registers what
its agent sent answers 400 in its own shape with the same words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from upstat.errors import InvalidInput
from upstat.names import check_name

#: What a source is. ``device``: a router, an access point (OpenWISP); ``vpn-server``: an OpenVPN server and
#: its clients; ``exporter``: a flow exporter (Netflow); ``backup-server``: a machine running backups
#: (duplistatus); ``service``: anything else that reports about itself.
KINDS = ("device", "vpn-server", "exporter", "backup-server", "service")

#: An organization's slug: Django's slug characters (OpenWISP's organizations have one), at most 50.
SLUG_PATTERN = r"^[-a-zA-Z0-9_]{1,50}$"
_SLUG = re.compile(SLUG_PATTERN)

#: Redis GEO stores positions as Web Mercator geohashes, which end at latitude ±85.05112878 (GEOADD refuses
#: beyond): the registry refuses those latitudes up front, naming the field, instead of failing in Redis.
MAX_LAT = 85.05112878
MAX_LNG = 180.0

#: A dialect's free fields: at most this many per source, names by the name rule (at most 100 characters),
#: values text of at most 1,000 characters. Bounded so a source's record stays small (all of the registry
#: shares one cluster slot: see upstat.sources.keyspace).
MAX_EXTRA = 50
MAX_EXTRA_NAME = 100
MAX_EXTRA_VALUE = 1000


@dataclass(frozen=True)
class Location:
    """A position in degrees (WGS 84), as OpenWISP's devices have one."""

    lat: float
    lng: float


@dataclass(frozen=True)
class Source:
    """A registered source. ``id`` is the engine's source name (its series are ``(id, metric)``) and the id
    in URLs; ``organization`` is the slug of the organization it belongs to (None: no organization, so no
    organization-bound key may use it); ``extra`` holds a dialect's own fields (e.g. Netflow's Name/Info)."""

    id: str
    name: str
    kind: str
    organization: str | None = None
    model: str | None = None
    group: str | None = None
    location: Location | None = None
    floorplan: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    created_at: int = 0
    updated_at: int = 0
    #: ids of the notification channels its health alerts go to (empty: the channels marked default)
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Organization:
    """Whose sources are whose. ``id`` is generated and never changes; ``slug`` is chosen at creation, is
    unique and never changes either (sources name their organization by it); ``name`` may change."""

    id: str
    slug: str
    name: str
    created_at: int = 0
    updated_at: int = 0


#: The fields of a source a caller may set (``id``, ``created_at`` and ``updated_at`` are the registry's).
EDITABLE = ("name", "kind", "organization", "model", "group", "location", "floorplan", "extra", "channels")
MAX_CHANNELS = 20
_CHANNEL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_source_id(value: Any, field: str = "id") -> str:
    """A registrable source id: the name rule without '/' (it is a URL path segment), and not one of the
    sources upstat writes itself (``service:...``)."""
    from upstat.timeseries.ingest import RESERVED_PREFIXES

    check_name(value, field, path_segment=True)
    if value.startswith(RESERVED_PREFIXES):
        raise InvalidInput(
            f"{field}: sources starting with {', '.join(RESERVED_PREFIXES)} are upstat's own", field=field
        )
    return str(value)


def check_kind(value: Any, field: str = "kind") -> str:
    if value not in KINDS:
        raise InvalidInput(f"{field}: must be one of {', '.join(KINDS)}", field=field)
    return str(value)


def check_slug(value: Any, field: str = "organization") -> str:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise InvalidInput(
            f"{field}: an organization slug is 1 to 50 letters, digits, '-' or '_'", field=field
        )
    return value


def check_location(value: Any, field: str = "location") -> Location:
    """A Location from a Location or a ``{"lat": .., "lng": ..}`` mapping, within Redis GEO's bounds."""
    if isinstance(value, Location):
        lat, lng = value.lat, value.lng
    elif isinstance(value, Mapping) and set(value) == {"lat", "lng"}:
        lat, lng = value["lat"], value["lng"]
    else:
        raise InvalidInput(f'{field}: must be {{"lat": degrees, "lng": degrees}}', field=field)
    for name, number, bound in (("lat", lat, MAX_LAT), ("lng", lng, MAX_LNG)):
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            raise InvalidInput(f"{field}.{name}: must be a finite number", field=f"{field}.{name}")
        if abs(number) > bound:
            raise InvalidInput(f"{field}.{name}: must be within ±{bound} degrees", field=f"{field}.{name}")
    return Location(float(lat), float(lng))


def check_extra_value(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: must be a string", field=field)
    if len(value) > MAX_EXTRA_VALUE:
        raise InvalidInput(f"{field}: must be at most {MAX_EXTRA_VALUE} characters", field=field)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise InvalidInput(f"{field}: must not contain lone surrogates", field=field)
    return value


def merge_extra(current: Mapping[str, str], change: Any, field: str = "extra") -> dict[str, str]:
    """``current`` with ``change`` merged in, as JSON Merge Patch does: a value replaces, None removes."""
    if not isinstance(change, Mapping):
        raise InvalidInput(f"{field}: must be an object of text fields", field=field)
    merged = dict(current)
    for name, value in change.items():
        check_name(name, f"{field}.{name}" if isinstance(name, str) else field, max_len=MAX_EXTRA_NAME)
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = check_extra_value(value, f"{field}.{name}")
    if len(merged) > MAX_EXTRA:
        raise InvalidInput(f"{field}: at most {MAX_EXTRA} fields", field=field)
    return merged


def _optional_name(value: Any, field: str) -> str | None:
    return None if value is None else check_name(value, field)


def checked_fields(fields: Mapping[str, Any], current: Source | None = None) -> dict[str, Any]:
    """The editable ``fields`` checked and normalized (InvalidInput naming the first bad one); ``extra`` is
    merged into ``current``'s. Unknown names are refused too: a typo must not pass silently."""
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not a field of a source", field=unknown[0])
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "name":
            out[name] = check_name(value, "name")
        elif name == "kind":
            out[name] = check_kind(value)
        elif name == "organization":
            out[name] = None if value is None else check_slug(value)
        elif name == "location":
            out[name] = None if value is None else check_location(value)
        elif name == "extra":
            out[name] = merge_extra(current.extra if current else {}, value or {})
        elif name == "channels":
            out[name] = check_channels(value)
        else:
            out[name] = _optional_name(value, name)
    return out


def check_channels(value: Any, field: str = "channels") -> tuple[str, ...]:
    """Channel ids, each once (whether each exists is the caller's check: the channels are notify's)."""
    if not isinstance(value, list | tuple) or len(value) > MAX_CHANNELS:
        raise InvalidInput(f"{field}: must be a list of at most {MAX_CHANNELS} channel ids", field=field)
    for i, item in enumerate(value):
        if not isinstance(item, str) or not _CHANNEL_ID.fullmatch(item):
            raise InvalidInput(
                f"{field}[{i}]: {item!r} is not a channel id (see GET /v1/channels)", field=f"{field}[{i}]"
            )
        if item in value[:i]:
            raise InvalidInput(f"{field}[{i}]: each channel may be named once", field=f"{field}[{i}]")
    return tuple(value)
