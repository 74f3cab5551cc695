"""Schemathesis hooks for tests/contract/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS).

``documented_rules_only`` replaces schemathesis' ``positive_data_acceptance``: a request that matches the
OpenAPI document may still be refused with 400, but only by a rule across fields (or against the clock)
that JSON Schema cannot state and that the document states in words. Every such rule is listed here by
the words its error message starts with; any other 400 on schema-valid data fails the run.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

#: Message fragments of the rules across fields, each documented where it applies.
DOCUMENTED_RULES = (
    # chart and uptime ranges (api/params.py RANGE_RULES)
    "give either range or start/end, not both",
    "end: must be after start",
    "start: required when end is given",
    "the limit is 10000",
    "is not a real date",
    # ingest: against the clock, and integers a double cannot hold (TIME_SCHEMA, VALUE_SCHEMA)
    "older than the raw tier's retention",
    "in the future",
    "too large to store exactly",
    "send at least one metric or point",
    "time is given but there are no metrics",
    "older than data already trimmed",
    # services (field descriptions): across fields, and the URL's host and port (README: URL forms)
    "must not be longer than the interval",
    "must be shorter than the timeout",
    "only http checks read the body",
    "check must have the form",
    "is required for a",
    "a push monitor has no url",
    "is not a valid host name or address",
    "has an invalid port",
    "must be within 100-599, low to high",
    "takes no path",
    "needs a port",
    "give either invert or keywordAbsent",
    "stands for a hidden",
    # url and webhooks (their descriptions): address literals the SSRF guard refuses, refused at the door
    "target refused",
    "a hidden webhook URL",
    # OpenVPN: the body must be a status file or a PEM certificate (each request body's description)
    "status file line ",
    "holds no PEM certificate",
    "is not a readable PEM certificate",
    # keys (KeyCreate.expires_at)
    "must be in the future",
    "at most 3650 days",
    "give expires_at or expires_in_days, not both",
    "a source key cannot hold the admin scope",
    # sources and keys: an organization named must exist (SourceCreate/SourceUpdate/KeyCreate.organization);
    # a source id is not one of upstat's own (SourceCreate.id)
    "are upstat's own",
    "organization: no organization '",
    "an organization key cannot hold the admin scope",
    "a key is bound to a source or to an organization, not both",
    # retention (RetentionBody)
    "unknown tier",
    "must be at least",
    # backup schedules (ScheduleIn.schedule): a value within its cron field's range
    "is out of range for the",
    "runs backwards",
    "a step must be at least 1",
    "is not a value of the",
    # maintenance windows (MaintenanceIn.start)
    "end must be after start",
    "give either start/end or recurring",
    "a window needs start and end",
    # Netflow flows (POST /v1/api/flows, FLOWS_BODY_RULES in its body's description): a record's time
    # across its two fields and against the clock, counts times the sampling rate, the exporter's address
    # inside a CSV row and in ?exporter= (an IP address), ?exporter= only with a CSV that lacks the column
    "has no time",
    "is not an IP address",
    "names no exporter",
    "names its exporter in column ra",
    "goes only with nfdump CSV",
    # alert rules (RuleCreate/RuleUpdate's description): across fields, a window against the tiers, an
    # expression's parts, a series' kind
    "give the rule as an expression or as fields",
    "exactly one of the two",
    "needs a comparison",
    "takes no comparison",
    "is shorter than the finest tier",
    "is not a whole number of the finest tier's buckets",
    "is longer than 400d",
    "is not a rule",
    "is not an aggregate",
    "is not an interval",
    "must be a whole number of evaluations",
    "must be a finite number",
    "is not a number",
    "needs a counter series",
    "give the rule's expression, or its",
    # OpenWISP: chart ranges (start and end together), an interface named once per report (it names series)
    "start and end go together",
    "has non-unique elements",
    # notification channels (ChannelIn.config's description: each kind's settings; timezone: an IANA zone;
    # a masked secret stands for the stored one), services' channels (each must exist), /v1/alerts filters
    "config.",
    "config: ",
    "is not an IANA time zone",
    "stands for a stored secret",
    "GET /v1/channels lists them",
    "each channel may be named once",
    "give service or subject, not both",
)


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: Any, value: Any) -> bytes:
    """NDJSON as goflow2 writes it: the document shows the body as the list of its lines' records."""
    records = value if isinstance(value, list) else [value]
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()


@schemathesis.check
def documented_rules_only(ctx: Any, response: Any, case: Any) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        body = response.json()
        # upstat's envelope and most documents say "message"; duplistatus' upload route says "error", DRF
        # (OpenWISP) says "detail"
        message = str(body.get("message") or body.get("error") or body.get("detail") or "")
    except (ValueError, AttributeError):
        message = response.text
    if any(rule in message for rule in DOCUMENTED_RULES):
        return None
    raise AssertionError(
        f"a schema-valid request was refused by a rule the document does not state: {message}"
    )
