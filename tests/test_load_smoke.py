"""`make load` in short: every ingest route and the chart queries under load for a few seconds against the
API under uvicorn on a real Valkey, with no failed request (bench/load.py; the README's figures come from
its 60 s run)."""

from __future__ import annotations

import pytest
from bench import load


@pytest.mark.single_redis("bench/load.py starts its own Valkey (one server), as `make load` does")
def test_a_short_load_run_answers_every_request_of_every_route(capsys: object) -> None:
    routes = load.run(duration=3)
    assert {r.name for r in routes} == {
        "v1_ingest",
        "push_beat",
        "openvpn_status",
        "netflow_flows",
        "duplistatus_upload",
        "openwisp_monitoring",
        "v1_chart",
    }
    for route in routes:
        assert route.latencies, f"{route.name} sent no request"
        assert route.errors == 0, f"{route.name}: {route.errors} errors, first: {route.first_error}"
