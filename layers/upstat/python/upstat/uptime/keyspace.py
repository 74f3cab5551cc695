"""Key names of the uptime store, built by pure functions in one place.

Every key of one service lives under the hash tag ``{svc:<id>}`` (its definition, state, check log,
incidents, maintenance windows, alert claims and outcomes), so a script over one service touches one
cluster slot. The service id is random hex chosen at creation and never changes: renaming a service keeps
its history. Global indexes (name -> id, ordered ids, the due schedule, the incident index, push tokens,
configuration) are single keys written by single-key commands.
"""

from __future__ import annotations


class UptimeKeys:
    """Key builder bound to a prefix (``UPSTAT_KEY_PREFIX``)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    # --- one service: all under {svc:<id>} ---
    def _svc(self, service_id: str) -> str:
        return f"{self.prefix}svc:{{svc:{service_id}}}"

    def service(self, service_id: str) -> str:
        """Hash: ``doc`` (the Service as JSON) and ``version`` (compare-and-set counter)."""
        return self._svc(service_id)

    def state(self, service_id: str) -> str:
        """Hash: the status state machine's fields (see upstat/uptime/recorder.py)."""
        return f"{self._svc(service_id)}:state"

    def checklog(self, service_id: str) -> str:
        """Sorted set: one compact JSON member per check, scored by its time (ms)."""
        return f"{self._svc(service_id)}:log"

    def incidents(self, service_id: str) -> str:
        """Hash: incident id -> incident JSON."""
        return f"{self._svc(service_id)}:inc"

    def maintenance(self, service_id: str) -> str:
        """Hash: window id -> maintenance window JSON."""
        return f"{self._svc(service_id)}:maint"

    def alerts(self, service_id: str) -> str:
        """List: the latest alert outcomes (newest first, capped)."""
        return f"{self._svc(service_id)}:alerts"

    def alert_claim(self, service_id: str, transition: str) -> str:
        """String set with NX: whoever sets it first sends the alert of that transition."""
        return f"{self._svc(service_id)}:claim:{transition}"

    def all_of(self, service_id: str) -> list[str]:
        """Every fixed-name key of one service (alert claims expire on their own)."""
        return [
            self.service(service_id),
            self.state(service_id),
            self.checklog(service_id),
            self.incidents(service_id),
            self.maintenance(service_id),
            self.alerts(service_id),
        ]

    # --- global indexes (each one key) ---
    def names(self) -> str:
        """Hash: service name -> service id."""
        return f"{self.prefix}uptime:names"

    def index(self) -> str:
        """Sorted set: service id scored by creation ms * 1000 + a counter (the listing order)."""
        return f"{self.prefix}uptime:services"

    def index_seq(self) -> str:
        """Counter ordering services created in the same millisecond."""
        return f"{self.prefix}uptime:seq"

    def due(self) -> str:
        """Sorted set: service id scored by its next check time (ms); paused services are absent."""
        return f"{self.prefix}uptime:due"

    def incident_index(self) -> str:
        """Sorted set: ``<service id>:<incident id>`` scored by the incident's start (ms)."""
        return f"{self.prefix}uptime:incidents"

    def global_maintenance(self) -> str:
        """Hash: window id -> maintenance window JSON for windows that apply to every service."""
        return f"{self.prefix}uptime:maint"

    def push_tokens(self) -> str:
        """Hash: sha256(push token) -> service id."""
        return f"{self.prefix}uptime:push"

    def subscribers(self) -> str:
        """Hash: status-page subscriber id -> subscriber JSON (upstat/uptime/subscribers.py)."""
        return f"{self.prefix}uptime:subscribers"

    def subscriber_claim(self, subscriber_id: str, event_key: str) -> str:
        """String set with NX: whoever sets it first sends that event to that subscriber."""
        return f"{self.prefix}sub:{{sub:{subscriber_id}}}:claim:{event_key}"

    def subscriber_deliveries(self, subscriber_id: str) -> str:
        """List: the subscriber's latest delivery outcomes (newest first, capped)."""
        return f"{self.prefix}sub:{{sub:{subscriber_id}}}:deliveries"

    def config(self) -> str:
        """Hash: run-time uptime settings (``history_ttl_s``)."""
        return f"{self.prefix}uptime:config"


def service_source(service_id: str) -> str:
    """The engine source of a service's series: ``service:<id>`` (metrics in upstat/uptime/recorder.py)."""
    return f"service:{service_id}"


def service_id_of(source: str) -> str:
    """The service id of a ``service:<id>`` engine source."""
    return source.removeprefix("service:")
