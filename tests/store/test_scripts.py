"""The one script runner, against a real Valkey and a real 3-node cluster: calls go without a load first,
and a flushed (or new, or failed-over) server's NOSCRIPT re-sends only the refused calls."""

from __future__ import annotations

from typing import Any

import pytest

from tests.redis_helpers import command_stats, reset_stats
from upstat.store.scripts import Scripts, command, define

# Not idempotent on purpose: a call that ran twice would show.
BUMP = define("tests.bump", "return redis.call('INCR', KEYS[1])")


def test_a_warm_call_is_one_command_and_no_load(r: Any) -> None:
    Scripts(r).run(BUMP, ["n"], [])
    reset_stats(r)
    assert Scripts(r).run(BUMP, ["n"], []) == 2
    stats = command_stats(r)
    assert stats["cmdstat_evalsha"]["calls"] == 1 and "cmdstat_script|load" not in stats


def test_after_a_flush_only_the_refused_calls_are_sent_again(r: Any) -> None:
    r.script_flush()
    replies = Scripts(r).execute([("SET", "plain", "1"), command(BUMP, ["n"], []), command(BUMP, ["n"], [])])
    assert replies == [True, 1, 2]  # the SET ran once, each bump once
    assert r.get("plain") == b"1" and r.get("n") == b"2"


def test_another_error_is_raised_after_the_others_ran(r: Any) -> None:
    r.set("text", "a")
    with pytest.raises(Exception, match="not an integer"):
        Scripts(r).execute([command(BUMP, ["n"], []), command(BUMP, ["text"], [])])
    assert r.get("n") == b"1"


def test_one_name_cannot_hold_two_scripts() -> None:
    with pytest.raises(ValueError, match=r"tests\.bump"):
        define("tests.bump", "return 0")


@pytest.mark.cluster
def test_calls_on_several_slots_of_a_cluster_are_reloaded_where_refused(cluster_env: str) -> None:
    from upstat.store.client import get_redis

    client = get_redis()
    keys = ["n:{a}", "n:{b}", "n:{c}"]
    client.script_flush()
    assert Scripts(client).run_many(BUMP, [([k], []) for k in keys]) == [1, 1, 1]
    assert Scripts(client).run_many(BUMP, [([k], []) for k in keys]) == [2, 2, 2]
