"""Reading the whole keyspace and the server counters of the run's Redis, one server or a cluster.

KEYS and INFO go to one node of a cluster (redis-py sends them to its default node), so a test that reads
them directly sees a third of a 3-primary cluster. These read every primary.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


def all_keys(client: Any, pattern: str = "*") -> list[bytes]:
    """Every key matching ``pattern``, sorted: SCAN on every primary of a cluster."""
    return sorted(set(client.scan_iter(match=pattern, count=1000)))


def _per_node(client: Any, section: str) -> list[dict[str, Any]]:
    if on_cluster(client):
        return list(client.info(section, target_nodes=client.get_primaries()).values())
    return [client.info(section)]


def command_stats(client: Any) -> dict[str, dict[str, Any]]:
    """INFO commandstats summed over every primary (calls per command)."""
    total: dict[str, Counter[str]] = {}
    for node in _per_node(client, "commandstats"):
        for name, value in node.items():
            total.setdefault(name, Counter()).update({"calls": int(value["calls"])})
    return {name: dict(counts) for name, counts in total.items()}


def reset_stats(client: Any) -> None:
    """CONFIG RESETSTAT on every primary."""
    if on_cluster(client):
        client.config_resetstat(target_nodes=client.get_primaries())
    else:
        client.config_resetstat()


def on_cluster(client: Any) -> bool:
    return hasattr(client, "get_primaries")


def slot_groups(client: Any, keys: Any) -> int:
    """How many script calls a batch over ``keys`` takes (the store's runner puts up to 1,000 keys in a
    call): one on one server; on a cluster one per hash slot, as a script may not cross slots."""
    from redis.crc import key_slot

    keys = [k if isinstance(k, bytes) else str(k).encode() for k in keys]
    if not on_cluster(client):
        return -(-len(keys) // 1000)
    return len({key_slot(k) for k in keys})
