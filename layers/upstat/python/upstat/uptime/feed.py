"""The status page as a feed (RSS 2.0 and Atom 1.0): incidents opened and resolved, and maintenance windows,
of the services the page shows, for readers who want to follow it without an account.

Entries are ``events.Event`` values (the same ones subscribers' webhooks get), newest first: incidents that
started in the last ``FEED_DAYS`` days (and open ones, whatever their age), each giving an entry when it
opened and another when it was resolved; maintenance windows in force or to come (a recurring one by its
current or next occurrence) and one-off windows that ended in those days, dated at their start. XML is built
with ElementTree, so every text is escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from upstat.timeseries import timemath as tm
from upstat.uptime import events, maintenance, reports, status_page
from upstat.uptime.events import Event

FEED_DAYS = 30
MAX_ENTRIES = 100
ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True, slots=True)
class Channel:
    """What the feed says of itself: its title, the status page's address and its own."""

    title: str
    page_url: str
    self_url: str


def entries(client: Any, *, now: int) -> list[Event]:
    """The feed's entries, newest first (at most ``MAX_ENTRIES``)."""
    rows = reports.status_rows(client, visible_only=True, now=now)
    names = {r.id: r.name for r in rows}
    since = now - FEED_DAYS * tm.DAY
    found = status_page.incidents_of(client, rows, since=since)
    out = events.of_incidents(found, names)
    windows = maintenance.windows_for(client, list(names)) if names else {}
    out += events.shown_windows(events.unique_windows(windows), names, now=now, since=since)
    out.sort(key=lambda e: (-e.at_ms, e.key))
    return out[:MAX_ENTRIES]


def _updated(found: Sequence[Event], now: int) -> int:
    """The feed's last change: its newest entry not in the future (an announced window is), else 0."""
    past = [e.at_ms for e in found if e.at_ms <= now]
    return max(past) if past else 0


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _rfc822(ms: int) -> str:
    return format_datetime(datetime.fromtimestamp(ms / 1000, UTC), usegmt=True)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, tag, attrs)
    if text is not None:
        node.text = text
    return node


def rss(found: Sequence[Event], channel: Channel, *, now: int) -> bytes:
    """RSS 2.0, with an ``atom:link rel="self"`` as feed validators ask."""
    ET.register_namespace("atom", ATOM)
    root = ET.Element("rss", {"version": "2.0"})
    ch = _sub(root, "channel")
    _sub(ch, "title", channel.title)
    _sub(ch, "link", channel.page_url)
    _sub(ch, "description", f"Incidents and maintenance of {channel.title}")
    _sub(ch, "lastBuildDate", _rfc822(_updated(found, now)))
    _sub(ch, f"{{{ATOM}}}link", href=channel.self_url, rel="self", type="application/rss+xml")
    for e in found:
        item = _sub(ch, "item")
        _sub(item, "title", e.title)
        _sub(item, "link", channel.page_url)
        _sub(item, "guid", e.key, isPermaLink="false")
        _sub(item, "pubDate", _rfc822(e.at_ms))
        _sub(item, "description", e.text())
        _sub(item, "category", e.kind)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def atom(found: Sequence[Event], channel: Channel, *, now: int) -> bytes:
    """Atom 1.0 (RFC 4287)."""
    ET.register_namespace("", ATOM)

    def tag(name: str) -> str:
        return f"{{{ATOM}}}{name}"

    root = ET.Element(tag("feed"))
    _sub(root, tag("title"), channel.title)
    _sub(root, tag("id"), channel.self_url)
    _sub(root, tag("updated"), _iso(_updated(found, now)))
    _sub(root, tag("link"), href=channel.page_url, rel="alternate")
    _sub(root, tag("link"), href=channel.self_url, rel="self")
    author = _sub(root, tag("author"))
    _sub(author, tag("name"), channel.title)
    for e in found:
        entry = _sub(root, tag("entry"))
        _sub(entry, tag("title"), e.title)
        _sub(entry, tag("id"), f"urn:upstat:{e.key}")
        _sub(entry, tag("updated"), _iso(e.at_ms))
        _sub(entry, tag("link"), href=channel.page_url)
        _sub(entry, tag("summary"), e.text())
        _sub(entry, tag("category"), term=e.kind)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
