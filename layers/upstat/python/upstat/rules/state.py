"""The rule state machine: from one (rule, series) state and one evaluation to the next state. Pure.

States: ``ok`` (never fired, or back to normal before it fired), ``pending`` (breaching, not yet for N
evaluations in a row), ``firing`` (breached N evaluations in a row), ``resolved`` (fired, then an
evaluation did not breach; it stays ``resolved`` until the next breach, so a reader sees that it fired).

Rules:

- a breach counts one more in a row; a non-breach resets the count to 0;
- ok/pending/resolved + breach: ``firing`` once the count reaches N (at once for N = 1), else ``pending``;
- firing + breach: still ``firing``;
- firing + no breach: ``resolved``; pending + no breach: ``ok`` (it never fired: nothing to say);
- each evaluation names its slot (the end of its window): an evaluation of a slot the state has already
  seen changes nothing, so a retried or a second concurrent run never counts twice.

Only two changes are alerted: to ``firing`` and from firing to ``resolved``. Each takes the next sequence
number of the (rule, series), which names its alert (claimed once). The state keeps the last alerted
change (``alert``) and the highest sequence delivered (``sent``), so a run that stopped between recording a
change and sending it leaves the change to the next run (the claim stops a second send).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

STATES = ("ok", "pending", "firing", "resolved")


@dataclass(frozen=True)
class Change:
    """One alerted change: ``transition`` is ``firing`` or ``resolved``."""

    transition: str
    previous: str
    at: int
    value: float | None


@dataclass(frozen=True)
class SeriesState:
    """What is kept per (rule, series) between evaluations (``slot`` -1: never evaluated)."""

    state: str = "ok"
    count: int = 0
    since: int | None = None
    slot: int = -1
    value: float | None = None
    seq: int = 0
    sent: int = 0
    alert: Change | None = None

    @property
    def unsent(self) -> bool:
        """A change was recorded and not yet delivered."""
        return self.alert is not None and self.seq > self.sent


def step(prev: SeriesState, *, breached: bool, value: float | None, for_n: int, slot: int) -> SeriesState:
    """The state after the evaluation of ``slot`` (the same state if that slot was already evaluated)."""
    if slot <= prev.slot:
        return prev
    count = prev.count + 1 if breached else 0
    if breached:
        state = "firing" if prev.state == "firing" or count >= for_n else "pending"
    else:
        state = "resolved" if prev.state in ("firing", "resolved") else "ok"
    nxt = replace(
        prev,
        state=state,
        count=count,
        slot=slot,
        value=value,
        since=slot if state != prev.state or prev.since is None else prev.since,
    )
    transition = None
    if state == "firing" and prev.state != "firing":
        transition = "firing"
    elif state == "resolved" and prev.state == "firing":
        transition = "resolved"
    if transition is None:
        return nxt
    return replace(nxt, seq=prev.seq + 1, alert=Change(transition, prev.state, slot, value))


def to_doc(s: SeriesState) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "state": s.state,
        "count": s.count,
        "since": s.since,
        "slot": s.slot,
        "value": s.value,
        "seq": s.seq,
        "sent": s.sent,
    }
    if s.alert is not None:
        a = s.alert
        doc["alert"] = {"transition": a.transition, "previous": a.previous, "at": a.at, "value": a.value}
    return doc


def from_doc(doc: dict[str, Any]) -> SeriesState:
    a = doc.get("alert")
    return SeriesState(
        state=doc["state"],
        count=int(doc["count"]),
        since=None if doc.get("since") is None else int(doc["since"]),
        slot=int(doc["slot"]),
        value=doc.get("value"),
        seq=int(doc["seq"]),
        sent=int(doc["sent"]),
        alert=Change(a["transition"], a["previous"], int(a["at"]), a.get("value")) if a else None,
    )
