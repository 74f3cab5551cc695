"""Duplicati's JSON report to a backup run (dialects/duplistatus/report.py): the values Newtonsoft writes,
duplistatus' checks in its order and with its messages, and every other refusal naming the field."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from upstat.dialects.duplistatus import report
from upstat.errors import InvalidInput

EVENT = Path(__file__).resolve().parents[1] / "events" / "duplicati_backup_report.json"


def sample() -> dict[str, Any]:
    return copy.deepcopy(json.loads(EVENT.read_text()))


def test_the_sample_report_reads_as_duplistatus_reads_it() -> None:
    # The facts sheet's expectation for this payload: status Warning, duration about 83.457 s, 5210 files
    # of 7340032000 B, 2097152 B uploaded, 3221225472 B stored, 9 versions.
    run = report.to_run(sample())
    assert (run.server_id, run.server_name, run.job_id, run.job_name) == (
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "nas01",
        "DB-3",
        "nas01 documents",
    )
    assert run.status == "warning"
    assert run.began_ms == 1748743200000  # 2025-06-01T02:00:00.0000001Z, truncated to the millisecond
    assert run.figures == {
        "duration": pytest.approx(83.4567889),
        "files": 5210,
        "size": 7340032000,
        "uploaded": 2097152,
        "storage": 3221225472,
        "versions": 9,
        "warnings": 1,
        "errors": 0,
    }


def test_a_success_with_warnings_is_a_warning_as_in_duplistatus() -> None:
    body = sample()
    body["Data"]["ParsedResult"] = "Success"
    assert report.to_run(body).status == "warning"
    body["Data"]["WarningsActualLength"] = 0
    assert report.to_run(body).status == "success"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00:00", 0.0),
        ("00:00:51.3856057", 51.3856057),
        ("01:02:03", 3723.0),
        ("1.02:03:04.5000000", 93784.5),  # over a day: duplistatus misreads this form
        ("12.00:00:00", 12 * 86400.0),
    ],
)
def test_durations_in_the_timespan_form(text: str, seconds: float) -> None:
    assert report.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-04-21T23:45:46.9712217Z", 1745279146971),
        ("2025-04-21T23:45:46Z", 1745279146000),
        ("2025-04-22T00:45:46+01:00", 1745279146000),
        ("2025-04-21T23:45:46", 1745279146000),  # unspecified kind: read as UTC
    ],
)
def test_date_times_as_newtonsoft_writes_them(text: str, expected: int) -> None:
    assert report.parse_time(text, "Data.BeginTime") == expected


def test_the_schema_patterns_are_the_parsers() -> None:
    assert re.match(report.DATETIME_PATTERN, "2025-04-21T23:45:46.9712217Z")
    assert not re.match(report.DATETIME_PATTERN, "1971-04-21T23:45:46Z")  # epoch ms that small read as s
    assert re.match(report.TIMESPAN_PATTERN, "1.02:03:04.5000000")
    assert not re.match(report.TIMESPAN_PATTERN, "-00:00:01")


def refusal(body: Any) -> dict[str, Any]:
    with pytest.raises(report.Refused) as err:
        report.to_run(body)
    return err.value.body


def test_duplistatus_checks_come_in_its_order_with_its_messages() -> None:
    body = sample()
    body["Data"]["MainOperation"] = "Restore"
    assert refusal(body) == {"error": "Only backup operations are supported"}
    assert refusal({"Extra": {}}) == {"error": "Only backup operations are supported"}
    assert refusal([1, 2]) == {"error": "Only backup operations are supported"}
    body = sample()
    del body["Extra"]
    assert refusal(body) == {"error": "Missing Extra section in request data"}
    body = sample()
    body["Extra"]["backup-id"] = ""
    del body["Extra"]["machine-name"]
    answer = refusal(body)
    assert answer["error"] == "Missing required fields in Extra section: machine-name, backup-id"
    assert answer["missingFields"] == ["machine-name", "backup-id"]
    assert answer["extraSection"] == body["Extra"]
    body = sample()
    body["Data"]["Duration"] = None
    body["Data"]["ParsedResult"] = ""
    answer = refusal(body)
    assert answer["error"] == "Missing required fields in Data section: ParsedResult, Duration"
    assert answer["missingFields"] == ["ParsedResult", "Duration"]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("Data", "BeginTime"), "yesterday", "Data.BeginTime"),
        (("Data", "BeginTime"), "2025-02-30T00:00:00Z", "Data.BeginTime"),
        (("Data", "Duration"), "83 seconds", "Data.Duration"),
        (("Data", "Duration"), "-00:00:01", "Data.Duration"),
        (("Data", "ParsedResult"), "Great", "Data.ParsedResult"),
        (("Data", "ExaminedFiles"), "5210", "Data.ExaminedFiles"),
        (("Data", "ExaminedFiles"), True, "Data.ExaminedFiles"),
        (("Data", "SizeOfExaminedFiles"), -1, "Data.SizeOfExaminedFiles"),
        (("Data", "SizeOfExaminedFiles"), 2**60, "Data.SizeOfExaminedFiles"),
        (("Data", "BackendStatistics", "KnownFileSize"), 1.5, "Data.BackendStatistics.KnownFileSize"),
        (("Data", "BackendStatistics"), [], "Data.BackendStatistics"),
        (("Extra", "machine-id"), 42, "Extra.machine-id"),
        (("Extra", "machine-id"), "a" * 101, "Extra.machine-id"),
        (("Extra", "backup-name"), " padded", "Extra.backup-name"),
        (("Extra", "backup-id"), "DB\n3", "Extra.backup-id"),
    ],
)
def test_a_malformed_field_is_refused_naming_it(path: tuple[str, ...], value: Any, field: str) -> None:
    body = sample()
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InvalidInput) as err:
        report.to_run(body)
    assert err.value.field == field and err.value.message.startswith(f"{field}: ")


def test_optional_figures_may_be_missing_and_whole_floats_are_counts() -> None:
    body = sample()
    del body["Data"]["BackendStatistics"]
    del body["Data"]["ExaminedFiles"]
    body["Data"]["SizeOfExaminedFiles"] = 7340032000.0
    run = report.to_run(body)
    assert set(run.figures) == {"duration", "size", "warnings", "errors"}
    assert run.figures["size"] == 7340032000


def test_the_announced_next_run_is_kept_when_it_reads_and_ignored_otherwise() -> None:
    body = sample()
    body["Extra"]["next-scheduled-run"] = "2025-06-02T02:00:00Z"
    assert report.to_run(body).reported_next_ms == 1748829600000
    body["Extra"]["next-scheduled-run"] = "soon"
    assert report.to_run(body).reported_next_ms is None
