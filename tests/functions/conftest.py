"""Lambda handlers driven by real-shaped events (tests/events/*.json) against the real Valkey."""

from __future__ import annotations

import copy
import importlib
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

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
