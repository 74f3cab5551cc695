"""GET /metrics: parsed with prometheus_client's own parsers, every value checked against what was stored."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import AUTH, record
from upstat.config import get_settings
from upstat.jobs.runner import run_job
from upstat.timeseries.retention import current_engine
from upstat.uptime.checks import CheckResult
from upstat.uptime.recorder import record_results
from upstat.uptime.services import ServiceStore

MINUTE = 60_000


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def fleet(r: Any) -> int:
    """Services created 15 minutes ago: api: 10 checks, 1 down, last one up in 42 ms with a certificate
    30.5 days from expiry; db: down; hidden: visible false; sources alice (2 metrics) and bob (1 metric)
    besides the services'."""
    store = ServiceStore(r)
    now = now_ms()
    for name in ("api", "db", "hidden"):
        data = {"name": name, "url": "http://127.0.0.1:9/", "visible": name != "hidden"}
        store.create(data, now_ms=now - 15 * MINUTE)
    record(r, "api", *[(now - (10 - i) * MINUTE, "down" if i == 3 else "up", 40.0) for i in range(9)])
    api = store.require("api")
    last = CheckResult(api.id, "up", 200, 42.0, None, None, 30.5, now - 30_000)
    record_results(r, [(api, last)], schedule=False)
    record(r, "db", (now - MINUTE, "down", None))
    record(r, "hidden", (now - MINUTE, "up", 5.0))
    engine = current_engine(r, fresh=True)
    engine.write("alice", "rx", [(now, 1.0)])
    engine.write("alice", "tx", [(now, 1.0)])
    engine.write("bob", "rx", [(now, 1.0)])
    return last.checked_at_ms


def scrape(client: TestClient, **headers: str) -> dict[str, Any]:
    """(family name -> {labels tuple: value}) of the classic text format."""
    res = client.get("/metrics", headers={**AUTH, **headers})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("text/plain; version=")
    out: dict[str, Any] = {}
    for family in text_string_to_metric_families(res.text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def test_every_service_figure_is_what_was_stored(client: TestClient, fleet: int) -> None:
    m = scrape(client)
    assert m["upstat_service_up"] == {
        (("service", "api"),): 1.0,
        (("service", "db"),): 0.0,
        (("service", "hidden"),): 1.0,
    }
    states = {labels: v for labels, v in m["upstat_service_state"].items() if dict(labels)["service"] == "db"}
    assert [dict(labels)["state"] for labels, v in states.items() if v == 1] == ["down"]
    assert len(states) == 6  # one sample per status, a single 1
    assert m["upstat_service_response_time_seconds"][(("service", "api"),)] == 0.042
    assert m["upstat_service_certificate_days_left"] == {(("service", "api"),): 30.5}
    ratio = m["upstat_service_uptime_ratio"]
    assert ratio[(("service", "api"), ("window", "24h"))] == pytest.approx(0.9)  # 9 of 10 checks up
    assert ratio[(("service", "db"), ("window", "30d"))] == 0.0
    covered = m["upstat_service_coverage_ratio"]
    assert covered[(("service", "api"), ("window", "24h"))] == pytest.approx(
        10 / 15, abs=0.01
    )  # 10 in 15 min
    checked = m["upstat_service_last_check_timestamp_seconds"][(("service", "api"),)]
    assert checked == pytest.approx(fleet / 1000)


def test_counts_of_services_sources_and_series(client: TestClient, fleet: int, r: Any) -> None:
    m = scrape(client)
    assert m["upstat_services"][()] == 3
    # alice, bob and the three services' sources; series: alice 2, bob 1, and the services' own
    assert m["upstat_sources"][()] == 5
    engine = current_engine(r, fresh=True)
    of_services = sum(len(engine.metrics_of(s)) for s in engine.sources() if s.startswith("service:"))
    assert of_services >= 6
    assert m["upstat_series"][()] == 3 + of_services


def test_jobs_show_runs_failures_and_the_last_run(client: TestClient, fleet: int) -> None:
    before = time.time()
    run_job("rollup", None, lambda ctx: {"done": 1})
    run_job("rollup", None, lambda ctx: (time.sleep(0.05), {"done": 2})[1])

    def broken(ctx: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run_job("retention", None, broken)
    m = scrape(client)
    assert m["upstat_job_runs_total"] == {(("job", "rollup"),): 2.0, (("job", "retention"),): 1.0}
    assert m["upstat_job_failures_total"] == {(("job", "rollup"),): 0.0, (("job", "retention"),): 1.0}
    assert m["upstat_job_last_duration_seconds"][(("job", "rollup"),)] >= 0.05
    started = m["upstat_job_last_run_timestamp_seconds"][(("job", "retention"),)]
    assert before - 1 <= started <= time.time()
    assert (("job", "retention"),) not in m["upstat_job_last_success_timestamp_seconds"]
    assert (("job", "ping"),) not in m["upstat_job_runs_total"]  # never ran: no sample


def test_openmetrics_is_answered_to_a_scraper_that_asks(client: TestClient, fleet: int) -> None:
    res = client.get("/metrics", headers={**AUTH, "Accept": "application/openmetrics-text; version=1.0.0"})
    assert res.headers["content-type"].startswith("application/openmetrics-text")
    assert res.text.endswith("# EOF\n")
    names = {f.name for f in openmetrics_families(res.text)}
    assert {"upstat_service_up", "upstat_service_uptime_ratio", "upstat_series"} <= names


def test_metrics_need_a_read_key_unless_the_setting_makes_them_public(
    client: TestClient, fleet: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/metrics").status_code == 401
    monkeypatch.setenv("UPSTAT_METRICS_PUBLIC", "true")
    get_settings.cache_clear()
    res = client.get("/metrics")
    assert res.status_code == 200
    names = {s.labels.get("service") for f in text_string_to_metric_families(res.text) for s in f.samples}
    assert "api" in names
    assert "hidden" not in names  # the public sees what the status page shows


def test_public_read_makes_the_metrics_public_too(
    client: TestClient, fleet: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPSTAT_PUBLIC_READ", "true")
    get_settings.cache_clear()
    assert client.get("/metrics").status_code == 200
