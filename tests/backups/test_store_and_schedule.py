"""The backup domain without HTTP: servers numbered once in order of first report (also when first reports
race, and on a Redis Cluster), jobs found by name through renames, and the schedule rules as a table."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from upstat.backups import schedule
from upstat.backups.store import BackupStore, Job
from upstat.timeseries import timemath as tm

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a Thursday
H, M, D = tm.HOUR, tm.MINUTE, tm.DAY


def test_servers_are_numbered_in_order_of_first_report_and_keep_their_number(r: Any) -> None:
    store = BackupStore(r)
    assert store.register("m-a", "alpha", "DB-1", "docs")[0].number == 1
    assert store.register("m-b", "beta", "DB-1", "docs")[0].number == 2
    again = store.register("m-a", "alpha renamed", "DB-2", "mail")[0]
    assert (again.number, again.name) == (1, "alpha renamed")
    assert [(s.number, s.id, s.name) for s in store.servers()] == [
        (1, "m-a", "alpha renamed"),
        (2, "m-b", "beta"),
    ]
    assert store.lookup("2") == store.server("m-b") and store.lookup("m-a") == store.server("m-a")
    assert store.lookup("3") is None and store.lookup("02") is None


def test_first_reports_racing_get_one_number_each(r: Any) -> None:
    store = BackupStore(r)
    barrier = threading.Barrier(8)

    def first_report(i: int) -> None:
        barrier.wait()
        store.register(f"m-{i % 4}", f"host-{i % 4}", "DB-1", "docs")  # two threads per machine

    threads = [threading.Thread(target=first_report, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = sorted(s.number for s in store.servers())
    assert len(numbers) == 4 and len(set(numbers)) == 4  # one each; a number lost to a race stays unused
    assert all(store.lookup(str(n)) is not None for n in numbers)


def test_a_job_is_found_by_its_current_name_and_by_its_id(r: Any) -> None:
    store = BackupStore(r)
    store.register("m-a", "alpha", "DB-1", "documents")
    store.register("m-a", "alpha", "DB-1", "papers")  # renamed in Duplicati
    assert store.job_by_name("m-a", "papers") == store.job("m-a", "DB-1")
    assert store.job_by_name("m-a", "documents") is None
    assert store.job_by_name("m-a", "DB-1") is not None
    assert [j.name for j in store.jobs_of(store.servers())["m-a"]] == ["papers"]


@pytest.mark.cluster
def test_the_store_works_on_a_cluster(cluster_env: str) -> None:
    from upstat.store.client import get_redis

    store = BackupStore(get_redis())
    for i in range(6):
        store.register(f"machine {{{i}}}", f"h{i}", f"DB-{{{i}}}", f"job {i}")
    job = store.job_by_name("machine {3}", "job 3")
    assert job is not None
    store.set_schedule(job, "0 2 * * *", "UTC", 3_600_000, now_ms=T0)
    assert [j.id for j in store.scheduled()] == ["DB-{3}"]
    assert [s.number for s in store.servers()] == [1, 2, 3, 4, 5, 6]


def daily(tolerance_ms: int = H) -> Job:
    return Job("m", "DB-1", "docs", schedule="0 2 * * *", tz="UTC", tolerance_ms=tolerance_ms)


@pytest.mark.parametrize(
    ("last_run", "now", "missed"),
    [
        (T0 + 2 * H + 5_000, T0 + 4 * H, None),  # ran at 02:00:05
        (T0 + 1 * H + 30 * M, T0 + 4 * H, None),  # started half an hour early: within the tolerance
        (T0 - D + 2 * H, T0 + 2 * H + 30 * M, None),  # today's is due but within the tolerance
        (T0 - D + 2 * H, T0 + 3 * H + M, T0 + 2 * H),  # more than the tolerance late
        (T0 - 3 * D + 2 * H, T0 + 2 * H + 30 * M, T0 - D + 2 * H),  # the latest one past the tolerance
        (None, T0 + 4 * H, T0 + 2 * H),  # never ran
    ],
)
def test_overdue_rule(last_run: int | None, now: int, missed: int | None) -> None:
    assert schedule.missed_occurrence(daily(), last_run, now) == missed


def test_no_schedule_is_never_overdue_and_its_next_run_is_what_the_server_announced() -> None:
    job = Job("m", "DB-1", "docs", reported_next_ms=T0 + D)
    assert schedule.missed_occurrence(job, None, T0) is None
    assert schedule.next_run(job, T0) == T0 + D
    assert schedule.next_run(daily(), T0 + 3 * H) == T0 + D + 2 * H
    assert schedule.expected_runs(job, T0 - 30 * D, T0 - 30 * D, T0, T0) is None


@pytest.mark.parametrize(
    ("first_run", "last_run", "now", "expected"),
    [
        (T0 - 30 * D + 2 * H, T0 + 2 * H, T0 + 3 * H, 31),  # every day from the first run to today
        (T0 - 30 * D + 2 * H, T0 - D + 2 * H, T0 + 2 * H + 30 * M, 30),  # today's not late yet
        (T0 - 30 * D + 2 * H, T0 - D + 2 * H, T0 + 3 * H + M, 31),  # today's is late: expected
        (T0 - 5 * D + 2 * H, T0 + 2 * H, T0 + 3 * H, 6),  # a job that started five days ago
    ],
)
def test_expected_runs(first_run: int, last_run: int, now: int, expected: int) -> None:
    assert schedule.expected_runs(daily(), T0 - 60 * D, first_run, last_run, now) == expected


def test_the_overdue_rule_fires_once_per_overdue_spell_and_again_after_a_run() -> None:
    """Ticks judge the job's built-in absent(duration) rule through the rules' state machine: a missed
    occurrence fires it (one alert), later ticks of the same occurrence change nothing, a late run
    resolves it, and the next missed occurrence fires it again."""
    job = daily()
    state = None

    def tick(last_run: int | None, now: int) -> tuple[str, str | None]:
        nonlocal state
        [j] = schedule.judge_jobs([job], [last_run], [state], now)
        fired = j.after is not j.before and j.after.alert is not None and j.after.seq > j.before.seq
        state = j.after
        return j.after.state, j.after.alert.transition if fired and j.after.alert else None

    last = T0 - D + 2 * H  # yesterday's run
    assert tick(last, T0 + 2 * H + 30 * M) == ("ok", None)  # today's is due, within the tolerance
    assert tick(last, T0 + 3 * H + M) == ("firing", "firing")  # more than the tolerance late: alerted
    assert tick(last, T0 + 3 * H + 2 * M) == ("firing", None)  # the same missed run: not again
    assert state is not None and state.alert is not None and state.alert.at == T0 + 2 * H
    last = T0 + 5 * H  # it ran late
    assert tick(last, T0 + 5 * H + M) == ("resolved", "resolved")
    assert tick(last, T0 + D + 3 * H + M) == ("firing", "firing")  # tomorrow's missed too
