"""The one clock: wall time in epoch milliseconds. Code that needs "now" takes it as a parameter where it
can (tests pass fixed times); the edges (routes, job handlers) read it here."""

from __future__ import annotations

import time


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return int(time.time() * 1000)
