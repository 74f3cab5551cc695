"""Dialect fixtures: the API's application and client, and the local check targets."""

from __future__ import annotations

from tests.api.conftest import app, auth, client  # noqa: F401  (fixtures, registered by import)
from tests.uptime.targets import (  # noqa: F401  (fixtures, registered by import)
    _http_target,
    local_target,
    target_thread,
)
from tests.uptime.test_alerts_and_fanout import receiver  # noqa: F401  (a fixture, registered by import)
