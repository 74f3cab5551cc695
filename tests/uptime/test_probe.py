"""The prober against real local servers: verdicts, error classes, timeouts, body cap, redirects, TLS, TCP,
DNS."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from tests.uptime.targets import EXPIRED_DAYS_AGO, KEYWORD, OK_BODY, TLS_CERT_DAYS, LocalTarget
from upstat.uptime.checks import CheckResult, CheckSpec
from upstat.uptime.probe import MAX_REDIRECTS, probe_many, run_probes
from upstat.uptime.ssrf import AddressPolicy

LOOPBACK = AddressPolicy.from_text("127.0.0.0/8,::1/128")
DAY_MS = 86_400_000


def probe(*specs: CheckSpec, **kwargs) -> list[CheckResult]:
    kwargs.setdefault("policy", LOOPBACK)
    return run_probes(list(specs), **kwargs)


def one(spec: CheckSpec, **kwargs) -> CheckResult:
    return probe(spec, **kwargs)[0]


def verdict(result: CheckResult) -> tuple[str, int | None, str | None]:
    return result.status, result.code, result.error_kind


def port_of(target: LocalTarget | str) -> int:
    base = target.base_url if isinstance(target, LocalTarget) else target
    return int(base.rsplit(":", 1)[1])


# --- HTTP verdicts -----------------------------------------------------------------------------------


def test_a_healthy_target_is_up_with_its_code_and_time(local_target):
    result = one(CheckSpec("svc", local_target.url("/ok")))
    assert verdict(result) == ("up", 200, None)
    assert result.service_id == "svc" and 0 < (result.response_ms or 0) < 1000
    assert result.cert_days is None and result.error is None


@pytest.mark.parametrize(("path", "code"), [("/down", 500), ("/status/404", 404), ("/status/503", 503)])
def test_an_unexpected_status_is_down_with_the_code(local_target, path, code):
    result = one(CheckSpec("svc", local_target.url(path)))
    assert verdict(result) == ("down", code, "status")
    assert str(code) in (result.error or "")


def test_expected_statuses_can_include_errors(local_target):
    spec = CheckSpec("svc", local_target.url("/status/404"), expected_status=((200, 299), (404, 404)))
    assert verdict(one(spec)) == ("up", 404, None)


def test_keyword_present_missing_and_absent(local_target):
    url = local_target.url("/keyword")
    results = probe(
        CheckSpec("has", url, keyword=KEYWORD),
        CheckSpec("lacks", url, keyword="not-on-the-page"),
        CheckSpec("must-not-have", url, keyword=KEYWORD, keyword_absent=True),
        CheckSpec("must-not-have-ok", url, keyword="error", keyword_absent=True),
    )
    assert [verdict(r) for r in results] == [
        ("up", 200, None),
        ("down", 200, "keyword"),
        ("down", 200, "keyword"),
        ("up", 200, None),
    ]


def test_a_slow_answer_is_degraded_not_down(local_target):
    result = one(CheckSpec("svc", local_target.url("/slow?ms=300"), degraded_ms=100))
    assert verdict(result) == ("degraded", 200, None)
    assert (result.response_ms or 0) >= 300 and "100 ms" in (result.error or "")


def test_a_flapping_target_alternates(local_target):
    spec = CheckSpec("svc", local_target.url("/flap?key=alternates"))
    assert [one(spec).status for _ in range(4)] == ["up", "down", "up", "down"]


def test_headers_method_and_body_are_sent(local_target):
    spec = CheckSpec(
        "svc",
        local_target.url("/echo"),
        method="post",
        headers=(("X-Upstat-Test", "yes-42"),),
        body="ping-body",
        keyword='"method": "POST", "body": "ping-body"',
    )
    assert verdict(one(spec)) == ("up", 200, None)
    assert (
        verdict(one(CheckSpec("svc", local_target.url("/echo"), keyword="yes-42", headers=spec.headers)))[0]
        == "up"
    )


def test_head_checks_get_no_body_but_a_status(local_target):
    assert verdict(one(CheckSpec("svc", local_target.url("/ok"), method="HEAD"))) == ("up", 200, None)


# --- failures are results, classified -----------------------------------------------------------------


def test_nothing_listening_is_refused(closed_port):
    result = one(CheckSpec("svc", f"http://127.0.0.1:{closed_port}/"))
    assert verdict(result) == ("down", None, "refused")
    assert str(closed_port) in (result.error or "")


def test_a_hanging_target_times_out_at_its_own_timeout(local_target):
    result = one(CheckSpec("svc", local_target.url("/slow?ms=5000"), timeout_ms=300))
    assert verdict(result) == ("down", None, "timeout")
    assert 290 <= (result.response_ms or 0) < 1000


def test_a_name_that_does_not_resolve_is_a_dns_failure(local_target):
    async def nowhere(host: str, family: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    result = one(CheckSpec("svc", f"http://nowhere.test:{port_of(local_target)}/ok"), lookup=nowhere)
    assert verdict(result) == ("down", None, "dns")
    assert local_target.hits("/ok") == 0


def test_a_silent_server_times_out(silent_port):
    result = one(CheckSpec("svc", f"http://127.0.0.1:{silent_port}/", timeout_ms=300))
    assert verdict(result) == ("down", None, "timeout")


def test_an_unknown_kind_is_invalid_not_a_crash():
    result = one(CheckSpec("svc", "http://example.com/", kind="icmp"))  # type: ignore[arg-type]
    assert verdict(result) == ("down", None, "invalid")


# --- concurrency and timeouts -------------------------------------------------------------------------


def test_hanging_targets_do_not_delay_fast_ones(local_target):
    hanging = [
        CheckSpec(f"hang{i}", local_target.url(f"/slow?ms=10000&i={i}"), timeout_ms=1000) for i in range(3)
    ]
    fast = [CheckSpec(f"fast{i}", local_target.url(f"/ok?i={i}")) for i in range(30)]
    started = time.perf_counter()
    results = probe(*hanging, *fast)
    wall = time.perf_counter() - started
    assert [r.error_kind for r in results[:3]] == ["timeout"] * 3
    assert all(r.status == "up" and (r.response_ms or 0) < 500 for r in results[3:])
    assert wall < 1.8  # about the longest timeout (1 s), not the sum of the three (3 s)


def test_results_keep_input_order_whatever_finishes_first(local_target):
    specs = [CheckSpec(f"s{ms}", local_target.url(f"/slow?ms={ms}")) for ms in (400, 10, 200, 0, 300)]
    assert [r.service_id for r in probe(*specs)] == [s.service_id for s in specs]


def test_a_check_waiting_for_a_slot_keeps_its_whole_timeout(local_target):
    # With one slot, the second check waits ~300 ms before it starts; its 450 ms must not be eaten by that.
    specs = [CheckSpec(f"s{i}", local_target.url(f"/slow?ms=300&i={i}"), timeout_ms=450) for i in range(2)]
    started = time.perf_counter()
    results = probe(*specs, concurrency=1)
    assert [r.status for r in results] == ["up", "up"]
    assert time.perf_counter() - started >= 0.6  # and they really ran one at a time


def test_checked_at_is_the_given_now(local_target):
    now = 1_780_000_000_000
    results = probe(CheckSpec("a", local_target.url("/ok")), CheckSpec("b", "http://[::1"), now_ms=now)
    assert [r.checked_at_ms for r in results] == [now, now]


def test_no_specs_no_results():
    assert run_probes([], policy=LOOPBACK) == []


def test_probe_many_is_awaitable_from_a_running_loop(local_target):
    async def main() -> list[CheckResult]:
        return await probe_many([CheckSpec("svc", local_target.url("/ok"))], policy=LOOPBACK)

    assert asyncio.run(main())[0].status == "up"


# --- body cap ------------------------------------------------------------------------------------------


def test_keyword_past_the_body_cap_is_not_found(local_target):
    spec = CheckSpec("svc", local_target.url("/big?kb=128"), keyword=KEYWORD)
    assert verdict(one(spec, body_cap=64 * 1024)) == ("down", 200, "keyword")
    assert verdict(one(spec, body_cap=256 * 1024)) == ("up", 200, None)


def test_an_endless_body_does_not_hang_the_check(local_target):
    url = local_target.url("/endless")
    started = time.perf_counter()
    results = probe(
        CheckSpec("no-keyword", url, timeout_ms=3000),
        CheckSpec("keyword", url, keyword=KEYWORD, timeout_ms=3000),
        CheckSpec("absent", url, keyword=KEYWORD, keyword_absent=True, timeout_ms=3000),
        body_cap=64 * 1024,
    )
    assert [verdict(r) for r in results] == [("up", 200, None), ("down", 200, "keyword"), ("up", 200, None)]
    assert time.perf_counter() - started < 1.5  # read up to the cap, not until the timeout


# --- redirects -----------------------------------------------------------------------------------------


def test_redirects_are_followed_up_to_the_limit(local_target):
    within = one(CheckSpec("svc", local_target.url(f"/chain/{MAX_REDIRECTS}"), keyword=OK_BODY))
    assert verdict(within) == ("up", 200, None)
    beyond = one(CheckSpec("svc", local_target.url(f"/chain/{MAX_REDIRECTS + 1}")))
    assert verdict(beyond) == ("down", None, "too_many_redirects")
    assert local_target.hits("/ok") == 1  # only the chain that fits reached the end


def test_a_redirect_loop_stops(local_target):
    result = one(CheckSpec("svc", local_target.url("/redirect-loop")))
    assert verdict(result) == ("down", None, "too_many_redirects")
    assert local_target.hits("/redirect-loop") == MAX_REDIRECTS + 1


def test_redirects_can_be_left_unfollowed(local_target):
    spec = CheckSpec("svc", local_target.url("/chain/1"), follow_redirects=False)
    assert verdict(one(spec)) == ("down", 302, "status")
    assert (
        verdict(one(CheckSpec("svc", spec.url, follow_redirects=False, expected_status=((302, 302),))))[0]
        == "up"
    )
    assert local_target.hits("/ok") == 0


@pytest.mark.parametrize(("code", "method"), [(303, "GET"), (302, "GET"), (307, "POST"), (308, "POST")])
def test_redirected_posts_follow_browser_rules(local_target, code, method):
    spec = CheckSpec(
        "svc",
        local_target.url(f"/redirect?to=/echo&code={code}"),
        method="POST",
        body="payload",
        keyword=f'"method": "{method}"',
    )
    assert verdict(one(spec)) == ("up", 200, None)


def test_credentials_are_not_forwarded_to_another_host(local_target):
    port = port_of(local_target)
    headers = (("Authorization", "Bearer secret-token"),)
    same = CheckSpec("same", local_target.url("/redirect?to=/echo"), headers=headers, keyword="secret-token")
    other = CheckSpec(
        "other",
        local_target.url(f"/redirect?to=http://localhost:{port}/echo"),
        headers=headers,
        keyword="secret-token",
        keyword_absent=True,
    )
    assert [verdict(r) for r in probe(same, other)] == [("up", 200, None), ("up", 200, None)]


SECRETS = (
    ("Authorization", "Bearer secret-token"),
    ("Cookie", "session=secret-cookie"),
    ("X-Api-Key", "secret-api-key"),
)


def test_credentials_stay_with_their_origin_when_a_redirect_changes_the_port(local_target, second_target):
    """Same host, another port: another origin. Authorization, cookies and custom headers are dropped;
    harmless headers (Accept) go on."""
    headers = (*SECRETS, ("Accept", "application/json"))
    spec = CheckSpec("port", local_target.url(f"/redirect?to={second_target.url('/echo')}"), headers=headers)
    assert verdict(one(spec)) == ("up", 200, None)
    [seen] = second_target.echoes
    assert seen.get("Accept") == "application/json"
    assert not {"Authorization", "Cookie", "X-Api-Key"} & set(seen)


def test_credentials_follow_a_redirect_within_their_origin(local_target):
    spec = CheckSpec("same", local_target.url("/redirect?to=/echo"), headers=SECRETS)
    assert verdict(one(spec)) == ("up", 200, None)
    [seen] = local_target.echoes
    assert {k: seen.get(k) for k, _ in SECRETS} == dict(SECRETS)


# --- TLS -----------------------------------------------------------------------------------------------


def test_https_reports_days_until_the_certificate_expires(tls_target):
    base_url, ssl_context = tls_target
    result = one(CheckSpec("svc", base_url + "/ok"), ssl_context=ssl_context)
    assert verdict(result) == ("up", 200, None)
    assert result.cert_days == pytest.approx(TLS_CERT_DAYS, abs=0.01)


def test_https_reports_cert_days_after_redirects_and_keyword_reads(tls_target):
    base_url, ssl_context = tls_target
    result = one(CheckSpec("svc", base_url + "/chain/2", keyword=OK_BODY), ssl_context=ssl_context)
    assert verdict(result) == ("up", 200, None)
    assert result.cert_days == pytest.approx(TLS_CERT_DAYS, abs=0.01)


def test_certificates_are_verified_by_default(tls_target):
    result = one(CheckSpec("svc", tls_target.base_url + "/ok"))  # the test CA is not trusted by default
    assert verdict(result) == ("down", None, "tls")


def test_an_expired_certificate_is_a_tls_failure(expired_tls_target):
    base_url, ssl_context = expired_tls_target
    result = one(CheckSpec("svc", base_url + "/ok"), ssl_context=ssl_context)
    assert verdict(result) == ("down", None, "tls")
    assert "expired" in (result.error or "")


def test_tls_kind_reports_cert_days(tls_target):
    base_url, ssl_context = tls_target
    result = one(CheckSpec("svc", base_url, kind="tls"), ssl_context=ssl_context)
    assert verdict(result) == ("up", None, None)
    assert result.cert_days == pytest.approx(TLS_CERT_DAYS, abs=0.01)


def test_tls_kind_counts_days_from_the_given_now(tls_target):
    base_url, ssl_context = tls_target
    now = int(time.time() * 1000)
    soon = one(CheckSpec("svc", base_url, kind="tls"), ssl_context=ssl_context, now_ms=now + DAY_MS)
    assert soon.cert_days == pytest.approx(TLS_CERT_DAYS - 1, abs=0.01) and soon.status == "up"
    late = one(CheckSpec("svc", base_url, kind="tls"), ssl_context=ssl_context, now_ms=now + 4 * DAY_MS)
    assert verdict(late) == ("down", None, "tls") and (late.cert_days or 0) < 0


def test_tls_kind_on_an_expired_certificate_is_down(expired_tls_target):
    base_url, ssl_context = expired_tls_target
    result = one(CheckSpec("svc", base_url, kind="tls"), ssl_context=ssl_context)
    assert verdict(result) == ("down", None, "tls")
    assert EXPIRED_DAYS_AGO > 0  # the fixture's certificate is in the past


def test_tls_kind_on_a_silent_port_times_out(silent_port):
    result = one(CheckSpec("svc", f"https://127.0.0.1:{silent_port}", kind="tls", timeout_ms=300))
    assert verdict(result) == ("down", None, "timeout")


# --- TCP and DNS ---------------------------------------------------------------------------------------


def test_tcp_port_open_and_closed(local_target, closed_port):
    results = probe(
        CheckSpec("open", f"tcp://127.0.0.1:{port_of(local_target)}", kind="tcp"),
        CheckSpec("closed", f"tcp://127.0.0.1:{closed_port}", kind="tcp"),
        CheckSpec("no-port", "tcp://127.0.0.1", kind="tcp"),
    )
    assert [verdict(r) for r in results] == [
        ("up", None, None),
        ("down", None, "refused"),
        ("down", None, "invalid"),
    ]
    assert results[0].response_ms is not None


def test_dns_check_of_localhost():
    result = one(CheckSpec("svc", "dns://localhost", kind="dns", dns_expected=("127.0.0.1",)))
    assert verdict(result) == ("up", None, None)


def fixed_lookup(answers: dict[tuple[str, int], list[str]]):
    async def lookup(host: str, family: int) -> list[str]:
        if (host, family) not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[(host, family)]

    return lookup


def test_dns_checks_compare_answers_with_the_expected_ones():
    lookup = fixed_lookup(
        {
            ("www.example.test", socket.AF_INET): ["10.0.0.1", "10.0.0.2"],
            ("www.example.test", socket.AF_INET6): ["2001:db8:0::1"],
        }
    )
    results = probe(
        CheckSpec("a", "dns://www.example.test", kind="dns", dns_expected=("10.0.0.2",)),
        CheckSpec("a-wrong", "dns://www.example.test", kind="dns", dns_expected=("10.0.0.3",)),
        CheckSpec(
            "aaaa",
            "dns://www.example.test",
            kind="dns",
            dns_record_type="AAAA",
            dns_expected=("2001:db8::1",),
        ),
        CheckSpec("any", "dns://www.example.test", kind="dns"),
        CheckSpec("missing", "dns://gone.example.test", kind="dns"),
        CheckSpec("mx", "dns://www.example.test", kind="dns", dns_record_type="MX"),
        policy=AddressPolicy(),  # private answers are fine: a DNS check connects to nothing
        lookup=lookup,
    )
    assert [verdict(r) for r in results] == [
        ("up", None, None),
        ("down", None, "dns"),
        ("up", None, None),
        ("up", None, None),
        ("down", None, "dns"),
        ("down", None, "invalid"),
    ]
    assert "10.0.0.3" in (results[1].error or "")
