"""Sessions from successive snapshots: restarts are never negative, first sights count whole only from a
start we can write, members that left have ended."""

from __future__ import annotations

from upstat.timeseries.sessions import Seen, increase, is_restart, rate, step


def test_a_new_start_or_a_lower_counter_is_a_restart() -> None:
    assert is_restart(Seen(100, (50.0, 5.0), 1), Seen(200, (60.0, 6.0), 2))
    assert is_restart(Seen(None, (50.0, 5.0), 1), Seen(None, (10.0, 6.0), 2))
    assert not is_restart(Seen(100, (50.0, 5.0), 1), Seen(100, (50.0, 9.0), 2))


def test_increase_counts_a_restart_whole_and_never_negative() -> None:
    assert increase(Seen(1, (500.0,), 10), Seen(1, (800.0,), 20), whole=False) == (300.0,)
    assert increase(Seen(1, (500.0,), 10), Seen(15, (900.0,), 20), whole=False) == (900.0,)
    assert increase(Seen(1, (500.0,), 10), Seen(1, (40.0,), 20), whole=False) == (40.0,)
    assert increase(None, Seen(1, (40.0,), 20), whole=True) == (40.0,)
    assert increase(None, Seen(1, (40.0,), 20), whole=False) == (0.0,)


def test_rates_are_per_second_within_a_session() -> None:
    assert rate(Seen(0, (1000.0,), 10_000), Seen(0, (4000.0,), 13_000)) == (1000.0,)
    assert rate(None, Seen(10_000, (500.0,), 15_000)) == (100.0,)  # since its start
    assert rate(None, Seen(None, (500.0,), 15_000)) == (0.0,)


def test_a_step_sorts_members_and_sums_what_moved() -> None:
    previous = {
        "a": Seen(1, (10.0, 1.0), 100),
        "b": Seen(1, (20.0, 2.0), 100),
        "gone": Seen(1, (5.0, 5.0), 50),
    }
    current = {
        "a": Seen(1, (15.0, 1.0), 200),
        "b": Seen(150, (3.0, 3.0), 200),
        "c": Seen(180, (7.0, 7.0), 200),
        "gone": Seen(1, (6.0, 5.0), 200),
    }
    s = step(previous, current, previous_time=100, counted_whole=lambda seen: seen.since == 180)
    assert (s.continued, s.restarted, s.started) == (["a", "gone"], ["b"], ["c"])
    assert s.ended == []
    assert s.increase == {"a": (5.0, 0.0), "b": (3.0, 3.0), "c": (7.0, 7.0), "gone": (1.0, 0.0)}
    assert s.total == (16.0, 10.0)
    left = step(current, {"a": Seen(1, (15.0, 1.0), 300)}, previous_time=200, counted_whole=lambda _: True)
    assert left.ended == ["b", "c", "gone"]
    assert step({}, {}, previous_time=None, counted_whole=lambda _: True).total == ()
