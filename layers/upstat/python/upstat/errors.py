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


class Unprocessable(InvalidInput):
    status = 422
    error_type = "unprocessable"


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


class PayloadTooLarge(UpstatError):
    status = 413
    error_type = "payload_too_large"


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
