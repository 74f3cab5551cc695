"""The ``upstat keys`` command, in-process against the real Valkey: the same records as the routes."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.auth.helpers import bearer, every_value
from tests.redis_helpers import all_keys
from upstat.api.app import create_app
from upstat.auth import cache
from upstat.auth.keys import create_key
from upstat.cli import main
from upstat.config import get_settings


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def create(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    assert main(["keys", "create", *args]) == 0
    out, err = capsys.readouterr()
    return out.strip(), err


def test_create_prints_the_token_alone_and_the_api_accepts_it(
    r: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    token, err = create(capsys, "--scope", "admin", "--name", "ops")
    assert token.startswith("upk_") and "\n" not in token
    assert "shown only now" in err and token not in err
    with TestClient(create_app()) as http:
        listed = http.get("/v1/keys", headers=bearer(token))
    assert listed.status_code == 200
    assert listed.json()["keys"][0]["name"] == "ops" and listed.json()["keys"][0]["created_by"] == "cli"


def test_scopes_source_and_expiry(r: Any, capsys: pytest.CaptureFixture[str]) -> None:
    create(capsys, "--scope", "read,write", "--source", "dev-1", "--expires-days", "7", "--name", "device")
    assert main(["keys", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    key = listed["keys"][0]
    assert listed["count"] == 1 and key["scopes"] == ["read", "write"] and key["source"] == "dev-1"
    assert key["expires_at"] and key["status"] == "active"


def test_list_and_show_print_no_secret(r: Any, capsys: pytest.CaptureFixture[str]) -> None:
    token, _ = create(capsys, "--scope", "write", "--name", "exporter")
    key_id, secret = token.split("_")[1:3]
    assert main(["keys", "list"]) == 0
    table = capsys.readouterr().out
    assert key_id in table and "exporter" in table and secret not in table
    assert main(["keys", "show", key_id]) == 0
    shown = capsys.readouterr().out
    assert json.loads(shown)["key_id"] == key_id and secret not in shown
    assert secret.encode() not in every_value(r)


def test_revoke_stops_the_key(r: Any, capsys: pytest.CaptureFixture[str]) -> None:
    token, _ = create(capsys, "--scope", "read")
    key_id = token.split("_")[1]
    with TestClient(create_app()) as http:
        assert http.get("/v1/series", headers=bearer(token)).status_code == 200
        assert main(["keys", "revoke", key_id]) == 0
        assert "within 5 s" in capsys.readouterr().err
        assert http.get("/v1/series", headers=bearer(token)).status_code == 401  # same process: at once
    assert main(["keys", "revoke", "abcdefghijkl"]) == 1
    assert "no key" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "--scope", "root"], "unknown scope"),
        (["keys", "create", "--scope", "admin", "--source", "dev"], "cannot hold the admin scope"),
        (["keys", "create", "--scope", "read", "--expires-days", "0"], "at least 1"),
    ],
)
def test_bad_arguments_say_why(
    r: Any, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    assert code != 0
    assert message in capsys.readouterr().err
    assert all_keys(r) == []


def test_an_unreachable_redis_is_an_error_message(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from upstat.config import get_settings
    from upstat.store import client as store_client

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1")
    monkeypatch.setenv("UPSTAT_REDIS_RETRIES", "0")
    get_settings.cache_clear()
    store_client.reset_client()
    assert main(["keys", "list"]) == 1
    assert "error: Redis" in capsys.readouterr().err


def test_list_says_what_each_key_is_limited_to(r: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from upstat.sources.store import create_organization

    create_organization(r, slug="acme", name="Acme", now_ms=1_700_000_000_000)
    create(capsys, "--scope", "read", "--organization", "acme", "--name", "orgread")
    create(capsys, "--scope", "write", "--source", "alice", "--name", "agent")
    create(capsys, "--scope", "read", "--name", "plain")
    assert main(["keys", "list"]) == 0
    rows = {line.split()[-1]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "organization acme" in rows["orgread"] and "source alice" in rows["agent"]
    assert "organization" not in rows["plain"] and "source" not in rows["plain"]


def test_list_into_a_pipe_closed_early_ends_quietly(r: Any, env: dict[str, str]) -> None:
    for n in range(1200):  # more than a pipe holds (64 KiB): writes go on after head has left
        create_key(r, get_settings(), name=f"k{n}", scopes=["read"])
    program = "from upstat.cli import main; raise SystemExit(main(['keys', 'list']))"
    run = subprocess.run(
        f"{shlex.quote(sys.executable)} -c {shlex.quote(program)} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "0"},
        check=False,
        executable="/bin/bash",
    )
    assert run.stdout.startswith("KEY ID") and "Traceback" not in run.stderr, run.stderr
