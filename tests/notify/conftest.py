"""Notification fixtures: the local stand-ins of the services (tests/notify/receivers.py), the check
targets, and the settings pointing the services' API base URLs at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notify.receivers import Services, services  # noqa: F401  (a fixture, registered by import)
from tests.uptime.targets import (  # noqa: F401  (fixtures, registered by import)
    _http_target,
    local_target,
    target_thread,
)
from upstat.config import get_settings


@pytest.fixture
def pointed(env: dict[str, str], services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:  # noqa: F811
    """The services' API base URLs (Telegram, PagerDuty, Opsgenie, ntfy) set to the local stand-ins."""
    monkeypatch.setenv("UPSTAT_TELEGRAM_API_URL", f"{services.base}/telegram")
    monkeypatch.setenv("UPSTAT_PAGERDUTY_EVENTS_URL", f"{services.base}/pagerduty/v2/enqueue")
    monkeypatch.setenv("UPSTAT_OPSGENIE_API_URL", f"{services.base}/opsgenie")
    monkeypatch.setenv("UPSTAT_NTFY_URL", f"{services.base}/ntfy")
    monkeypatch.setenv("UPSTAT_PUBLIC_BASE_URL", "https://status.example.com")
    get_settings.cache_clear()
    yield services
    get_settings.cache_clear()
