"""Counter increases over a window from the coarsest tiers equal one read of the whole window."""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

import pytest

from upstat.config import get_settings
from upstat.timeseries import timemath as tm
from upstat.timeseries.model import Query
from upstat.timeseries.render import counter_increase
from upstat.timeseries.retention import current_engine
from upstat.timeseries.timemath import Interval, RangeSpec
from upstat.timeseries.windows import pieces, window_increases

TIERS = tm.build_tiers("5m,15m,1h,6h,1d", "raw=48h,5m=14d,15m=35d,1h=90d,6h=400d,1d=0")


def test_a_month_is_read_as_a_head_whole_days_and_a_tail() -> None:
    step = 450 * tm.MINUTE
    end = 4001 * step  # not on a day boundary
    start = end - 96 * step
    parts = pieces(start, end, [t.ms for t in TIERS[1:]])
    assert parts[0].start == start and parts[-1].end == end
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))
    days = [p for p in parts if p.block == tm.DAY]
    first_day, last_day = -(-start // tm.DAY) * tm.DAY, end // tm.DAY * tm.DAY
    assert [(d.start, d.end) for d in days] == [(first_day, last_day)]  # every whole day in one daily read
    assert len(parts) <= 2 * len(TIERS) - 1  # finer blocks only at the edges


@pytest.fixture
def month_engine(env: dict[str, str], r: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("UPSTAT_RETENTION", "raw=32d,5m=33d,15m=35d,1h=90d,6h=400d,1d=0")
    get_settings.cache_clear()
    return current_engine(r, fresh=True)


def test_the_parts_add_up_to_one_read_of_the_window(month_engine: Any) -> None:
    rng = random.Random(11)
    now = int(time.time() * 1000)
    step = 450 * tm.MINUTE
    end = now - now % step + step
    start = end - 96 * step
    series = []
    for s in range(3):
        value, points = 0.0, []
        for t in range(now - 30 * tm.DAY, now, 37 * tm.MINUTE):
            value = rng.randint(0, 500) if rng.random() < 0.01 else value + rng.randint(0, 10_000)  # restarts
            points.append((t, value))
        month_engine.write(f"c{s}", "bytes", points, kind="counter", now=now)
        series.append((f"c{s}", "bytes"))
    series.append(("nobody", "bytes"))
    whole = month_engine.read_many(series, Query(RangeSpec(start=start, end=end), Interval(15, "m")), now=now)
    expected = [counter_increase(b) if b is not None else 0.0 for b in whole]
    assert window_increases(month_engine, series, start=start, end=end, now=now) == pytest.approx(
        expected, rel=1e-12
    )
    assert expected[0] > 0 and expected[-1] == 0.0
