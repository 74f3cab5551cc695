"""CloudWatch metrics, written as log lines in the embedded metric format (EMF).

In Lambda, one JSON object printed on one stdout line becomes a log event, and CloudWatch Logs turns an
EMF document into metric data points: no API call, no client, no extra latency, nothing to import but
``json``. (Lambda's JSON log format leaves a line that is already JSON as it is.) Powertools Metrics does
the same with more machinery; this module is the few lines upstat needs.

Metrics are written only when ``UPSTAT_METRICS_NAMESPACE`` is set (the deployed stack sets it; local runs
and tests stay quiet unless they set it). Every document carries one dimension, ``Stage``
(``UPSTAT_STAGE``), so the alarms of one stage never see another's data.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import IO, Any

from upstat import clock
from upstat.config import get_settings

#: Every metric upstat writes, with its CloudWatch unit. A name not listed here is a bug (ValueError).
METRICS: dict[str, str] = {
    "ChecksRun": "Count",  # checks recorded by a ping tick, a ping worker or GET /api/ping
    "ChecksFailed": "Count",  # of those, checks whose result was down
    "AlertsSent": "Count",  # alert deliveries (one SNS publish or one webhook POST) that succeeded
    "AlertsFailed": "Count",  # alert deliveries that failed after their retries
    "JobRunsSkipped": "Count",  # scheduled runs that found another run holding the job's lock
    "JobRunsOverBudget": "Count",  # scheduled runs that stopped at their time budget, work left over
    "JobDuration": "Milliseconds",  # a completed scheduled run, lock to lock
    "IngestPoints": "Count",  # points stored by POST /v1/ingest
    "PingBatchesFailed": "Count",  # SQS batches a ping worker returned as batchItemFailures
}


def document(
    values: Mapping[str, float], *, namespace: str, stage: str, properties: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The EMF document for ``values`` (metric name -> value) with the ``Stage`` dimension.

    ``properties`` are extra top-level members (say, the job's name): searchable in Logs Insights, not
    dimensions, so they add no metric."""
    unknown = sorted(set(values) - set(METRICS))
    if unknown:
        raise ValueError(f"unknown metric {unknown[0]!r} (upstat.metrics.METRICS lists them)")
    directive = {
        "Namespace": namespace,
        "Dimensions": [["Stage"]],
        "Metrics": [{"Name": name, "Unit": METRICS[name]} for name in values],
    }
    doc: dict[str, Any] = dict(properties or {})
    doc.update(values)
    doc["Stage"] = stage
    doc["_aws"] = {"Timestamp": clock.now_ms(), "CloudWatchMetrics": [directive]}
    return doc


def emit(
    values: Mapping[str, float], *, properties: Mapping[str, Any] | None = None, stream: IO[str] | None = None
) -> None:
    """Write one EMF line for ``values`` to stdout (or ``stream``); nothing when metrics are off.

    Zero values are written too: an alarm on a rate then sees a real 0, not missing data."""
    settings = get_settings()
    if not settings.metrics_namespace or not values:
        return
    doc = document(values, namespace=settings.metrics_namespace, stage=settings.stage, properties=properties)
    out = stream if stream is not None else sys.stdout
    out.write(json.dumps(doc, separators=(",", ":"), default=str) + "\n")
    out.flush()
