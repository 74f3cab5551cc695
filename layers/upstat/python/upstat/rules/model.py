"""Alert rules: what a rule says, and the one parser of what a caller sends for it. Pure, no I/O.

A rule names a series selector (one source and a metric, or every source of a kind and a metric), an
aggregate over a window, a comparison with a threshold, and how many evaluations in a row must breach
before it fires ("for N"). It is given either as fields or as one expression::

    p95(response_ms, 15m) > 800 for 3
    increase(bytes_received, 1h) < 1
    absent(duration, 26h)

``absent`` takes no comparison: it breaches when the window holds no point. Windows are read from the
tiers (never the raw points), so a window must be whole buckets of the finest tier (5 minutes by default).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from upstat.errors import InvalidInput
from upstat.names import check_name
from upstat.timeseries import timemath as tm
from upstat.timeseries.timemath import Tier

#: The id prefix of built-in rules: made from settings by the domain that owns them (a device's thresholds
#: and silence, upstat.devices.health), never stored with the users' rules nor changed through the API.
BUILTIN = "builtin:"
AGGREGATES = ("avg", "max", "min", "p95", "p99", "rate", "increase", "count", "absent")
#: Aggregates that only mean something for a counter (a gauge has no increase).
COUNTER_ONLY = frozenset({"rate", "increase"})
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
#: The longest window: a year and a month (the 6-hour tier's 400 days; a longer one would read days).
MAX_WINDOW_MS = 400 * tm.DAY
MAX_FOR = 1000
MAX_CHANNELS = 20
_EXPRESSION = re.compile(
    r"^\s*(?P<agg>[a-z0-9]+)\s*\(\s*(?P<metric>[^,()]+?)\s*,\s*(?P<window>[^,()\s]+)\s*\)"
    r"\s*(?:(?P<op>>=|<=|==|!=|>|<)\s*(?P<threshold>[-+0-9.eE]+|[-+]?inf))?"
    r"\s*(?:for\s+(?P<for>[0-9]+))?\s*$"
)
#: The fields a rule's body may give besides the expression (they and ``expression`` exclude each other).
STRUCTURED = ("metric", "aggregate", "window", "op", "threshold", "for")


@dataclass(frozen=True)
class Selector:
    """The series a rule reads: ``metric`` of ``source``, or of every registered source of ``kind``."""

    metric: str
    source: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Rule:
    """A rule as stored (``id`` given by the store; ``channels``: ids, empty = the default channels)."""

    id: str
    name: str
    selector: Selector
    aggregate: str
    window_ms: int
    op: str | None = None
    threshold: float | None = None
    for_n: int = 1
    channels: tuple[str, ...] = ()
    enabled: bool = True
    created_at: int = 0
    updated_at: int = 0
    window_text: str = field(default="", compare=False)

    @property
    def builtin(self) -> bool:
        return self.id.startswith(BUILTIN)

    @property
    def window(self) -> str:
        return self.window_text or _interval_text(self.window_ms)

    def expression(self) -> str:
        """The rule as one expression (what the API shows and what an alert quotes)."""
        text = f"{self.aggregate}({self.selector.metric}, {self.window})"
        if self.op is not None and self.threshold is not None:
            text += f" {self.op} {_number(self.threshold)}"
        return text + (f" for {self.for_n}" if self.for_n > 1 else "")

    def breached(self, value: float | None) -> bool:
        """Whether one evaluation's value breaches the rule (no value, no data: never, except ``absent``,
        whose value is 1 when the window is empty)."""
        if value is None:
            return False
        if self.aggregate == "absent":
            return value >= 1
        assert self.op is not None and self.threshold is not None
        return COMPARISONS[self.op](value, self.threshold)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


def _interval_text(ms: int) -> str:
    for unit in ("d", "h", "m", "s"):
        size = tm.UNIT_MS[unit]
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def parse_rule(
    body: Mapping[str, Any], tiers: Sequence[Tier], *, rule_id: str, now: int, base: Rule | None = None
) -> Rule:
    """A rule from a request body (a new rule; or ``base`` changed by the fields given), every field
    checked: an InvalidInput naming the first bad one. Tiers decide the shortest window."""
    given = {k: v for k, v in body.items() if v is not None}
    merged: dict[str, Any] = _fields_of(base) if base is not None else {}
    if "expression" in given:
        both = [k for k in STRUCTURED if k in given]
        if both:
            raise InvalidInput(
                "expression: give the rule as an expression or as fields "
                f"({', '.join(STRUCTURED)}), not both (found {both[0]})",
                field="expression",
            )
        given.update(parse_expression(given.pop("expression")))
        for k in STRUCTURED:  # an expression replaces the whole condition
            merged.pop(k, None)
    if "source" in given or "kind" in given:  # naming one replaces the other
        merged.pop("source", None)
        merged.pop("kind", None)
    for k, v in body.items():
        if v is None:
            merged.pop(k, None)  # a change to null: back to the default (or absent)
    merged.update(given)
    name = _text(merged.get("name"), "name")
    selector = _selector(merged)
    aggregate = _aggregate(merged.get("aggregate"))
    window_ms, window_text = _window(merged.get("window"), tiers)
    op, threshold = _comparison(aggregate, merged)
    return Rule(
        id=rule_id,
        name=name,
        selector=selector,
        aggregate=aggregate,
        window_ms=window_ms,
        op=op,
        threshold=threshold,
        for_n=_for(merged.get("for", 1)),
        channels=_channels(merged.get("channels", [])),
        enabled=_flag(merged.get("enabled", True), "enabled"),
        created_at=base.created_at if base is not None else now,
        updated_at=now,
        window_text=window_text,
    )


def parse_expression(text: Any) -> dict[str, Any]:
    """``agg(metric, window) [op threshold] [for N]`` as the structured fields (not yet checked)."""
    if not isinstance(text, str) or len(text) > 500:
        raise InvalidInput("expression: must be text of at most 500 characters", field="expression")
    m = _EXPRESSION.match(text)
    if m is None:
        raise InvalidInput(
            f"expression: {text!r} is not a rule: write aggregate(metric, window) [op threshold] [for N], "
            "e.g. p95(response_ms, 15m) > 800 for 3, or absent(duration, 26h)",
            field="expression",
        )
    out: dict[str, Any] = {"aggregate": m["agg"], "metric": m["metric"], "window": m["window"]}
    if m["op"] is not None:
        out["op"] = m["op"]
        try:
            out["threshold"] = float(m["threshold"])
        except ValueError:
            raise InvalidInput(
                f"expression: threshold {m['threshold']!r} is not a number", field="expression"
            ) from None
    if m["for"] is not None:
        out["for"] = int(m["for"]) if len(m["for"]) < 10 else MAX_FOR + 1
    return out


def _fields_of(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": rule.name,
        "metric": rule.selector.metric,
        "aggregate": rule.aggregate,
        "window": rule.window,
        "op": rule.op,
        "threshold": rule.threshold,
        "for": rule.for_n,
        "channels": list(rule.channels),
        "enabled": rule.enabled,
    }
    if rule.selector.source is not None:
        out["source"] = rule.selector.source
    if rule.selector.kind is not None:
        out["kind"] = rule.selector.kind
    if rule.aggregate == "absent":
        del out["op"], out["threshold"]
    return out


def _text(value: Any, name: str) -> str:
    if value is None and name in ("name", "source"):
        raise InvalidInput(f"{name}: required", field=name)
    if value is None:
        raise InvalidInput(
            f"{name}: required: give the rule's expression, or its metric, aggregate and window", field=name
        )
    check_name(value, name)
    return str(value)


def _selector(fields: Mapping[str, Any]) -> Selector:
    source, kind = fields.get("source"), fields.get("kind")
    if (source is None) == (kind is None):
        raise InvalidInput(
            "source: name one source, or all sources of a kind (kind), exactly one of the two", field="source"
        )
    metric = _text(fields.get("metric"), "metric")
    if source is not None:
        return Selector(metric, source=_text(source, "source"))
    from upstat.sources.models import KINDS

    return Selector(metric, kind=_choice(kind, KINDS, "kind"))


def _aggregate(value: Any) -> str:
    if value is None:
        _text(value, "aggregate")
    if value not in AGGREGATES:
        raise InvalidInput(
            f"aggregate: {value!r} is not an aggregate (one of {', '.join(AGGREGATES)})", field="aggregate"
        )
    return str(value)


def _choice(value: Any, allowed: Sequence[str], name: str) -> str:
    if value not in allowed:
        raise InvalidInput(f"{name}: must be one of {', '.join(allowed)}", field=name)
    return str(value)


def _window(value: Any, tiers: Sequence[Tier]) -> tuple[int, str]:
    if value is None:
        _text(value, "window")
    interval = tm.parse_interval(value, field="window")
    ms, finest = interval.ms, tiers[1].ms if len(tiers) > 1 else tm.SECOND
    if ms < finest:
        raise InvalidInput(
            f"window: {value} is shorter than the finest tier ({_interval_text(finest)}): rules read the "
            "tiers, not the raw points",
            field="window",
        )
    if ms % finest:
        raise InvalidInput(
            f"window: {value} is not a whole number of the finest tier's buckets ({_interval_text(finest)})",
            field="window",
        )
    if ms > MAX_WINDOW_MS:
        raise InvalidInput(f"window: {value} is longer than 400d", field="window")
    return ms, str(value)


def _comparison(aggregate: str, fields: Mapping[str, Any]) -> tuple[str | None, float | None]:
    op, threshold = fields.get("op"), fields.get("threshold")
    if aggregate == "absent":
        if op is not None or threshold is not None:
            name = "op" if op is not None else "threshold"
            raise InvalidInput(
                f"{name}: absent(...) takes no comparison: it fires when the window holds no point",
                field=name,
            )
        return None, None
    for name, given in (("op", op), ("threshold", threshold)):
        if given is None:
            raise InvalidInput(
                f"{name}: {aggregate}(...) needs a comparison (op and threshold, e.g. > 800)", field=name
            )
    op = _choice(op, tuple(COMPARISONS), "op")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise InvalidInput("threshold: must be a number", field="threshold")
    if not math.isfinite(threshold):
        raise InvalidInput("threshold: must be a finite number", field="threshold")
    return op, float(threshold)


def _for(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_FOR:
        raise InvalidInput(f"for: must be a whole number of evaluations, 1 to {MAX_FOR}", field="for")
    return value


def _channels(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_CHANNELS:
        raise InvalidInput(
            f"channels: must be a list of at most {MAX_CHANNELS} channel ids", field="channels"
        )
    for i, item in enumerate(value):
        check_name(item, f"channels[{i}]")
    return tuple(dict.fromkeys(value))


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{name}: must be true or false", field=name)
    return value


def to_doc(rule: Rule) -> dict[str, Any]:
    """The stored form of a rule (JSON)."""
    return {
        "id": rule.id,
        "name": rule.name,
        "source": rule.selector.source,
        "kind": rule.selector.kind,
        "metric": rule.selector.metric,
        "aggregate": rule.aggregate,
        "window": rule.window,
        "windowMs": rule.window_ms,
        "op": rule.op,
        "threshold": rule.threshold,
        "for": rule.for_n,
        "channels": list(rule.channels),
        "enabled": rule.enabled,
        "createdAt": rule.created_at,
        "updatedAt": rule.updated_at,
    }


def from_doc(doc: Mapping[str, Any]) -> Rule:
    return Rule(
        id=doc["id"],
        name=doc["name"],
        selector=Selector(doc["metric"], source=doc.get("source"), kind=doc.get("kind")),
        aggregate=doc["aggregate"],
        window_ms=int(doc["windowMs"]),
        op=doc.get("op"),
        threshold=doc.get("threshold"),
        for_n=int(doc.get("for", 1)),
        channels=tuple(doc.get("channels") or ()),
        enabled=bool(doc.get("enabled", True)),
        created_at=int(doc.get("createdAt", 0)),
        updated_at=int(doc.get("updatedAt", 0)),
        window_text=str(doc.get("window") or ""),
    )
