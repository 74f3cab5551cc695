"""Small stable numbers for sources (upstat.sources.numbers) on the real Valkey and the 3-node cluster."""

from __future__ import annotations

import threading

import pytest

from upstat.sources import numbers


def test_numbers_follow_first_sight_and_never_change(r):
    assert numbers.number(r, "netflow", ["10.0.0.2", "10.0.0.1"]) == [1, 2]
    assert numbers.number(r, "netflow", ["10.0.0.3", "10.0.0.1", "10.0.0.3"]) == [3, 2, 3]
    assert numbers.number(r, "other", ["10.0.0.3"]) == [1]  # namespaces count apart
    assert numbers.numbered(r, "netflow") == [
        numbers.Numbered(1, "10.0.0.2"),
        numbers.Numbered(2, "10.0.0.1"),
        numbers.Numbered(3, "10.0.0.3"),
    ]
    assert numbers.lookup(r, "netflow", 3) == numbers.Numbered(3, "10.0.0.3")
    assert numbers.lookup(r, "netflow", 4) is None


def test_a_source_seen_first_by_many_at_once_gets_one_number(r):
    got: list[list[int]] = []

    def see() -> None:
        got.append(numbers.number(r, "netflow", [f"10.0.0.{i}" for i in range(20)]))

    threads = [threading.Thread(target=see) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and all(g == got[0] for g in got)
    assert sorted(got[0]) == list(range(1, 21))
    assert len(numbers.numbered(r, "netflow")) == 20


@pytest.mark.cluster
def test_numbers_on_a_cluster(cluster_env):
    from upstat.store.client import get_redis

    client = get_redis()
    assert numbers.number(client, "netflow", ["a", "b"]) == [1, 2]
    assert numbers.number(client, "netflow", ["b", "c"]) == [2, 3]
    assert [n.source for n in numbers.numbered(client, "netflow")] == ["a", "b", "c"]
    assert numbers.lookup(client, "netflow", 2) == numbers.Numbered(2, "b")
