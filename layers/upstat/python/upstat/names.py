"""The one rule for names a user gives: sources, metrics, services, keys, groups and tags. Pure.

A name is 1 to ``max_len`` characters with no control characters (C0, DEL, C1), no line or paragraph
separators, no lone surrogates (JSON's ``"\\ud800"`` decodes to one, and Redis could not store it) and no
whitespace at either end (two names that look the same must be the same). Names used as a URL path segment
(services) may not hold ``/`` either. The message names the field and says which rule failed.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from upstat.errors import InvalidInput

MAX_NAME = 200
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})

_NAME_CHAR = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]"
_EDGE_CHAR = r"[^\s\x00-\x1f\x7f-\x9f\u2028\u2029]"
#: The rule as a pattern, for the OpenAPI document (lone surrogates cannot be sent as valid JSON text).
NAME_PATTERN = rf"^{_EDGE_CHAR}(?:{_NAME_CHAR}*{_EDGE_CHAR})?$"
#: Names that are a URL path segment (services) also leave out '/'.
SEGMENT_PATTERN = NAME_PATTERN.replace("[^", "[^/")


def name_problem(value: Any, *, max_len: int = MAX_NAME, path_segment: bool = False) -> str | None:
    """Why ``value`` is not an acceptable name (None when it is)."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > max_len:
        return f"must be at most {max_len} characters"
    if value != value.strip():
        return "must not start or end with whitespace"
    for ch in value:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return f"must not contain control characters (found U+{ord(ch):04X})"
    if path_segment and "/" in value:
        return "must not contain '/' (it is part of URLs)"
    return None


@lru_cache(maxsize=65536)
def _good(value: str) -> bool:
    return name_problem(value) is None


def is_name(value: Any) -> bool:
    """True for an acceptable name (default length, any segment): remembered, since the same sources and
    metrics come back with every write."""
    return type(value) is str and _good(value)


def check_name(value: Any, field: str, *, max_len: int = MAX_NAME, path_segment: bool = False) -> str:
    """``value`` if it is an acceptable name, else InvalidInput (400) naming ``field``."""
    problem = name_problem(value, max_len=max_len, path_segment=path_segment)
    if problem is not None:
        raise InvalidInput(f"{field}: {problem}", field=field)
    return value
