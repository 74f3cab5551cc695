"""Token format: high entropy, a recognisable prefix, a checksum that catches typos without a lookup."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from upstat.auth import tokens as tk

TOKEN = tk.new_token().token


def test_a_token_reads_prefix_key_id_secret_checksum() -> None:
    t = tk.new_token()
    prefix, key_id, secret, check = t.token.split("_")
    assert prefix + "_" == tk.PREFIX
    assert key_id == t.key_id and tk.is_key_id(key_id)
    assert len(secret) == 43 and 62**43 > 2**256
    assert len(check) == 6
    assert len(t.token) == tk.TOKEN_LENGTH
    assert tk.parse(t.token) == t


def test_tokens_and_key_ids_do_not_repeat() -> None:
    drawn = [tk.new_token() for _ in range(2000)]
    assert len({t.token for t in drawn}) == len({t.key_id for t in drawn}) == 2000


def test_the_digest_is_sha256_and_not_the_token() -> None:
    import hashlib

    assert tk.token_digest(TOKEN) == hashlib.sha256(TOKEN.encode()).hexdigest()
    assert TOKEN not in tk.token_digest(TOKEN)


@given(st.integers(min_value=0, max_value=tk.TOKEN_LENGTH - 1), st.sampled_from(tk.BASE62 + "_-"))
def test_any_one_character_typo_is_caught_by_the_checksum(position: int, char: str) -> None:
    if TOKEN[position] == char:
        return
    typo = TOKEN[:position] + char + TOKEN[position + 1 :]
    assert tk.parse(typo) is None


@given(st.integers(min_value=0, max_value=tk.TOKEN_LENGTH - 2))
def test_swapping_two_neighbouring_characters_is_caught(position: int) -> None:
    swapped = TOKEN[:position] + TOKEN[position + 1] + TOKEN[position] + TOKEN[position + 2 :]
    if swapped != TOKEN:
        assert tk.parse(swapped) is None


def test_truncated_extended_and_foreign_tokens_are_not_keys() -> None:
    for bad in (
        TOKEN[:-1],
        TOKEN + "a",
        "",
        "upk_",
        "Bearer",
        "upk_" + "a" * 63,
        TOKEN.upper(),
        "ghp_x" * 13,
    ):
        assert tk.parse(bad) is None
    assert tk.looks_like_key("upk_typo") and not tk.looks_like_key("test-admin-token")
