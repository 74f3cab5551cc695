"""Exact windows as pieces of whole aligned buckets (upstat.timeseries.windows): pure properties."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from tests.factories import NOW
from upstat.timeseries import timemath as tm
from upstat.timeseries.windows import Piece, pieces, window_start

BLOCKS = [5 * tm.MINUTE, 15 * tm.MINUTE, tm.HOUR, 6 * tm.HOUR, tm.DAY]
TIERS = tm.build_tiers("5m,15m,1h,6h,1d", "raw=48h,5m=14d,15m=35d,1h=90d,6h=400d,1d=0")
seconds = st.integers(1_700_000_000, 1_800_000_000).map(lambda s: s * 1000)


@given(seconds, st.integers(0, 40 * 86_400).map(lambda s: s * 1000))
def test_pieces_tile_the_window_with_whole_aligned_buckets(start, length):
    end = start + length
    found = pieces(start, end, BLOCKS)
    assert [p.start for p in found[1:]] == [p.end for p in found[:-1]]  # no gap, no overlap
    assert (found[0].start, found[-1].end) == (start, end) if found else length == 0
    for p in found:
        assert p.start % p.block == 0 and (p.end - p.start) % p.block == 0
        if p.block == tm.SECOND:  # seconds only where no 5-minute bucket fits: never one whole inside
            first_boundary = -(-p.start // BLOCKS[0]) * BLOCKS[0]
            assert first_boundary + BLOCKS[0] > p.end
    assert all(a.block != b.block for a, b in pairwise(found))


@given(seconds, st.integers(0, 400 * 86_400).map(lambda s: s * 1000))
def test_a_long_window_is_a_few_reads(start, length):
    # up the ladder from the start, down it towards the end: at most two pieces per block size
    assert len(pieces(start, start + length, BLOCKS)) <= 2 * (len(BLOCKS) + 1)


def test_the_last_24_hours_up_to_a_day_boundary():
    day = 20_000 * tm.DAY
    start = day - 24 * tm.HOUR + 7 * tm.MINUTE + 3 * tm.SECOND
    assert pieces(start, day, BLOCKS) == [
        Piece(start, start - start % (5 * tm.MINUTE) + 5 * tm.MINUTE, tm.SECOND),
        Piece(day - 24 * tm.HOUR + 10 * tm.MINUTE, day - 24 * tm.HOUR + 15 * tm.MINUTE, 5 * tm.MINUTE),
        Piece(day - 24 * tm.HOUR + 15 * tm.MINUTE, day - 23 * tm.HOUR, 15 * tm.MINUTE),
        Piece(day - 23 * tm.HOUR, day - 18 * tm.HOUR, tm.HOUR),
        Piece(day - 18 * tm.HOUR, day, 6 * tm.HOUR),
    ]


@given(st.integers(0, 400 * 86_400 * 1000))
def test_a_start_the_raw_tier_no_longer_holds_moves_to_the_finest_kept_bucket(age):
    start = NOW - age
    moved = window_start(start, TIERS, NOW)
    assert moved <= start and start - moved < tm.DAY
    if age <= 48 * tm.HOUR:
        assert moved == start - start % 1000
    elif age <= 14 * tm.DAY:
        assert moved == start - start % (5 * tm.MINUTE)
    elif age <= 35 * tm.DAY:
        assert moved == start - start % (15 * tm.MINUTE)
