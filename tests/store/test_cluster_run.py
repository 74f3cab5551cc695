"""The setting that runs the whole suite on a Redis Cluster (UPSTAT_TEST_REDIS=cluster, `make test-cluster`).

A cluster run puts the shared fixtures on three primaries; the flush before each test empties all three;
the tests that keep one server are named with their reason at the end; a misspelt mode stops the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import conftest
from tests.conftest import ON_CLUSTER
from tests.redis_helpers import all_keys, on_cluster

ROOT = Path(__file__).resolve().parents[2]
THIS = "tests/store/test_cluster_run.py::test_the_shared_client_is_the_run_s_redis_and_its_flush_empties_it"


def test_the_shared_client_is_the_run_s_redis_and_its_flush_empties_it(r: Any, env: dict[str, str]) -> None:
    assert on_cluster(r) == ON_CLUSTER == (env.get("UPSTAT_REDIS_CLUSTER") == "true")
    names = [f"flush:{{{tag}}}" for tag in "abcdefgh"]  # eight hash slots: on a cluster, every primary
    for name in names:
        r.set(name, 1)
    assert all_keys(r, "flush:*") == sorted(n.encode() for n in names)
    if ON_CLUSTER:
        primaries = r.get_primaries()
        assert len(primaries) == 3
        assert all(r.dbsize(target_nodes=node) > 0 for node in primaries)
    r.flushall()  # what the `r` fixture does before each test
    assert all_keys(r) == []


def _pytest(mode: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UPSTAT_TEST_REDIS": mode}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_cluster_run_uses_the_cluster_and_names_the_tests_kept_on_one_server() -> None:
    one_server = (
        "tests/faults/test_redis_faults.py::test_health_says_writes_fail_while_redis_is_paused_for_writes"
    )
    done = _pytest("cluster", THIS, one_server)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert "Redis: a cluster of 3 primaries; 1 test(s) on one server by nature" in done.stdout
    assert f"{one_server}: kills, pauses" in done.stdout


def test_an_unknown_mode_stops_the_run_naming_the_setting(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conftest, "REDIS_MODE", "clustre")
    with pytest.raises(
        pytest.UsageError, match=r"UPSTAT_TEST_REDIS='clustre': expected one of single, cluster"
    ):
        conftest.pytest_configure(pytestconfig)
