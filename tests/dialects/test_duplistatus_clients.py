"""The duplistatus document's own clients against upstat: its JavaScript class under node and its Python
class (with requests), taken from the document at run time and run unchanged with the document's usage
lines, against the app under uvicorn on a loopback port. Only the base URL of the usage lines is ours.

The document's clients send no key, so the chart routes are read with UPSTAT_PUBLIC_READ on (README).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.test_client_address import _free_port, serve
from tests.dialects.test_duplistatus import NAS, Run, post_at, tm_now
from upstat.config import get_settings
from upstat.timeseries import timemath as tm

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "tests" / "reference" / "duplistatus-chart-data-api.md"
SHARED = ROOT.parent / "shared" / "reference" / "duplistatus-chart-data-api.md"
DOCUMENT_URL = "http://localhost:9666"


def client_code(language: str) -> str:
    """The document's code block in ``language`` that defines DuplistatusChartAPI (class and usage)."""
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)
    [block] = [b for b in blocks if "class DuplistatusChartAPI" in b]
    return block


def test_the_copy_in_the_repository_is_the_reference_document() -> None:
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is not here (only the copy in tests/reference is)")
    assert DOC.read_text() == SHARED.read_text()


@pytest.fixture
def live(env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """server-01 (server 1) with a daily-backup job (ten days, growing) and a weekly-backup job, then the
    app under uvicorn with public reads."""
    from upstat.api.app import create_app

    now = tm_now()
    anchor = (now - tm.HOUR) // tm.MINUTE * tm.MINUTE
    runs = [
        Run(NAS, "server-01", "DB-1", "daily-backup", anchor - k * tm.DAY, "Success", 5400 - k,
            1_073_741_824 - k * 10_000_000, 1250 - k, 536_870_912)
        for k in range(9, -1, -1)
    ]  # fmt: skip
    runs.insert(3, Run(NAS, "server-01", "DB-2", "weekly-backup", anchor - 6 * tm.DAY - tm.HOUR, "Warning",
                       7200, 2_147_483_648, 2500, 1_073_741_824))  # fmt: skip
    with TestClient(create_app()) as http:
        for run in runs:
            assert post_at(http, monkeypatch, run).status_code == 200
    monkeypatch.setenv("UPSTAT_PUBLIC_READ", "true")
    monkeypatch.setenv("UPSTAT_PORT", str(_free_port()))
    get_settings.cache_clear()
    with serve() as base:
        yield base


def expected_lines(base: str) -> list[float]:
    """What the usage lines print: total backups (7d), server 1's success rate (30d), the growth rate of
    daily-backup (7d), read from the API itself."""
    get = lambda path: httpx.get(f"{base}{path}").json()["data"]  # noqa: E731
    return [
        get("/api/chart-data/aggregated?period=7d&metric=all&granularity=hour")["summary"]["totalBackups"],
        get("/api/chart-data/server/1?period=30d&metric=duration&granularity=day")["summary"]["successRate"],
        get("/api/chart-data/server/1/backup/daily-backup?period=7d&metric=size&granularity=hour")["summary"][
            "growthRate"
        ],
    ]


def printed_numbers(out: str) -> list[float]:
    return [float(m) for m in re.findall(r": (-?[0-9.]+)%?$", out, flags=re.M)]


def test_the_documents_python_client_runs_unchanged(live: str) -> None:
    code = client_code("python")
    assert DOCUMENT_URL in code
    code = code.replace(DOCUMENT_URL, live)
    code += (
        "\ntry:\n    chart_api.get_server_data(99)\nexcept Exception as exc:\n    print(f'Refused: {exc}')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    totals = expected_lines(live)
    # The seeded data: 7 daily runs and the weekly one within 7 days; the warning is a success; growing.
    assert totals[0] == 8 and totals[1] == 100.0 and totals[2] > 0
    assert printed_numbers(run.stdout) == totals
    assert run.stdout.splitlines()[0] == "Total backups: 8"
    assert run.stdout.splitlines()[-1] == "Refused: Server not found"


def test_the_documents_javascript_client_runs_unchanged_under_node(live: str, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the document's JavaScript client cannot run here")
    code = client_code("javascript").replace(DOCUMENT_URL, live)
    code += (
        "\ntry { await chartAPI.getServerData(99); } catch (e) { console.log('Refused: ' + e.message); }\n"
    )
    script = tmp_path / "client.mjs"  # top-level await, as the document's usage is written
    script.write_text(code)
    run = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "Total backups: 8"
    numbers = [float(line.rsplit(" ", 1)[1]) for line in lines[:3]]
    assert numbers == expected_lines(live)
    assert lines[3] == "Refused: Server not found"
