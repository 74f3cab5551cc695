"""Slow and hanging check targets in one tick with fast ones: a server that accepts and never answers, one
that trickles its headers and one its body, 10 MB bodies and an endless one. Each costs at most its own
timeout, the fast checks are not held up by them, and a body is read only up to the cap."""

from __future__ import annotations

import time
from typing import Any

from tests.uptime.targets import KEYWORD, LocalTarget
from upstat.uptime import checklog
from upstat.uptime.services import ServiceStore
from upstat.uptime.ticks import run_ping_tick

MIN = 60_000
HANG_MS = 2000  # the hanging targets' timeout
BIG_MS = 8000  # the 10 MB targets' timeout: they must answer long before it


def test_hanging_trickling_and_huge_targets_cost_only_their_own_timeout(
    r: Any, local_target: LocalTarget, silent_port: int, trickle_port: int
) -> None:
    store = ServiceStore(r)
    now = (int(time.time() * 1000) // MIN) * MIN - 10 * MIN
    plan: dict[str, dict[str, Any]] = {
        **{f"fast{i}": {"url": local_target.url("/ok"), "timeout": 5000} for i in range(10)},
        "silent": {"url": f"http://127.0.0.1:{silent_port}/", "timeout": HANG_MS},
        "trickled headers": {"url": f"http://127.0.0.1:{trickle_port}/", "timeout": HANG_MS},
        "trickled body": {"url": local_target.url("/drip"), "timeout": HANG_MS, "keyword": KEYWORD},
        "endless": {"url": local_target.url("/endless"), "timeout": HANG_MS, "keyword": KEYWORD},
        # 10 MB then the keyword: past the 64 KiB read cap, so not found (and not waited for)
        "10 MB, keyword at its end": {
            "url": local_target.url("/big?kb=10240"),
            "timeout": BIG_MS,
            "keyword": KEYWORD,
        },
        "10 MB, no keyword": {"url": local_target.url("/big?kb=10240"), "timeout": BIG_MS},
    }
    ids = {
        name: store.create({"name": name.replace(" ", "-").replace(",", ""), **spec}, now_ms=now).id
        for name, spec in plan.items()
    }
    started = time.monotonic()
    summary = run_ping_tick(r, now_ms=now, deadline=started + 60)
    took = time.monotonic() - started
    assert summary["checked"] == len(plan), summary
    # The whole tick: the hanging targets' own timeout and some (the machine is shared), far below the
    # 10 MB targets' timeout (each read up to the cap, not to its end).
    assert took < HANG_MS / 1000 + 2.0, took
    entries = {name: checklog.history(r, sid, now_ms=now)[0] for name, sid in ids.items()}
    kinds = {name: checklog.read_state(r, sid).last_error_kind for name, sid in ids.items()}
    for i in range(10):
        fast = entries[f"fast{i}"]
        assert fast.status == "up" and fast.response_ms is not None and fast.response_ms < 1000, fast
    for name in ("silent", "trickled headers", "trickled body"):
        assert (entries[name].status, kinds[name]) == ("down", "timeout"), name
        assert HANG_MS * 0.9 <= entries[name].response_ms < HANG_MS + 1000, (name, entries[name])
    assert (entries["endless"].status, kinds["endless"]) == ("down", "keyword")
    assert (entries["10 MB, keyword at its end"].status, kinds["10 MB, keyword at its end"]) == (
        "down",
        "keyword",
    )
    assert entries["10 MB, no keyword"].status == "up"
    for name in ("endless", "10 MB, keyword at its end", "10 MB, no keyword"):
        assert entries[name].response_ms < BIG_MS / 4, (name, entries[name])
