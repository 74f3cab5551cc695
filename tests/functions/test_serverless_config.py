"""serverless.yml and infra/*.yml agree with the code: schedules, handlers, budgets, alarms, no SSM values."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.functions.conftest import load_event
from upstat.jobs import SCHEDULES
from upstat.jobs.runner import SAFETY_MARGIN_S, lock_seconds

ROOT = Path(__file__).resolve().parents[2]
RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation short tags (!Ref, !GetAtt ...) read as {"Fn::<tag>": value}."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _cfn_tag)


def load(path: str) -> dict[str, Any]:
    return yaml.load((ROOT / path).read_text(), Loader=_Loader)  # a SafeLoader subclass


@pytest.fixture(scope="module")
def service() -> dict[str, Any]:
    return load("serverless.yml")


def rate_seconds(expression: str) -> int:
    match = RATE.match(expression)
    assert match, expression
    return int(match.group(1)) * UNIT_S[match.group(2).rstrip("s")]


def logical_id(function: str) -> str:
    return function[0].upper() + function[1:] + "LambdaFunction"


def test_every_job_in_upstat_jobs_schedules_is_scheduled_at_its_rate(service: dict[str, Any]) -> None:
    declared = {}
    for name, fn in service["functions"].items():
        for event in fn.get("events", []):
            if "schedule" in event:
                assert event["schedule"]["method"] == "scheduler"
                (rate,) = event["schedule"]["rate"]
                declared[name] = rate_seconds(rate)
    assert declared == {s.name: s.rate_seconds for s in SCHEDULES}


def test_every_function_handler_exists_and_ships_only_its_own_directory(service: dict[str, Any]) -> None:
    assert service["package"] == {"individually": True, "patterns": ["!**"]}
    for name, fn in service["functions"].items():
        module, _, attr = fn["handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module.replace("/", ".")), attr)), name
        directory = module.rsplit("/", 1)[0]
        assert fn["package"]["patterns"] == [f"{directory}/*.py"], name
        assert fn["layers"] == [{"Ref": "UpstatLambdaLayer"}, {"Ref": "DepsLambdaLayer"}], name


def test_each_job_budget_ends_before_its_lambda_timeout(service: dict[str, Any]) -> None:
    for name, fn in service["functions"].items():
        if name == "api":
            assert fn["timeout"] < 30  # API Gateway's integration timeout
            continue
        budget = float(fn["environment"]["UPSTAT_JOB_TIME_BUDGET_S"])
        assert budget + SAFETY_MARGIN_S <= fn["timeout"], name


def test_every_function_has_an_errors_and_a_throttles_alarm(service: dict[str, Any]) -> None:
    alarms = {
        name: r
        for name, r in load("infra/alarms.yml")["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    watched: dict[str, set[str]] = {}
    for alarm in alarms.values():
        props = alarm["Properties"]
        if props["Namespace"] == "AWS/Lambda":
            (dimension,) = props["Dimensions"]
            watched.setdefault(dimension["Value"]["Ref"], set()).add(props["MetricName"])
        assert props["AlarmActions"] == [{"Ref": "OpsAlarmsTopic"}]
    expected = {logical_id(name): {"Errors", "Throttles"} for name in service["functions"]}
    expected["PingLambdaFunction"].add("Invocations")  # the heartbeat
    assert watched == expected
    assert "PingDeadLetterAlarm" in alarms


def test_each_job_budget_is_below_its_period(service: dict[str, Any]) -> None:
    # /healthz calls a job healthy when a completed run started within two periods, which holds only while
    # a run ends before the next one starts (upstat.jobs.runner.ran_in_last_period).
    for schedule in SCHEDULES:
        budget = float(service["functions"][schedule.name]["environment"]["UPSTAT_JOB_TIME_BUDGET_S"])
        assert budget < schedule.rate_seconds, schedule.name
        # A run that could not release its lock (Redis gone) must not make the next scheduled run skip.
        assert lock_seconds(budget) < schedule.rate_seconds, schedule.name


def test_no_parameter_value_is_resolved_at_package_time() -> None:
    for path in ["serverless.yml", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "infra").glob("*.yml"))]:
        lines = (ROOT / path).read_text().splitlines()
        text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
        assert "${ssm:" not in text and "{{resolve:" not in text, path


def test_the_scheduler_sends_an_eventbridge_shaped_event(service: dict[str, Any]) -> None:
    sample = load_event("eventbridge_scheduled")
    ours = load_event("scheduler_input")
    for name in ("ping", "rollup", "retention", "openvpn"):
        (event,) = service["functions"][name]["events"]
        payload = event["schedule"]["input"]
        assert set(payload) == set(ours) == set(sample) - {"account"}
        assert payload["detail-type"] == sample["detail-type"] == "Scheduled Event"
        assert payload["detail"]["job"] == name


def test_the_ping_queue_outlasts_its_worker_and_dead_letters(service: dict[str, Any]) -> None:
    resources = load("infra/resources.yml")["Resources"]
    queue = resources["PingQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * service["functions"]["pingWorker"]["timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": "PingDeadLetterQueue.Arn"}
    (event,) = service["functions"]["pingWorker"]["events"]
    assert event["sqs"]["arn"] == {"Fn::GetAtt": "PingQueue.Arn"}
