"""API key tokens: generation, parsing and hashing (pure functions, no I/O).

A token reads ``upk_<key id>_<secret>_<checksum>``:

- ``upk_`` makes it recognisable (secret scanners, logs, a human reading a config file);
- the key id (12 characters of ``[a-z0-9]``, ~62 bits) names the stored record and is not secret: it is what
  lists, logs and rate limits use;
- the secret is 32 random bytes (256 bits) in base62 (43 characters);
- the checksum is the CRC32 of everything before it, in base62 (6 characters), so a mistyped or truncated
  token is refused without asking Redis.

Redis holds only the SHA-256 of the whole token. A 256-bit random secret cannot be guessed from its hash,
so a pepper would add nothing against offline guessing; comparisons use ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib
from dataclasses import dataclass

PREFIX = "upk_"
KEY_ID_ALPHABET = string.ascii_lowercase + string.digits
KEY_ID_LENGTH = 12
SECRET_BYTES = 32
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
SECRET_LENGTH = 43  # ceil(256 / log2(62))
CHECKSUM_LENGTH = 6  # 62**6 > 2**32
TOKEN_LENGTH = len(PREFIX) + KEY_ID_LENGTH + 1 + SECRET_LENGTH + 1 + CHECKSUM_LENGTH
MAX_TOKEN_LENGTH = 512
"""Longer bearer values are refused before any work (no token upstat issues comes near it)."""

_KEY_ID_CHARS = frozenset(KEY_ID_ALPHABET)
_BASE62_CHARS = frozenset(BASE62)


@dataclass(frozen=True)
class ParsedToken:
    """A well-formed token (its checksum matches); says nothing yet about whether the key exists."""

    key_id: str
    token: str

    def digest(self) -> str:
        return token_digest(self.token)


def _base62(number: int, width: int) -> str:
    out = []
    while number:
        number, digit = divmod(number, 62)
        out.append(BASE62[digit])
    return "".join(reversed(out)).rjust(width, BASE62[0])


def checksum(body: str) -> str:
    """CRC32 of ``body`` as 6 base62 characters."""
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def new_key_id() -> str:
    return "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))


def new_token(key_id: str | None = None) -> ParsedToken:
    """A fresh token (a new key id unless one is given)."""
    key_id = key_id or new_key_id()
    secret = _base62(int.from_bytes(secrets.token_bytes(SECRET_BYTES), "big"), SECRET_LENGTH)
    body = f"{PREFIX}{key_id}_{secret}"
    return ParsedToken(key_id, f"{body}_{checksum(body)}")


def token_digest(token: str) -> str:
    """What Redis stores instead of the token: SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def digests_match(stored: str, presented: str) -> bool:
    return hmac.compare_digest(stored.encode("ascii", "replace"), presented.encode("ascii", "replace"))


def looks_like_key(token: str) -> bool:
    """Whether ``token`` claims to be an upstat API key (it may still be malformed)."""
    return token.startswith(PREFIX)


def parse(token: str) -> ParsedToken | None:
    """The key id of a well-formed token, or None (wrong shape, characters or checksum)."""
    if len(token) != TOKEN_LENGTH or not token.startswith(PREFIX):
        return None
    parts = token[len(PREFIX) :].split("_")
    if len(parts) != 3:
        return None
    key_id, secret, check = parts
    if len(key_id) != KEY_ID_LENGTH or not _KEY_ID_CHARS.issuperset(key_id):
        return None
    if len(secret) != SECRET_LENGTH or len(check) != CHECKSUM_LENGTH:
        return None
    if not _BASE62_CHARS.issuperset(secret) or not _BASE62_CHARS.issuperset(check):
        return None
    if not hmac.compare_digest(check, checksum(f"{PREFIX}{key_id}_{secret}")):
        return None
    return ParsedToken(key_id, token)


def is_key_id(value: str) -> bool:
    """Whether ``value`` has the shape of a key id (routes refuse other ids before asking Redis)."""
    return len(value) == KEY_ID_LENGTH and _KEY_ID_CHARS.issuperset(value)
