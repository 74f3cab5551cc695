"""Badges of a service: its status, uptime over a window, or a response-time percentile, as a flat SVG
badge (the shields.io "flat" look) or as the JSON of shields.io's endpoint badge
(https://shields.io/badges/endpoint-badge), for READMEs and wikis.

What a badge says (:func:`facts`) and how it is drawn (:func:`svg`, :func:`shields`) are separate: the first
reads the store, the others are pure. Text widths come from a table of Verdana 11 px advance widths (the
font the badge names first), so no font file is read and the badge is the same on every machine; a
character outside the table counts as wide as ``M``, so a badge never clips its text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from upstat.timeseries import timemath as tm
from upstat.timeseries.engine import Engine
from upstat.timeseries.model import Query
from upstat.uptime import reports
from upstat.uptime.reports import StatusRow

#: Every badge a service has: its status, uptime over each window of the status routes, and the p50 or
#: p95 response time over the last 24 hours.
BADGES = (
    "status",
    *(f"uptime-{w}" for w in reports.UPTIME_WINDOWS),
    "response-p50",
    "response-p95",
)
#: shields.io's named colours, as drawn.
COLORS = {
    "brightgreen": "#4c1",
    "green": "#97ca00",
    "yellowgreen": "#a4a61d",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "blue": "#007ec6",
    "lightgrey": "#9f9f9f",
}
STATUS_COLORS = {
    "up": "brightgreen",
    "degraded": "yellow",
    "down": "red",
    "maintenance": "blue",
    "paused": "lightgrey",
    "pending": "lightgrey",
}
#: (lowest uptime %, colour), first match wins: 99.9 % is three nines, the usual promise.
UPTIME_COLORS = ((99.9, "brightgreen"), (99.0, "green"), (97.0, "yellowgreen"), (95.0, "yellow"))
#: (highest ms, colour), first match wins.
RESPONSE_COLORS = ((200, "brightgreen"), (500, "green"), (1000, "yellow"), (2000, "orange"))
NO_DATA = "no data"

# Advance widths of Verdana's printable ASCII characters (space to ~) in font units of a 2048 em; at
# 11 px a width is units * 11 / 2048.
_UNITS = (
    [720, 825, 1032, 1778, 1425, 2427, 1630, 551, 1018, 1018, 1425, 1778, 712, 1018, 712, 1018]
    + [1425] * 10
    + [1018, 1018, 1778, 1778, 1778, 1221, 2180]
    + [1401, 1405, 1430, 1577, 1294, 1178, 1589, 1540, 866, 1020, 1424, 1147, 1727]
    + [1532, 1615, 1248, 1615, 1423, 1393, 1250, 1500, 1401, 2053, 1400, 1249, 1400]
    + [1018, 1018, 1018, 1778, 1425, 1425]
    + [1237, 1273, 1087, 1273, 1219, 720, 1273, 1293, 561, 697, 1195, 561, 1985]
    + [1293, 1227, 1273, 1273, 874, 1056, 807, 1293, 1195, 1685, 1195, 1195, 1068]
    + [1293, 1018, 1293, 1778]
)
WIDTHS = {chr(32 + i): units * 11 / 2048 for i, units in enumerate(_UNITS)}
WIDE = WIDTHS["M"]
#: Text length limits: a badge is one short line.
MAX_TEXT = 100


def text_width(text: str) -> float:
    """The width in px of ``text`` in Verdana 11 px."""
    return sum(WIDTHS.get(c, WIDE) for c in text)


@dataclass(frozen=True, slots=True)
class Badge:
    """What a badge says: its left text, right text and the name of its colour (a key of ``COLORS``)."""

    label: str
    message: str
    color: str


def status_badge(row: StatusRow) -> Badge:
    return Badge(row.name, row.status, STATUS_COLORS.get(row.status, "lightgrey"))


def uptime_badge(window: str, percent: float | None) -> Badge:
    label = f"uptime {window}"
    if percent is None:
        return Badge(label, NO_DATA, "lightgrey")
    color = next((c for low, c in UPTIME_COLORS if percent >= low), "red")
    text = "100%" if percent >= 100 else f"{percent:.2f}%"
    return Badge(label, text, color)


def response_badge(which: str, ms: float | None) -> Badge:
    label = f"{which} 24h"
    if ms is None:
        return Badge(label, NO_DATA, "lightgrey")
    color = next((c for high, c in RESPONSE_COLORS if ms <= high), "red")
    return Badge(label, f"{round(ms)} ms", color)


def facts(engine: Engine, row: StatusRow, badge: str, *, now: int) -> Badge:
    """What the badge ``badge`` (one of ``BADGES``) of the service ``row`` says at ``now``."""
    if badge == "status":
        return status_badge(row)
    if badge.startswith("uptime-"):
        window = badge.removeprefix("uptime-")
        found = reports.uptime_windows(engine, [row.id], now=now, windows=(window,))
        return uptime_badge(window, found[row.id][window])
    which = badge.removeprefix("response-")
    query = Query(tm.RangeSpec(last_ms=tm.DAY, label="24h"), "auto")
    stats = reports.response_times(engine, row.id, query, now=now)
    return response_badge(which, stats.p50 if which == "p50" else stats.p95)


def with_label(badge: Badge, label: str | None) -> Badge:
    """The badge with its left text replaced (``?label=``)."""
    return badge if label is None else Badge(label, badge.message, badge.color)


def shields(badge: Badge, *, cache_seconds: int) -> dict[str, Any]:
    """The shields.io endpoint document (schemaVersion 1) of the badge."""
    return {
        "schemaVersion": 1,
        "label": badge.label,
        "message": badge.message,
        "color": badge.color,
        "cacheSeconds": cache_seconds,
    }


def svg(badge: Badge) -> str:
    """The badge as a flat SVG: grey label on the left, the message on its colour on the right.

    Texts are drawn at ten times their size scaled by 0.1 (as shields.io does) so their positions keep a
    tenth of a pixel; ``textLength`` pins each text to its computed width, whatever font the viewer has.
    The gradient's and the clip's ids are the badge's own (a digest of what it says), so badges inlined
    side by side in one HTML page do not clip each other.
    """
    label_w = round(text_width(badge.label) + 10)
    message_w = round(text_width(badge.message) + 10)
    width = label_w + message_w
    color = COLORS.get(badge.color, COLORS["lightgrey"])
    title = escape(f"{badge.label}: {badge.message}")
    aria = escape(f"{badge.label}: {badge.message}", {'"': "&quot;"})
    own = hashlib.blake2b(f"{badge.label}\0{badge.message}\0{color}".encode(), digest_size=4).hexdigest()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{aria}"><title>{title}</title>'
        f'<linearGradient id="s{own}" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r{own}"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r{own})"><rect width="{label_w}" height="20" fill="#555"/>'
        f'<rect x="{label_w}" width="{message_w}" height="20" fill="{color}"/>'
        f'<rect width="{width}" height="20" fill="url(#s{own})"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        'text-rendering="geometricPrecision" font-size="110">'
        + _text(badge.label, 0, label_w)
        + _text(badge.message, label_w, message_w)
        + "</g></svg>"
    )


def _text(text: str, left: int, width: int) -> str:
    """A text centred in its part of the badge, over its shadow."""
    x = (left * 2 + width) * 5  # the centre, in tenths of a pixel
    length = round((width - 10) * 10)
    body = escape(text)
    return (
        f'<text aria-hidden="true" x="{x}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" '
        f'textLength="{length}">{body}</text>'
        f'<text x="{x}" y="140" transform="scale(.1)" fill="#fff" textLength="{length}">{body}</text>'
    )
