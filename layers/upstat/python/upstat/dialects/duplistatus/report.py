"""Duplicati's JSON backup report (``--send-http-result-output-format=Json``) to a domain BackupRun.

The checks follow duplistatus' upload route in its order and with its messages (a non-Backup operation, a
missing ``Extra``, missing required fields of ``Extra`` then of ``Data``), then refuse what upstat cannot
store faithfully (a malformed time, duration or count), naming the field as Duplicati sends it
(``Data.BeginTime``, ``Extra.machine-id``). :data:`REPORT_SCHEMA` states the same rules for the OpenAPI
document, so the two agree. Values (Newtonsoft's encodings): times are ISO 8601 with 0 to 7 fractional
digits and ``Z`` or an offset (none: UTC); ``Duration`` is a .NET TimeSpan ``[d.]hh:mm:ss[.fffffff]``;
enums are names; counts and sizes are integers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from upstat.backups.runs import BackupRun
from upstat.errors import InvalidInput
from upstat.names import NAME_PATTERN, SEGMENT_PATTERN, check_name

RESULTS = ("Unknown", "Success", "Warning", "Error", "Fatal")
EXTRA_REQUIRED = ("machine-id", "machine-name", "backup-name", "backup-id")
DATA_REQUIRED = ("ParsedResult", "BeginTime", "Duration")
#: A job's engine source is ``<machine-id>/<backup-id>``: together at most 200 characters (the name rule).
MAX_MACHINE_ID = 100
MAX_BACKUP_ID = 99
MAX_COUNT = 2**53

DATETIME_PATTERN = (
    r"^(197[4-9]|19[89][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])(?:\.([0-9]{1,7}))?"
    r"(Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?$"
)
TIMESPAN_PATTERN = r"^(?:([0-9]{1,8})\.)?([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])(?:\.([0-9]{1,7}))?$"
_DATETIME = re.compile(DATETIME_PATTERN)
_TIMESPAN = re.compile(TIMESPAN_PATTERN)

#: Report fields read as figures of the run: (section, field, figure).
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("Data", "ExaminedFiles", "files"),
    ("Data", "SizeOfExaminedFiles", "size"),
    ("Data", "WarningsActualLength", "warnings"),
    ("Data", "ErrorsActualLength", "errors"),
    ("BackendStatistics", "BytesUploaded", "uploaded"),
    ("BackendStatistics", "KnownFileSize", "storage"),
    ("BackendStatistics", "BackupListCount", "versions"),
)
#: Where each figure came from, to name it in errors (the domain's words -> Duplicati's fields).
FIELDS = {
    "began": "Data.BeginTime",
    "duration": "Data.Duration",
    "server": "Extra.machine-id",
    **{
        figure: ("Data." if section == "Data" else "Data.BackendStatistics.") + name
        for section, name, figure in FIGURES
    },
}


class Refused(Exception):
    """A report duplistatus refuses too: the body to answer (its shape) with status 400."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body["error"])
        self.body = body


def _truthy(value: Any) -> bool:
    """JavaScript's truthiness, which duplistatus uses to call a field missing."""
    return not (
        value is None or value is False or value == "" or (isinstance(value, int | float) and value == 0)
    )


def _missing(section: Mapping[str, Any], names: tuple[str, ...]) -> list[str]:
    return [n for n in names if not _truthy(section.get(n))]


def check_shape(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Data, Extra) after duplistatus' own checks, in its order, or :class:`Refused`."""
    data = body.get("Data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or data.get("MainOperation") != "Backup":
        raise Refused({"error": "Only backup operations are supported"})
    extra = body.get("Extra")
    if not isinstance(extra, dict):
        raise Refused({"error": "Missing Extra section in request data"})
    missing = _missing(extra, EXTRA_REQUIRED)
    if missing:
        raise Refused(
            {
                "error": f"Missing required fields in Extra section: {', '.join(missing)}",
                "missingFields": missing,
                "extraSection": extra,
            }
        )
    missing = _missing(data, DATA_REQUIRED)
    if missing:
        raise Refused(
            {
                "error": f"Missing required fields in Data section: {', '.join(missing)}",
                "missingFields": missing,
                "dataSection": data,
            }
        )
    return data, extra


def parse_time(value: Any, field: str) -> int:
    """A Duplicati DateTime as epoch ms (fraction truncated to the millisecond, as JavaScript's Date reads
    it; no offset: UTC). Years before 1974 are refused by the pattern: no backup ran then, and epoch
    milliseconds that small read as seconds to the engine."""
    m = _DATETIME.match(value) if isinstance(value, str) else None
    if m is None:
        raise InvalidInput(
            f"{field}: not a date-time as Duplicati writes it (2025-06-01T02:00:00.0000001Z)", field=field
        )
    y, mo, d, h, mi, s, frac, offset = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        dt = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro)
    except ValueError as exc:
        raise InvalidInput(f"{field}: {value!r} is not a real date ({exc})", field=field) from exc
    if offset and offset != "Z":
        delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
        dt = dt.replace(tzinfo=timezone(-delta if offset[0] == "-" else delta))
    else:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.replace(microsecond=0).timestamp()) * 1000 + micro // 1000


def parse_duration(value: Any, field: str = "Data.Duration") -> float:
    """A .NET TimeSpan ``[d.]hh:mm:ss[.fffffff]`` as seconds (the day form too: duplistatus misreads it)."""
    m = _TIMESPAN.match(value) if isinstance(value, str) else None
    if m is None:
        raise InvalidInput(
            f"{field}: not a duration as Duplicati writes it ([d.]hh:mm:ss[.fffffff], e.g. 00:01:23.4567890)",
            field=field,
        )
    days, h, mi, s, frac = m.groups()
    whole = int(days or 0) * 86400 + int(h) * 3600 + int(mi) * 60 + int(s)
    return whole + (int(frac) / 10 ** len(frac) if frac else 0.0)


def count(value: Any, field: str) -> int:
    """A count or a size: a non-negative integer a double holds exactly (a whole float is taken)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field}: must be an integer", field=field)
    if not 0 <= value <= MAX_COUNT:
        raise InvalidInput(f"{field}: must be within 0 and 2^53", field=field)
    return value


def _identifier(extra: Mapping[str, Any], name: str, max_len: int, *, path_segment: bool = False) -> str:
    field = f"Extra.{name}"
    value = extra.get(name)
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: must be a string", field=field)
    return check_name(value, field, max_len=max_len, path_segment=path_segment)


def _figures(data: Mapping[str, Any]) -> dict[str, float]:
    stats = data.get("BackendStatistics")
    if stats is not None and not isinstance(stats, dict):
        raise InvalidInput("Data.BackendStatistics: must be an object", field="Data.BackendStatistics")
    sections = {"Data": data, "BackendStatistics": stats or {}}
    out: dict[str, float] = {}
    for section, name, figure in FIGURES:
        value = sections[section].get(name)
        if value is not None:
            out[figure] = count(value, FIELDS[figure])
    out["duration"] = parse_duration(data["Duration"])
    return out


def status_of(data: Mapping[str, Any], warnings: float | None) -> str:
    """duplistatus' status: ParsedResult, except a Success with warnings is a Warning."""
    result = data.get("ParsedResult")
    if result not in RESULTS:
        raise InvalidInput(
            f"Data.ParsedResult: must be one of {', '.join(RESULTS)}", field="Data.ParsedResult"
        )
    if result == "Success" and warnings:
        result = "Warning"
    return str(result).lower()


def _reported_next(extra: Mapping[str, Any]) -> int | None:
    """``next-scheduled-run`` when it reads as a date-time (it is informative only: never refused)."""
    value = extra.get("next-scheduled-run")
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value.strip(), "Extra.next-scheduled-run")
    except InvalidInput:
        return None


def to_run(body: Any) -> BackupRun:
    """The run of a report, or :class:`Refused` (duplistatus' checks) / InvalidInput naming the field."""
    data, extra = check_shape(body)
    # The machine-id is a registry source id and a path segment of the chart routes: no '/'.
    server_id = _identifier(extra, "machine-id", MAX_MACHINE_ID, path_segment=True)
    job_id = _identifier(extra, "backup-id", MAX_BACKUP_ID)
    server_name = _identifier(extra, "machine-name", 200)
    job_name = _identifier(extra, "backup-name", 200)
    began = parse_time(data["BeginTime"], "Data.BeginTime")
    figures = _figures(data)
    return BackupRun(
        server_id=server_id,
        server_name=server_name,
        job_id=job_id,
        job_name=job_name,
        began_ms=began,
        status=status_of(data, figures.get("warnings")),
        figures=figures,
        reported_next_ms=_reported_next(extra),
    )


# ----------------------------------------------------------------------------------------------------
# The same rules for the OpenAPI document

_COUNT = {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}


def _name(max_len: int, pattern: str = NAME_PATTERN) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_len, "pattern": pattern}


REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Duplicati's report as it sends it; fields not listed here are accepted and ignored.",
    "required": ["Data", "Extra"],
    "properties": {
        "Data": {
            "type": "object",
            "required": ["MainOperation", "ParsedResult", "BeginTime", "Duration"],
            "properties": {
                "MainOperation": {"type": "string", "enum": ["Backup"]},
                "ParsedResult": {"type": "string", "enum": list(RESULTS)},
                "BeginTime": {
                    "type": "string",
                    "pattern": DATETIME_PATTERN,
                    "description": "The run's time. Within the raw tier's retention (48 h by default) and "
                    "at most 5 minutes ahead of the server's clock (else 400).",
                },
                "Duration": {"type": "string", "pattern": TIMESPAN_PATTERN},
                **{name: _COUNT for section, name, _ in FIGURES if section == "Data"},
                "BackendStatistics": {
                    "type": ["object", "null"],
                    "properties": {name: _COUNT for section, name, _ in FIGURES if section != "Data"},
                },
            },
        },
        "Extra": {
            "type": "object",
            "required": list(EXTRA_REQUIRED),
            "properties": {
                "machine-id": {
                    **_name(MAX_MACHINE_ID, SEGMENT_PATTERN),
                    "description": "The server: a source of the registry (kind backup-server) of this id, "
                    "so not one of upstat's own ('service:...': 400)",
                },
                "machine-name": _name(200),
                "backup-name": _name(200),
                "backup-id": _name(MAX_BACKUP_ID),
            },
        },
    },
}

REPORT_EXAMPLE: dict[str, Any] = {
    "Data": {
        "MainOperation": "Backup",
        "ParsedResult": "Warning",
        "BeginTime": "2025-06-01T02:00:00.0000001Z",
        "EndTime": "2025-06-01T02:01:23.4567890Z",
        "Duration": "00:01:23.4567889",
        "ExaminedFiles": 5210,
        "SizeOfExaminedFiles": 7340032000,
        "WarningsActualLength": 1,
        "ErrorsActualLength": 0,
        "BackendStatistics": {"BytesUploaded": 2097152, "KnownFileSize": 3221225472, "BackupListCount": 9},
    },
    "Extra": {
        "OperationName": "Backup",
        "machine-id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "machine-name": "nas01",
        "backup-name": "nas01 documents",
        "backup-id": "DB-3",
    },
    "LogLines": [],
    "Exception": None,
}
