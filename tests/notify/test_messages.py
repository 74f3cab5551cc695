"""What a message says, and each service's payload within its documented limits whatever the input (pure)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.notify import receivers
from upstat.notify import messages as m

T = 1_782_864_000_000  # 2026-07-01 00:00:00 UTC


def notice(**changes: object) -> m.Notice:
    base: dict[str, object] = {
        "subject_kind": "service",
        "subject_id": "abc",
        "name": "checkout",
        "url": "https://shop.example.com/health",
        "transition": "down",
        "previous": "up",
        "current": "down",
        "at_ms": T,
        "error_kind": "keyword",
        "error": "keyword 'OK' not found",
        "link": "https://status.example.com/status",
    }
    base.update(changes)
    return m.Notice(**base)  # type: ignore[arg-type]


def test_times_are_in_the_channels_zone_summer_and_winter() -> None:
    assert m.when(T, "Europe/Berlin") == "2026-07-01 02:00:00 CEST"
    assert m.when(T - 182 * 86_400_000, "Europe/Berlin") == "2025-12-31 01:00:00 CET"
    assert m.when(T, "UTC") == "2026-07-01 00:00:00 UTC"


def test_durations_read_as_the_two_largest_units() -> None:
    assert [m.duration(ms) for ms in (0, 12_000, 250_000, 7_500_000, 90_061_000)] == [
        "0 s",
        "12 s",
        "4 min 10 s",
        "2 h 5 min",
        "1 d 1 h",
    ]


def test_a_message_names_subject_change_cause_time_and_recovery_time() -> None:
    text = m.plain_text(notice(), "Asia/Tokyo")
    assert text.splitlines()[0] == "checkout is DOWN"
    assert "State: up → down" in text and "Cause: keyword check failed: keyword 'OK' not found" in text
    assert "At: 2026-07-01 09:00:00 JST" in text and "Status page: https://status.example.com/status" in text
    up = m.plain_text(notice(transition="up", previous="down", current="up", down_for_ms=1_500_000), "UTC")
    assert up.startswith("checkout is UP again") and "Down for: 25 min" in up
    cert = m.plain_text(notice(transition="cert_expiring", current="up", cert_days=2.6), "UTC")
    assert "Cause: certificate expires in 3 days" in cert


def test_pagerduty_triggers_while_bad_and_resolves_when_good_under_one_dedup_key() -> None:
    down = m.pagerduty(notice(), "UTC", "k" * 32, "critical")
    up = m.pagerduty(notice(transition="up", current="up"), "UTC", "k" * 32, "critical")
    degraded = m.pagerduty(notice(transition="degraded", current="degraded"), "UTC", "k" * 32, "critical")
    assert (down["event_action"], up["event_action"]) == ("trigger", "resolve")
    assert down["dedup_key"] == up["dedup_key"] == "upstat-service-abc"
    assert degraded["payload"]["severity"] == "warning"
    assert receivers.pagerduty_problems(down) == receivers.pagerduty_problems(up) == []


huge = st.text(min_size=0, max_size=20_000)


@settings(max_examples=40, deadline=None)
@given(name=st.text(min_size=1, max_size=5_000), error=huge, url=st.text(max_size=3_000))
def test_every_payload_keeps_its_services_limits_whatever_the_text(name: str, error: str, url: str) -> None:
    n = notice(name=name, error=error or None, url=url)
    assert receivers.slack_problems(m.slack(n, "UTC")) == []
    assert receivers.discord_problems(m.discord(n, "UTC")) == []
    assert receivers.teams_problems(m.teams(n, "UTC")) == []
    assert receivers.telegram_problems(m.telegram(n, "UTC", "-1")) == []
    assert receivers.pagerduty_problems(m.pagerduty(n, "UTC", "k" * 32, "error")) == []
    path, body = m.opsgenie(n, "UTC", "P2")
    assert receivers.opsgenie_problems(path, body) == []
    headers, text = m.ntfy(n, "UTC", 5, None)
    assert receivers.ntfy_problems(headers, text) == []
    assert all(v.isascii() for v in headers.values())  # header values are ASCII (RFC 2047 otherwise)
