"""The GCRA script in a real Valkey (and a real 3-node cluster): bursts, exact Retry-After, refill."""

from __future__ import annotations

import time
from typing import Any

import pytest

from upstat.auth import ratelimit as rl
from upstat.errors import RateLimited
from upstat.store.scripts import Scripts


def charge(client: Any, bucket: str, rate: int, window_s: int, record: str | None = None) -> rl.Verdict:
    return rl.verdict(Scripts(client).execute([rl.limit_command(bucket, rate, window_s, record)])[0])


def test_an_idle_bucket_admits_a_full_burst_then_refuses_with_the_wait(r: Any) -> None:
    verdicts = [charge(r, "t:{a}", 5, 60) for _ in range(6)]
    assert [v.admitted for v in verdicts] == [True] * 5 + [False]
    assert [v.remaining for v in verdicts[:5]] == [4, 3, 2, 1, 0]
    refused = verdicts[-1]
    assert 11_000 < refused.retry_after_ms <= 12_000  # one request per 60/5 = 12 s
    assert refused.retry_after_s == 12
    with pytest.raises(RateLimited) as caught:
        rl.enforce(verdicts, "key")
    assert caught.value.retry_after == 12


def test_a_refused_request_is_not_charged_and_the_bucket_refills(r: Any) -> None:
    assert charge(r, "t:{b}", 10, 1).admitted  # one every 100 ms, burst of 10
    for _ in range(9):
        charge(r, "t:{b}", 10, 1)
    for _ in range(5):
        assert not charge(r, "t:{b}", 10, 1).admitted
    time.sleep(0.25)
    assert [charge(r, "t:{b}", 10, 1).admitted for _ in range(3)] == [True, True, False]


def test_the_bucket_expires_when_it_is_full_again(r: Any) -> None:
    charge(r, "t:{c}", 3, 60)
    assert 0 < r.pttl("t:{c}") <= 20_000  # the time until the one request charged is forgotten


def test_last_used_is_refreshed_at_most_once_a_minute_and_never_creates_a_record(r: Any) -> None:
    charge(r, "t:{d}:rate", 100, 60, record="t:{d}")
    assert not r.exists("t:{d}")
    r.hset("t:{d}", mapping={"id": "d", "last_used": "0"})
    charge(r, "t:{d}:rate", 100, 60, record="t:{d}")
    first = int(r.hget("t:{d}", "last_used"))
    assert abs(first - time.time() * 1000) < 5_000
    r.hset("t:{d}", "last_used", str(first - 1000))
    charge(r, "t:{d}:rate", 100, 60, record="t:{d}")
    assert int(r.hget("t:{d}", "last_used")) == first - 1000


def test_a_flushed_script_cache_is_reloaded_without_an_error(r: Any) -> None:
    r.script_flush()
    assert charge(r, "t:{e}", 2, 60).admitted
    r.script_flush()
    replies = Scripts(r).execute(
        [("SET", "t:{x}", "1"), rl.limit_command("t:{e}", 2, 60), rl.limit_command("t:{e}", 2, 60)]
    )
    assert replies[0] is True and [rl.verdict(v).admitted for v in replies[1:]] == [True, False]


@pytest.mark.cluster
def test_buckets_of_different_slots_are_charged_in_one_pipelined_batch_on_a_cluster(cluster_env: str) -> None:
    from redis.crc import key_slot

    from upstat.store.client import get_redis

    client = get_redis()
    buckets = ["upstat:key:{abcdefghijkl}:rate", "upstat:rate:addr:{192.0.2.1}", "upstat:rate:addr:{h1}"]
    assert len({key_slot(b.encode()) for b in buckets}) == 3
    for _ in range(3):
        replies = Scripts(client).execute([rl.limit_command(b, 3, 60) for b in buckets])
        assert all(rl.verdict(v).admitted for v in replies)
    replies = Scripts(client).execute([rl.limit_command(b, 3, 60) for b in buckets])
    assert not any(rl.verdict(v).admitted for v in replies)
