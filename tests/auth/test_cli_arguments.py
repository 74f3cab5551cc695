"""The ``upstat`` command's arguments: checked before anything connects; --version; a help that says where
Redis is looked for and what to do when it is out of reach."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import upstat
from upstat.cli import main
from upstat.config import get_settings
from upstat.store import client as store_client

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_redis(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """No REDIS_URL and no SSM parameter: any attempt to connect fails with 'REDIS_URL is not set'."""
    monkeypatch.delenv("REDIS_URL")
    get_settings.cache_clear()
    store_client.reset_client()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse exits on --version, --help and usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "--scope", "bogus"], "unknown scope 'bogus'"),
        (["keys", "create", "--scope", "read,nope"], "unknown scope 'nope'"),
        (["keys", "create", "--scope", "read", "--expires-days", "0"], "at least 1"),
        (["keys", "create", "--scope", "read", "--expires-days", "soon"], "whole number of days"),
        (["keys", "create"], "--scope"),
        (["keys", "revoke"], "key_id"),
    ],
)
def test_bad_arguments_are_refused_before_any_connection(
    no_redis: None, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2  # argparse's usage error
    assert message in err
    assert "REDIS_URL" not in err


def test_good_arguments_do_reach_for_redis(no_redis: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "keys", "create", "--scope", "read")
    assert code == 1 and out == ""
    assert "REDIS_URL is not set" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"upstat {upstat.__version__}"


def test_the_installed_command_prints_its_version() -> None:
    command = Path(sys.executable).parent / "upstat"
    out = subprocess.run([str(command), "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == f"upstat {upstat.__version__}"


@pytest.mark.parametrize("args", [["--help"], ["keys", "--help"]])
def test_help_names_the_ssm_parameter_and_the_keys_api_for_a_vpc_only_redis(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "UPSTAT_REDIS_URL_SSM_PARAMETER" in out
    assert "REDIS_URL" in out and "UPSTAT_REDIS_CLUSTER" in out
    assert "/v1/keys" in out and "admin-token" in out and "VPC" in out
