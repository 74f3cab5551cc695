"""Status files of every version and form, read by header names; bad files refused naming the line."""

from __future__ import annotations

import pytest

from tests.vpn.files import Conn, ctime, statistics, text_time, v1, v2, v3
from upstat.errors import InvalidInput
from upstat.vpn.statusfile import parse

AT = 1741615500  # 2025-03-10 14:05:00 UTC
ALICE = Conn("alice", 1234567, 7654321, 1741611600)
BOB = Conn("bob", 2048, 4096, 1741615200, "203.0.113.9:40112", "10.8.0.3")

# The formats sheet's example files, verbatim (ingestion-formats.md 3.4).
SHEET_V2 = """\
TITLE,OpenVPN 2.6.12 x86_64-pc-linux-gnu [SSL (OpenSSL)] [LZO] [LZ4] [EPOLL] [MH/PKTINFO] [AEAD] [DCO]
TIME,2025-03-10 14:05:00,1741615500
HEADER,CLIENT_LIST,Common Name,Real Address,Virtual Address,Virtual IPv6 Address,Bytes Received,Bytes Sent,\
Connected Since,Connected Since (time_t),Username,Client ID,Peer ID,Data Channel Cipher
CLIENT_LIST,alice,198.51.100.7:52011,10.8.0.2,,1234567,7654321,2025-03-10 13:00:00,1741611600,UNDEF,3,0,\
AES-256-GCM
CLIENT_LIST,bob,203.0.113.9:40112,10.8.0.3,fd00:8::1001,2048,4096,2025-03-10 14:00:00,1741615200,bob,4,1,\
CHACHA20-POLY1305
HEADER,ROUTING_TABLE,Virtual Address,Common Name,Real Address,Last Ref,Last Ref (time_t)
ROUTING_TABLE,10.8.0.2,alice,198.51.100.7:52011,2025-03-10 14:04:58,1741615498
ROUTING_TABLE,10.8.0.3,bob,203.0.113.9:40112,2025-03-10 14:04:59,1741615499
ROUTING_TABLE,fd00:8::1001,bob,203.0.113.9:40112,2025-03-10 14:04:59,1741615499
GLOBAL_STATS,Max bcast/mcast queue length,0
GLOBAL_STATS,dco_enabled,0
END
"""

# A 2.3-era version 2 file: eight columns, ctime dates (the kumina samples' shape).
OLD_V2 = """\
TITLE,OpenVPN 2.3.2 x86_64-pc-linux-gnu [SSL (OpenSSL)] [LZO] [EPOLL] [PKCS11] [eurephia] [MH] [IPv6]
TIME,Tue Mar 21 10:39:14 2017,1490089154
HEADER,CLIENT_LIST,Common Name,Real Address,Virtual Address,Bytes Received,Bytes Sent,Connected Since,\
Connected Since (time_t),Username
CLIENT_LIST,carol,192.0.2.9:1194,10.8.0.6,15004,6521,Tue Mar 21 09:01:22 2017,1490086882,UNDEF
HEADER,ROUTING_TABLE,Virtual Address,Common Name,Real Address,Last Ref,Last Ref (time_t)
ROUTING_TABLE,10.8.0.6,carol,192.0.2.9:1194,Tue Mar 21 10:39:11 2017,1490089151
GLOBAL_STATS,Max bcast/mcast queue length,0
END
"""


def _rows(status):
    return [(c.common_name, c.received, c.sent, c.connected_since) for c in status.clients]


def test_the_sheets_version_2_file() -> None:
    status = parse(SHEET_V2.encode())
    assert (status.form, status.time, status.time_line) == ("v2", AT * 1000, 2)
    assert status.title.startswith("OpenVPN 2.6.12")
    assert _rows(status) == [
        ("alice", 1234567, 7654321, 1741611600000),
        ("bob", 2048, 4096, 1741615200000),
    ]
    assert status.clients[1].real_address == "203.0.113.9:40112"
    assert status.clients[1].virtual_address == "10.8.0.3"


def test_version_3_is_the_same_file_with_tabs_and_commas_stay_in_the_title() -> None:
    status = parse(SHEET_V2.replace(",", "\t").replace("TITLE\tOpenVPN", "TITLE\tOpenVPN, built"))
    assert status.form == "v3"
    assert status.title.startswith("OpenVPN, built")
    assert _rows(status) == _rows(parse(SHEET_V2))


@pytest.mark.parametrize("writer", [v1, v2, v3], ids=["v1", "v2", "v3"])
def test_every_version_says_the_same(writer) -> None:
    status = parse(writer(AT, [ALICE, BOB]))
    assert status.time == AT * 1000
    assert _rows(status) == [
        ("alice", 1234567, 7654321, 1741611600000),
        ("bob", 2048, 4096, 1741615200000),
    ]


def test_columns_are_found_by_name_not_position() -> None:
    moved = SHEET_V2.replace(
        "Common Name,Real Address,Virtual Address,Virtual IPv6 Address,Bytes Received,Bytes Sent",
        "Bytes Sent,Real Address,Virtual Address,Virtual IPv6 Address,Bytes Received,Common Name",
    )
    moved = moved.replace(
        "alice,198.51.100.7:52011,10.8.0.2,,1234567,7654321",
        "7654321,198.51.100.7:52011,10.8.0.2,,1234567,alice",
    )
    moved = "\n".join(line for line in moved.splitlines() if not line.startswith("CLIENT_LIST,bob")) + "\n"
    assert parse(moved).clients[0].common_name == "alice"
    assert parse(moved).clients[0].sent == 7654321


def test_a_2_3_file_with_ctime_dates_and_eight_columns() -> None:
    status = parse(OLD_V2)
    assert status.time == 1490089154000
    assert _rows(status) == [("carol", 15004, 6521, 1490086882000)]


def test_version_1_times_are_read_in_the_servers_zone() -> None:
    text = (
        v1(AT, [ALICE])
        .replace(text_time(AT), "2025-03-10 15:05:00")
        .replace(text_time(ALICE.since), "2025-03-10 14:00:00")
    )
    status = parse(text, tz="Europe/Rome")  # UTC+1 in March
    assert status.time == AT * 1000
    assert status.clients[0].connected_since == ALICE.since * 1000


def test_version_1_with_ctime_dates() -> None:
    text = (
        v1(AT, [ALICE]).replace(text_time(AT), ctime(AT)).replace(text_time(ALICE.since), ctime(ALICE.since))
    )
    assert parse(text).time == AT * 1000
    assert parse(text).clients[0].connected_since == ALICE.since * 1000


def test_the_point_to_point_form_is_one_peer() -> None:
    status = parse(statistics(AT, 2052, 1944), peer="site-b")
    assert status.form == "statistics"
    assert status.time == AT * 1000
    assert _rows(status) == [("site-b", 2052, 1944, None)]


def test_an_empty_client_list_is_valid() -> None:
    for writer in (v1, v2, v3):
        assert parse(writer(AT, [])).clients == []


def test_undef_common_name_takes_the_username_and_duplicate_names_are_one_client() -> None:
    text = SHEET_V2.replace("CLIENT_LIST,bob,", "CLIENT_LIST,UNDEF,").replace(
        "CLIENT_LIST,alice,", "CLIENT_LIST,bob,"
    )
    status = parse(text)
    assert _rows(status) == [("bob", 1234567 + 2048, 7654321 + 4096, 1741615200000)]


def test_windows_line_endings_are_read() -> None:
    assert _rows(parse(SHEET_V2.replace("\n", "\r\n"))) == _rows(parse(SHEET_V2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello world\n", "status file line 1: not an OpenVPN status file"),
        ("", "status file line 1: empty"),
        (
            SHEET_V2.replace(",1234567,", ",12x4567,"),
            "status file line 4: Bytes Received: '12x4567' is not a whole number",
        ),
        (
            SHEET_V2.replace(",4096,", ",-4096,"),
            "status file line 5: Bytes Sent: '-4096' is not a whole number",
        ),
        (SHEET_V2.replace(",AES-256-GCM", ""), "status file line 4: 11 columns where the header has 12"),
        (SHEET_V2.replace("END\n", ""), "status file line 12: no END line"),
        (SHEET_V2.replace("TIME,2025-03-10 14:05:00,1741615500\n", ""), "no TIME line"),
        (
            SHEET_V2.replace("GLOBAL_STATS,dco", "SOMETHING,dco"),
            "status file line 11: unknown record 'SOMETHING'",
        ),
        (
            SHEET_V2.replace("Bytes Received,", "Bytes In,"),
            "status file line 3: the header has no column 'Bytes Received'",
        ),
        (
            SHEET_V2.replace("TIME,2025-03-10 14:05:00,1741615500", "TIME,yesterday"),
            "status file line 2: TIME: 'yesterday' is not a time",
        ),
        (
            SHEET_V2.replace(",1234567,", ",99999999999999999,"),
            "line 4: Bytes Received: 99999999999999999 is too large",
        ),
        (v1(AT, [ALICE]).replace("Updated,", "Update,"), "status file line 2: expected 'Updated,<time>'"),
        (statistics(AT, 1, 2).replace("TCP/UDP write bytes,2\n", ""), "no 'TCP/UDP write bytes' line"),
        (
            statistics(AT, 1, 2).replace("Auth read bytes,16", "Auth read bytes,16,7"),
            "status file line 7: 3 columns",
        ),
    ],
    ids=[
        "not-a-status-file",
        "empty",
        "non-numeric-bytes",
        "negative-bytes",
        "wrong-column-count",
        "cut-short",
        "no-time",
        "unknown-record",
        "missing-column",
        "bad-time",
        "beyond-2^53",
        "v1-no-updated",
        "p2p-missing-counter",
        "p2p-wrong-columns",
    ],
)
def test_bad_files_are_refused_naming_the_line(text: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse(text)
    assert expected in err.value.message


def test_a_file_that_is_not_utf8_names_the_line() -> None:
    with pytest.raises(InvalidInput, match="status file line 2: not UTF-8"):
        parse(b"OpenVPN STATISTICS\nUpdated,\xff\n")


def test_names_that_would_not_fit_a_source_name_are_refused() -> None:
    with pytest.raises(InvalidInput, match="status file line 4: Common Name: must be at most 90"):
        parse(v2(AT, [Conn("x" * 91, 1, 2, AT - 60)]))
    with pytest.raises(InvalidInput, match="status file line 1: the point-to-point form's client"):
        parse(statistics(AT, 1, 2), peer="y" * 91)
    with pytest.raises(InvalidInput, match="status file line 4: Common Name: must not contain '/'"):
        parse(v2(AT, [Conn("ops/alice", 1, 2, AT - 60)]))
    with pytest.raises(InvalidInput, match="status file line 1: the point-to-point form's client"):
        parse(statistics(AT, 1, 2), peer="site/b")
