"""Typed errors, raised low and mapped to HTTP once per API dialect."""

from __future__ import annotations

from typing import Any


class UpstatError(Exception):
    """Base of every error upstat raises on purpose. ``status`` is the HTTP status it maps to."""

    status = 500
    error_type = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.detail = detail


class InvalidInput(UpstatError):
    """The caller sent something we refuse: the message names the field."""

    status = 400
    error_type = "invalid_input"


class NotFound(UpstatError):
    status = 404
    error_type = "not_found"


class Conflict(UpstatError):
    status = 409
    error_type = "conflict"


class Unauthorized(UpstatError):
    status = 401
    error_type = "unauthorized"


class Forbidden(UpstatError):
    status = 403
    error_type = "forbidden"


class RateLimited(UpstatError):
    status = 429
    error_type = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreUnavailable(UpstatError):
    """Redis could not be reached or answered with an error we did not expect."""

    status = 503
    error_type = "store_unavailable"


def field_path(loc: Any) -> str:
    """A pydantic error location as a field path: ('body', 'points', 2, 'time') -> 'points[2].time'."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def invalid_from_errors(errors: list[Any], prefix: str = "") -> InvalidInput:
    """The first of pydantic's ``errors()`` as an InvalidInput whose message starts with the field path.

    The input itself is never echoed (it may hold NaN, which JSON cannot carry, or a secret)."""
    first = errors[0] if errors else {"loc": (), "msg": "invalid value", "type": "value_error"}
    field = field_path(first.get("loc", ()))
    if prefix:
        field = prefix if field == "body" else f"{prefix}.{field}"
    msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    kind = first.get("type", "")
    if kind == "missing":
        msg = "is required"
    elif kind == "finite_number":
        msg = "must be a finite number (NaN and Infinity are refused)"
    if field in ("body", prefix or "body") and ": " in msg and " " not in msg.split(": ", 1)[0]:
        # A model-level rule names its field first ("url: a push monitor has no url").
        field, msg = msg.split(": ", 1)
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return InvalidInput(f"{field}: {msg}{suffix}", field=field)
