"""OpenVPN status files, read as OpenVPN writes them (``--status FILE n`` with ``--status-version 1|2|3``,
and the ``OpenVPN STATISTICS`` form of a point-to-point or client instance). Pure: text in, a
:class:`StatusFile` out, or a refusal naming the line.

Rules (from OpenVPN's multi.c / sig.c, README "OpenVPN Monitor API"):

- Version 1 is comma-separated, in sections (``OpenVPN CLIENT LIST``, ``ROUTING TABLE``, ``GLOBAL STATS``,
  ``END``); versions 2 (comma) and 3 (TAB) start each line with its record type (``TITLE``, ``TIME``,
  ``HEADER``, ``CLIENT_LIST``, ``ROUTING_TABLE``, ``GLOBAL_STATS``, ``END``).
- Columns are found by their header's name, never by position (versions add columns: Virtual IPv6 Address
  in 2.4, Data Channel Cipher in 2.5); only Common Name, Bytes Received and Bytes Sent are required.
- Times: the epoch columns (``TIME``'s second field, ``Connected Since (time_t)``) when present; otherwise
  the text (``YYYY-MM-DD HH:MM:SS`` from 2.5, C's ctime before), in the server's zone ``tz``.
- A file without ``END`` is incomplete (OpenVPN stops writing at a line of 512 characters or more, and a
  file read while being rewritten may be cut): refused, so a half file never marks clients gone.
- A client without a certificate name (``UNDEF``) is named by its username when it has one. Rows of one
  common name (``--duplicate-cn``) are one client: counters summed, the latest connection time kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from upstat.names import name_problem
from upstat.timeseries.delimited import Columns, Line, count, decode, epoch_seconds, lines, problem, text_time

LABEL = "status file"
V1_BANNER = "OpenVPN CLIENT LIST"
STATISTICS_BANNER = "OpenVPN STATISTICS"
RECORDS = frozenset({"TITLE", "TIME", "HEADER", "CLIENT_LIST", "ROUTING_TABLE", "GLOBAL_STATS", "END"})
REQUIRED = ("Common Name", "Bytes Received", "Bytes Sent")
UNDEF = "UNDEF"
#: Longest common name kept: the client's source (``openvpn:<server>:<name>``, server names up to 100) stays
#: within the 200 characters of a source name. X.509 bounds a certificate's CN at 64. No '/' either: the
#: name is a source id and a URL path segment (``/api/v1/stats/{common_name}``).
MAX_NAME = 90
#: The point-to-point form's counters of the tunnel's link (what the multi-client form counts per client).
P2P_RECEIVED = "TCP/UDP read bytes"
P2P_SENT = "TCP/UDP write bytes"


@dataclass(frozen=True, slots=True)
class ClientRow:
    """One connected client as the file lists it. Bytes are as the server counts them: ``received`` from
    the client, ``sent`` to it (in the point-to-point form: read and written by the instance)."""

    common_name: str
    received: int
    sent: int
    connected_since: int | None  # epoch ms; None when the form does not say (point-to-point)
    real_address: str = ""
    virtual_address: str = ""
    line: int = 0


@dataclass(frozen=True)
class StatusFile:
    """A whole status file: its form (``v1``, ``v2``, ``v3``, ``statistics``), its own time (epoch ms, from
    its TIME or Updated line, which ``time_line`` numbers), the version banner and the clients."""

    form: str
    time: int
    time_line: int
    title: str
    clients: list[ClientRow]


def parse(body: bytes | str, *, tz: str = "UTC", peer: str = "peer") -> StatusFile:
    """Read a status file of any version. ``tz`` is the server's zone for times written only as text;
    ``peer`` names the one client of the point-to-point form (which names no client itself)."""
    text = body if isinstance(body, str) else decode(body, LABEL)
    first = next(lines(text, "\n"), None)
    if first is None:
        raise problem(LABEL, 1, "empty: not an OpenVPN status file")
    head = first.first.strip()
    if head == V1_BANNER:
        return _version1(text, tz)
    if head == STATISTICS_BANNER:
        return _statistics(text, tz, peer)
    if head.split("\t", 1)[0] in RECORDS and "\t" in head:
        return _records(text, "\t", "v3", tz)
    if head.split(",", 1)[0] in RECORDS:
        return _records(text, ",", "v2", tz)
    raise problem(
        LABEL,
        first.number,
        f"not an OpenVPN status file: it starts with {head[:40]!r}, not '{V1_BANNER}', "
        f"'{STATISTICS_BANNER}' or a TITLE/TIME record (--status-version 1, 2 or 3)",
    )


# ---------------------------------------------------------------------------------------------------------
# Versions 2 and 3: one record type per line


def _records(text: str, sep: str, form: str, tz: str) -> StatusFile:
    title = ""
    when: tuple[int, int] | None = None
    columns: Columns | None = None
    clients: list[ClientRow] = []
    for line in _until_end(lines(text, sep)):
        kind = line.first
        if kind not in RECORDS:
            raise problem(
                LABEL, line.number, f"unknown record {kind[:40]!r} (expected one of {_records_list()})"
            )
        if kind == "TITLE":
            title = sep.join(line.fields[1:])
        elif kind == "TIME":
            when = (_record_time(line, tz), line.number)
        elif kind == "HEADER" and len(line.fields) > 1 and line.fields[1] == "CLIENT_LIST":
            columns = Columns.from_header(line.fields[2:], REQUIRED, line.number, LABEL)
        elif kind == "CLIENT_LIST":
            if columns is None:
                raise problem(LABEL, line.number, "a CLIENT_LIST row before its HEADER,CLIENT_LIST line")
            clients.append(_client(columns.row(line, offset=1), line.number, tz))
    if when is None:
        raise problem(LABEL, 1, "no TIME line: the file's time is unknown")
    return StatusFile(form, when[0], when[1], title, _merged(clients))


def _records_list() -> str:
    return ", ".join(sorted(RECORDS))


def _record_time(line: Line, tz: str) -> int:
    """TIME,<text>,<epoch>: the epoch when present (it has no zone to guess), else the text."""
    fields = line.fields
    if len(fields) >= 3 and fields[2].strip():
        return epoch_seconds(fields[2], column="TIME", line=line.number, label=LABEL)
    if len(fields) >= 2:
        return text_time(fields[1], column="TIME", line=line.number, label=LABEL, tz=tz)
    raise problem(LABEL, line.number, "TIME: no time on the line")


def _until_end(found: Iterator[Line]) -> Iterator[Line]:
    """The lines before ``END``; a file without it is incomplete and refused (after its last line)."""
    last = 0
    for line in found:
        if line.first.strip() == "END":
            return
        last = line.number
        yield line
    raise problem(LABEL, last + 1, "no END line: the file is incomplete (cut while being written?)")


# ---------------------------------------------------------------------------------------------------------
# Version 1: sections


def _version1(text: str, tz: str) -> StatusFile:
    found = _until_end(lines(text, ","))
    next(found)  # the banner
    updated = next(found, None)
    if updated is None or updated.first != "Updated" or len(updated.fields) < 2:
        number = updated.number if updated else 2
        raise problem(LABEL, number, "expected 'Updated,<time>' after the banner")
    when = text_time(",".join(updated.fields[1:]), column="Updated", line=updated.number, label=LABEL, tz=tz)
    header = next(found, None)
    if header is None:
        raise problem(LABEL, updated.number + 1, "expected the client list's header")
    columns = Columns.from_header(header.fields, REQUIRED, header.number, LABEL)
    clients = []
    for line in found:
        if line.first in ("ROUTING TABLE", "GLOBAL STATS"):
            break
        clients.append(_client(columns.row(line), line.number, tz))
    for _ in found:
        pass  # the routing table and global stats: nothing to keep, END still required
    return StatusFile("v1", when, updated.number, "", _merged(clients))


# ---------------------------------------------------------------------------------------------------------
# The point-to-point form: name,value lines


def _statistics(text: str, tz: str, peer: str) -> StatusFile:
    found = _until_end(lines(text, ","))
    banner = next(found)
    why = name_problem(peer, max_len=MAX_NAME, path_segment=True)
    if why is not None:
        raise problem(
            LABEL, banner.number, f"the point-to-point form's client (peer, default the server): {why}"
        )
    when: tuple[int, int] | None = None
    values: dict[str, tuple[str, int]] = {}
    for line in found:
        if len(line.fields) != 2:
            raise problem(LABEL, line.number, f"{len(line.fields)} columns where 'name,value' has 2")
        name, value = line.fields
        if name == "Updated":
            when = (text_time(value, column="Updated", line=line.number, label=LABEL, tz=tz), line.number)
        else:
            values[name] = (value, line.number)
    if when is None:
        raise problem(LABEL, 2, "no Updated line: the file's time is unknown")
    for name in (P2P_RECEIVED, P2P_SENT):
        if name not in values:
            raise problem(LABEL, when[1], f"no '{name}' line")
    rx_text, rx_line = values[P2P_RECEIVED]
    tx_text, tx_line = values[P2P_SENT]
    row = ClientRow(
        peer,
        count(rx_text, column=P2P_RECEIVED, line=rx_line, label=LABEL),
        count(tx_text, column=P2P_SENT, line=tx_line, label=LABEL),
        None,
        line=rx_line,
    )
    return StatusFile("statistics", when[0], when[1], "", [row])


# ---------------------------------------------------------------------------------------------------------
# Rows


def _client(row: dict[str, str], number: int, tz: str) -> ClientRow:
    name = row["Common Name"]
    username = row.get("Username", "")
    if name == UNDEF and username and username != UNDEF:
        name = username
    why = name_problem(name, max_len=MAX_NAME, path_segment=True)
    if why is not None:
        raise problem(LABEL, number, f"Common Name: {why}")
    since: int | None = None
    if row.get("Connected Since (time_t)", "").strip():
        since = epoch_seconds(
            row["Connected Since (time_t)"], column="Connected Since (time_t)", line=number, label=LABEL
        )
    elif row.get("Connected Since", "").strip():
        since = text_time(row["Connected Since"], column="Connected Since", line=number, label=LABEL, tz=tz)
    return ClientRow(
        name,
        count(row["Bytes Received"], column="Bytes Received", line=number, label=LABEL),
        count(row["Bytes Sent"], column="Bytes Sent", line=number, label=LABEL),
        since,
        row.get("Real Address", ""),
        row.get("Virtual Address", ""),
        number,
    )


def _merged(rows: list[ClientRow]) -> list[ClientRow]:
    """One row per common name (``--duplicate-cn`` lists each connection): counters summed, the latest
    connection time kept, in the file's order."""
    out: dict[str, ClientRow] = {}
    for row in rows:
        seen = out.get(row.common_name)
        if seen is None:
            out[row.common_name] = row
            continue
        latest = max((t for t in (seen.connected_since, row.connected_since) if t is not None), default=None)
        out[row.common_name] = replace(
            seen, received=seen.received + row.received, sent=seen.sent + row.sent, connected_since=latest
        )
    return list(out.values())
