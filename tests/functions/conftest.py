"""Lambda handlers driven by real-shaped events (tests/events/*.json) against the real Valkey; the stack's
SSM parameters in moto."""

from __future__ import annotations

import copy
import importlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from upstat import aws
from upstat.config import get_settings
from upstat.store import client as store_client

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of tests/events/<name>.json (tests edit their copy)."""
    return copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))


class LambdaContext:
    """The parts of the Lambda context object upstat reads."""

    def __init__(self, name: str = "upstat-test", timeout_s: float = 60.0) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = "8f5d7e9c-1b2a-4c3d-9e8f-0a1b2c3d4e5f"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "2026/11/23/[$LATEST]0123456789abcdef"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


def function_module(name: str) -> ModuleType:
    """functions/<name>/handler.py, imported the way the Lambda runtime does (functions.<name>.handler)."""
    return importlib.import_module(f"functions.{name}.handler")


REDIS_PARAM = "/upstat/test/redis-url"
ADMIN_PARAM = "/upstat/test/admin-token"
SSM_ADMIN_TOKEN = "ssm-admin-token-fedcba9876543210"


@pytest.fixture
def ssm(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto SSM holding the stack's two SecureStrings; the process settings name them (no values)."""
    # Imported here: a subprocess importing this module (LambdaContext) must not load boto3 with it.
    import boto3
    from moto import mock_aws

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        client = boto3.client("ssm")
        client.put_parameter(Name=REDIS_PARAM, Value=env["REDIS_URL"], Type="SecureString")
        client.put_parameter(Name=ADMIN_PARAM, Value=SSM_ADMIN_TOKEN, Type="SecureString")
        monkeypatch.delenv("REDIS_URL")
        monkeypatch.delenv("UPSTAT_ADMIN_TOKEN")
        monkeypatch.setenv("UPSTAT_REDIS_URL_SSM_PARAMETER", REDIS_PARAM)
        monkeypatch.setenv("UPSTAT_ADMIN_TOKEN_SSM_PARAMETER", ADMIN_PARAM)
        get_settings.cache_clear()
        store_client.reset_client()
        aws.reset()
        yield client
        aws.reset()
        get_settings.cache_clear()
        store_client.reset_client()


def count_get_parameter() -> list[str]:
    """Names of the GetParameter calls upstat's own SSM client makes from now on."""
    names: list[str] = []
    aws.client("ssm").meta.events.register(
        "provide-client-params.ssm.GetParameter", lambda params, **_: names.append(params["Name"])
    )
    return names
