"""Flow records as collectors write them, read into flows, bytes and packets per exporter and per second.
Pure: no HTTP, no Redis.

- goflow2's JSON output (``-format=json``): one object a line (NDJSON), or a JSON array of them. The exporter
  is ``sampler_address``; the time ``time_flow_start_ns`` (``time_received_ns`` when the start is 0);
  ``bytes`` and ``packets`` are multiplied by ``sampling_rate`` when it is above 1 (goflow2 does not).
- nfdump's CSV output (``nfdump -r FILE -o csv``): the fixed layout of nfdump 1.6 to 1.7.4 (exporter in
  column ``ra``, input and output bytes and packets, one flow a row) and the layout of 1.7.5 and later (no
  exporter column: the caller names it), times in the local time of the machine that ran nfdump.

Every record is checked before anything is counted: the first bad one is refused naming its line (or its
index in a JSON array) and the field, in the words of the format.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from upstat.errors import InvalidInput
from upstat.timeseries import timemath as tm

METRICS = ("flows", "bytes", "packets")
#: Records in one request (a 10,000-record batch is the common size; the body limit bounds it first).
MAX_RECORDS = 100_000
UINT64 = 2**64 - 1
UINT32 = 2**32 - 1
EXACT = 2**53
#: Epoch nanoseconds from here on (1973); below, a time is in seconds, milliseconds or microseconds.
NS_LOOKALIKE = 10**17

# ---------------------------------------------------------------------------------------------------------
# nfdump's CSV: the two predefined layouts, each a header line and rows of its fields, then optionally the
# summary nfdump prints unless -q. CSV_PATTERN (the body's pattern in the OpenAPI document) is built from
# the same pieces the reader checks each line with, so the two cannot disagree.

#: The header lines nfdump prints: the fixed layout of 1.6 to 1.7.4, and the default layout of 1.7.5 on.
OLD_HEADER = (
    "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,"
    "dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,"
    "exid,tr"
)
NEW_HEADER = "firstSeen,duration,proto,srcAddr,srcPort,dstAddr,dstPort,packets,bytes,flows"
_DATETIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3})?"
_COUNT = r"[0-9]{1,20}"
_ADDRESS = r"[0-9A-Fa-f.:]{2,45}"
_ANY = r"[^,\r\n]*"
_FIELDS = {
    "ts": _DATETIME,
    "firstSeen": _DATETIME,
    "ipkt": _COUNT,
    "ibyt": _COUNT,
    "opkt": _COUNT,
    "obyt": _COUNT,
    "packets": _COUNT,
    "bytes": _COUNT,
    "flows": _COUNT,
    "ra": _ADDRESS,
}
SUMMARY = "Summary"
SUMMARY_HEADER = "flows,bytes,packets,avg_bps,avg_pps,avg_bpp"
_SUMMARY_ROW = r"[0-9]+(?:,[0-9]+){5}"


def _row(columns: list[str], *, capture: bool = True) -> str:
    group = "({})" if capture else "(?:{})"
    return ",".join(group.format(_FIELDS.get(c, _ANY)) for c in columns)


_LAYOUTS = {h: re.compile(_row(h.split(","))) for h in (OLD_HEADER, NEW_HEADER)}
_SUMMARY_ROW_RE = re.compile(_SUMMARY_ROW)
_NL = r"\r?\n"
#: The whole body as the reader accepts it (for the OpenAPI document): a header, its rows, optionally the
#: summary, line ends (LF or CRLF) between them and optionally after the last.
CSV_PATTERN = (
    "^(?:"
    + "|".join(f"{h}(?:{_NL}{_row(h.split(','), capture=False)})*" for h in _LAYOUTS)
    + f")(?:{_NL}{SUMMARY}{_NL}{SUMMARY_HEADER}{_NL}{_SUMMARY_ROW})?(?:{_NL})*$"
)


@dataclass
class Flows:
    """What a batch holds: per exporter, per second (epoch ms), [flows, bytes, packets]; and its records."""

    counts: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    records: int = 0

    def add(self, exporter: str, second: int, flows: int, nbytes: int, packets: int) -> None:
        if self.records >= MAX_RECORDS:
            raise InvalidInput(f"body: at most {MAX_RECORDS} records in one request", field="body")
        row = self.counts.setdefault(exporter, {}).get(second)
        if row is None:
            self.counts[exporter][second] = [flows, nbytes, packets]
        else:
            row[0] += flows
            row[1] += nbytes
            row[2] += packets
        self.records += 1

    def as_counts(self) -> dict[str, dict[int, dict[str, int]]]:
        """Per exporter, per second, metric -> count (the tally's input)."""
        return {
            exporter: {s: dict(zip(METRICS, row, strict=True)) for s, row in sorted(seconds.items())}
            for exporter, seconds in self.counts.items()
        }


def _fail(where: str, message: str) -> InvalidInput:
    return InvalidInput(f"{where}: {message}", field=where.split(": ")[0])


def exporter_address(value: Any, where: str) -> str:
    """An exporter's address as text: IPv4 dotted, IPv6 compressed, IPv4-mapped IPv6 unmapped (as goflow2
    writes it), so one exporter is one device whichever way it was written."""
    known = _ADDRESSES.get(value) if isinstance(value, str) else None
    if known is not None:
        return known  # a batch names a few exporters thousands of times: each text is read once
    address = _address(value, where)
    if len(_ADDRESSES) >= 10_000:
        _ADDRESSES.clear()
    _ADDRESSES[value] = address
    return address


_ADDRESSES: dict[str, str] = {}


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, f"must be an IP address as text, got {_shown(value)}")
    try:
        if "%" in value:
            raise ValueError(value)
        ip = ipaddress.ip_address(value)
    except ValueError:
        raise _fail(where, f"{_shown(value)} is not an IP address") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _shown(value: Any, limit: int = 40) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_bounds(ms: int, where: str, *, now: int, lowest: int | None) -> int:
    """A record's time within what the engine accepts: the raw tier's retention back, 5 minutes ahead."""
    if ms > now + tm.MAX_FUTURE_MS:
        raise _fail(
            where, f"{_iso(ms)} is more than 5 minutes in the future (records may be at most 5 minutes ahead)"
        )
    if lowest is not None and ms < lowest:
        age = (now - lowest) / tm.HOUR
        raise _fail(
            where,
            f"{_iso(ms)} is older than the raw tier's retention ({age:g}h): records reach back as far as "
            "retention.raw",
        )
    return ms


def _iso(ms: int) -> str:
    try:
        return datetime.fromtimestamp(ms / 1000, tm.zone("UTC")).isoformat()
    except (OverflowError, OSError, ValueError):
        return str(ms)


# ---------------------------------------------------------------------------------------------------------
# goflow2


def _uint(record: dict[str, Any], name: str, where: str, *, required: bool = False, top: int = UINT64) -> int:
    value = record.get(name)
    if value is None:
        if required:
            raise _fail(f"{where}: {name}", "is required")
        return 0
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)  # 1500.0: JSON's integers include whole numbers written with a fraction
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise _fail(f"{where}: {name}", f"must be an integer from 0 to {top}, got {_shown(value)}")
    return value


def _exact(value: int, where: str, name: str) -> int:
    """A count the engine stores exactly (a double holds integers up to 2^53)."""
    if value > EXACT:
        raise _fail(
            f"{where}: {name}", f"{value} is too large to store exactly (limit 2^53, sampling included)"
        )
    return value


def _ns_time(record: dict[str, Any], where: str, now: int, lowest: int | None) -> int:
    """The record's time in epoch ms: its flow's start, or when the collector received it."""
    start = _uint(record, "time_flow_start_ns", where)
    received = _uint(record, "time_received_ns", where)
    name = "time_flow_start_ns" if start else "time_received_ns"
    ns = start or received
    if not ns:
        raise _fail(where, "has no time: time_flow_start_ns and time_received_ns are both 0 or missing")
    if ns < NS_LOOKALIKE:
        raise _fail(
            f"{where}: {name}",
            f"{ns} is not epoch nanoseconds (goflow2 writes nanoseconds, e.g. 1741615440000000000)",
        )
    return check_bounds(ns // 1_000_000, f"{where}: {name}", now=now, lowest=lowest)


def goflow2_record(flows: Flows, record: Any, where: str, *, now: int, lowest: int | None) -> None:
    """Count one goflow2 record (``where`` names it in errors: ``line 3``, ``records[2]``)."""
    fast = _fast(record, now, lowest)
    if fast is not None:
        flows.add(*fast)
        return
    if not isinstance(record, dict):
        raise _fail(where, f"a flow record is a JSON object, got {_shown(record)}")
    if record.get("sampler_address") is None:
        raise _fail(f"{where}: sampler_address", "is required (the exporter's address)")
    exporter = exporter_address(record["sampler_address"], f"{where}: sampler_address")
    nbytes = _uint(record, "bytes", where, required=True)
    packets = _uint(record, "packets", where, required=True)
    rate = _uint(record, "sampling_rate", where, top=UINT32)
    ms = _ns_time(record, where, now, lowest)
    if rate > 1:
        nbytes, packets = nbytes * rate, packets * rate
    flows.add(
        exporter, ms - ms % tm.SECOND, 1, _exact(nbytes, where, "bytes"), _exact(packets, where, "packets")
    )


def _fast(record: Any, now: int, lowest: int | None) -> tuple[str, int, int, int, int] | None:
    """What a well-formed record counts, in a few checks (the common case of a batch of 10,000); None when
    anything needs a closer look, which the checks after it give, naming the field."""
    if type(record) is not dict:
        return None
    get = record.get
    text, nbytes, packets, rate = (
        get("sampler_address"),
        get("bytes"),
        get("packets"),
        get("sampling_rate", 0),
    )
    start, received = get("time_flow_start_ns", 0), get("time_received_ns", 0)
    address = _ADDRESSES.get(text) if type(text) is str else None
    if address is None or type(nbytes) is not int or type(packets) is not int or type(rate) is not int:
        return None
    if type(start) is not int or type(received) is not int or not 0 <= received <= UINT64:
        return None
    start = start or received
    if not NS_LOOKALIKE <= start <= UINT64 or not 0 <= rate <= UINT32:
        return None
    if rate > 1:
        nbytes, packets = nbytes * rate, packets * rate
    ms = start // 1_000_000
    if not (0 <= nbytes <= EXACT and 0 <= packets <= EXACT and ms <= now + tm.MAX_FUTURE_MS):
        return None
    if lowest is not None and ms < lowest:
        return None
    return address, ms - ms % tm.SECOND, 1, nbytes, packets


def read_goflow2(text: str, *, now: int, lowest: int | None, array: bool) -> Flows:
    """goflow2 records: a JSON array (when ``array`` allows it and the body starts with ``[``), a single
    object, or one object a line (blank lines are skipped)."""
    flows = Flows()
    if array and text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except ValueError as exc:
            raise InvalidInput(f"body: not valid JSON ({exc})", field="body") from None
        if not isinstance(records, list):
            raise InvalidInput("body: a JSON array of flow records, or one record a line", field="body")
        for i, record in enumerate(records):
            goflow2_record(flows, record, f"records[{i}]", now=now, lowest=lowest)
        return flows
    for n, line in _lines(text):
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise InvalidInput(f"line {n}: not valid JSON ({exc})", field=f"line {n}") from None
        goflow2_record(flows, record, f"line {n}", now=now, lowest=lowest)
    return flows


def _lines(text: str) -> Iterable[tuple[int, str]]:
    for n, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield n, line


# ---------------------------------------------------------------------------------------------------------
# nfdump


@dataclass(frozen=True)
class _Layout:
    """Where a layout keeps what is counted (column indexes)."""

    time: int
    bytes: tuple[int, ...]
    packets: tuple[int, ...]
    flows: int | None
    exporter: int | None


def _layout(columns: list[str]) -> _Layout:
    at = {c: i for i, c in enumerate(columns)}
    if "ra" in at:
        return _Layout(at["ts"], (at["ibyt"], at["obyt"]), (at["ipkt"], at["opkt"]), None, at["ra"])
    return _Layout(at["firstSeen"], (at["bytes"],), (at["packets"],), at["flows"], None)


class _Times:
    """Local date-times (``YYYY-MM-DD HH:MM:SS[.mmm]`` in ``tz``) to epoch ms, each text parsed once."""

    def __init__(self, tz: str) -> None:
        self.zone = tm.zone(tz)
        self.seen: dict[str, int] = {}

    def __call__(self, text: str, where: str) -> int:
        ms = self.seen.get(text)
        if ms is None:
            try:
                local = datetime(
                    int(text[0:4]),
                    int(text[5:7]),
                    int(text[8:10]),
                    int(text[11:13]),
                    int(text[14:16]),
                    int(text[17:19]),
                    int(text[20:23] or 0) * 1000,
                    tzinfo=self.zone,
                )
            except ValueError as exc:
                raise _fail(where, f"{text!r} is not a real date ({exc}): the flow has no time") from None
            ms = self.seen[text] = int(local.timestamp() * 1000)
        return ms


def read_nfdump_csv(text: str, *, now: int, lowest: int | None, tz: str, exporter: str | None) -> Flows:
    """nfdump's CSV (either predefined layout), times read in ``tz``; ``exporter`` names the device of a
    layout without an exporter column (and only then)."""
    lines = _csv_lines(text)
    if not lines:
        raise InvalidInput("body: empty: nfdump's CSV starts with its header line", field="body")
    row = _LAYOUTS.get(lines[0])
    if row is None:
        raise InvalidInput(
            "line 1: not a header of nfdump's CSV (ts,te,td,... of nfdump 1.6 to 1.7.4, or "
            "firstSeen,duration,... of 1.7.5 and later)",
            field="line 1",
        )
    layout = _layout(lines[0].split(","))
    device = _device(layout, exporter)
    times = _Times(tz)
    flows = Flows()
    n = 1
    for n, line in enumerate(lines[1:], start=2):
        if line == SUMMARY:
            _summary(lines, n)
            break
        match = row.fullmatch(line)
        if match is None:
            raise _fail(f"line {n}", f"not a row of this layout ({lines[0].count(',') + 1} fields)")
        values = match.groups()
        where = f"line {n}"
        ms = check_bounds(
            times(values[layout.time], f"{where}: time"), f"{where}: time", now=now, lowest=lowest
        )
        source = device or exporter_address(values[layout.exporter or 0], f"{where}: ra")
        flows.add(
            source,
            ms - ms % tm.SECOND,
            1 if layout.flows is None else _exact(int(values[layout.flows]), where, "flows"),
            _exact(sum(int(values[i]) for i in layout.bytes), where, "bytes"),
            _exact(sum(int(values[i]) for i in layout.packets), where, "packets"),
        )
    return flows


def _csv_lines(text: str) -> list[str]:
    """The body's lines: separated by LF or CRLF, trailing line ends dropped (as CSV_PATTERN reads it)."""
    while text.endswith("\n"):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    if not text:
        return []
    lines = text.split("\n")
    # A CR belongs to the line end after it: the last line has none (a CR there is the line's own).
    return [line[:-1] if line.endswith("\r") else line for line in lines[:-1]] + lines[-1:]


def _device(layout: _Layout, exporter: str | None) -> str | None:
    if layout.exporter is not None:
        if exporter is not None:
            raise InvalidInput(
                "exporter: this CSV names its exporter in column ra; leave exporter out", field="exporter"
            )
        return None
    if exporter is None:
        raise InvalidInput(
            "exporter: this CSV names no exporter (nfdump 1.7.5 and later leave it out): pass ?exporter= "
            "with the exporter's address",
            field="exporter",
        )
    return exporter_address(exporter, "exporter")


def _summary(lines: list[str], n: int) -> None:
    """The summary nfdump prints after the rows: its two lines, and nothing after them."""
    rest = lines[n:]
    if len(rest) != 2 or rest[0] != SUMMARY_HEADER or not _SUMMARY_ROW_RE.fullmatch(rest[1]):
        raise _fail(f"line {n}", f"a summary is {SUMMARY!r}, then {SUMMARY_HEADER!r}, then its six numbers")
