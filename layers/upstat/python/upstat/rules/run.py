"""The evaluation of every enabled rule, run by the scheduled rollup job after it brought the tiers up to
date: read each rule's window from the tiers, step each (rule, series) state, record the new states, send
the changes.

Each run evaluates the slot that ended last: the window ``[slot - window, slot)``, ``slot`` the latest
boundary of the finest tier (5 minutes by default, the rollup's period), so it reads only closed buckets
and two runs in one slot compute the same figures. The states are replaced by compare-and-set
(upstat.rules.store), so a slot is counted once however many runs evaluate it; a change is sent through
upstat.rules.transitions, claimed per (rule, source, seq), so it is delivered once.

Reads are grouped: every rule with the same window reads its series together, a few pipelined round trips
(one per piece of the window, upstat.timeseries.windows) for all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from upstat.config import Settings
from upstat.rules import state as st
from upstat.rules import store
from upstat.rules.evaluate import PERCENTILES, Figures, fold, judge
from upstat.rules.model import Rule
from upstat.rules.transitions import Transition, deliver
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import Query
from upstat.timeseries.timemath import Interval, RangeSpec, Tier
from upstat.timeseries.windows import window_buckets

log = logging.getLogger("upstat.rules")

Series = tuple[str, str]


@dataclass(frozen=True)
class Evaluated:
    """One (rule, series) evaluation: the state before and the state to record."""

    rule: Rule
    source: str
    before: st.SeriesState
    after: st.SeriesState


def slot_of(now: int, tiers: Sequence[Tier]) -> int:
    """The end of the window a run at ``now`` evaluates: the latest boundary of the finest tier."""
    step = tiers[1].ms if len(tiers) > 1 else tm.MINUTE
    return now - now % step


def evaluate_rules(
    client: Any,
    engine: Any,
    *,
    now: int,
    deadline: float | None = None,
    settings: Settings | None = None,
) -> dict[str, int]:
    """Evaluate every enabled rule at ``now`` and deliver the changes; what was done, as counts."""
    rules = [r for r in store.all_rules(client) if r.enabled]
    if not rules:
        return {"rules": 0, "evaluated": 0, "changes": 0, "alerts_sent": 0}
    slot = slot_of(now, engine.tiers)
    sources = select(client, engine, rules)
    store.prune(client, [(r.id, names) for r, names in zip(rules, sources, strict=True) if r.selector.kind])
    figures = read_figures(engine, rules, sources, slot=slot, now=now)
    states = store.states_many(client, [r.id for r in rules], sources)
    evaluated = [
        _step(rule, source, before or st.SeriesState(), figures, slot)
        for rule, names, befores in zip(rules, sources, states, strict=True)
        for source, before in zip(names, befores, strict=True)
    ]
    recorded = _record(client, evaluated)
    due = [(e, kept) for e, kept in zip(evaluated, recorded, strict=True) if kept is not None and kept.unsent]
    sent = deliver(
        client,
        [transition_of(e.rule, e.source, kept) for e, kept in due],
        deadline=deadline,
        settings=settings,
    )
    # Delivered, or claimed by another run that delivers it: either way this change is done.
    store.mark_sent(client, [(e.rule.id, e.source, kept.seq) for e, kept in due])
    changes = sum(
        1 for e, k in zip(evaluated, recorded, strict=True) if k is e.after and k.seq > e.before.seq
    )
    return {"rules": len(rules), "evaluated": len(evaluated), "changes": changes, "alerts_sent": len(sent)}


def select(client: Any, engine: Any, rules: Sequence[Rule]) -> list[list[str]]:
    """The sources each rule reads: its source; or every registered source of its kind (for ``absent``,
    a source without the series too: it has no point; otherwise only those that have the series)."""
    from upstat.sources import store as registry

    by_kind: dict[str, list[str]] = {}
    by_metric: dict[str, set[str]] = {}
    out = []
    for rule in rules:
        sel = rule.selector
        if sel.source is not None:
            out.append([sel.source])
            continue
        assert sel.kind is not None
        if sel.kind not in by_kind:
            by_kind[sel.kind] = [s.id for s in registry.list_sources(client, kind=sel.kind)]
        names = by_kind[sel.kind]
        if rule.aggregate != "absent":
            if sel.metric not in by_metric:
                by_metric[sel.metric] = set(engine.sources_of(sel.metric))
            names = [s for s in names if s in by_metric[sel.metric]]
        out.append(names)
    return out


def read_figures(
    engine: Any, rules: Sequence[Rule], sources: Sequence[Sequence[str]], *, slot: int, now: int
) -> dict[tuple[int, bool], dict[Series, Figures]]:
    """Each series' figures over each window the rules ask for (keyed by (window, percentiles)): every
    series of one window read together, from the tiers only."""
    wanted: dict[tuple[int, bool], dict[Series, None]] = {}
    for rule, names in zip(rules, sources, strict=True):
        group = wanted.setdefault((rule.window_ms, rule.aggregate in PERCENTILES), {})
        for source in names:
            group[(source, rule.selector.metric)] = None
    out: dict[tuple[int, bool], dict[Series, Figures]] = {}
    for (window, percentiles), group in wanted.items():
        series = list(group)
        found: dict[Series, Figures] = {}
        reads = (
            [_finest_read(engine, series, window, slot, now)]
            if percentiles
            else window_buckets(engine, series, start=slot - window, end=slot, now=now)
        )
        for piece in reads:
            for key, b in zip(series, piece, strict=True):
                if b is not None:
                    found[key] = fold(found.get(key), b)
        out[(window, percentiles)] = found
    return out


def _finest_read(engine: Any, series: list[Series], window: int, slot: int, now: int) -> list[Any]:
    """The window as buckets of the finest tier that still holds all of it (percentiles are estimated
    from bucket averages: the more buckets, the closer; evaluate.py)."""
    tiers = engine.tiers[1:]
    tier = next(
        (t for t in tiers if (t.retention_ms == 0 or t.retention_ms >= window) and window // t.ms <= 5000),
        tiers[-1],
    )
    end = slot - slot % tier.ms
    query = Query(RangeSpec(start=end - window, end=end), Interval(tier.ms // tm.SECOND, "s"))
    return engine.read_many(series, query, now=now)


def _step(
    rule: Rule,
    source: str,
    before: st.SeriesState,
    figures: dict[tuple[int, bool], dict[Series, Figures]],
    slot: int,
) -> Evaluated:
    found = figures[(rule.window_ms, rule.aggregate in PERCENTILES)].get((source, rule.selector.metric))
    return Evaluated(rule, source, before, judge(rule, found, before, slot=slot))


def _record(client: Any, evaluated: Sequence[Evaluated]) -> list[st.SeriesState | None]:
    """Record the changed states; per evaluation, the state it leaves in place (None: another run recorded
    a state first, and that run sends what it changed)."""
    changed = [e for e in evaluated if e.after is not e.before]
    by_rule: dict[str, list[Evaluated]] = {}
    for e in changed:
        by_rule.setdefault(e.rule.id, []).append(e)
    replies = store.apply(
        client, [(rid, [(e.source, e.before.slot, e.after) for e in es]) for rid, es in by_rule.items()]
    )
    kept: dict[int, bool] = {}
    for es, reply in zip(by_rule.values(), replies, strict=True):
        for e, ok in zip(es, reply, strict=True):
            kept[id(e)] = ok
    out: list[st.SeriesState | None] = []
    for e in evaluated:
        if e.after is e.before:
            out.append(e.before)  # this slot was evaluated already: its change may still be unsent
        else:
            out.append(e.after if kept[id(e)] else None)
    return out


def transition_of(rule: Rule, source: str, s: st.SeriesState) -> Transition:
    """The alert of a state's last recorded change."""
    assert s.alert is not None
    a = s.alert
    value = "no value" if a.value is None else f"{a.value:g}"
    return Transition(
        kind="rule",
        subject=f"rule:{rule.id}:{source}",
        name=f"{rule.name} on {source}",
        transition=a.transition,
        previous=a.previous,
        current="firing" if a.transition == "firing" else "resolved",
        at=a.at,
        seq=s.seq,
        cause_kind="rule",
        cause=f"{rule.expression()}: {rule.aggregate} was {value}",
        channels=rule.channels,
    )
