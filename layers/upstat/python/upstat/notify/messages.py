"""What a message says, and each receiving service's payload of it. Pure: values in, values out.

A message names the subject (a service, a device, a backup job ...), the state change, its cause (the
error kind with the check's error: the status code, the keyword, the certificate's days left), the time in
the channel's time zone, a link to the status page (``UPSTAT_PUBLIC_BASE_URL`` + ``/status``), and on a
recovery how long the subject was down. Each payload keeps to its service's documented limits (Slack
Block Kit's 150-character header and 10 fields of 2,000; Discord's 256-character title, 25 fields of
1,024 and 6,000 characters in all; Telegram's 4,096; PagerDuty's 1,024-character summary; Opsgenie's
130-character message), cutting text rather than being refused.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

#: States and events that mean something is wrong, and those that mean it is fine again.
BAD = frozenset({"down", "critical", "problem", "overdue", "firing", "flapping"})
GOOD = frozenset({"up", "ok", "resolved"})
WORDS = {
    "down": "is DOWN",
    "up": "is UP again",
    "degraded": "is DEGRADED",
    "problem": "has a PROBLEM",
    "critical": "is CRITICAL",
    "ok": "is OK again",
    "cert_expiring": "certificate expires soon",
    "overdue": "backup is OVERDUE",
    "firing": "alert rule is FIRING",
    "resolved": "alert rule is RESOLVED",
    "flapping": "is FLAPPING",
    "settled": "has settled",
    "test": "test message",
}
CAUSES = {
    "status": "unexpected status code",
    "keyword": "keyword check failed",
    "timeout": "timed out",
    "connect": "connection failed",
    "dns": "DNS lookup failed",
    "tls": "TLS failed",
    "cert": "certificate",
    "missed_schedule": "missed its schedule",
}


@dataclass(frozen=True)
class Notice:
    """One message's facts: the alert's, and what the alert path adds (how long it was down, flapping)."""

    subject_kind: str
    subject_id: str
    name: str
    url: str
    transition: str
    previous: str | None
    current: str
    at_ms: int
    error_kind: str | None = None
    error: str | None = None
    cert_days: float | None = None
    down_for_ms: int | None = None
    changes: int | None = None  # flapping and settled: the state changes counted
    since_ms: int | None = None  # settled: when the flapping began
    link: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        """bad, warn or good: the colour of the message and PagerDuty's trigger or resolve."""
        state = self.current if self.transition == "settled" else self.transition
        if state in BAD:
            return "bad"
        if state in GOOD:
            return "good"
        return "warn"


def title(n: Notice) -> str:
    words = WORDS.get(n.transition, n.transition)
    if n.transition == "settled":
        words = f"has settled: {n.current}"
    return f"{n.name} {words}"


def when(at_ms: int, tz: str) -> str:
    """``2026-11-30 13:05:09 CET`` in ``tz``."""
    local = datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(ZoneInfo(tz))
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def duration(ms: int) -> str:
    """``2 h 5 min``, ``4 min 10 s``, ``12 s``: the two largest units."""
    s = max(0, ms // 1000)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (seconds, "s")]
    shown = [f"{v} {u}" for v, u in parts if v][:2]
    return " ".join(shown) or "0 s"


def cause(n: Notice) -> str | None:
    """The cause in words: ``unexpected status code: HTTP 503``, ``certificate expires in 3 days``."""
    if n.transition == "cert_expiring" and n.cert_days is not None:
        return f"certificate expires in {n.cert_days:.0f} days"
    if n.error_kind is None and not n.error:
        return None
    kind = CAUSES.get(n.error_kind or "", n.error_kind or "")
    if n.error and kind:
        return f"{kind}: {n.error}"
    return n.error or kind


def facts(n: Notice, tz: str) -> list[tuple[str, str]]:
    """(label, value) lines of the message, in order."""
    out = [("Subject", f"{n.name} ({n.subject_kind})")]
    if n.transition == "test":
        out.append(("Message", "a test from upstat: this channel receives upstat's alerts"))
    elif n.transition == "flapping":
        out.append(("State", f"changed {n.changes} times recently, now {n.current}"))
        out.append(("Note", "further changes are held back until it settles; a summary follows"))
    elif n.transition == "settled":
        since = when(n.since_ms, tz) if n.since_ms else "?"
        out.append(("State", f"changed {n.changes} times since {since}; now {n.current}"))
    else:
        out.append(("State", f"{n.previous or 'new'} → {n.current}"))
    found = cause(n)
    if found:
        out.append(("Cause", found))
    if n.down_for_ms is not None:
        out.append(("Down for", duration(n.down_for_ms)))
    out.append(("At", when(n.at_ms, tz)))
    if n.url:
        out.append(("Target", n.url))
    return out


def plain_text(n: Notice, tz: str) -> str:
    lines = [title(n), *(f"{k}: {v}" for k, v in facts(n, tz))]
    if n.link:
        lines.append(f"Status page: {n.link}")
    return "\n".join(lines)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _iso(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ----------------------------------------------------------------------------------------------------
# Payloads: one function per kind, each answering the JSON body (or text) its service documents.

_EMOJI = {"bad": ":red_circle:", "warn": ":large_yellow_circle:", "good": ":large_green_circle:"}


def slack(n: Notice, tz: str) -> dict[str, Any]:
    """An incoming-webhook message in Block Kit: a header, a section of fields, the time, a link button."""
    pairs = facts(n, tz)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title(n), 150), "emoji": True}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": _cut(f"*{k}*\n{v}", 2000)} for k, v in pairs[:10]],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{_EMOJI[n.severity]} upstat"}]},
    ]
    if n.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Status page"}, "url": n.link}
                ],
            }
        )
    return {"text": _cut(plain_text(n, tz), 3000), "blocks": blocks}


_COLOURS = {"bad": 0xD93025, "warn": 0xF9AB00, "good": 0x1E8E3E}


def discord(n: Notice, tz: str) -> dict[str, Any]:
    """A webhook message with one embed (title, colour, fields, timestamp, link), within Discord's limits."""
    embed: dict[str, Any] = {
        "title": _cut(title(n), 256),
        "color": _COLOURS[n.severity],
        "timestamp": _iso(n.at_ms),
        "fields": [
            {"name": _cut(k, 256), "value": _cut(v, 1024), "inline": k in ("State", "At")}
            for k, v in facts(n, tz)[:25]
        ],
        "footer": {"text": "upstat"},
    }
    if n.link:
        embed["url"] = n.link
    return {"username": "upstat", "embeds": [embed], "allowed_mentions": {"parse": []}}


def teams(n: Notice, tz: str) -> dict[str, Any]:
    """A Workflows webhook message: the Adaptive Card envelope (``type: message`` with one attachment)."""
    colour = {"bad": "Attention", "warn": "Warning", "good": "Good"}[n.severity]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": title(n),
                "weight": "Bolder",
                "size": "Medium",
                "color": colour,
                "wrap": True,
            },
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in facts(n, tz)]},
        ],
    }
    if n.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Status page", "url": n.link}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def telegram(n: Notice, tz: str, chat_id: str) -> dict[str, Any]:
    """sendMessage's parameters: HTML text (escaped) of at most 4,096 characters."""
    lines = [f"<b>{html.escape(title(n))}</b>"]
    lines += [f"<b>{html.escape(k)}:</b> {html.escape(v)}" for k, v in facts(n, tz)]
    if n.link:
        lines.append(f'<a href="{html.escape(n.link, quote=True)}">Status page</a>')
    text = "\n".join(lines)
    if len(text) > 4096:  # cutting HTML could break a tag: the plain text then
        text = _cut(html.escape(plain_text(n, tz)), 4096)
    return {
        "chat_id": chat_id,
        "text": text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }


def _header_text(text: str) -> str:
    """A header value: ASCII as is, anything else as RFC 2047 (which ntfy decodes)."""
    if text.isascii():
        return text
    return "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="


def ntfy(n: Notice, tz: str, priority: int, token: str | None) -> tuple[dict[str, str], bytes]:
    """(headers, body) of a publish: the text as the body, title, priority, tags and click as headers."""
    tags = {"bad": "rotating_light", "warn": "warning", "good": "white_check_mark"}[n.severity]
    headers = {
        "Title": _header_text(_cut(title(n), 250)),
        "Priority": str(priority if n.severity == "bad" else min(priority, 3)),
        "Tags": tags,
        "Content-Type": "text/plain; charset=utf-8",
    }
    if n.link:
        headers["Click"] = n.link
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = "\n".join(f"{k}: {v}" for k, v in facts(n, tz))
    return headers, body.encode()


def dedup_key(n: Notice) -> str:
    """One PagerDuty incident (one Opsgenie alert) per subject, and one for its certificate."""
    suffix = "-cert" if n.transition == "cert_expiring" else ""
    if n.transition == "test":
        return f"upstat-test-{n.subject_id}"
    return f"upstat-{n.subject_kind}-{n.subject_id}{suffix}"[:255]


def pagerduty(n: Notice, tz: str, routing_key: str, severity: str) -> dict[str, Any]:
    """An Events API v2 event: trigger while wrong, resolve when fine again, one dedup key per subject."""
    if n.severity == "good":
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key(n)}
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(n),
        "payload": {
            "summary": _cut(title(n) + (f": {cause(n)}" if cause(n) else ""), 1024),
            "source": _cut(n.url or n.name, 255),
            "severity": severity if n.severity == "bad" else "warning",
            "timestamp": _iso(n.at_ms),
            "component": _cut(n.name, 255),
            "class": n.transition,
            "group": n.subject_kind,
            "custom_details": dict(facts(n, tz)),
        },
        "client": "upstat",
    }
    if n.link:
        event["client_url"] = n.link
        event["links"] = [{"href": n.link, "text": "Status page"}]
    return event


def opsgenie(n: Notice, tz: str, priority: str) -> tuple[str, dict[str, Any]]:
    """(path, body): create an alert while wrong (``/v2/alerts``), close it by alias when fine again."""
    alias = dedup_key(n)
    if n.severity == "good":
        note = plain_text(n, tz)
        return f"/v2/alerts/{quote(alias, safe='')}/close?identifierType=alias", {
            "source": "upstat",
            "user": "upstat",
            "note": _cut(note, 25000),
        }
    return "/v2/alerts", {
        "message": _cut(title(n), 130),
        "alias": alias,
        "description": _cut(plain_text(n, tz), 15000),
        "priority": priority if n.severity == "bad" else "P3",
        "source": "upstat",
        "tags": ["upstat", n.subject_kind, n.transition],
        "details": {_cut(k, 100): _cut(v, 500) for k, v in facts(n, tz)},
        "entity": _cut(n.name, 512),
    }


def email(n: Notice, tz: str) -> tuple[str, str]:
    """(subject, text body)."""
    return _cut("[upstat] " + title(n), 200), plain_text(n, tz) + "\n\n-- upstat\n"


def body(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
