"""The same engine code on a 3-node Redis Cluster: series spread over nodes, scripts stay in one slot."""

from __future__ import annotations

import pytest

from tests.factories import NOW, make_engine
from upstat.store.client import get_redis
from upstat.store.keyspace import series_id
from upstat.timeseries import timemath as tm
from upstat.timeseries.across import read_across
from upstat.timeseries.model import Query
from upstat.timeseries.render import series_values

pytestmark = pytest.mark.cluster


def test_writes_reads_and_maintenance_work_on_a_cluster(cluster_env):
    client = get_redis()
    engine = make_engine(client)
    names = [(f"dev:{{{i}}}", "rx") for i in range(30)]
    batches = [
        (s, m, [(NOW - k * 60_000, float(i + k)) for k in range(120)], "counter")
        for i, (s, m) in enumerate(names)
    ]
    engine.write_many(batches, now=NOW)
    slots = {client.keyslot(engine.keys.series(series_id(s, m))) for s, m in names}
    nodes = {client.nodes_manager.get_node_from_slot(slot).port for slot in slots}
    assert len(nodes) == 3  # the series really are spread over the three nodes
    results = engine.read_many(
        names, Query(tm.parse_range("3h", now=NOW), tm.parse_resolution("15m")), now=NOW
    )
    for i, b in enumerate(results):
        assert b is not None and sum(b.count) == 120
        assert series_values(b, "max", None)[0][-1] == float(i)
    many = read_across(
        engine, names, Query(tm.parse_range("3h", now=NOW), tm.parse_resolution("15m")), now=NOW
    )
    per_bucket = many.per_bucket("sum")
    assert sum(v for v in per_bucket if v is not None) == sum(
        sum(float(i + k) for k in range(120)) for i in range(30)
    )
    assert [t.source for t in many.top("sum", 2)] == [names[29][0], names[28][0]]
    engine.maintain([series_id(s, m) for s, m in names], now=NOW, rebuild_from=0, trim=True)
    assert engine.read(*names[3], Query(tm.parse_range("24h", now=NOW)), now=NOW).count != []
    assert sorted(engine.sources_of("rx")) == sorted(s for s, _ in names)
