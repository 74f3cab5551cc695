"""Status-page webhook subscribers: URLs an admin registers (``/v1/subscribers``) that receive the page's
events (``events.EVENT_KINDS``: incident opened or resolved, maintenance scheduled, started or ended) as
signed JSON POSTs, once each.

Delivery follows the alert path's rules: each (subscriber, event) is claimed with ``SET NX`` before it is
sent, so overlapping or retried runs send it once; the POST is signed like alert webhooks
(``X-Upstat-Signature``), retried with backoff, through the SSRF guard; the outcome is stored on the claim
and in the subscriber's delivery list, never raised. Events concern the services the status page shows
(``visible``) only, as the page does.

Where events come from: incidents from the transitions the recorder returns (:func:`notify_recorded`, called
with the alerts of every tick, worker batch and push beat); a window's scheduling when it is added
(:func:`notify_window_added`); its start and end from a sweep each minute that looks back a few minutes
(:func:`sweep_windows`, the ping job's follow-up ``subscriber-events``).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from upstat.config import Settings, get_settings
from upstat.errors import InvalidInput, NotFound
from upstat.store.keyspace import keyspace
from upstat.uptime import events, incidents, maintenance
from upstat.uptime.events import EVENT_KINDS, Event
from upstat.uptime.keyspace import UptimeKeys
from upstat.uptime.maintenance import Window
from upstat.uptime.models import MASK, WEBHOOK_PATTERN, check_url, mask_webhook
from upstat.uptime.recorder import Recorded
from upstat.wire import StrictStr, Text, pattern

#: Claims (with their outcomes) are kept far beyond any overlap of runs, and beyond the sweep's look-back.
CLAIM_TTL_S = 30 * 86400
#: Delivery outcomes kept per subscriber.
DELIVERIES_KEPT = 50
#: How far back the window sweep looks: a few missed runs of a once-a-minute job still find their events.
SWEEP_LOOKBACK_MS = 10 * 60_000
MAX_SUBSCRIBERS = 100

_CONFIG = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel)
EventKind = Literal[EVENT_KINDS]  # type: ignore[valid-type]
WebhookUrl = Annotated[StrictStr, Field(max_length=2048), pattern(WEBHOOK_PATTERN)]


def _url(value: str) -> str:
    try:
        return check_url(value, "http", what="url")
    except ValueError as exc:
        raise ValueError(str(exc)) from None


class SubscriberIn(BaseModel):
    """A subscriber as an admin sends it: the URL and, optionally, the events it wants (default: all)."""

    model_config = _CONFIG

    url: WebhookUrl = Field(description="http(s) URL the events are POSTed to (signed like alert webhooks)")
    events: list[EventKind] = Field(default_factory=lambda: list(EVENT_KINDS), min_length=1)
    description: Text = Field("", max_length=200)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _url(value)


class SubscriberUpdate(BaseModel):
    """Fields to change; ``url`` sent back as shown (``https://host/********``) keeps the stored one."""

    model_config = _CONFIG

    url: WebhookUrl | None = None
    events: list[EventKind] | None = Field(None, min_length=1)
    description: Text | None = Field(None, max_length=200)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return value if value is None or MASK in value else _url(value)


class Subscriber(SubscriberIn):
    id: Annotated[str, Field(strict=True)]
    created_at: int

    def public(self, *, reveal: bool = False) -> dict[str, Any]:
        """Wire form; the URL's path and query (the receiver's token) hidden unless ``reveal``."""
        data = self.model_dump(by_alias=True, mode="json")
        if not reveal:
            data["url"] = mask_webhook(self.url)
        return data


# ----------------------------------------------------------------------------------------------------
# Store


def _keys() -> UptimeKeys:
    return keyspace(UptimeKeys)


def _refuse_blocked(url: str) -> None:
    from upstat.uptime.ssrf import AddressPolicy, refused_target  # loads aiohttp: only when they change

    reason = refused_target(url, AddressPolicy.from_text(get_settings().allowed_targets))
    if reason is not None:
        raise InvalidInput(
            f"url: target refused: {reason}; events are never sent there (UPSTAT_ALLOWED_TARGETS lists "
            "networks to allow)",
            field="url",
        )


def create(client: Any, data: SubscriberIn, *, now_ms: int) -> Subscriber:
    """Store a new subscriber (at most ``MAX_SUBSCRIBERS``)."""
    _refuse_blocked(data.url)
    if client.hlen(_keys().subscribers()) >= MAX_SUBSCRIBERS:
        raise InvalidInput(f"url: at most {MAX_SUBSCRIBERS} subscribers", field="url")
    sub = Subscriber(**data.model_dump(), id=secrets.token_hex(6), created_at=now_ms)
    client.hset(_keys().subscribers(), sub.id, sub.model_dump_json())
    return sub


def list_all(client: Any) -> list[Subscriber]:
    """Every subscriber, oldest first."""
    found = [Subscriber.model_validate_json(x) for x in client.hvals(_keys().subscribers())]
    return sorted(found, key=lambda s: (s.created_at, s.id))


def require(client: Any, subscriber_id: str) -> Subscriber:
    raw = client.hget(_keys().subscribers(), subscriber_id)
    if raw is None:
        raise NotFound(f"subscriber_id: no subscriber {subscriber_id!r}", field="subscriber_id")
    return Subscriber.model_validate_json(raw)


def update(client: Any, subscriber_id: str, changes: SubscriberUpdate) -> Subscriber:
    current = require(client, subscriber_id)
    given = changes.model_dump(exclude_unset=True, exclude_none=True)
    url = given.get("url")
    if url is not None and MASK in url:
        if url != mask_webhook(current.url):
            raise InvalidInput(
                "url: '********' stands for the stored URL's hidden part, and this is not its hidden form; "
                "send the full URL",
                field="url",
            )
        given.pop("url")  # the hidden form sent back: keep the stored URL
    elif url is not None:
        _refuse_blocked(url)
    try:
        after = Subscriber.model_validate({**current.model_dump(), **given})
    except ValueError as exc:
        raise InvalidInput(f"url: {exc}", field="url") from None
    client.hset(_keys().subscribers(), after.id, after.model_dump_json())
    return after


def delete(client: Any, subscriber_id: str) -> bool:
    keys = _keys()
    pipe = client.pipeline(transaction=False)
    pipe.hdel(keys.subscribers(), subscriber_id)
    pipe.delete(keys.subscriber_deliveries(subscriber_id))
    return bool(pipe.execute()[0])


def deliveries(client: Any, subscriber_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The subscriber's latest delivery outcomes, newest first."""
    raw = client.lrange(_keys().subscriber_deliveries(subscriber_id), 0, max(0, limit - 1))
    return [json.loads(x) for x in raw]


# ----------------------------------------------------------------------------------------------------
# Delivery


def notify(
    client: Any,
    found: Sequence[Event],
    *,
    settings: Settings | None = None,
    deadline: float | None = None,
    ssl_context: Any = None,
) -> list[dict[str, Any]]:
    """Claim and send each event to each subscriber that wants it; returns the outcomes of what this call
    sent (claimed elsewhere: nothing)."""
    if not found:
        return []
    subs = list_all(client)
    pairs = [(s, e) for s in subs for e in found if e.kind in s.events]
    if not pairs:
        return []
    from upstat.uptime.alerts import post_signed  # aiohttp: only when there is something to send

    settings = settings or get_settings()
    keys = _keys()
    pipe = client.pipeline(transaction=False)
    for s, e in pairs:
        pipe.set(keys.subscriber_claim(s.id, e.key), "sending", nx=True, ex=CLAIM_TTL_S)
    mine = [pair for pair, won in zip(pairs, pipe.execute(), strict=True) if won]
    if not mine:
        return []
    deadline = deadline if deadline is not None else time.monotonic() + 20.0
    targets = [(s.url, e.payload()) for s, e in mine]
    outcomes = post_signed(targets, settings=settings, deadline=deadline, ssl_context=ssl_context)
    pipe = client.pipeline(transaction=False)
    for (s, e), outcome in zip(mine, outcomes, strict=True):
        outcome.pop("url", None)  # the receiver's token is in it: outcomes are shown to admins masked
        text = json.dumps({"event": e.kind, "id": e.key, **outcome}, separators=(",", ":"))
        pipe.set(keys.subscriber_claim(s.id, e.key), text, xx=True, keepttl=True)
        pipe.lpush(keys.subscriber_deliveries(s.id), text)
        pipe.ltrim(keys.subscriber_deliveries(s.id), 0, DELIVERIES_KEPT - 1)
    pipe.execute()
    return outcomes


def events_of_recorded(client: Any, recorded: Sequence[Recorded]) -> list[Event]:
    """The incidents these recorded transitions opened or resolved, of visible services."""
    out = []
    for rec in recorded:
        if not rec.service.visible:
            continue
        for t in rec.transitions:
            iid = rec.state.incident_id
            if t.kind == "down" and iid is not None:
                s = rec.state
                start = s.incident_start_ms or t.at_ms
                opened = incidents.Incident(iid, rec.service.id, start, s.incident_cause, s.incident_kind)
                out.append(events.incident_opened(opened, rec.service.name))
            elif t.previous == "down" and t.current != "down":
                closed = incidents.for_service(client, rec.service.id, limit=1)
                if closed and closed[0].end is not None:
                    out.append(events.incident_resolved(closed[0], rec.service.name))
    return out


def notify_recorded(
    client: Any, recorded: Sequence[Recorded], *, settings: Settings, deadline: float
) -> None:
    """Send the incident events of these recorded results, if anyone subscribed."""
    if client.hlen(_keys().subscribers()):
        notify(client, events_of_recorded(client, recorded), settings=settings, deadline=deadline)


def _visible_names(client: Any) -> dict[str, str]:
    """Name of each service the status page shows, by id."""
    from upstat.uptime import reports

    return {r.id: r.name for r in reports.status_rows(client, visible_only=True)}


def notify_window_added(client: Any, window: Window, *, now: int) -> list[dict[str, Any]]:
    """``maintenance.scheduled`` of a window just added (of a visible service, or global)."""
    if not client.hlen(_keys().subscribers()):
        return []
    occ = maintenance.occurrence(window, now)
    if occ is None:
        return []
    names = _visible_names(client)
    if window.service_id is not None and window.service_id not in names:
        return []  # a hidden service's window: not on the page
    return notify(client, [events.window_event("maintenance.scheduled", window, occ, names)])


def sweep_windows(client: Any, *, now: int, deadline: float | None = None) -> dict[str, int]:
    """``maintenance.started`` and ``maintenance.ended`` of the occurrences that began or ended in the last
    ``SWEEP_LOOKBACK_MS`` (each sent once, however many sweeps see it)."""
    if not client.hlen(_keys().subscribers()):
        return {"events": 0, "sent": 0}
    names = _visible_names(client)
    if names:  # each visible service's windows and the global ones
        windows = events.unique_windows(maintenance.windows_for(client, list(names)))
    else:
        windows = maintenance.list_windows(client)
    found = events.window_changes(windows, names, now=now, since=now - SWEEP_LOOKBACK_MS)
    sent = notify(client, found, deadline=deadline)
    return {"events": len(found), "sent": len(sent)}
