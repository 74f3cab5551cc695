"""The SSRF guard: which addresses and URLs a check may reach, and the known ways around such guards.

Everything here either inspects the guard without connecting, or connects only to 127.0.0.x servers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.uptime.targets import OK_BODY, LocalTarget, ServerThread, make_app
from upstat.errors import InvalidInput
from upstat.uptime.checks import CheckSpec
from upstat.uptime.probe import probe_many, run_probes
from upstat.uptime.ssrf import (
    REFUSED_V4,
    REFUSED_V6,
    AddressPolicy,
    BlockedAddress,
    GuardedResolver,
    TargetRefused,
    check_url,
    legacy_ipv4,
)

STRICT = AddressPolicy()
LOOPBACK = AddressPolicy.from_text("127.0.0.0/8,::1/128")


# --- the address classifier --------------------------------------------------------------------------

REFUSED_EXAMPLES = [
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "169.254.0.1",
    "100.64.0.1",  # CGNAT
    "100.127.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "198.18.0.1",
    "198.19.255.255",
    "192.0.2.10",
    "198.51.100.1",
    "203.0.113.7",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::127.0.0.1",  # IPv4-compatible (deprecated)
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of the metadata address
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:db8::1",
    "100::1",
    "fec0::1",
]

PUBLIC_EXAMPLES = [
    "1.1.1.1",
    "8.8.8.8",
    "93.184.216.34",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.0",  # just above CGNAT
    "172.32.0.1",  # just above 172.16/12
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of a public address
    "2002:808:808::1",  # 6to4 of a public address
]


@pytest.mark.parametrize("address", REFUSED_EXAMPLES)
def test_non_public_addresses_are_refused_with_a_reason(address):
    reason = STRICT.is_refused(address)
    assert reason is not None and reason.startswith(f"{ipaddress.ip_address(address)} ")


@pytest.mark.parametrize("address", PUBLIC_EXAMPLES)
def test_public_addresses_are_accepted(address):
    assert STRICT.is_refused(address) is None


@pytest.mark.parametrize("address", ["100.64.0.1", "224.0.0.1", "64:ff9b::7f00:1", "192.0.0.9"])
def test_addresses_is_private_lets_through_are_refused(address):
    # ipaddress.is_private says False for these on every supported Python (3.11 to 3.13): a guard built on
    # it alone would connect.
    assert not ipaddress.ip_address(address).is_private
    assert STRICT.is_refused(address) is not None


def test_6to4_of_loopback_is_refused_whatever_the_python_version_says():
    # is_private of 2002::/16 changed (CPython gh-113171, in 3.13 and later 3.11/3.12 patch releases): the
    # guard judges the IPv4 address inside instead, so its answer does not depend on the interpreter.
    reason = STRICT.is_refused("2002:7f00:1::1")
    assert reason is not None and "127.0.0.1" in reason


def test_loopback_is_refused_until_allowed_explicitly():
    assert "loopback" in (STRICT.is_refused("127.0.0.1") or "")
    assert LOOPBACK.is_refused("127.0.0.1") is None
    assert LOOPBACK.is_refused("::1") is None
    # Allowing loopback allows nothing else.
    assert LOOPBACK.is_refused("10.0.0.1") is not None
    assert LOOPBACK.is_refused("169.254.169.254") is not None


def test_an_allowed_network_covers_its_addresses_only():
    policy = AddressPolicy.from_text("10.0.0.0/24")
    assert policy.is_refused("10.0.0.77") is None
    assert policy.is_refused("10.0.1.77") is not None
    # The same address written as IPv4-mapped IPv6 gets the same answer.
    assert policy.is_refused("::ffff:10.0.0.77") is None
    assert policy.is_refused("::ffff:10.0.1.77") is not None


@pytest.mark.parametrize("text", ["127.0.0.0/33", "localhost", "10.0.0.0/8,nope"])
def test_bad_allowed_targets_name_the_setting(text):
    with pytest.raises(InvalidInput) as err:
        AddressPolicy.from_text(text)
    assert err.value.field == "allowed_targets"


def test_policy_from_settings_reads_allowed_targets(settings):
    from upstat.uptime.probe import policy_from_settings

    policy = policy_from_settings(settings)
    assert policy.is_refused("127.0.0.1") is None
    assert policy.is_refused("10.0.0.1") is not None


def _embeddings(v4: ipaddress.IPv4Address) -> list[ipaddress.IPv6Address]:
    n = int(v4)
    return [
        ipaddress.IPv6Address((0xFFFF << 32) | n),  # ::ffff:a.b.c.d
        ipaddress.IPv6Address((0x64FF9B << 96) | n),  # 64:ff9b::a.b.c.d
        ipaddress.IPv6Address((0x2002 << 112) | (n << 80) | 1),  # 2002:AABB:CCDD::1
    ]


@given(st.ip_addresses(v=4))
def test_embedding_an_ipv4_address_in_ipv6_never_changes_the_verdict(v4):
    refused = STRICT.is_refused(v4) is not None
    for v6 in _embeddings(v4):
        assert (STRICT.is_refused(v6) is not None) == refused, v6


@given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)))
def test_whatever_the_standard_library_calls_non_global_is_refused(ip):
    if ip.version == 6 and _embeds(ip):
        return  # judged by the IPv4 address inside (previous property)
    flags = (
        ip.is_private,
        ip.is_loopback,
        ip.is_link_local,
        ip.is_multicast,
        ip.is_reserved,
        ip.is_unspecified,
    )
    if any(flags) or not ip.is_global:
        assert STRICT.is_refused(ip) is not None


def _embeds(ip: ipaddress.IPv6Address) -> bool:
    return any(ip in ipaddress.ip_network(n) for n in ("::ffff:0:0/96", "64:ff9b::/96", "2002::/16"))


refused_nets = st.sampled_from([net for net, _ in REFUSED_V4 + REFUSED_V6])


@given(
    refused_nets, st.integers(min_value=0), st.sampled_from(["1.1.1.0/24", "2606:4700::/32", "10.9.9.0/24"])
)
def test_any_address_in_a_refused_network_is_refused_unless_an_allowed_network_holds_it(net, offset, other):
    ip = net[offset % net.num_addresses]
    unrelated = AddressPolicy.from_text(other)
    if not unrelated.is_allowed_explicitly(ip):
        assert unrelated.is_refused(ip) is not None
    assert AddressPolicy((net,)).is_refused(ip) is None


@given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)), st.integers(0, 128))
def test_an_allowed_network_always_wins(ip, prefix):
    net = ipaddress.ip_network(f"{ip}/{min(prefix, ip.max_prefixlen)}", strict=False)
    assert AddressPolicy((net,)).is_refused(ip) is None


# --- URL validation (before any connection) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_numeric_hosts_are_read_the_way_libc_reads_them(host, address):
    assert legacy_ipv4(host) == ipaddress.IPv4Address(address)


@pytest.mark.parametrize("host", ["example.com", "1e2.com", "0x7f.example", "127.0.0.1.nip.io"])
def test_names_are_not_numeric_hosts(host):
    assert legacy_ipv4(host) is None


@pytest.mark.parametrize("host", ["1.2.3.256", "08.0.0.1", "0x100.0.0.1", "1.2.3.4.5", "4294967296", "a.1"])
def test_malformed_numeric_hosts_are_invalid(host):
    with pytest.raises(TargetRefused) as err:
        check_url(f"http://{host}/", LOOPBACK)
    assert err.value.kind == "invalid"


BYPASSES = [
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://0xa9fea9fe/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::1]/",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/",  # fullwidth digits: IDNA folds them into 127.0.0.1
]


@pytest.mark.parametrize("url", BYPASSES)
def test_ip_literal_tricks_are_blocked_before_connecting(url):
    with pytest.raises(TargetRefused) as err:
        check_url(url, STRICT)
    assert err.value.kind == "blocked"


MALFORMED = [
    "http://127.0.0.1:6666\\@1.1.1.1",
    "http://1.1.1.1\\@127.0.0.1/",
    "http://127.0.0.1\\.example.com/",
    "http://%31%32%37.0.0.1/",
    "http://127.0.0.1%2f@1.1.1.1/",
    "http://localhost%00.example.com/",
    "http://user:pass@1.1.1.1/",
    "http://1.1.1.1@127.0.0.1/",
    "http://[fe80::1%25eth0]/",
    "http://exa mple.com/",
    "http://example.com\r\nHost: x/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "ftp://example.com/",
    "dict://127.0.0.1:11211/",
    "javascript:alert(1)",
    "//example.com/",
    "http:///path",
    "http://example.com:99999/",
    "http://under_score-.example/",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_and_ambiguous_urls_are_invalid(url):
    with pytest.raises(TargetRefused) as err:
        check_url(url, LOOPBACK)
    assert err.value.kind == "invalid"


@pytest.mark.parametrize("url", ["http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/"])
def test_non_canonical_literals_never_reach_loopback_even_when_loopback_is_allowed(url):
    with pytest.raises(TargetRefused) as err:
        check_url(url, LOOPBACK)
    assert err.value.kind == "invalid" and "127.0.0.1" in err.value.message


@pytest.mark.parametrize(
    "url",
    ["http://example.com/", "https://example.com:8443/x?y=1", "http://1.1.1.1/", "https://[2606:4700::1]/"],
)
def test_ordinary_public_urls_pass(url):
    assert str(check_url(url, STRICT)).startswith(url.split("/x")[0].rstrip("/"))


# --- the resolver: what is checked is what is connected to -------------------------------------------


def fake_lookup(*answers: Sequence[str]):
    """A lookup answering successive calls with successive address lists (the last one repeats)."""
    calls: list[str] = []

    async def lookup(host: str, family: int) -> list[str]:
        calls.append(host)
        return list(answers[min(len(calls), len(answers)) - 1])

    return lookup, calls


def resolve(resolver: GuardedResolver, host: str) -> list[str]:
    async def go() -> list[str]:
        return [r["host"] for r in await resolver.resolve(host, 80, socket.AF_UNSPEC)]

    return asyncio.run(go())


def test_resolver_returns_only_the_allowed_addresses():
    lookup, _ = fake_lookup(["127.0.0.1", "93.184.216.34", "169.254.169.254", "2606:4700::1"])
    assert resolve(GuardedResolver(STRICT, lookup), "mixed.test") == ["93.184.216.34", "2606:4700::1"]


def test_resolver_refuses_a_name_with_only_refused_addresses():
    lookup, _ = fake_lookup(["127.0.0.1", "::1", "10.0.0.1"])
    with pytest.raises(BlockedAddress, match="loopback"):
        resolve(GuardedResolver(STRICT, lookup), "internal.test")


def test_a_name_that_resolves_public_then_loopback_is_refused_on_the_second_lookup():
    lookup, calls = fake_lookup(["93.184.216.34"], ["127.0.0.1"])
    resolver = GuardedResolver(STRICT, lookup)
    assert resolve(resolver, "rebind.test") == ["93.184.216.34"]
    with pytest.raises(BlockedAddress):
        resolve(resolver, "rebind.test")
    assert calls == ["rebind.test", "rebind.test"]  # one lookup per resolution: nothing re-resolves later


# --- through the prober, against real local servers -------------------------------------------------


@pytest.fixture(scope="module")
def stand_in_public(target_thread: ServerThread, _http_target: LocalTarget) -> LocalTarget:
    """A server on 127.0.0.2 at the loopback target's port, standing in for a public address."""
    hits: Counter[str] = Counter()
    port = int(_http_target.base_url.rsplit(":", 1)[1])
    target_thread.serve(make_app(hits), host="127.0.0.2", port=port)
    return LocalTarget(f"http://127.0.0.2:{port}", hits)


ONLY_STAND_IN = AddressPolicy.from_text("127.0.0.2/32")


def _port(target: LocalTarget) -> int:
    return int(target.base_url.rsplit(":", 1)[1])


def test_rebinding_name_connects_to_the_address_that_was_checked(local_target, stand_in_public):
    stand_in_public.reset()
    lookup, calls = fake_lookup(["127.0.0.2"], ["127.0.0.1"])
    spec = CheckSpec("svc", f"http://rebind.test:{_port(local_target)}/ok")
    first = run_probes([spec], policy=ONLY_STAND_IN, lookup=lookup)[0]
    assert first.status == "up" and stand_in_public.hits("/ok") == 1
    second = run_probes([spec], policy=ONLY_STAND_IN, lookup=lookup)[0]
    assert (second.status, second.error_kind) == ("down", "blocked")
    assert local_target.hits("/ok") == 0  # the loopback server never saw a request
    assert len(calls) == 2


def test_mixed_answers_connect_only_to_the_allowed_address(local_target, stand_in_public):
    stand_in_public.reset()
    lookup, _ = fake_lookup(["127.0.0.1", "127.0.0.2"])
    specs = [CheckSpec(f"s{i}", f"http://mixed.test:{_port(local_target)}/ok") for i in range(5)]
    results = run_probes(specs, policy=ONLY_STAND_IN, lookup=lookup)
    assert [r.status for r in results] == ["up"] * 5
    assert stand_in_public.hits("/ok") == 5 and local_target.hits("/ok") == 0


def test_redirect_from_an_allowed_target_to_a_refused_one_is_blocked(local_target, stand_in_public):
    stand_in_public.reset()
    refused = local_target.url("/ok")  # 127.0.0.1: not allowed by this policy
    spec = CheckSpec("svc", stand_in_public.url(f"/redirect?to={refused}"))
    result = run_probes([spec], policy=ONLY_STAND_IN)[0]
    assert (result.status, result.error_kind) == ("down", "blocked")
    assert "redirect" in (result.error or "") and local_target.hits("/ok") == 0


def test_redirect_to_a_name_resolving_to_a_refused_address_is_blocked(local_target, stand_in_public):
    stand_in_public.reset()
    lookup, _ = fake_lookup(["127.0.0.1"])
    spec = CheckSpec("svc", stand_in_public.url(f"/redirect?to=http://sneaky.test:{_port(local_target)}/ok"))
    result = run_probes([spec], policy=ONLY_STAND_IN, lookup=lookup)[0]
    assert (result.status, result.error_kind) == ("down", "blocked")
    assert local_target.hits("/ok") == 0


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        ("http://169.254.169.254/latest/meta-data/", "blocked"),
        ("http://[::ffff:169.254.169.254]/", "blocked"),
        ("http://0xa9fea9fe/", "blocked"),
        ("http://100.64.0.1/", "blocked"),
        ("file:///etc/passwd", "invalid"),
        ("gopher://127.0.0.1:6379/_INFO", "invalid"),
    ],
)
def test_redirects_to_internal_or_odd_targets_are_refused(local_target, location, kind):
    spec = CheckSpec("svc", local_target.url(f"/redirect?to={location}"))
    result = run_probes([spec], policy=LOOPBACK)[0]
    assert (result.status, result.error_kind) == ("down", kind)


def test_loopback_target_is_blocked_by_default_and_checked_when_allowed(local_target):
    spec = CheckSpec("svc", local_target.url("/ok"))
    blocked = run_probes([spec], policy=STRICT)[0]
    assert (blocked.status, blocked.error_kind) == ("down", "blocked")
    assert local_target.hits("/ok") == 0
    allowed = run_probes([spec], policy=LOOPBACK)[0]
    assert (allowed.status, allowed.code) == ("up", 200)
    assert local_target.hits("/ok") == 1


def test_localhost_by_name_is_blocked_by_default(local_target):
    spec = CheckSpec("svc", f"http://localhost:{_port(local_target)}/ok")
    result = run_probes([spec], policy=STRICT)[0]
    assert (result.status, result.error_kind) == ("down", "blocked")
    assert local_target.hits("/ok") == 0


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "%31%32%37.0.0.1"])
def test_legacy_literals_of_the_local_target_never_reach_it(local_target, host):
    spec = CheckSpec("svc", f"http://{host}:{_port(local_target)}/ok")
    for policy in (STRICT, LOOPBACK):
        result = run_probes([spec], policy=policy)[0]
        assert result.status == "down" and result.error_kind in ("blocked", "invalid")
    assert local_target.hits("/ok") == 0


def test_backslash_at_trick_never_reaches_the_local_target(local_target):
    spec = CheckSpec("svc", f"http://127.0.0.1:{_port(local_target)}\\@1.1.1.1/ok")
    result = run_probes([spec], policy=LOOPBACK)[0]
    assert (result.status, result.error_kind) == ("down", "invalid")
    assert local_target.hits("/ok") == 0


@pytest.mark.parametrize("method", ["CONNECT", "TRACE", "PROPFIND", "GET /admin HTTP/1.1\r\nX:"])
def test_only_standard_methods_are_sent(local_target, method):
    result = run_probes([CheckSpec("svc", local_target.url("/echo"), method=method)], policy=LOOPBACK)[0]
    assert (result.status, result.error_kind) == ("down", "invalid")
    assert local_target.hits("/echo") == 0


@pytest.mark.parametrize(
    "headers", [(("X-A", "a\r\nHost: evil"),), (("X-A\r\nX-B", "b"),), (("X A", "c"),), (("X-A", "nul\x00"),)]
)
def test_headers_that_could_split_the_request_are_refused(local_target, headers):
    result = run_probes([CheckSpec("svc", local_target.url("/echo"), headers=headers)], policy=LOOPBACK)[0]
    assert (result.status, result.error_kind) == ("down", "invalid")
    assert local_target.hits("/echo") == 0


def test_proxy_settings_in_the_environment_are_ignored(local_target, monkeypatch):
    # A proxy that does not exist: if the prober honoured it, the check would fail to connect.
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    result = run_probes([CheckSpec("svc", local_target.url("/ok"))], policy=LOOPBACK)[0]
    assert (result.status, result.code) == ("up", 200)
    assert local_target.hits("/ok") == 1


def test_tcp_checks_go_through_the_same_guard(local_target):
    lookup, _ = fake_lookup(["127.0.0.1"])
    port = _port(local_target)
    specs = [
        CheckSpec("lit", f"tcp://127.0.0.1:{port}", kind="tcp"),
        CheckSpec("name", f"tcp://db.internal.test:{port}", kind="tcp"),
        CheckSpec("hex", f"tcp://0x7f000001:{port}", kind="tcp"),
    ]
    blocked = asyncio.run(probe_many(specs, policy=STRICT, lookup=lookup))
    assert [(r.status, r.error_kind) for r in blocked] == [
        ("down", "blocked"),
        ("down", "blocked"),
        ("down", "blocked"),
    ]
    allowed = asyncio.run(probe_many(specs[:2], policy=LOOPBACK, lookup=lookup))
    assert [r.status for r in allowed] == ["up", "up"]


def test_the_local_target_answers_what_the_fixture_promises(local_target):
    result = run_probes([CheckSpec("svc", local_target.url("/ok"), keyword=OK_BODY)], policy=LOOPBACK)[0]
    assert result.status == "up"
