"""API key records in a real Valkey: the token is never stored, listing needs no scan, revocation sticks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.auth.helpers import every_value
from tests.redis_helpers import all_keys, command_stats, reset_stats
from upstat import clock
from upstat.auth import cache, keys
from upstat.auth.keyspace import AuthKeys, address_bucket
from upstat.auth.service import authenticate
from upstat.config import Settings
from upstat.errors import InvalidInput, NotFound, Unauthorized


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def test_a_created_key_is_stored_as_a_digest_under_its_own_hash_tag(r: Any, settings: Settings) -> None:
    record, token = keys.create_key(r, settings, name="grafana", scopes=["read"])
    names = AuthKeys(settings.key_prefix)
    assert names.record(record.key_id) == f"upstat:key:{{{record.key_id}}}"
    stored = r.hgetall(names.record(record.key_id))
    assert stored[b"digest"] == record.digest.encode() and len(record.digest) == 64
    assert token.encode() not in every_value(r)
    secret = token.split("_")[2]
    assert secret.encode() not in every_value(r)
    assert r.smembers(names.index()) == {record.key_id.encode()}
    assert "digest" not in repr(record) and record.digest not in repr(record)


def test_a_key_and_its_rate_bucket_share_one_cluster_slot(settings: Settings) -> None:
    from redis.crc import key_slot

    names = AuthKeys(settings.key_prefix)
    assert key_slot(names.record("abcdefghijkl").encode()) == key_slot(
        names.key_rate("abcdefghijkl").encode()
    )
    assert "{" not in address_bucket("testclient") and address_bucket("2001:db8::1") == "2001:db8::/64"
    assert address_bucket("2001:db8::ffff") == address_bucket("2001:db8::1")
    assert address_bucket("::ffff:192.0.2.7") == "192.0.2.7"


def test_listing_reads_the_index_and_returns_every_key_oldest_first(r: Any, settings: Settings) -> None:
    made = [keys.create_key(r, settings, name=f"k{i}", scopes=["read"], now=1_000 + i)[0] for i in range(5)]
    assert [k.key_id for k in keys.list_keys(r, settings)] == [k.key_id for k in made]
    reset_stats(r)
    keys.list_keys(r, settings)
    calls = command_stats(r)
    assert "cmdstat_scan" not in calls and "cmdstat_keys" not in calls


def test_revoking_keeps_the_record_with_its_first_revocation_time(r: Any, settings: Settings) -> None:
    record, token = keys.create_key(r, settings, name="x", scopes=["write"])
    assert authenticate(token, settings=settings, client=r).key_id == record.key_id
    first = keys.revoke_key(r, settings, record.key_id, now=record.created_at + 10)
    again = keys.revoke_key(r, settings, record.key_id, now=record.created_at + 99)
    assert first.revoked_at == again.revoked_at == record.created_at + 10
    assert first.state(record.created_at + 11) == "revoked"
    with pytest.raises(Unauthorized, match="revoked"):
        authenticate(token, settings=settings, client=r)


def test_unknown_or_malformed_ids_are_not_found(r: Any, settings: Settings) -> None:
    assert keys.get_key(r, settings, "abcdefghijkl") is None
    assert keys.get_key(r, settings, "../etc") is None
    with pytest.raises(NotFound):
        keys.revoke_key(r, settings, "abcdefghijkl")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["root"]}, "scopes"),
        ({"scopes": ["admin"], "source": "dev-1"}, "source"),
        ({"scopes": ["read"], "name": " "}, "name"),
        ({"scopes": ["read"], "expires_at": 1}, "expires_at"),
    ],
)
def test_bad_key_requests_name_the_field(
    r: Any, settings: Settings, fields: dict[str, Any], field: str
) -> None:
    fields.setdefault("name", "n")
    with pytest.raises(InvalidInput) as caught:
        keys.create_key(r, settings, **fields)
    assert caught.value.field == field
    assert all_keys(r) == []


def test_a_cached_key_still_expires_on_time(r: Any, settings: Settings) -> None:
    record, token = keys.create_key(
        r, settings, name="x", scopes=["read"], expires_at=clock.now_ms() + 60_000
    )
    assert authenticate(token, settings=settings, client=r).key_id == record.key_id
    expired = keys.KeyRecord(**{**record.__dict__, "expires_at": clock.now_ms() - 1})
    cache.put(settings.key_prefix, expired, 60)
    with pytest.raises(Unauthorized, match="expired"):
        authenticate(token, settings=settings, client=r)


def test_an_expiry_beyond_ten_years_is_refused_before_anything_is_stored(r: Any, settings: Settings) -> None:
    far = clock.now_ms() + 11 * 365 * 86_400_000
    with pytest.raises(InvalidInput, match="at most 3650 days"):
        keys.create_key(r, settings, name="far", scopes=["read"], expires_at=far)
    assert keys.list_keys(r, settings) == []


def test_a_record_with_an_expiry_no_datetime_holds_still_lists(r: Any, settings: Settings) -> None:
    """Records written before expiry was bounded (year 275817) list and show instead of failing."""
    from fastapi.testclient import TestClient

    from tests.conftest import ADMIN_TOKEN
    from upstat.api.app import create_app

    record, _ = keys.create_key(r, settings, name="old", scopes=["read"])
    r.hset(f"upstat:key:{{{record.key_id}}}", "expires_at", str(8_640_000_000_000_000))
    with TestClient(create_app()) as http:
        listed = http.get("/v1/keys", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        shown = http.get(f"/v1/keys/{record.key_id}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert listed.status_code == shown.status_code == 200
    assert shown.json()["expires_at"].startswith("9999-12-31")
