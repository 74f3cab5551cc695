"""Line-oriented delimited text as agents write it (status files, CSV exports): pure helpers, no I/O.

An agent's text file is read line by line, each field found by its header's name (columns move between
versions of a program), and every value checked where it is read. A refusal names the line number, the
column and what was wrong, so whoever sent the file can find it: ``line 4: Bytes Received: 'x' is not a
whole number``. Shared by every ingest adapter that reads such a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from upstat.errors import InvalidInput
from upstat.timeseries import timemath as tm

#: The largest integer the engine stores exactly (values are doubles).
MAX_EXACT = 2**53
_DIGITS = re.compile(r"^[0-9]{1,20}$")
#: C's ctime() form, e.g. ``Tue Mar 21 10:39:14 2017`` (day of month padded with a space or not).
_CTIME = re.compile(r"^[A-Z][a-z]{2} ([A-Z][a-z]{2}) +([0-9]{1,2}) ([0-9]{2}:[0-9]{2}:[0-9]{2}) ([0-9]{4})$")


class TextProblem(InvalidInput):
    """A refused line of a text file: the message starts with the word ``label`` and the line number."""


def problem(label: str, number: int, what: str) -> TextProblem:
    return TextProblem(f"{label} line {number}: {what}", field="body")


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the file: its number (from 1) and its fields."""

    number: int
    fields: list[str]

    @property
    def first(self) -> str:
        return self.fields[0] if self.fields else ""


def lines(text: str, separator: str) -> Iterator[Line]:
    """The file's non-empty lines split at ``separator`` (no quoting: agents that write these files do not
    quote), with their numbers. A trailing ``\\r`` (a file copied through Windows) is dropped."""
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.rstrip("\r")
        if stripped.strip():
            yield Line(number, stripped.split(separator))


def decode(body: bytes, label: str) -> str:
    """The body as UTF-8 text (a file that is not text is refused, naming its first bad byte)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise problem(label, line, f"not UTF-8 text (byte {exc.start})") from exc


@dataclass(frozen=True)
class Columns:
    """Positions of named columns, from a header line: read a row by name, whatever the column order."""

    names: tuple[str, ...]
    label: str

    @classmethod
    def from_header(cls, names: Sequence[str], required: Sequence[str], line: int, label: str) -> Columns:
        missing = [name for name in required if name not in names]
        if missing:
            raise problem(label, line, f"the header has no column {', '.join(repr(m) for m in missing)}")
        return cls(tuple(names), label)

    def row(self, line: Line, offset: int = 0) -> dict[str, str]:
        """``line``'s fields (after the first ``offset``) by column name; a wrong count is refused."""
        values = line.fields[offset:]
        if len(values) != len(self.names):
            raise problem(
                self.label,
                line.number,
                f"{len(values)} columns where the header has {len(self.names)}",
            )
        return dict(zip(self.names, values, strict=True))


def count(text: str, *, column: str, line: int, label: str) -> int:
    """A non-negative whole number (a byte counter): digits only, at most 2^53 (stored exactly)."""
    value = text.strip()
    if not _DIGITS.match(value):
        raise problem(label, line, f"{column}: {value[:40]!r} is not a whole number")
    number = int(value)
    if number > MAX_EXACT:
        raise problem(label, line, f"{column}: {number} is too large to store exactly (limit 2^53)")
    return number


def epoch_seconds(text: str, *, column: str, line: int, label: str) -> int:
    """A Unix time in seconds (a ``time_t`` column) as epoch milliseconds."""
    return count(text, column=column, line=line, label=label) * tm.SECOND


def text_time(text: str, *, column: str, line: int, label: str, tz: str) -> int:
    """A time written as text in the writer's local zone ``tz``: ``YYYY-MM-DD HH:MM:SS`` or C's ctime form
    (``Tue Mar 21 10:39:14 2017``), as epoch milliseconds."""
    value = text.strip()
    match = _CTIME.match(value)
    if match is not None:
        month, day, clock, year = match.groups()
        try:
            parsed = datetime.strptime(f"{year} {month} {day} {clock}", "%Y %b %d %H:%M:%S")
        except ValueError:
            parsed = None
        if parsed is not None:
            return int(parsed.replace(tzinfo=tm.zone(tz)).timestamp() * 1000)
    try:
        return tm.parse_datetime(value, field=column, tz=tz)
    except InvalidInput:
        raise problem(
            label, line, f"{column}: {value[:40]!r} is not a time (YYYY-MM-DD HH:MM:SS or ctime)"
        ) from None
