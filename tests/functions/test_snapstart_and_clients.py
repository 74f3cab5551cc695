"""SSM parameters read at init (into the SnapStart snapshot) and again after a restore, through the Lambda
runtime's hook module (snapshot_restore_py, from PyPI); AWS clients that give up in seconds."""

from __future__ import annotations

import importlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from tests.functions.conftest import (
    ADMIN_PARAM,
    REDIS_PARAM,
    SSM_ADMIN_TOKEN,
    LambdaContext,
    count_get_parameter,
    function_module,
)
from tests.functions.test_api_handler import v2
from upstat import aws, snapstart
from upstat.config import get_settings


def run_after_restore_hooks() -> None:
    """What the Lambda runtime does after restoring a snapshot (awslambdaric's run_after_restore)."""
    from snapshot_restore_py import get_after_restore  # type: ignore[import-not-found]

    for func, args, kwargs in get_after_restore():
        func(*args, **kwargs)


@pytest.fixture
def fresh_hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import snapshot_restore_py  # type: ignore[import-not-found]

    monkeypatch.setattr(snapshot_restore_py, "_after_restore_registry", [])
    monkeypatch.setattr(snapstart, "_registered", False)
    yield


def test_the_api_handler_reads_its_parameters_at_import_not_on_the_first_request(
    ssm: Any, fresh_hooks: None
) -> None:
    aws.client("ssm")
    calls = count_get_parameter()
    sys.modules.pop("functions.api.handler", None)
    api = importlib.import_module("functions.api.handler")
    assert sorted(calls) == sorted([REDIS_PARAM, ADMIN_PARAM])  # at import: in the snapshot
    ok = api.handler(v2("GET", "/v1/retention", token=SSM_ADMIN_TOKEN), LambdaContext())
    assert ok["statusCode"] == 200, ok
    assert sorted(calls) == sorted([REDIS_PARAM, ADMIN_PARAM])  # the request read nothing more


def test_after_a_restore_the_parameters_are_read_again(ssm: Any, fresh_hooks: None) -> None:
    sys.modules.pop("functions.api.handler", None)
    api = importlib.import_module("functions.api.handler")
    # The snapshot holds the old token; it is rotated while the snapshot waits to be restored.
    ssm.put_parameter(Name=ADMIN_PARAM, Value="rotated-admin-token-0123", Type="SecureString", Overwrite=True)
    calls = count_get_parameter()
    run_after_restore_hooks()
    assert sorted(calls) == sorted([REDIS_PARAM, ADMIN_PARAM])
    fresh = api.handler(v2("GET", "/v1/retention", token="rotated-admin-token-0123"), LambdaContext())
    assert fresh["statusCode"] == 200
    stale = api.handler(v2("GET", "/v1/retention", token=SSM_ADMIN_TOKEN), LambdaContext())
    assert stale["statusCode"] == 401


def test_the_hook_is_registered_once_however_often_prepare_runs(ssm: Any, fresh_hooks: None) -> None:
    from snapshot_restore_py import get_after_restore

    assert snapstart.prepare()["hook"] is True
    assert snapstart.prepare()["hook"] is True
    assert [func for func, _, _ in get_after_restore()] == [snapstart.after_restore]


def test_outside_the_lambda_runtime_there_is_no_hook_and_nothing_fails(
    ssm: Any, fresh_hooks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # `import` raises ImportError
    outcome = snapstart.prepare()
    assert outcome == {"parameters": {REDIS_PARAM: None, ADMIN_PARAM: None}, "hook": False}


def test_a_parameter_that_cannot_be_read_at_init_does_not_fail_the_import(
    ssm: Any, fresh_hooks: None, caplog: pytest.LogCaptureFixture
) -> None:
    ssm.delete_parameter(Name=ADMIN_PARAM)
    outcome = snapstart.prepare()
    assert outcome["parameters"] == {REDIS_PARAM: None, ADMIN_PARAM: "ParameterNotFound"}
    assert "1 SSM parameters not read" in caplog.text
    assert SSM_ADMIN_TOKEN not in caplog.text
    # The request that needs it asks again, and answers 503 (never a 500) while it is missing.
    response = function_module("api").handler(v2("GET", "/v1/retention", token="x"), LambdaContext())
    assert response["statusCode"] == 503


def test_locally_with_no_parameter_names_nothing_is_read(env: dict[str, str], fresh_hooks: None) -> None:
    get_settings.cache_clear()
    assert snapstart.prepare()["parameters"] == {}


# --- clients that give up ---------------------------------------------------------------------------------


class SilentEndpoint:
    """A TCP server on 127.0.0.1 that accepts connections, counts them, and never answers: what an AWS
    endpoint looks like from a subnet whose packets go nowhere, once connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_ssm(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentEndpoint]:
    endpoint = SilentEndpoint()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", endpoint.url)
    aws.reset()
    yield endpoint
    aws.reset()
    endpoint.close()


def test_clients_have_short_timeouts_and_standard_retries() -> None:
    config = aws.client_config()
    assert (config.connect_timeout, config.read_timeout) == (2.0, 5.0)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_an_endpoint_that_never_answers_fails_in_seconds_after_three_attempts(
    silent_ssm: SilentEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aws, "READ_TIMEOUT_S", 0.5)  # the real 5 s, shortened for the test
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        aws.get_ssm_parameter("/upstat/test/admin-token")
    elapsed = time.monotonic() - started
    assert len(silent_ssm.accepted) == aws.MAX_ATTEMPTS == 3
    # Three reads of 0.5 s and the standard mode's jittered backoff (at most 1 s, then 2 s).
    assert 1.5 <= elapsed < 1.5 + 3 + 2


def test_an_unreachable_ssm_is_tried_once_for_all_the_parameters(
    silent_ssm: SilentEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aws, "READ_TIMEOUT_S", 0.3)
    names = ["/upstat/test/redis-url", "/upstat/test/admin-token", "/upstat/test/webhook-secret"]
    outcome = aws.refresh_parameters(names)
    assert outcome == dict.fromkeys(names, "ReadTimeoutError")
    assert len(silent_ssm.accepted) == aws.MAX_ATTEMPTS  # not once per parameter
