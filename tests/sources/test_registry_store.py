"""The sources registry against a real Valkey: registration on first sight, indexes, organizations, GEO."""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest

from upstat.errors import Conflict, InvalidInput, NotFound
from upstat.sources import store
from upstat.sources.models import MAX_EXTRA, Location

NOW = 1_780_315_207_000
EIFFEL = {"lat": 48.858370, "lng": 2.294481}
BIG_BEN = {"lat": 51.500729, "lng": -0.124625}
REDIS_EARTH_M = 6372797.560856  # the sphere Redis GEO measures on


def haversine_m(a: dict[str, float], b: dict[str, float]) -> float:
    """The great-circle distance, computed here independently of Redis."""
    p1, p2 = math.radians(a["lat"]), math.radians(b["lat"])
    dp, dl = p2 - p1, math.radians(b["lng"] - a["lng"])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * REDIS_EARTH_M * math.asin(math.sqrt(h))


def test_a_source_is_registered_on_first_sight_and_returned_as_is_afterwards(r: Any) -> None:
    first = store.ensure_source(r, "vpn-1", kind="vpn-server", name="Office VPN", now_ms=NOW)
    again = store.ensure_source(r, "vpn-1", kind="device", name="other", now_ms=NOW + 5)
    assert first == again
    assert (again.id, again.name, again.kind, again.created_at) == ("vpn-1", "Office VPN", "vpn-server", NOW)
    assert again.extra == {} and again.organization is None
    assert store.get_source(r, "vpn-1") == first
    assert store.get_source(r, "vpn-2") is None
    assert store.ensure_source(r, "vpn-2", kind="exporter", now_ms=NOW).name == "vpn-2"


def test_first_sight_from_many_writers_at_once_registers_one_source(r: Any) -> None:
    seen: list[Any] = []

    def register(i: int) -> None:
        seen.append(store.ensure_source(r, "dev", kind="device", name=f"n{i}", now_ms=NOW + i))

    threads = [threading.Thread(target=register, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({s.name for s in seen}) == 1
    assert store.list_sources(r) == [seen[0]]


def test_create_generates_an_id_and_refuses_a_taken_one(r: Any) -> None:
    made = store.create_source(r, kind="device", now_ms=NOW)
    assert len(made.id) == 36 and made.name == made.id
    with pytest.raises(Conflict) as err:
        store.create_source(r, made.id, kind="device", now_ms=NOW)
    assert err.value.field == "id"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"source_id": "a/b"}, "id"),
        ({"source_id": "service:abc"}, "id"),
        ({"source_id": " pad"}, "id"),
        ({"kind": "router"}, "kind"),
        ({"organization": "no such"}, "organization"),
        ({"location": {"lat": 86.0, "lng": 0}}, "location.lat"),
        ({"location": {"lat": 0, "lng": float("nan")}}, "location.lng"),
        ({"location": {"lat": 0}}, "location"),
        ({"extra": {"k": "\ud800"}}, "extra.k"),
        ({"extra": {"k": 1}}, "extra.k"),
        ({"extra": {f"k{i}": "v" for i in range(MAX_EXTRA + 1)}}, "extra"),
        ({"model": ""}, "model"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_fields_are_refused_naming_the_field_and_nothing_is_stored(
    r: Any, fields: dict[str, Any], field: str
) -> None:
    given = {"source_id": "dev", "kind": "device", **fields}
    with pytest.raises(InvalidInput) as err:
        store.create_source(r, given.pop("source_id"), now_ms=NOW, **given)
    assert err.value.field == field, err.value.message
    assert store.list_sources(r) == []


def test_an_unknown_organization_is_refused_naming_it(r: Any) -> None:
    with pytest.raises(InvalidInput) as err:
        store.ensure_source(r, "dev", kind="device", organization="acme", now_ms=NOW)
    assert err.value.field == "organization" and "acme" in err.value.message
    assert store.get_source(r, "dev") is None


def test_filters_use_the_indexes_and_follow_changes(r: Any) -> None:
    store.create_organization(r, slug="acme", name="Acme", now_ms=NOW)
    store.create_organization(r, slug="globex", name="Globex", now_ms=NOW)
    store.create_source(r, "ap-1", kind="device", organization="acme", group="roof", model="X1", now_ms=NOW)
    store.create_source(r, "ap-2", kind="device", organization="globex", group="roof", now_ms=NOW + 1)
    store.create_source(r, "vpn", kind="vpn-server", organization="acme", floorplan="f1", now_ms=NOW + 2)

    def ids(**filters: Any) -> list[str]:
        return [s.id for s in store.list_sources(r, **filters)]

    assert ids() == ["ap-1", "ap-2", "vpn"]
    assert ids(kind="device") == ["ap-1", "ap-2"]
    assert ids(organization="acme") == ["ap-1", "vpn"]
    assert ids(organization="acme", kind="device", group="roof") == ["ap-1"]
    assert ids(model="X1") == ["ap-1"] and ids(floorplan="f1") == ["vpn"]
    assert ids(kind="exporter") == [] and ids(organization="initech") == []

    store.update_source(r, "ap-1", organization="globex", group=None, kind="exporter", now_ms=NOW + 10)
    assert ids(organization="acme") == ["vpn"]
    assert ids(organization="globex") == ["ap-1", "ap-2"]
    assert ids(group="roof") == ["ap-2"] and ids(kind="exporter") == ["ap-1"]
    store.delete_source(r, "ap-2")
    assert ids(group="roof") == [] and ids(organization="globex") == ["ap-1"]


def test_update_merges_extra_stamps_the_time_and_refuses_unknown_sources(r: Any) -> None:
    store.ensure_source(r, "nf", kind="exporter", now_ms=NOW)
    store.update_source(r, "nf", extra={"Name": "edge", "Info": "rack 4"}, now_ms=NOW + 1)
    changed = store.update_source(r, "nf", extra={"Info": None, "Site": "Lyon"}, name="Edge", now_ms=NOW + 2)
    assert changed.extra == {"Name": "edge", "Site": "Lyon"}
    assert (changed.name, changed.created_at, changed.updated_at) == ("Edge", NOW, NOW + 2)
    assert store.get_source(r, "nf") == changed
    assert store.update_source(r, "nf", name="Edge", now_ms=NOW + 9) == changed  # no change, no new time
    with pytest.raises(NotFound):
        store.update_source(r, "missing", name="x", now_ms=NOW)
    with pytest.raises(InvalidInput) as err:
        store.update_source(r, "nf", name=None, now_ms=NOW)
    assert err.value.field == "name"


def test_concurrent_updates_of_different_fields_keep_both(r: Any) -> None:
    store.ensure_source(r, "dev", kind="device", now_ms=NOW)

    def set_extra(i: int) -> None:
        store.update_source(r, "dev", extra={f"k{i}": str(i)}, now_ms=NOW + i)

    threads = [threading.Thread(target=set_extra, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    source = store.get_source(r, "dev")
    assert source is not None and source.extra == {f"k{i}": str(i) for i in range(12)}


def test_organizations_by_id_or_slug_renamed_and_deleted_only_when_empty(r: Any) -> None:
    acme = store.create_organization(r, slug="acme", name="Acme", now_ms=NOW)
    assert store.get_organization(r, "acme") == acme == store.get_organization(r, acme.id)
    with pytest.raises(Conflict) as err:
        store.create_organization(r, slug="acme", name="Other", now_ms=NOW)
    assert err.value.field == "slug"
    with pytest.raises(InvalidInput) as bad:
        store.create_organization(r, slug="a b", name="x", now_ms=NOW)
    assert bad.value.field == "slug"
    renamed = store.update_organization(r, "acme", name="Acme Inc", now_ms=NOW + 1)
    assert (renamed.id, renamed.slug, renamed.name) == (acme.id, "acme", "Acme Inc")
    assert store.list_organizations(r) == [renamed]
    assert (
        store.list_organizations(r, slug="acme") == [renamed] and store.list_organizations(r, slug="x") == []
    )

    store.ensure_source(r, "ap", kind="device", organization="acme", now_ms=NOW)
    with pytest.raises(Conflict) as busy:
        store.delete_organization(r, acme.id)
    assert "1 source" in busy.value.message
    store.delete_source(r, "ap")
    assert store.delete_organization(r, "acme") == renamed
    assert store.get_organization(r, "acme") is None and store.list_organizations(r) == []
    with pytest.raises(NotFound):
        store.delete_organization(r, "acme")


def test_nearby_measures_the_distance_of_a_known_pair_of_coordinates(r: Any) -> None:
    store.create_source(r, "eiffel", kind="device", location=EIFFEL, now_ms=NOW)
    store.create_source(r, "big-ben", kind="device", location=BIG_BEN, now_ms=NOW)
    store.create_source(r, "equator-0", kind="device", location={"lat": 0.0, "lng": 0.0}, now_ms=NOW)
    store.create_source(r, "equator-1", kind="device", location={"lat": 0.0, "lng": 1.0}, now_ms=NOW)
    store.create_source(r, "nowhere", kind="device", now_ms=NOW)

    around = store.nearby(r, "eiffel")
    assert [s.id for s, _ in around] == ["big-ben", "equator-1", "equator-0"]
    (_, paris_london) = around[0]
    assert paris_london == pytest.approx(haversine_m(EIFFEL, BIG_BEN), abs=2.0)
    assert 340_000 < paris_london < 342_000  # about 341 km, as any atlas says
    # One degree of longitude on the equator: 2 pi R / 360 = 111,226.3 m on Redis' sphere.
    ((_, degree),) = store.nearby(r, "equator-0", within_m=200_000)
    assert degree == pytest.approx(2 * math.pi * REDIS_EARTH_M / 360, abs=2.0)
    assert store.nearby(r, "eiffel", within_m=340_000) == []
    assert store.nearby(r, "nowhere") == []
    with pytest.raises(NotFound):
        store.nearby(r, "missing")
    with pytest.raises(InvalidInput):
        store.nearby(r, "eiffel", within_m=-1)

    store.update_source(r, "big-ben", location=None, now_ms=NOW)
    assert [s.id for s, _ in store.nearby(r, "eiffel")] == ["equator-1", "equator-0"]
    store.update_source(r, "equator-1", location=Location(48.8584, 2.2945), now_ms=NOW)
    nearest, metres = store.nearby(r, "eiffel")[0]
    assert nearest.id == "equator-1" and metres < 10
    store.delete_source(r, "equator-1")
    assert [s.id for s, _ in store.nearby(r, "eiffel")] == ["equator-0"]


def test_nearby_within_zero_metres_finds_only_sources_at_the_same_position(r: Any) -> None:
    store.create_source(r, "eiffel", kind="device", location=EIFFEL, now_ms=NOW)
    store.create_source(r, "twin", kind="device", location=EIFFEL, now_ms=NOW)
    store.create_source(r, "big-ben", kind="device", location=BIG_BEN, now_ms=NOW)
    assert [(s.id, metres) for s, metres in store.nearby(r, "eiffel", within_m=0)] == [("twin", 0.0)]
