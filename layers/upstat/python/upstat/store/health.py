"""What the data store can do right now: take a write, and how full it is under which eviction policy.

``/healthz`` and the jobs read this so that health says what users would see: a Redis that answers PING but
refuses writes (paused for writes, out of memory) makes every ingest fail, and a Redis that evicts under
memory pressure silently loses services, keys and series. upstat needs ``maxmemory-policy noeviction``: when
full, writes fail loudly (503) and nothing already stored is dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from upstat.store.keyspace import Keys

log = logging.getLogger("upstat.store")

REQUIRED_POLICY = "noeviction"
FULL_RATIO = 0.9  # warn when used memory passes this share of maxmemory


@dataclass(frozen=True)
class StoreHealth:
    writable: bool
    write_error: str | None
    used_bytes: int | None
    max_bytes: int | None  # None or 0: no limit set (or not reported, as on some managed services)
    policy: str | None
    warnings: list[str] = field(default_factory=list)


def check(client: Any, keys: Keys, now_ms: int) -> StoreHealth:
    """Probe one write (a key that expires by itself) and read the memory figures."""
    write_error = None
    try:
        client.set(keys.health_probe(), now_ms, px=60_000)
    except RedisError as exc:
        write_error = f"{type(exc).__name__}: {exc}"
    used, limit, policy = _memory(client)
    warnings = policy_warnings(policy)
    if used is not None and limit and used >= FULL_RATIO * limit:
        warnings.append(f"memory is {100 * used / limit:.0f}% full ({used} of {limit} bytes)")
    return StoreHealth(write_error is None, write_error, used, limit, policy, warnings)


def policy_warnings(policy: str | None) -> list[str]:
    if policy is None or policy == REQUIRED_POLICY:
        return []
    return [
        f"maxmemory-policy is {policy}: when memory is full Redis evicts keys (services, API keys, series) "
        f"without a word; set {REQUIRED_POLICY} so that writes fail loudly instead "
        "(README: Memory and faults)"
    ]


def warn_if_evicting(client: Any) -> None:
    """Log the eviction warning once at start-up (make run, each job's process); never fails the caller."""
    try:
        _, _, policy = _memory(client)
    except RedisError:
        return
    for warning in policy_warnings(policy):
        log.warning(warning)


def _memory(client: Any) -> tuple[int | None, int | None, str | None]:
    info = client.info("memory")
    if info and all(isinstance(v, dict) for v in info.values()):  # Redis Cluster: one section per node
        nodes = list(info.values())
        used = sum(int(n.get("used_memory", 0)) for n in nodes)
        limit = sum(int(n.get("maxmemory", 0)) for n in nodes)
        policies = {n.get("maxmemory_policy") for n in nodes} - {None}
        policy = policies.pop() if len(policies) == 1 else ",".join(sorted(policies)) or None
        return used, limit, policy
    used_raw, limit_raw = info.get("used_memory"), info.get("maxmemory")
    return (
        int(used_raw) if used_raw is not None else None,
        int(limit_raw) if limit_raw is not None else None,
        info.get("maxmemory_policy"),
    )
