"""Key names of the notification store, built by pure functions in one place.

The channels are one hash (id -> sealed document), written with single-key commands. A subject's flap
record lives under the subject's own hash tag (``{svc:<id>}``, as its alert claims), so the flap script
touches one cluster slot; the index of flapping subjects is one sorted set.
"""

from __future__ import annotations


class NotifyKeys:
    """Key builder bound to a prefix (``UPSTAT_KEY_PREFIX``)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def channels(self) -> str:
        """Hash: channel id -> the channel as JSON, its secrets sealed (upstat.notify.sealing)."""
        return f"{self.prefix}notify:channels"

    def flap(self, subject_id: str) -> str:
        """Hash: the subject's last state, since when it is bad, whether it flaps (upstat.notify.flap)."""
        return f"{self.prefix}svc:{{svc:{subject_id}}}:flap"

    def flap_times(self, subject_id: str) -> str:
        """Sorted set: the subject's recent state changes (seq scored by time, ms) within the flap window."""
        return f"{self.prefix}svc:{{svc:{subject_id}}}:flaptimes"

    def flapping(self) -> str:
        """Sorted set: subjects flapping now, scored by their latest change (ms): the sweep settles them."""
        return f"{self.prefix}notify:flapping"

    def deliveries(self) -> str:
        """List: the latest alert outcomes of every subject (newest first, capped): ``GET /v1/alerts``."""
        return f"{self.prefix}notify:deliveries"
