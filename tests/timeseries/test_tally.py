"""Additive counts from batches (upstat.timeseries.tally) on the real Valkey: batches add up, a batch sent
again adds nothing (even after stopping halfway), batches at the same moment all count."""

from __future__ import annotations

import threading

import pytest

from tests.factories import NOW, make_engine
from tests.redis_helpers import all_keys
from upstat.errors import Conflict, InvalidInput
from upstat.timeseries import tally
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import Query

METRICS = ("flows", "bytes")
SECOND0 = NOW - NOW % 1000 - 600_000  # ten minutes ago, on a whole second


def total(engine, source: str, metric: str) -> float:
    """The metric's sum over the last 16 hours, read at 1-minute buckets from the raw tier."""
    rng = tm.RangeSpec(start=NOW - 16 * tm.HOUR, end=NOW + 1)
    b = engine.read(source, metric, Query(rng, tm.parse_interval("1m")), now=NOW)
    return sum(v for v in b.sum if v is not None)


def batch(flows: int, nbytes: int, *seconds: int) -> dict[int, dict[str, float]]:
    return {s: {"flows": flows, "bytes": nbytes} for s in seconds}


def test_batches_that_report_the_same_seconds_add_up(r):
    engine = make_engine(r)
    s1, s2 = SECOND0, SECOND0 + 1000
    tally.add(engine, "a", {"gw": batch(2, 300, s1, s2)}, metrics=METRICS, now=NOW)
    tally.add(engine, "b", {"gw": batch(5, 700, s1)}, metrics=METRICS, now=NOW)
    assert total(engine, "gw", "flows") == 2 + 2 + 5
    assert total(engine, "gw", "bytes") == 300 + 300 + 700


def test_a_batch_sent_again_adds_nothing_and_says_so(r):
    engine = make_engine(r)
    counts = {"gw": batch(3, 1500, SECOND0, SECOND0 + 61_000), "core": batch(1, 40, SECOND0)}
    first = tally.add(engine, "k1", counts, metrics=METRICS, now=NOW)
    again = tally.add(engine, "k1", counts, metrics=METRICS, now=NOW)
    assert not first.replayed and again.replayed
    assert (first.sources, first.seconds) == (again.sources, again.seconds) == (2, 3)
    assert total(engine, "gw", "flows") == 6 and total(engine, "gw", "bytes") == 3000
    assert total(engine, "core", "bytes") == 40


def test_a_batch_that_stopped_after_its_claim_counts_once_when_sent_again(r):
    engine = make_engine(r)
    counts = {"gw": batch(4, 100, SECOND0)}
    prepared = tally.prepare(engine, counts, metrics=METRICS, now=NOW)
    tally.claim(engine, "k", prepared, now=NOW)  # the first attempt stops here: claimed, nothing written
    assert engine.sources() == []
    tally.add(engine, "k", counts, metrics=METRICS, now=NOW)
    tally.add(engine, "k", counts, metrics=METRICS, now=NOW)
    assert total(engine, "gw", "flows") == 4


def test_a_batch_whose_answer_was_lost_counts_once_when_sent_again(r):
    engine = make_engine(r)
    counts = {"gw": batch(4, 100, SECOND0, SECOND0 + 1000)}
    prepared = tally.prepare(engine, counts, metrics=METRICS, now=NOW)
    claims = tally.claim(engine, "k", prepared, now=NOW)
    tally.write(engine, prepared, claims, now=NOW)  # written, but the caller never heard back
    assert tally.add(engine, "k", counts, metrics=METRICS, now=NOW).replayed
    assert total(engine, "gw", "flows") == 8


def test_batches_sent_at_the_same_moment_all_count(r):
    engine = make_engine(r)
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            for k in range(5):
                tally.add(engine, f"t{i}-{k}", {"gw": batch(1, i, SECOND0)}, metrics=METRICS, now=NOW)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert total(engine, "gw", "flows") == 40
    assert total(engine, "gw", "bytes") == 5 * sum(range(8))


def test_a_key_sent_again_with_other_counts_is_refused_and_stores_nothing(r):
    engine = make_engine(r)
    tally.add(engine, "same", {"gw": batch(1, 10, SECOND0)}, metrics=METRICS, now=NOW)
    with pytest.raises(Conflict, match="Idempotency-Key: 'same' was already used for other records of gw"):
        tally.add(
            engine,
            "same",
            {"gw": batch(9, 90, SECOND0)},
            metrics=METRICS,
            now=NOW,
            key_field="Idempotency-Key",
        )
    assert total(engine, "gw", "flows") == 1


def test_a_minute_without_slots_left_refuses_the_batch_whole(r, monkeypatch):
    engine = make_engine(r)
    monkeypatch.setattr(tally, "SLOTS_PER_MINUTE", 2)
    for key in ("a", "b"):
        tally.add(engine, key, {"gw": batch(1, 1, SECOND0)}, metrics=METRICS, now=NOW)
    with pytest.raises(Conflict, match="already holds 2 batches"):
        tally.add(
            engine,
            "c",
            {"gw": batch(1, 1, SECOND0 + 1000), "x": batch(1, 1, SECOND0)},
            metrics=METRICS,
            now=NOW,
        )
    assert total(engine, "gw", "flows") == 2
    # another minute still has its slots
    tally.add(engine, "d", {"gw": batch(1, 1, SECOND0 + 60_000)}, metrics=METRICS, now=NOW)
    assert total(engine, "gw", "flows") == 3


def test_counts_the_engine_would_refuse_are_refused_before_anything_is_claimed(r):
    engine = make_engine(r)
    old = NOW - NOW % 1000 - 49 * tm.HOUR
    with pytest.raises(InvalidInput, match="older than the raw tier's retention"):
        tally.add(
            engine, "k", {"gw": batch(1, 1, SECOND0), "old": batch(1, 1, old)}, metrics=METRICS, now=NOW
        )
    with pytest.raises(InvalidInput, match="too large to store exactly"):
        tally.add(engine, "k", {"gw": {SECOND0: {"flows": 1, "bytes": 2**53 + 2}}}, metrics=METRICS, now=NOW)
    with pytest.raises(InvalidInput, match="whole second"):
        tally.add(engine, "k", {"gw": batch(1, 1, SECOND0 + 5)}, metrics=METRICS, now=NOW)
    assert all_keys(r, "upstat:tally:*") == [] and engine.sources() == []
    tally.add(engine, "k", {"gw": batch(1, 1, SECOND0)}, metrics=METRICS, now=NOW)  # the key is still free
    assert total(engine, "gw", "flows") == 1


def test_claims_are_kept_while_their_points_can_still_be_written(r):
    engine = make_engine(r)
    tally.add(engine, "k", {"gw": batch(1, 1, SECOND0)}, metrics=METRICS, now=NOW)
    [key] = all_keys(r, "upstat:tally:*")
    day_end = (SECOND0 // tm.DAY + 1) * tm.DAY
    assert abs(r.pttl(key) - (day_end + 49 * tm.HOUR - NOW)) < 5000


def test_a_batch_over_two_days_keeps_its_claim_as_long_as_its_last_day(r):
    engine = make_engine(r)
    yesterday = SECOND0 - 13 * tm.HOUR
    counts = {"gw": batch(1, 1, yesterday, SECOND0)}
    tally.add(engine, "k", counts, metrics=METRICS, now=NOW)
    assert tally.add(engine, "k", counts, metrics=METRICS, now=NOW).replayed
    day_end = (SECOND0 // tm.DAY + 1) * tm.DAY
    keys = all_keys(r, "upstat:tally:*")
    assert len(keys) == 2 and all(abs(r.pttl(k) - (day_end + 49 * tm.HOUR - NOW)) < 5000 for k in keys)
    assert total(engine, "gw", "flows") == 2


@pytest.mark.cluster
def test_batches_count_once_on_a_cluster(cluster_env):
    from upstat.store.client import get_redis

    client = get_redis()
    engine = make_engine(client)
    counts = {f"exp-{i}": batch(i + 1, 10, SECOND0 - 13 * tm.HOUR, SECOND0) for i in range(12)}
    tally.add(engine, "k", counts, metrics=METRICS, now=NOW)
    assert tally.add(engine, "k", counts, metrics=METRICS, now=NOW).replayed
    tally.add(engine, "k2", {"exp-3": batch(1, 1, SECOND0)}, metrics=METRICS, now=NOW)
    assert [total(engine, f"exp-{i}", "flows") for i in range(12)] == [
        2 * (i + 1) + (i == 3) for i in range(12)
    ]
