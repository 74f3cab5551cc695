"""Notification fixtures: the local stand-ins of the services (tests/notify/receivers.py), the check
targets, and the settings pointing the services' API base URLs at them."""

from __future__ import annotations

from tests.notify.receivers import pointed, services  # noqa: F401  (fixtures, registered by import)
from tests.uptime.targets import (  # noqa: F401  (fixtures, registered by import)
    _http_target,
    local_target,
    target_thread,
)
