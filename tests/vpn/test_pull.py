"""The scheduled OpenVPN pull: status files from S3 (moto) and from a local HTTPS server through the SSRF
guard, each file stored once per file time (twice in a row or twice at once), failures reported and
retried, certificates read from an S3 prefix."""

from __future__ import annotations

import datetime as dt
import http.server
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import trustme

from tests.vpn.certs import make_pem
from tests.vpn.files import Conn, v2
from upstat import aws
from upstat.config import get_settings
from upstat.jobs.handlers import openvpn, run_openvpn_pull
from upstat.vpn import reports
from upstat.vpn.store import vpn_store


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def s3(env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    aws.reset()
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket="vpn", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield client
    aws.reset()


def configure(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(f"UPSTAT_{name.upper()}", value)
    get_settings.cache_clear()


def names(r: Any) -> list[str]:
    return [p.common_name for p in reports.people(vpn_store(r), now=now_ms())]


def test_a_file_in_s3_is_stored_once_per_file_time(s3: Any, r: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, openvpn_status_sources="office=s3://vpn/office.status")
    t = int(time.time()) - 120
    s3.put_object(Bucket="vpn", Key="office.status", Body=v2(t, [Conn("alice", 100, 200, t - 60)]).encode())
    assert run_openvpn_pull(now=now_ms())["stored"] == ["office"]
    assert run_openvpn_pull(now=now_ms())["unchanged"] == ["office"]
    assert names(r) == ["alice"]
    s3.put_object(Bucket="vpn", Key="office.status", Body=v2(t + 60, [Conn("bob", 1, 2, t)]).encode())
    with ThreadPoolExecutor(2) as pool:  # two runs at once: the file is stored by one of them
        results = list(pool.map(lambda _: run_openvpn_pull(now=now_ms()), range(2)))
    assert sorted(len(x["stored"]) for x in results) == [0, 1]
    assert [p.common_name for p in reports.people(vpn_store(r), now=now_ms()) if p.active] == ["bob"]


def test_a_bad_file_is_reported_and_tried_again(s3: Any, r: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, openvpn_status_sources="office=s3://vpn/office.status,lab=s3://vpn/missing")
    t = int(time.time()) - 120
    good = v2(t, [Conn("alice", 100, 200, t - 60)])
    s3.put_object(Bucket="vpn", Key="office.status", Body=good.replace(",100,", ",1x0,").encode())
    report = run_openvpn_pull(now=now_ms())
    assert report["failed"]["office"].startswith("status file line 4: Bytes Received")
    assert "lab" in report["failed"] and "NoSuchKey" in report["failed"]["lab"]
    assert names(r) == []
    s3.put_object(Bucket="vpn", Key="office.status", Body=good.encode())
    assert run_openvpn_pull(now=now_ms())["stored"] == ["office"]


def test_certificates_under_an_s3_prefix(s3: Any, r: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, openvpn_certificates="s3://vpn/pki/issued/")
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=10, hours=-1)
    s3.put_object(Bucket="vpn", Key="pki/issued/alice.crt", Body=make_pem("alice", not_after=soon))
    s3.put_object(Bucket="vpn", Key="pki/issued/readme.txt", Body=b"not a certificate")
    s3.put_object(Bucket="vpn", Key="pki/issued/broken.pem", Body=b"nothing")
    report = run_openvpn_pull(now=now_ms())
    assert report["certificates"] == 1 and "broken.pem" in report["failed"]
    assert [(c.file, c.subject) for c in vpn_store(r).certificates()] == [("alice.crt", "CN=alice")]


@pytest.fixture
def https_file() -> Iterator[tuple[str, ssl.SSLContext, dict[str, bytes]]]:
    """An HTTPS server on 127.0.0.1 serving ``files[path]`` (a trustme certificate), and a context
    trusting it."""
    ca = trustme.CA()
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    yield f"https://127.0.0.1:{server.server_address[1]}", client_context, files
    server.shutdown()


def test_a_file_over_https_through_the_guard(
    env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch, https_file: Any
) -> None:
    base, context, files = https_file
    t = int(time.time()) - 120
    files["/status"] = v2(t, [Conn("carol", 100, 200, t - 60)]).encode()
    configure(
        monkeypatch,
        openvpn_status_sources=f"edge={base}/status,gone={base}/nothing,private=https://10.1.2.3/status",
    )
    report = run_openvpn_pull(now=now_ms(), ssl_context=context)
    assert report["stored"] == ["edge"]
    assert report["failed"]["gone"].endswith("HTTP 404")
    assert "private" in report["failed"]["private"]  # refused before any connection
    assert names(r) == ["carol"]
    # Loopback only because the tests allow it: without UPSTAT_ALLOWED_TARGETS the guard refuses it too.
    configure(monkeypatch, allowed_targets="", openvpn_status_sources=f"edge={base}/status")
    monkeypatch.delenv("UPSTAT_ALLOWED_TARGETS")
    get_settings.cache_clear()
    assert "loopback" in run_openvpn_pull(now=now_ms(), ssl_context=context)["failed"]["edge"]


def test_the_job_runs_under_its_lock_and_skips_without_configuration(env: dict[str, str], r: Any) -> None:
    summary = openvpn({"detail-type": "Scheduled Event"}, None)
    assert summary["job"] == "openvpn"
    assert summary["skipped"].startswith("no UPSTAT_OPENVPN_STATUS_SOURCES")


def test_a_bad_sources_setting_names_the_entry(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, openvpn_status_sources="office=ftp://x/y")
    with pytest.raises(ValueError, match="'office=ftp://x/y' is not server=s3://bucket/key"):
        run_openvpn_pull(now=now_ms())
    for bad in ("of/fice=s3://b/k", f"{'x' * 101}=s3://b/k"):  # a server's name is a source id's part
        configure(monkeypatch, openvpn_status_sources=bad)
        with pytest.raises(ValueError, match="is not server=s3://bucket/key"):
            run_openvpn_pull(now=now_ms())
