"""Rules on a 3-node Redis Cluster: the rules and their states share the {rules} slot, each script touches
one key, and a run evaluates, records and claims as on one server."""

from __future__ import annotations

import pytest

from upstat.rules import store
from upstat.rules.model import parse_rule
from upstat.rules.run import evaluate_rules
from upstat.store.client import get_redis
from upstat.timeseries import timemath as tm
from upstat.timeseries.retention import current_engine

pytestmark = pytest.mark.cluster

T0 = 1_767_225_600_000
M = tm.MINUTE


def test_rules_are_evaluated_and_recorded_once_on_a_cluster(cluster_env: str) -> None:
    client = get_redis()
    engine = current_engine(client, fresh=True)
    keys = store.keys()
    made = []
    for i in range(5):
        body = {"name": f"r{i}", "source": f"api-{i}", "expression": "max(response_ms, 5m) > 800 for 2"}
        made.append(store.save(client, parse_rule(body, engine.tiers, rule_id=store.new_id(), now=T0)))
        engine.write(f"api-{i}", "response_ms", [(T0 + M, 900.0), (T0 + 6 * M, 900.0)], now=T0 + 7 * M)
    slots = {client.keyslot(keys.rules())} | {client.keyslot(keys.states(r.id)) for r in made}
    assert len(slots) == 1
    for now in (T0 + 5 * M + 1000, T0 + 5 * M + 2000, T0 + 10 * M + 1000):  # the second run: a retry
        evaluate_rules(client, engine, now=now)
    states = [store.states_of(client, r.id)[f"api-{i}"] for i, r in enumerate(made)]
    assert {(s.state, s.count, s.seq) for s in states} == {("firing", 2, 1)}
