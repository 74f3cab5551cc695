"""Delivering claimed alerts to channels: the channels each alert names (else the default set), one message
per alert per channel, all sent at once; the outcomes are returned to the alert path, which stores them
with the alert's claim (``upstat.uptime.alerts``) and in the list ``GET /v1/alerts`` reads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from upstat.config import Settings
from upstat.notify.flap import Decision
from upstat.notify.messages import Notice
from upstat.notify.models import Channel
from upstat.notify.send import Outgoing, outgoing, send_all
from upstat.notify.store import ChannelStore

if TYPE_CHECKING:
    pass


def status_link(settings: Settings) -> str:
    """The status page's public URL (``UPSTAT_PUBLIC_BASE_URL`` + ``/status``), "" when not set."""
    base = settings.public_base_url.strip().rstrip("/")
    return f"{base}/status" if base else ""


def notice_of(decision: Decision, settings: Settings) -> Notice:
    a = decision.alert
    return Notice(
        subject_kind=a.kind,
        subject_id=a.subject_id,
        name=a.service_name,
        url=a.url,
        transition=a.transition,
        previous=a.previous,
        current=a.current,
        at_ms=a.at_ms,
        error_kind=a.error_kind,
        error=a.error,
        cert_days=a.cert_days,
        down_for_ms=decision.down_for_ms,
        changes=decision.changes,
        since_ms=decision.since_ms,
        link=status_link(settings),
    )


def deliver(
    client: Any,
    decisions: Sequence[Decision],
    *,
    settings: Settings,
    deadline: float,
    ssl_context: Any = None,
) -> list[list[dict[str, Any]]]:
    """Each decision's channel outcomes, in order (held alerts: none; an unknown channel: an outcome)."""
    out: list[list[dict[str, Any]]] = [[] for _ in decisions]
    wanted = [d for d in decisions if d.action == "send"]
    if not wanted:
        return out
    channels, broken = ChannelStore(client, settings).for_delivery()
    if not channels and not broken and not any(d.alert.channels for d in wanted):
        return out
    defaults = [cid for cid, c in channels.items() if c.default]
    defaults += [cid for cid, (_, default) in broken.items() if default]
    items: list[Outgoing] = []
    index: list[int] = []
    for i, d in enumerate(decisions):
        if d.action != "send":
            continue
        notice = notice_of(d, settings)
        for cid in dict.fromkeys(d.alert.channels or defaults):
            channel = channels.get(cid)
            if channel is None:
                why = broken[cid][0] if cid in broken else "no such channel (deleted?)"
                out[i].append({"channel": cid, "ok": False, "attempts": 0, "error": why})
                continue
            items.append(outgoing(channel, notice, settings, d.alert.payload()))
            index.append(i)
    if items:
        for i, result in zip(index, _send(items, settings, deadline, ssl_context), strict=True):
            out[i].append(result)
    return out


def send_test(
    client: Any, channel: Channel, *, settings: Settings, ssl_context: Any = None
) -> dict[str, Any]:
    """Send a test message to ``channel`` now (no claim, nothing recorded); the receiver's answer."""
    from upstat.uptime.alerts import Alert

    now = int(time.time() * 1000)
    alert = Alert(f"test-{channel.id}", "upstat test", "", "test", None, "test", now, 0, kind="test")
    notice = notice_of(Decision("send", alert), settings)
    [result] = _send(
        [outgoing(channel, notice, settings, alert.payload())], settings, time.monotonic() + 15, ssl_context
    )
    return result


def _send(
    items: list[Outgoing], settings: Settings, deadline: float, ssl_context: Any
) -> list[dict[str, Any]]:
    from upstat.uptime.alerts import webhook_secret
    from upstat.uptime.ssrf import AddressPolicy

    secret = webhook_secret(settings) if any(i.channel.kind == "webhook" for i in items) else None
    policy = AddressPolicy.from_text(settings.allowed_targets)
    return asyncio.run(
        send_all(items, policy=policy, deadline=deadline, ssl_context=ssl_context, secret=secret)
    )
