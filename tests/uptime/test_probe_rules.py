"""The pure rules of a check: expected-status parsing and the verdict on an HTTP answer (no I/O)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from upstat.errors import InvalidInput
from upstat.uptime.checks import CheckSpec, judge_http, parse_expected_status, status_matches

codes = st.integers(100, 599)


@pytest.mark.parametrize(
    ("text", "ranges"),
    [
        ("200-299", ((200, 299),)),
        ("200-299,301", ((200, 299), (301, 301))),
        (" 200 - 204 , 404 ", ((200, 204), (404, 404))),
        ("418", ((418, 418),)),
    ],
)
def test_expected_status_text_becomes_ranges(text, ranges):
    assert parse_expected_status(text) == ranges


@pytest.mark.parametrize(
    "text", ["", "  ", "2xx", "200-", "-299", "299-200", "99", "600", "200,,301", "2000", None]
)
def test_bad_expected_status_names_the_field(text):
    with pytest.raises(InvalidInput) as err:
        parse_expected_status(text)
    assert err.value.field == "expectedStatus"


@given(st.lists(st.tuples(codes, codes).map(sorted), min_size=1, max_size=5))
def test_expected_status_round_trips(pairs):
    text = ",".join(f"{lo}-{hi}" for lo, hi in pairs)
    assert parse_expected_status(text) == tuple((lo, hi) for lo, hi in pairs)


@given(codes, st.lists(st.tuples(codes, codes).map(sorted), min_size=1, max_size=5), st.text(max_size=50))
def test_a_code_outside_the_expected_ranges_is_down_whatever_the_body(code, pairs, body):
    expected = tuple((lo, hi) for lo, hi in pairs)
    spec = CheckSpec("svc", "http://example.com/", expected_status=expected, keyword="x", degraded_ms=1)
    status, kind, _ = judge_http(spec, code, 5.0, body)
    if status_matches(code, expected):
        assert kind != "status"
    else:
        assert (status, kind) == ("down", "status")


@given(st.floats(0, 60_000), st.integers(0, 60_000))
def test_slow_is_degraded_only_past_the_threshold(response_ms, threshold):
    spec = CheckSpec("svc", "http://example.com/", degraded_ms=threshold)
    status, kind, _ = judge_http(spec, 200, response_ms, None)
    assert kind is None
    assert status == ("degraded" if response_ms > threshold else "up")


def test_status_is_judged_before_keyword_and_keyword_before_slowness():
    spec = CheckSpec("svc", "http://example.com/", keyword="ok", degraded_ms=10)
    assert judge_http(spec, 500, 50.0, "no")[:2] == ("down", "status")
    assert judge_http(spec, 200, 50.0, "no")[:2] == ("down", "keyword")
    assert judge_http(spec, 200, 50.0, "all ok")[:2] == ("degraded", None)
    assert judge_http(spec, 200, 5.0, "all ok")[:2] == ("up", None)
