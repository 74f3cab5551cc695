"""The service store against real Valkey: create, duplicate names, rename keeping history, concurrent
updates, delete, the due schedule, and the models' validation."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pydantic import ValidationError

from tests.factories import NOW
from upstat.errors import Conflict, InvalidInput, NotFound
from upstat.uptime import checklog
from upstat.uptime.models import ServiceIn, ServiceUpdate
from upstat.uptime.services import ServiceStore


def svc(name: str = "api", **extra: Any) -> dict[str, Any]:
    return {"name": name, "url": "https://example.com/health", **extra}


@pytest.fixture
def store(r: Any) -> ServiceStore:
    return ServiceStore(r)


def test_create_and_read_back_the_openuptimes_fields(store: ServiceStore) -> None:
    created = store.create(
        {**svc(), "description": "d", "expectedStatus": 200, "method": "get", "timeout": 5000}, now_ms=NOW
    )
    six = ("name", "url", "description", "expected_status", "method", "timeout")
    assert {f: getattr(created, f) for f in six} == {
        "name": "api",
        "url": "https://example.com/health",
        "description": "d",
        "expected_status": 200,
        "method": "GET",
        "timeout": 5000,
    }
    assert store.get("api") == created
    assert store.get_by_id(created.id) == created
    assert [s.name for s in store.list()] == ["api"]
    assert store.due(NOW) == [created.id]


def test_duplicate_name_is_a_conflict(store: ServiceStore) -> None:
    store.create(svc())
    with pytest.raises(Conflict):
        store.create(svc())
    assert store.count() == 1


def test_rename_keeps_id_and_history_and_frees_the_old_name(store: ServiceStore, r: Any) -> None:
    created = store.create(svc(), now_ms=NOW)
    r.zadd(store.keys.checklog(created.id), {checklog.encode_entry(NOW, "up", 200, 12.0, None): NOW})
    renamed = store.update("api", {"name": "public-api"}, now_ms=NOW + 1)
    assert renamed.id == created.id and renamed.version == 2
    assert store.get("api") is None
    assert store.get("public-api") == renamed
    assert [e.timestamp for e in checklog.history(r, renamed.id, now_ms=NOW)] == [NOW]
    store.create(svc("api"))  # the old name is free again


def test_rename_onto_a_taken_name_is_a_conflict_and_changes_nothing(store: ServiceStore) -> None:
    store.create(svc("a"))
    b = store.create(svc("b"))
    with pytest.raises(Conflict):
        store.update("b", {"name": "a", "timeout": 2000})
    assert store.get("b") == b


def test_concurrent_updates_never_lose_a_change(store: ServiceStore) -> None:
    store.create(svc())
    fields = ["description", "group", "keyword", "body"]
    errors: list[BaseException] = []

    def work(field: str) -> None:
        try:
            for i in range(15):
                store.update("api", {field: f"{field}-{i}"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f,)) for f in fields]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    final = store.require("api")
    assert final.version == 1 + 15 * len(fields)
    assert (final.description, final.group, final.keyword, final.body) == (
        "description-14",
        "group-14",
        "keyword-14",
        "body-14",
    )


def test_concurrent_creates_of_one_name_make_one_service(store: ServiceStore) -> None:
    outcomes: list[str] = []

    def work() -> None:
        try:
            store.create(svc("same"))
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["ok"]
    assert store.count() == 1


def test_delete_drops_log_state_and_indexes(store: ServiceStore, r: Any) -> None:
    created = store.create(svc())
    r.zadd(store.keys.checklog(created.id), {"x": 1})
    deleted = store.delete("api")
    assert deleted.id == created.id
    assert store.get("api") is None and store.list() == [] and store.due(NOW * 2) == []
    assert r.exists(*store.keys.all_of(created.id)) == 0
    with pytest.raises(NotFound):
        store.delete("api")


def test_a_stale_name_claim_is_taken_over(store: ServiceStore, r: Any) -> None:
    r.hset(store.keys.names(), "ghost", "deadbeefdeadbeef")  # a crash after claiming, before the definition
    assert store.get("ghost") is None
    assert store.create(svc("ghost")).name == "ghost"


def test_repair_reindexes_a_service_a_crash_left_out(store: ServiceStore, r: Any) -> None:
    created = store.create(svc(), now_ms=NOW)
    r.delete(store.keys.index(), store.keys.due())
    assert store.repair(now_ms=NOW) == 2
    assert store.ids() == [created.id] and store.due(NOW) == [created.id]


def test_pause_takes_a_service_off_the_schedule_and_resume_puts_it_back(store: ServiceStore) -> None:
    created = store.create(svc(), now_ms=NOW)
    store.update("api", {"paused": True}, now_ms=NOW)
    assert store.due(NOW * 2) == []
    store.update("api", {"paused": False}, now_ms=NOW + 5)
    assert store.due(NOW + 5) == [created.id]


def test_claim_due_moves_claimed_services_out_of_reach_of_an_overlapping_run(store: ServiceStore) -> None:
    a = store.create(svc("a"), now_ms=NOW)
    assert store.claim_due(NOW, 100, 60_000) == [a.id]
    assert store.claim_due(NOW, 100, 60_000) == []
    assert store.claim_due(NOW + 60_000, 100, 60_000) == [a.id]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "x", "url": "ftp://x"}, "url"),
        ({"name": "x", "url": "http://x", "timeout": True}, "timeout"),
        ({"name": "x", "url": "http://x", "timeout": "1000"}, "timeout"),
        ({"name": "x", "url": "http://x", "interval": 10}, "interval"),
        ({"name": "x", "url": "http://x", "method": "TRACE"}, "method"),
        ({"name": "x", "url": "http://x", "expectedStatus": "abc"}, "expectedStatus"),
        ({"name": "x", "url": "http://x", "expectedStatus": True}, "expectedStatus"),
        ({"name": "x", "url": "http://x", "timeout": 70_000}, "timeout"),
        ({"name": "x", "url": "http://x", "degradedMs": 20_000}, "degradedMs"),
        ({"name": "x", "url": "http://x", "bogus": 1}, "bogus"),
        ({"name": "x", "url": "tcp://host"}, "url"),
        ({"name": "x", "url": "http://x", "kind": "tcp"}, "url"),
        ({"name": "a/b", "url": "http://x"}, "name"),
        ({"name": "x", "url": "http://x", "headers": {"Bad Header": "v"}}, "headers"),
        ({"name": "x", "url": "http://x", "confirmations": {"down": 0}}, "confirmations"),
    ],
)
def test_bad_services_are_refused_naming_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises((ValidationError, InvalidInput)) as info:
        ServiceIn.model_validate(data)
    if isinstance(info.value, InvalidInput):
        assert info.value.field == field
    else:
        assert field in {str(e["loc"][0]) for e in info.value.errors()}


def test_expected_status_forms_and_confirmation_aliases() -> None:
    s = ServiceIn.model_validate(
        {**svc(), "expectedStatus": [200, "300-302"], "failuresBeforeDown": 3, "successesBeforeUp": 2}
    )
    assert s.expected_status == "200,300-302"
    assert s.status_ranges == ((200, 200), (300, 302))
    assert (s.confirmations.down, s.confirmations.up) == (3, 2)
    assert ServiceIn.model_validate({**svc(), "expectedStatus": "200-299"}).expected_status == "200-299"
    assert ServiceIn.model_validate({**svc(), "invert": True, "keyword": "x"}).keyword_absent


def test_update_validates_the_merged_result(store: ServiceStore) -> None:
    store.create(svc())
    with pytest.raises(InvalidInput):
        store.update("api", ServiceUpdate.model_validate({"url": "tcp://x:1"}))
    assert store.update("api", {"kind": "tcp", "url": "tcp://example.com:443"}).kind == "tcp"


def test_push_monitors_get_a_token_and_no_url(store: ServiceStore) -> None:
    created = store.create({"name": "cron", "kind": "push", "interval": 300}, now_ms=NOW)
    assert created.push_token and created.url == ""
    assert "pushToken" not in created.public()
    assert store.due(NOW + 300_000) == []
    assert store.due(NOW + 360_000) == [created.id]
