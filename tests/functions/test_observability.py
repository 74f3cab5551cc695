"""What reaches CloudWatch: EMF metric lines on stdout, structured log fields, the request id of an error,
and /healthz saying whether the scheduled jobs ran."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.emf import emf_lines, values
from tests.functions.conftest import LambdaContext, function_module, load_event
from tests.functions.test_api_handler import body_of, v2
from upstat import metrics
from upstat.jobs.runner import LastRun, ran_in_last_period

ROOT = Path(__file__).resolve().parents[2]


def test_a_metric_line_is_one_emf_document_with_the_stage_dimension(
    emf: None, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics.emit({"ChecksRun": 3, "ChecksFailed": 1}, properties={"job": "ping"})
    [doc] = emf_lines(capsys.readouterr().out)
    assert (doc["ChecksRun"], doc["ChecksFailed"], doc["Stage"], doc["job"]) == (3, 1, "test", "ping")
    [directive] = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["Stage"]]
    assert [m["Name"] for m in directive["Metrics"]] == ["ChecksRun", "ChecksFailed"]


def test_metrics_are_off_without_a_namespace(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    metrics.emit({"ChecksRun": 3})
    assert capsys.readouterr().out == ""


def test_an_unknown_metric_name_is_a_bug_not_a_new_metric(emf: None) -> None:
    with pytest.raises(ValueError, match="ChecksRan"):
        metrics.emit({"ChecksRan": 1})


def test_the_metrics_module_imports_nothing_heavy() -> None:
    code = (
        "import sys; import upstat.metrics; "
        "print(sorted(m for m in ('boto3', 'botocore', 'pydantic', 'fastapi', 'redis', 'aiohttp') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_a_job_run_logs_its_summary_as_fields_and_writes_its_metrics(
    r: Any, emf: None, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="upstat.jobs"):
        summary = function_module("rollup").handler(load_event("scheduler_input"), LambdaContext())
    [record] = [rec for rec in caplog.records if getattr(rec, "job", None) == "rollup"]
    assert record.levelno == logging.INFO  # shown under Lambda's JSON log format at INFO
    assert record.summary == summary and record.over_budget is False  # type: ignore[attr-defined]
    json.dumps(record.__dict__["summary"])  # the runtime's JSON formatter has no fallback for other types
    [doc] = emf_lines(capsys.readouterr().out)
    assert (doc["job"], doc["JobRunsSkipped"], doc["JobRunsOverBudget"]) == ("rollup", 0, 0)
    assert doc["JobDuration"] == summary["duration_ms"]


def test_a_skipped_run_counts_as_skipped(
    r: Any, emf: None, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from upstat.store.keyspace import Keys

    r.set(Keys("upstat:").job_lock("rollup"), "another-run", ex=60)
    with caplog.at_level(logging.INFO, logger="upstat.jobs"):
        summary = function_module("rollup").handler(load_event("scheduler_input"), LambdaContext())
    assert summary["skipped"]
    assert [getattr(rec, "skipped", None) for rec in caplog.records] == [True]
    [doc] = emf_lines(capsys.readouterr().out)
    assert (doc["job"], doc["JobRunsSkipped"]) == ("rollup", 1)


def test_a_run_that_stops_at_its_budget_counts_as_over_budget(
    r: Any, emf: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from upstat.jobs import handlers

    real = handlers.run_job

    def incomplete(name: str, context: Any, body: Any) -> dict[str, Any]:
        return real(name, context, lambda ctx: {**body(ctx), "complete": False})

    monkeypatch.setattr(handlers, "run_job", incomplete)
    function_module("rollup").handler(load_event("scheduler_input"), LambdaContext())
    [doc] = emf_lines(capsys.readouterr().out)
    assert doc["JobRunsOverBudget"] == 1


def test_failed_ping_batches_are_a_metric(
    r: Any, emf: None, capsys: pytest.CaptureFixture[str], context: LambdaContext
) -> None:
    event = load_event("sqs_ping_batch")
    event["Records"][1]["body"] = "not json"
    answer = function_module("ping_worker").handler(event, context)
    assert len(answer["batchItemFailures"]) == 1  # not a Lambda error: only the metric shows it
    assert values(emf_lines(capsys.readouterr().out), "PingBatchesFailed") == [1]


def test_ingested_points_are_a_metric(api: ModuleType, emf: None, capsys: pytest.CaptureFixture[str]) -> None:
    now = int(time.time() * 1000)
    body = {
        "source": "alice",
        "points": [{"metric": "rx", "time": now - i * 1000, "value": i} for i in range(3)],
    }
    response = api.handler(v2("POST", "/v1/ingest", token=ADMIN_TOKEN, body=body), LambdaContext())
    assert response["statusCode"] == 200, response
    assert values(emf_lines(capsys.readouterr().out), "IngestPoints") == [3]


# --- the request id of an error ---------------------------------------------------------------------------


@pytest.fixture
def api(env: dict[str, str], r: Any) -> Iterator[ModuleType]:
    # A fresh Lambda process has a current event loop for mangum; an earlier test's asyncio.run (a ping
    # tick) leaves this one without.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield function_module("api")
    asyncio.set_event_loop(None)
    loop.close()


def test_an_error_answer_carries_the_lambda_request_id(api: ModuleType) -> None:
    context = LambdaContext()
    response = api.handler(v2("GET", "/v1/retention"), context)  # no token
    assert response["statusCode"] == 401
    assert body_of(response)["request_id"] == context.aws_request_id
    assert response["headers"]["x-request-id"] == context.aws_request_id


def test_a_dialect_error_keeps_its_shape_and_has_the_request_id_in_a_header(api: ModuleType) -> None:
    context = LambdaContext()
    response = api.handler(v2("GET", "/api/services/no-such-service"), context)
    assert response["statusCode"] in (401, 404)
    assert "request_id" not in body_of(response)
    assert response["headers"]["x-request-id"] == context.aws_request_id


def test_a_500_logs_the_request_id_it_answers(
    api: ModuleType, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from upstat.api.routes import meta

    def broken(*args: Any) -> Any:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(meta, "last_runs", broken)
    context = LambdaContext()
    with caplog.at_level(logging.ERROR, logger="upstat.api"):
        response = api.handler(v2("GET", "/healthz"), context)
    assert response["statusCode"] == 500
    assert body_of(response)["request_id"] == context.aws_request_id
    ours = [rec for rec in caplog.records if rec.name == "upstat.api"]
    assert [getattr(rec, "request_id", None) for rec in ours] == [context.aws_request_id]


# --- /healthz and the jobs ---------------------------------------------------------------------------------


def test_healthz_says_whether_the_ping_job_ran_in_its_last_period(
    api: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = body_of(api.handler(v2("GET", "/healthz"), LambdaContext()))
    assert before["status"] == "ok"
    assert before["jobs"]["ping"] == {"period_s": 60, "last_started_at": None, "ran_in_last_period": False}

    function_module("ping").handler(load_event("scheduler_input"), LambdaContext())
    after = body_of(api.handler(v2("GET", "/healthz"), LambdaContext()))
    assert after["jobs"]["ping"]["ran_in_last_period"] is True
    assert after["jobs"]["ping"]["last_started_at"]
    assert after["jobs"]["rollup"]["ran_in_last_period"] is False  # never ran

    # Two periods later with no run since: the job stopped.
    later = int(time.time() * 1000) + 121_000
    monkeypatch.setattr("upstat.clock.now_ms", lambda: later)
    stale = body_of(api.handler(v2("GET", "/healthz"), LambdaContext()))
    assert stale["status"] == "ok" and stale["jobs"]["ping"]["ran_in_last_period"] is False


@pytest.mark.parametrize(
    ("started_s_ago", "expected"),
    [(None, False), (0, True), (59, True), (105, True), (119, True), (120, False), (3600, False)],
)
def test_a_job_ran_in_its_last_period_if_a_completed_run_started_within_two(
    started_s_ago: int | None, expected: bool
) -> None:
    now = 1_800_000_000_000
    last = None if started_s_ago is None else LastRun(now - started_s_ago * 1000, now, True)
    assert ran_in_last_period(last, 60, now) is expected
