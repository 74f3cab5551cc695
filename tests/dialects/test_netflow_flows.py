"""goflow2 JSON and nfdump CSV read into counts per exporter and second (upstat.dialects.netflow.flows):
pure, on records as those tools write them (docs: ingestion-formats.md sections 4 and 5)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import NOW
from upstat.dialects.netflow import flows as nf
from upstat.errors import InvalidInput

LOWEST = NOW - 48 * 3_600_000
NS = NOW * 1_000_000  # now in epoch nanoseconds
SEC = NOW - NOW % 1000

# goflow2's default formatter: every field, in its order (the formats doc's NetFlow v5 example).
V5_LINE = (
    '{"type":"NETFLOW_V5","time_received_ns":%d,"sequence_num":1042,"sampling_rate":0,'
    '"sampler_address":"192.0.2.1","time_flow_start_ns":%d,"time_flow_end_ns":%d,"bytes":15200,'
    '"packets":12,"src_addr":"10.0.0.5","dst_addr":"198.51.100.80","etype":"IPv4","proto":"TCP",'
    '"src_port":51514,"dst_port":443,"in_if":2,"out_if":3,"src_mac":"00:00:00:00:00:00",'
    '"dst_mac":"00:00:00:00:00:00","src_vlan":0,"dst_vlan":0,"vlan_id":0,"ip_tos":0,"forwarding_status":0,'
    '"ip_ttl":0,"ip_flags":0,"tcp_flags":27,"icmp_type":0,"icmp_code":0,"ipv6_flow_label":0,"fragment_id":0,'
    '"fragment_offset":0,"src_as":0,"dst_as":0,"next_hop":"10.0.0.1","next_hop_as":0,"src_net":"10.0.0.0/24",'
    '"dst_net":"0.0.0.0/0","bgp_next_hop":"","bgp_communities":[],"as_path":[],"mpls_ttl":[],"mpls_label":[],'
    '"mpls_ip":[],"observation_domain_id":0,"observation_point_id":0,"layer_stack":[],"layer_size":[],'
    '"ipv6_routing_header_addresses":[],"ipv6_routing_header_seg_left":0}'
)


def v5(start_ns: int, received_ns: int = NS) -> str:
    return V5_LINE % (received_ns, start_ns, start_ns + 59 * 10**9)


def record(**fields) -> dict:
    base = {
        "type": "IPFIX",
        "time_received_ns": NS,
        "sequence_num": 7,
        "sampling_rate": 0,
        "sampler_address": "192.0.2.9",
        "time_flow_start_ns": NS - 30 * 10**9,
        "time_flow_end_ns": NS,
        "bytes": 1000,
        "packets": 3,
    }
    return {**base, **fields}


def goflow2(text: str, *, array: bool = False) -> nf.Flows:
    return nf.read_goflow2(text, now=NOW, lowest=LOWEST, array=array)


def refused(fn, *args, **kwargs) -> str:
    with pytest.raises(InvalidInput) as err:
        fn(*args, **kwargs)
    return err.value.message


def test_goflow2_lines_count_per_exporter_and_second():
    start = NS - 90 * 10**9 - 123_456_789
    second = start // 1_000_000 - start // 1_000_000 % 1000
    text = "\n".join([v5(start), v5(start), "", json.dumps(record()), ""])
    flows = goflow2(text)
    assert flows.records == 3
    assert flows.as_counts() == {
        "192.0.2.1": {second: {"flows": 2, "bytes": 30400, "packets": 24}},
        "192.0.2.9": {SEC - 30_000: {"flows": 1, "bytes": 1000, "packets": 3}},
    }


def test_sflow_samples_are_scaled_by_their_sampling_rate_and_timed_when_received():
    # goflow2's README subset for sFlow: start and end equal the reception time
    line = (
        f'{{"type":"SFLOW_5","time_received_ns":{NS},"sequence_num":2999,"sampling_rate":100,'
        f'"sampler_address":"192.168.0.1","time_flow_start_ns":{NS},"time_flow_end_ns":{NS},"bytes":1500,'
        '"packets":1,"src_addr":"fd01::1","dst_addr":"fd01::2","etype":"IPv6","proto":"TCP",'
        '"src_port":443,"dst_port":50001}'
    )
    zero_start = json.dumps(
        record(time_flow_start_ns=0, sampling_rate=1, sampler_address="::ffff:192.168.0.1")
    )
    flows = goflow2(line + "\n" + zero_start)
    assert flows.as_counts() == {"192.168.0.1": {SEC: {"flows": 2, "bytes": 151_000, "packets": 103}}}


def test_a_json_array_and_a_single_object_are_batches_too():
    records = [record(sampler_address="2001:db8:0:0::1"), record(bytes=1)]
    assert goflow2(json.dumps(records), array=True).as_counts() == {
        "2001:db8::1": {SEC - 30_000: {"flows": 1, "bytes": 1000, "packets": 3}},
        "192.0.2.9": {SEC - 30_000: {"flows": 1, "bytes": 1, "packets": 3}},
    }
    assert goflow2(json.dumps(record()), array=True).records == 1
    assert "line 1: a flow record is a JSON object" in refused(goflow2, json.dumps(records))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "line 3: not valid JSON"),
        (json.dumps(record(sampler_address=None)), "line 3: sampler_address: is required"),
        (json.dumps({k: v for k, v in record().items() if k != "bytes"}), "line 3: bytes: is required"),
        (
            json.dumps(record(bytes=-1)),
            "line 3: bytes: must be an integer from 0 to 18446744073709551615, got -1",
        ),
        (json.dumps(record(bytes=1.5)), "line 3: bytes: must be an integer"),
        (json.dumps(record(packets=True)), "line 3: packets: must be an integer"),
        (json.dumps(record(packets="3")), "line 3: packets: must be an integer"),
        (
            json.dumps(record(sampling_rate=2**32)),
            "line 3: sampling_rate: must be an integer from 0 to 4294967295",
        ),
        (
            json.dumps(record(sampler_address="router-1")),
            'line 3: sampler_address: "router-1" is not an IP address',
        ),
        (json.dumps(record(sampler_address="fe80::1%eth0")), "is not an IP address"),
        (json.dumps(record(time_flow_start_ns=0, time_received_ns=0)), "line 3: has no time"),
        (
            json.dumps(record(time_flow_start_ns=NOW // 1000)),
            "line 3: time_flow_start_ns: 1780315207 is not epoch nanoseconds",
        ),
        (
            json.dumps(record(time_flow_start_ns=NS - 49 * 3600 * 10**9)),
            "line 3: time_flow_start_ns: 2026-05-30T11:00:07+00:00 is older than the raw tier's retention "
            "(48h)",
        ),
        (json.dumps(record(time_flow_start_ns=NS + 6 * 60 * 10**9)), "is more than 5 minutes in the future"),
        ("[1, 2]", "line 3: a flow record is a JSON object, got [1, 2]"),
        (json.dumps(record(sampler_address=[1])), "line 3: sampler_address: must be an IP address as text"),
        (json.dumps(record(time_received_ns="now")), "line 3: time_received_ns: must be an integer"),
        (json.dumps(record(time_flow_start_ns=-1)), "line 3: time_flow_start_ns: must be an integer from 0"),
    ],
)
def test_a_bad_record_is_refused_naming_its_line_and_field(line, message):
    text = json.dumps(record()) + "\n\n" + line + "\n" + json.dumps(record())
    assert message in refused(goflow2, text)


def test_whole_numbers_written_with_a_fraction_are_integers_as_json_says():
    flows = goflow2(json.dumps(record(bytes=1500.0, packets=2e0, sampling_rate=10.0)))
    assert flows.as_counts()["192.0.2.9"][SEC - 30_000] == {"flows": 1, "bytes": 15000, "packets": 20}


def test_a_bad_record_in_an_array_is_named_by_its_index():
    assert refused(goflow2, json.dumps([record(), record(bytes=-5)]), array=True).startswith(
        "records[1]: bytes:"
    )


# ---------------------------------------------------------------------------------------------------------
# nfdump

# `nfdump -r FILE -o csv` of nfdump 1.7.1 (Debian 12) on softflowd's NetFlow v5 export, times moved to NOW.
OLD_ROW = (
    "{ts},{te},27.000,10.0.0.3,10.0.0.4,2000,53,UDP,........,0,0,10,1730,0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,"
    "0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,"
    "0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,{ra},0/0,1,2026-06-01 12:00:05.432"
)
OLD_CSV = (
    nf.OLD_HEADER
    + "\n"
    + OLD_ROW.format(ts="2026-06-01 11:50:01", te="2026-06-01 11:50:28", ra="127.0.0.1")
    + "\n"
    + OLD_ROW.format(ts="2026-06-01 11:50:01", te="2026-06-01 11:50:28", ra="127.0.0.1").replace(
        ",10,1730,", ",2,100,"
    )
    + "\n"
    + OLD_ROW.format(ts="2026-06-01 11:59:59", te="2026-06-01 12:00:00", ra="192.0.2.7")
    + "\nSummary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n3,3560,22,1497,1,181\n"
)
# nfdump 1.7.5 and later (the formats doc's example, times moved to NOW)
NEW_CSV = (
    nf.NEW_HEADER + "\r\n"
    "2026-06-01 11:58:00.125,59.000,6,10.0.0.5,51514,198.51.100.80,443,12,15200,1\r\n"
    "2026-06-01 11:58:10.000,0.000,1,10.0.0.5,0,198.51.100.80,8.0,1,84,3\r\n"
)
T_1150 = 1_780_314_601_000  # 2026-06-01 11:50:01 UTC
T_1158 = 1_780_315_080_000  # 2026-06-01 11:58:00 UTC


def csv(text: str, *, tz: str = "UTC", exporter: str | None = None) -> nf.Flows:
    return nf.read_nfdump_csv(text, now=NOW, lowest=LOWEST, tz=tz, exporter=exporter)


def test_old_nfdump_csv_counts_each_row_as_a_flow_of_its_exporter():
    flows = csv(OLD_CSV)
    assert flows.records == 3
    assert flows.as_counts() == {
        "127.0.0.1": {T_1150: {"flows": 2, "bytes": 1830, "packets": 12}},
        "192.0.2.7": {T_1150 + 598_000: {"flows": 1, "bytes": 1730, "packets": 10}},
    }


def test_new_nfdump_csv_takes_its_exporter_from_the_caller_and_its_flow_column():
    flows = csv(NEW_CSV, exporter="::ffff:203.0.113.4")
    assert flows.as_counts() == {
        "203.0.113.4": {
            T_1158: {"flows": 1, "bytes": 15200, "packets": 12},
            T_1158 + 10_000: {"flows": 3, "bytes": 84, "packets": 1},
        }
    }


def test_nfdump_times_are_read_in_the_given_zone():
    flows = csv(
        NEW_CSV.replace("2026-06-01 11:58", "2026-06-01 15:28"), tz="Asia/Tehran", exporter="10.1.1.1"
    )
    assert min(flows.counts["10.1.1.1"]) == T_1158  # Tehran is UTC+03:30


@pytest.mark.parametrize(
    ("text", "exporter", "message"),
    [
        ("", None, "body: empty"),
        ("ts,te,sa\n", None, "line 1: not a header of nfdump's CSV"),
        (OLD_CSV.replace(",10,1730,", ",10,-1730,", 1), None, "line 2: not a row of this layout (48 fields)"),
        (
            OLD_CSV.replace("2026-06-01 11:59:59", "0000-00-00 00:00:00"),
            None,
            "line 4: time: '0000-00-00 00:00:00' is not a real date",
        ),
        (
            OLD_CSV.replace("2026-06-01 11:59:59", "2026-05-29 11:59:59"),
            None,
            "line 4: time: 2026-05-29T11:59:59+00:00 is older than the raw tier's retention",
        ),
        (OLD_CSV.replace("192.0.2.7", "1.2.3.4.5"), None, 'line 4: ra: "1.2.3.4.5" is not an IP address'),
        (OLD_CSV, "10.0.0.1", "exporter: this CSV names its exporter in column ra"),
        (NEW_CSV, None, "exporter: this CSV names no exporter"),
        (NEW_CSV, "gateway", 'exporter: "gateway" is not an IP address'),
        (NEW_CSV + "\n", "10.0.0.1", None),
        (NEW_CSV + "x\n", "10.0.0.1", "line 4: not a row of this layout (10 fields)"),
        (OLD_CSV.replace("3,3560,22", "3,3560"), None, "line 5: a summary is 'Summary'"),
        (OLD_CSV + "more\n", None, "line 5: a summary is 'Summary'"),
    ],
)
def test_bad_csv_is_refused_naming_its_line(text, exporter, message):
    if message is None:
        csv(text, exporter=exporter)
    else:
        assert message in refused(csv, text, exporter=exporter)


# ---------------------------------------------------------------------------------------------------------
# The CSV body's pattern in the OpenAPI document and the reader agree.

PATTERN = re.compile(nf.CSV_PATTERN)
VALID = [OLD_CSV, NEW_CSV, nf.OLD_HEADER, nf.NEW_HEADER + "\n"]


def reader_accepts_shape(text: str) -> bool:
    """Whether the reader takes the body's shape (dates, times and addresses are rules of their own)."""
    exporter = "10.0.0.1" if text.startswith(nf.NEW_HEADER) else None
    try:
        nf.read_nfdump_csv(text, now=NOW, lowest=None, tz="UTC", exporter=exporter)
    except InvalidInput as exc:
        return not (
            "line 1: not a header" in exc.message
            or "not a row" in exc.message
            or "a summary is" in exc.message
            or "body: empty" in exc.message
        )
    return True


@given(
    st.sampled_from(VALID),
    st.integers(0, 10**6),
    st.sampled_from(["", ",", "\n", "\r", "\r\n", "x", "5", " "]),
    st.integers(0, 2),
)
def test_the_documented_pattern_and_the_reader_agree_on_a_body_s_shape(base, at, insert, cut):
    i = at % (len(base) + 1)
    text = base[:i] + insert + base[i + cut :]
    assert bool(PATTERN.fullmatch(text)) == reader_accepts_shape(text)


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2**65),
    st.sampled_from([0, 1, 2, 100, NS, NS - 10**14, NS + 10**12, 2**53, 2**53 + 1, 2**64 - 1]),
    st.floats(allow_nan=True),
    st.text(max_size=3),
)
addresses = st.sampled_from(["192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", "nope", "", None, 5])
fields = st.fixed_dictionaries(
    {},
    optional={
        "sampler_address": addresses,
        "bytes": values,
        "packets": values,
        "sampling_rate": values,
        "time_flow_start_ns": values,
        "time_received_ns": values,
    },
)


@settings(deadline=None)
@given(fields)
def test_the_quick_path_counts_exactly_what_the_full_checks_count(rec):
    nf.exporter_address("192.0.2.1", "x")  # the quick path knows addresses seen before
    nf.exporter_address("::ffff:192.0.2.1", "x")
    quick = nf._fast(rec, NOW, LOWEST)
    full = nf.Flows()
    try:
        original, nf._fast = nf._fast, lambda *a: None  # type: ignore[assignment]
        nf.goflow2_record(full, rec, "line 1", now=NOW, lowest=LOWEST)
    except InvalidInput:
        assert quick is None
        return
    finally:
        nf._fast = original  # type: ignore[assignment]
    if quick is not None:
        [(exporter, seconds)] = full.counts.items()
        [(second, row)] = seconds.items()
        assert quick == (exporter, second, *row)
