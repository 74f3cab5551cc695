"""Errors mapped to HTTP in one place.

upstat's own routes answer every error as one envelope::

    {"status": 400, "error": "invalid_input", "message": "points[2].time: ...", "field": "points[2].time"}

In Lambda the envelope also carries ``request_id``, the invocation's request id, which every log line of
that invocation carries too (Lambda's JSON log format) and the API's access log (``integrationRequestId``):
a caller quoting it leads straight to the logs. Every error response, whatever its dialect, has it in the
``X-Request-Id`` header as well.

A reference dialect whose document defines its own error shape registers a formatter for its path prefix
(``register_error_format``); its routes then answer in that shape, from the same typed errors.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from upstat.errors import InvalidInput, RateLimited, UpstatError, field_path, invalid_from_errors

log = logging.getLogger("upstat.api")


class ErrorBody(BaseModel):
    """The error envelope of upstat's own routes."""

    status: int
    error: str
    message: str
    field: str | None = None
    request_id: str | None = Field(
        None, description="The Lambda request id, as in the logs (present when served by Lambda)"
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "status": 400,
                    "error": "invalid_input",
                    "message": "range: unknown unit",
                    "field": "range",
                    "request_id": "8f5d7e9c-1b2a-4c3d-9e8f-0a1b2c3d4e5f",
                }
            ]
        }
    }


# (status, error type, message, field) -> JSON body of a dialect's own error shape
Formatter = Callable[[int, str, str, str | None], Any]
_formats: list[tuple[str, Formatter]] = []

HTTP_ERROR_TYPES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def register_error_format(prefix: str, formatter: Formatter) -> None:
    """Routes under ``prefix`` (e.g. ``/api/``) answer errors in the shape ``formatter`` returns."""
    _formats.append((prefix, formatter))
    _formats.sort(key=lambda item: -len(item[0]))


def envelope(status: int, error: str, message: str, field: str | None) -> dict[str, Any]:
    return {"status": status, "error": error, "message": message, "field": field}


def request_id(scope: Scope) -> str | None:
    """The Lambda request id of this request (mangum puts the invocation's context in the scope), or None
    outside Lambda."""
    rid = getattr(scope.get("aws.context"), "aws_request_id", None)
    return str(rid) if rid else None


def error_response(
    path: str,
    status: int,
    error: str,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    rid: str | None = None,
) -> JSONResponse:
    """The error in the shape of the route's dialect (upstat's envelope by default); ``rid`` is the
    request id (:func:`request_id`), in the envelope and the ``X-Request-Id`` header when known."""
    formatter: Formatter = envelope
    for prefix, fmt in _formats:
        if path.startswith(prefix):
            formatter = fmt
            break
    body = formatter(status, error, message, field)
    out = dict(headers) if headers else {}
    if rid:
        out["X-Request-Id"] = rid
        if formatter is envelope:
            body["request_id"] = rid
    return JSONResponse(body, status_code=status, headers=out or None)


def validation_problem(exc: RequestValidationError) -> InvalidInput:
    """The first problem of a validation error as an InvalidInput whose message starts with the field path
    (:func:`upstat.errors.invalid_from_errors`), with the hints only a request needs."""
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    kind = first.get("type", "")
    if kind == "json_invalid":
        return InvalidInput("body: not valid JSON", field="body")
    if field_path(first.get("loc", ())) == "body" and kind in (
        "model_attributes_type",
        "model_type",
        "dict_type",
    ):
        # Most often curl -d without a JSON content type: the body was not read as JSON at all.
        return InvalidInput(
            "body: expected a JSON object, sent with Content-Type: application/json", field="body"
        )
    return invalid_from_errors([_readable(e) for e in errors])


#: Human words for the patterns and long choice lists the document states (the message never quotes a
#: regular expression or hundreds of time zones).
_PATTERN_WORDS = {
    "INTERVAL": "an interval: an integer and one of s, m, h, d, w, M, y (such as 15m, 24h, 7d)",
    "RESOLUTION": "auto, raw or an interval such as 5m, 1h, 1d",
    "DATETIME": "an ISO 8601 date-time such as 2026-01-09T12:00:00Z, or 'YYYY-MM-DD H:M:S'",
    "NAME": "a name without control characters or spaces at either end",
}


def _pattern_words(pattern: str) -> str:
    from upstat.api import params
    from upstat.names import NAME_PATTERN, SEGMENT_PATTERN

    known = {
        params.INTERVAL_PATTERN: _PATTERN_WORDS["INTERVAL"],
        params.RESOLUTION_PATTERN: _PATTERN_WORDS["RESOLUTION"],
        params.DATETIME_PATTERN: _PATTERN_WORDS["DATETIME"],
        NAME_PATTERN: _PATTERN_WORDS["NAME"],
        SEGMENT_PATTERN: _PATTERN_WORDS["NAME"] + " or '/'",
    }
    return known.get(pattern, "the form the document states for it")


def _readable(error: Any) -> Any:
    """A pydantic error whose message a reader can act on: a pattern says what it stands for, a long list
    of choices is summed up, and the value sent is quoted as JSON would write it."""
    from upstat.timeseries.points import shown

    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "string_pattern_mismatch":
        words = _pattern_words(str(ctx.get("pattern", "")))
        return {**error, "msg": f"{shown(value)} is not {words}"}
    if kind in ("enum", "literal_error") and str(ctx.get("expected", "")).count(",") > 20:
        example = (
            "Europe/Rome" if "Europe/" in str(ctx.get("expected")) else "one of the values the document lists"
        )
        return {**error, "msg": f"{shown(value)} is not one of the accepted values (such as {example})"}
    return error


def _template(path: str) -> re.Pattern[str]:
    """A route template as a pattern: ``/v1/services/{name}`` matches ``/v1/services/api``."""
    parts = re.split(r"(\{[^{}]+\})", path)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


@lru_cache(maxsize=4)
def _method_table(app: FastAPI) -> tuple[tuple[re.Pattern[str], frozenset[str]], ...]:
    """Every documented path's pattern with its methods (the app's routes do not change once built)."""
    paths = app.openapi().get("paths", {})
    return tuple((_template(path), frozenset(m.upper() for m in ops)) for path, ops in paths.items())


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method of every route whose path matches ``path`` (not only the first route that matched, as
    Starlette's 405 says), for ``Allow``."""
    found: set[str] = set()
    for pattern, methods in _method_table(app):
        if pattern.match(path):
            found |= methods
    if "GET" in found:
        found.add("HEAD")  # upstat.api.middleware.HeadAsGet
    return sorted(found)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a JSON error (never an HTML page or a bare 500)."""

    @app.exception_handler(UpstatError)
    async def _upstat(request: Request, exc: UpstatError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        rid = request_id(request.scope)
        if exc.status >= 500:
            extra = {"error": exc.error_type, "request_id": rid}
            log.error("%s: %s", exc.error_type, exc.message, exc_info=exc.__cause__ or exc, extra=extra)
        path = request.url.path
        return error_response(path, exc.status, exc.error_type, exc.message, exc.field, headers, rid=rid)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # One answer for every bad request, whichever layer caught it: 400 naming the field. The input is
        # never echoed: a NaN in it would make the default handler's JSON encoding fail (a 500).
        problem = validation_problem(exc)
        rid = request_id(request.scope)
        return error_response(
            request.url.path, 400, problem.error_type, problem.message, problem.field, rid=rid
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = HTTP_ERROR_TYPES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else error
        headers = exc.headers
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}"
        if exc.status_code == 405:
            allowed = allowed_methods(app, request.url.path)
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
            message = f"{request.method} is not allowed on {request.url.path}; allowed: {', '.join(allowed)}"
        field = "body" if exc.status_code == 413 else None
        if exc.status_code == 400 and message == "There was an error parsing the body":
            message, field = (
                "body: not valid JSON (text in UTF-8, nested at most a few hundred levels)",
                "body",
            )
        rid = request_id(request.scope)
        return error_response(request.url.path, exc.status_code, error, message, field, headers, rid=rid)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Redis failures are answered by upstat.api.middleware.StoreFailures before they get here.
        rid = request_id(request.scope)
        where = {"method": request.method, "path": request.url.path, "request_id": rid}
        log.exception("unexpected error on %s %s", request.method, request.url.path, extra=where)
        return error_response(request.url.path, 500, "internal_error", "internal error", rid=rid)
