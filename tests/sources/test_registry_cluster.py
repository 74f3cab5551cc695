"""The registry on a 3-node Redis Cluster: every script's keys share one slot, so the same code runs."""

from __future__ import annotations

import pytest

from tests.sources.test_registry_store import BIG_BEN, EIFFEL, NOW, haversine_m
from upstat.config import get_settings
from upstat.errors import Conflict
from upstat.sources import store
from upstat.sources.keyspace import SourceKeys
from upstat.store.client import get_redis

pytestmark = pytest.mark.cluster


def test_sources_organizations_and_positions_work_on_a_cluster(cluster_env: str) -> None:
    client = get_redis()
    keys = SourceKeys(get_settings().key_prefix)
    every_key = [
        keys.docs(),
        keys.order(),
        keys.geo(),
        keys.by_kind("device"),
        keys.by_organization("acme"),
        keys.by_group("roof"),
        keys.organizations(),
        keys.slugs(),
        keys.organization_order(),
    ]
    assert len({client.keyslot(k) for k in every_key}) == 1

    store.create_organization(client, slug="acme", name="Acme", now_ms=NOW)
    store.ensure_source(client, "paris", kind="device", organization="acme", now_ms=NOW)
    store.update_source(client, "paris", location=EIFFEL, group="roof", now_ms=NOW + 1)
    store.create_source(client, "london", kind="device", location=BIG_BEN, group="roof", now_ms=NOW + 2)
    assert [s.id for s in store.list_sources(client, group="roof", kind="device")] == ["paris", "london"]
    assert [s.id for s in store.list_sources(client, organization="acme")] == ["paris"]
    ((london, metres),) = store.nearby(client, "paris")
    assert london.id == "london" and metres == pytest.approx(haversine_m(EIFFEL, BIG_BEN), abs=2.0)
    with pytest.raises(Conflict):
        store.delete_organization(client, "acme")
    store.delete_source(client, "paris")
    store.delete_organization(client, "acme")
    assert store.list_sources(client, organization="acme") == [] and store.list_organizations(client) == []
