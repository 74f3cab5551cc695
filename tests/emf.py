"""Reading the CloudWatch embedded-metric-format lines upstat.metrics writes to stdout (the ``emf``
fixture in tests/conftest.py turns them on)."""

from __future__ import annotations

import json
import time
from typing import Any

NAMESPACE = "upstat-test"


def emf_lines(text: str) -> list[dict[str, Any]]:
    """The EMF documents among stdout's lines, each checked against the parts of the EMF specification
    CloudWatch validates: one JSON object per line, every metric and dimension a root member."""
    docs = []
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        doc = json.loads(line)
        if "_aws" not in doc:
            continue
        meta = doc["_aws"]
        assert isinstance(meta["Timestamp"], int) and abs(meta["Timestamp"] - time.time() * 1000) < 60_000
        for directive in meta["CloudWatchMetrics"]:
            assert directive["Namespace"] == NAMESPACE
            for dimension_set in directive["Dimensions"]:
                assert dimension_set and all(isinstance(doc[d], str) for d in dimension_set)
            for metric in directive["Metrics"]:
                assert isinstance(doc[metric["Name"]], int | float)
                assert metric["Unit"] in ("Count", "Milliseconds")
        docs.append(doc)
    return docs


def values(docs: list[dict[str, Any]], name: str) -> list[float]:
    """Every value of metric ``name`` in these documents, in order."""
    return [d[name] for d in docs if name in d]
