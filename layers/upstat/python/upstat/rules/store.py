"""What upstat keeps of alert rules in Redis: every command the rules send is here.

- the rules, one hash (rule id -> the rule as JSON; a thousand rules are about 300 kB);
- each rule's states, one hash per rule (source -> its state as JSON, upstat.rules.state), changed only by
  a compare-and-set script: a state is replaced only if it is still the one the evaluation started from
  and the new slot is later, so two runs evaluating the same slot record it once.

Every key lives under the one hash tag ``{rules}``, so each script touches one cluster slot.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from upstat.errors import NotFound
from upstat.rules import state as st
from upstat.rules.model import Rule, from_doc, to_doc
from upstat.store.keyspace import keyspace, name_id
from upstat.store.scripts import Scripts, define

SCRIPTS: dict[str, str] = {
    # KEYS: the rule's states. ARGV: triples (source, the slot the evaluation started from, the new state
    # JSON). Replies 1/0 per triple: recorded, or not (another run recorded a state since).
    "rules_apply": """
local out = {}
for i = 1, #ARGV, 3 do
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  local current = -1
  if raw then current = tonumber(cjson.decode(raw).slot) end
  local new = cjson.decode(ARGV[i + 2])
  if current == tonumber(ARGV[i + 1]) and tonumber(new.slot) > current then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
    table.insert(out, 1)
  else
    table.insert(out, 0)
  end
end
return out
""",
    # KEYS: the rule's states. ARGV: pairs (source, seq delivered). Raises a state's 'sent' to it.
    "rules_sent": """
for i = 1, #ARGV, 2 do
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  if raw then
    local s = cjson.decode(raw)
    if tonumber(s.sent) < tonumber(ARGV[i + 1]) then
      s.sent = tonumber(ARGV[i + 1])
      redis.call('HSET', KEYS[1], ARGV[i], cjson.encode(s))
    end
  end
end
return 1
""",
}

APPLY = define("rules.apply", SCRIPTS["rules_apply"])
SENT = define("rules.sent", SCRIPTS["rules_sent"])


class RuleKeys:
    """Key names, built in one place (every key under the ``{rules}`` hash tag)."""

    def __init__(self, prefix: str) -> None:
        self._base = f"{prefix}rules:{{rules}}"

    def rules(self) -> str:
        """Hash: rule id -> the rule (JSON)."""
        return f"{self._base}:all"

    def states(self, rule_id: str) -> str:
        """Hash: source -> the state of the rule on that source's series (JSON)."""
        return f"{self._base}:states:{_rule_digest(rule_id)}"


@lru_cache(maxsize=16384)
def _rule_digest(rule_id: str) -> str:
    """A rule id as a key part (ids are the store's own, but an id in a URL may be anything)."""
    return name_id("rule", rule_id)


def keys() -> RuleKeys:
    return keyspace(RuleKeys)


def new_id() -> str:
    return "r" + secrets.token_hex(6)


def save(client: Any, rule: Rule) -> Rule:
    client.hset(keys().rules(), rule.id, json.dumps(to_doc(rule), separators=(",", ":")))
    return rule


def get(client: Any, rule_id: str) -> Rule:
    """The rule ``rule_id``; NotFound (404) naming the id otherwise."""
    raw = client.hget(keys().rules(), rule_id)
    if raw is None:
        raise NotFound(f"id: no rule '{rule_id}'", field="id")
    return from_doc(json.loads(raw))


def all_rules(client: Any) -> list[Rule]:
    """Every rule, oldest first."""
    found = [from_doc(json.loads(raw)) for raw in client.hvals(keys().rules())]
    return sorted(found, key=lambda r: (r.created_at, r.id))


def delete(client: Any, rule_id: str) -> None:
    """Drop the rule and its states (NotFound if there is no such rule)."""
    k = keys()
    pipe = client.pipeline(transaction=False)
    pipe.hdel(k.rules(), rule_id)
    pipe.delete(k.states(rule_id))
    removed, _ = pipe.execute()
    if not removed:
        raise NotFound(f"id: no rule '{rule_id}'", field="id")


def clear_states(client: Any, rule_id: str) -> None:
    """Start every series' state of a rule afresh (the rule changed: its counts no longer apply), keeping
    each one's sequence number: a change numbered again would find its claim taken and not be sent."""
    found = states_of(client, rule_id)
    if found:
        fresh = {
            source: json.dumps(st.to_doc(st.SeriesState(seq=s.seq, sent=s.seq)), separators=(",", ":"))
            for source, s in found.items()
        }
        client.hset(keys().states(rule_id), mapping=fresh)


def forget_source(client: Any, rule_ids: Sequence[str], source: str) -> None:
    """Drop the states of ``source`` under each of ``rule_ids`` (the source was unregistered)."""
    pipe = client.pipeline(transaction=False)
    for rule_id in rule_ids:
        pipe.hdel(keys().states(rule_id), source)
    pipe.execute()


def prune(client: Any, selected: Sequence[tuple[str, Sequence[str]]]) -> int:
    """Drop the states of sources a rule no longer selects (a source of its kind removed from the
    registry); ``selected``: (rule id, its sources now). How many were dropped."""
    if not selected:
        return 0
    k = keys()
    pipe = client.pipeline(transaction=False)
    for rule_id, _ in selected:
        pipe.hkeys(k.states(rule_id))
    stale = []
    for (rule_id, names), found in zip(selected, pipe.execute(), strict=True):
        keep = set(names)
        fields = [f for f in map(_text, found) if f not in keep]
        if fields:
            stale.append((rule_id, fields))
    if stale:
        pipe = client.pipeline(transaction=False)
        for rule_id, fields in stale:
            pipe.hdel(k.states(rule_id), *fields)
        pipe.execute()
    return sum(len(fields) for _, fields in stale)


def states_of(client: Any, rule_id: str) -> dict[str, st.SeriesState]:
    """Each series' state of one rule (source -> state)."""
    raw = client.hgetall(keys().states(rule_id))
    return {_text(s): st.from_doc(json.loads(v)) for s, v in raw.items()}


def states_many(client: Any, rule_ids: Sequence[str], sources: Sequence[Sequence[str]]) -> list[list[Any]]:
    """For each rule, the raw states of its sources (None: never evaluated), one round trip for all."""
    k = keys()
    pipe = client.pipeline(transaction=False)
    for rule_id, names in zip(rule_ids, sources, strict=True):
        if names:
            pipe.hmget(k.states(rule_id), list(names))
        else:
            pipe.exists(k.states(rule_id))  # a placeholder reply for a rule that selects nothing
    replies = pipe.execute()
    return [
        [None if v is None else st.from_doc(json.loads(v)) for v in reply] if names else []
        for reply, names in zip(replies, sources, strict=True)
    ]


def apply(
    client: Any, updates: Sequence[tuple[str, Sequence[tuple[str, int, st.SeriesState]]]]
) -> list[list[bool]]:
    """Record new states (per rule: (source, the slot read before, new state)), each only if no other run
    recorded one since; which were recorded, per rule. One pipelined round trip."""
    k = keys()
    calls = []
    for rule_id, items in updates:
        args: list[Any] = []
        for source, before, new in items:
            args += [source, before, json.dumps(st.to_doc(new), separators=(",", ":"))]
        calls.append(([k.states(rule_id)], args))
    replies = Scripts(client).run_many(APPLY, calls)
    return [[bool(x) for x in reply] for reply in replies]


def mark_sent(client: Any, sent: Sequence[tuple[str, str, int]]) -> None:
    """Record (rule id, source, seq) as delivered."""
    by_rule: dict[str, list[Any]] = {}
    for rule_id, source, seq in sent:
        by_rule.setdefault(rule_id, []).extend([source, seq])
    Scripts(client).run_many(SENT, [([keys().states(r)], args) for r, args in by_rule.items()])


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
