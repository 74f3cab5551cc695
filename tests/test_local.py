"""`make run`'s scheduler fires the deployed handlers with EventBridge-shaped events."""

from __future__ import annotations

import threading

from upstat.jobs import SCHEDULES, Schedule
from upstat.local import fire, scheduled_event


def test_scheduled_event_has_the_eventbridge_shape() -> None:
    event = scheduled_event("rollup")
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"][0].endswith("rule/upstat-rollup")


def test_local_firing_runs_the_real_rollup_and_retention_jobs(r: object) -> None:
    by_name = {s.name: s for s in SCHEDULES}
    assert fire(by_name["rollup"])["job"] == "rollup"
    assert fire(by_name["retention"])["complete"] is True


def test_two_overlapping_local_runs_do_the_work_once(r: object) -> None:
    schedule = Schedule("slow", 60, "tests.test_local:_slow_job")
    results: list[dict[str, object]] = []
    threads = [threading.Thread(target=lambda: results.append(fire(schedule))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted("skipped" in r for r in results) == [False, True]
    assert _runs == [1]


_runs: list[int] = []


def _slow_job(event: dict[str, object], context: object) -> dict[str, object]:
    import time

    from upstat.jobs.runner import run_job

    def body(ctx: object) -> dict[str, object]:
        _runs.append(1)
        time.sleep(0.3)
        return {}

    return run_job("slow", context, body)  # type: ignore[arg-type]
