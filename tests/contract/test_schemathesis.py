"""The OpenAPI document against the live API: schemathesis with every check, negative data included.

A real uvicorn server on a free loopback port, over the test Valkey, rate limits raised for the run.
Fails on any 5xx, any status the document does not list, and any schema-valid request refused by a rule
the document does not state (tests/contract/schemathesis_hooks.py). ``use_after_free`` is left out: a
revoked API key (DELETE /v1/keys/{key_id}) stays readable with ``status: revoked``, the audit trail the
README promises. The seed is fixed, so a run is reproducible.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_client_address import serve
from tests.conftest import ADMIN_TOKEN
from upstat.config import get_settings

ROOT = Path(__file__).resolve().parents[2]
SEED = "20261130"


@pytest.mark.timeout(600)
def test_the_api_keeps_the_contract_of_its_openapi_document(
    env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis (a dev dependency) is not installed"
    for name in ("RATE_LIMIT_PER_IP", "RATE_LIMIT_PER_KEY", "RATE_LIMIT_PER_PUSH_TOKEN"):
        monkeypatch.setenv(f"UPSTAT_{name}", "10000000")
    from tests.api.test_client_address import _free_port

    monkeypatch.setenv("UPSTAT_PORT", str(_free_port()))
    get_settings.cache_clear()
    with serve() as base:
        run = subprocess.run(
            [
                st,
                "run",
                f"{base}/openapi.json",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance,use_after_free",
                "--header",
                f"Authorization: Bearer {ADMIN_TOKEN}",
                "--max-examples",
                os.environ.get("UPSTAT_SCHEMATHESIS_EXAMPLES", "25"),
                "--seed",
                os.environ.get("UPSTAT_SCHEMATHESIS_SEED", SEED),
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--no-color",
                "--request-timeout",
                "30",
            ],
            cwd=tmp_path,
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.contract.schemathesis_hooks",
                "PYTHONPATH": str(ROOT),
            },
            capture_output=True,
            text=True,
            timeout=580,
        )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
