"""The rules' operations as the API asks for them: create, change, show with each series' state, delete.
Plain values; the HTTP shapes are upstat.api.schemas.rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from upstat.errors import InvalidInput
from upstat.rules import store
from upstat.rules.model import COUNTER_ONLY, Rule, parse_rule
from upstat.rules.state import SeriesState


@dataclass(frozen=True)
class RuleView:
    """A rule and the state of each series it has evaluated (source -> state)."""

    rule: Rule
    states: dict[str, SeriesState]


def create(client: Any, engine: Any, body: Mapping[str, Any], *, now: int) -> Rule:
    """A new rule from a request body (every field checked, InvalidInput naming the first bad one)."""
    rule = parse_rule(body, engine.tiers, rule_id=store.new_id(), now=now)
    _check_kind(engine, rule)
    _check_channels(client, rule)
    return store.save(client, rule)


def update(client: Any, engine: Any, rule_id: str, body: Mapping[str, Any], *, now: int) -> Rule:
    """The rule with the fields given changed (the others kept). A changed rule starts its series' states
    afresh: what they counted was counted against the rule as it was."""
    base = store.get(client, rule_id)
    rule = parse_rule(body, engine.tiers, rule_id=rule_id, now=now, base=base)
    _check_kind(engine, rule)
    _check_channels(client, rule)
    if _condition(rule) != _condition(base):
        store.clear_states(client, rule_id)
    return store.save(client, rule)


def view(client: Any, rule_id: str) -> RuleView:
    return RuleView(store.get(client, rule_id), store.states_of(client, rule_id))


def _condition(rule: Rule) -> tuple[Any, ...]:
    return (rule.selector, rule.aggregate, rule.window_ms, rule.op, rule.threshold, rule.for_n)


def _check_kind(engine: Any, rule: Rule) -> None:
    """``increase`` and ``rate`` read a counter: refused for a named series that exists as a gauge (a series
    not written yet, or a kind's sources, are judged when evaluated: a gauge then has no value)."""
    source = rule.selector.source
    if rule.aggregate not in COUNTER_ONLY or source is None:
        return
    info = engine.info(source, rule.selector.metric)
    if info is not None and info.kind != "counter":
        raise InvalidInput(
            f"aggregate: {rule.aggregate} needs a counter series; {source}/{rule.selector.metric} is a "
            f"{info.kind} (declare it a counter with PUT /v1/series/kind, or use avg, max ...)",
            field="aggregate",
        )


def _check_channels(client: Any, rule: Rule) -> None:
    """InvalidInput naming ``channels[i]`` when it names no notification channel (as services' channels):
    an unknown id would otherwise show only as a failed delivery when the rule first fires."""
    if not rule.channels:
        return
    from upstat.notify.store import ChannelStore

    ChannelStore(client).refuse_unknown(rule.channels)
