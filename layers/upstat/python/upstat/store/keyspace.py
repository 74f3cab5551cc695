"""Key names, built by pure functions in one place.

A time series is one hash under the hash tag ``{<series id>}`` (see upstat/timeseries/engine.py
for its fields), so a script over a series touches one cluster slot. The series id is a digest of
the (source, metric) names, so names may hold any character (':', '{', '}' included) without
changing which key or slot is used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

from upstat.config import get_settings


def _digest(*parts: str) -> str:
    h = hashlib.blake2b(digest_size=10)
    for part in parts:
        data = part.encode("utf-8")
        h.update(len(data).to_bytes(4, "big"))
        h.update(data)
    return h.hexdigest()


@lru_cache(maxsize=65536)
def series_id(source: str, metric: str) -> str:
    """Stable id of the (source, metric) series: 20 hex characters, never containing braces."""
    return _digest("series", source, metric)


def name_id(kind: str, name: str) -> str:
    """Stable id for a user-supplied name (a source, a service...) for use inside key names."""
    return _digest(kind, name)


K = TypeVar("K")


def keyspace(builder: Callable[[str], K]) -> K:
    """A domain's key builder (``Keys``, ``UptimeKeys``, ``SourceKeys`` ...) under the process's prefix
    (``UPSTAT_KEY_PREFIX``), built once per prefix: the one place key names meet the settings."""
    return _built(builder, get_settings().key_prefix)


@lru_cache(maxsize=32)
def _built(builder: Callable[[str], K], prefix: str) -> K:
    return builder(prefix)


class Keys:
    """Key builder bound to a prefix (``UPSTAT_KEY_PREFIX``)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    # --- one time series: one hash under the hash tag {sid} (meta fields, raw and tier chunks) ---
    def series(self, sid: str) -> str:
        return f"{self.prefix}ts:{{{sid}}}"

    # --- registries (each its own slot; written with idempotent commands) ---
    def series_registry(self, shard: int) -> str:
        return f"{self.prefix}series:{{reg{shard}}}"

    def source_metrics(self, source: str) -> str:
        return f"{self.prefix}src:{{{name_id('source', source)}}}:metrics"

    def metric_sources(self, metric: str) -> str:
        return f"{self.prefix}metric:{{{name_id('metric', metric)}}}:sources"

    def sources(self) -> str:
        return f"{self.prefix}sources"

    # --- additive tallies (upstat/timeseries/tally.py): one source's slot counters and batch claims of one
    # UTC day, under the source's own hash tag (one claim script touches one slot) ---
    def tally(self, source: str, day: int) -> str:
        return f"{self.prefix}tally:{{{name_id('tally', source)}}}:{day}"

    def engine_config(self) -> str:
        return f"{self.prefix}config:engine"

    def job_lock(self, job: str) -> str:
        return f"{self.prefix}lock:{{job}}:{job}"

    def job_state(self, job: str) -> str:
        return f"{self.prefix}jobstate:{{job}}:{job}"

    def health_probe(self) -> str:
        """A tiny key /healthz writes to learn whether writes go through."""
        return f"{self.prefix}health:probe"

    def job_last_run(self, job: str) -> str:
        return f"{self.prefix}jobrun:{{job}}:{job}"

    def job_stats(self, job: str) -> str:
        """Hash: a job's run and failure counts and its latest run's figures (upstat/jobs/runner.py)."""
        return f"{self.prefix}jobstats:{{job}}:{job}"


REGISTRY_SHARDS = 16


def registry_shard(sid: str) -> int:
    return int(sid[:4], 16) % REGISTRY_SHARDS
