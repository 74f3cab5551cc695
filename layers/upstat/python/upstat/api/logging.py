"""Secrets out of logs: ``?key=`` values, Authorization values, API key secrets and push tokens (in
``/v1/push/<token>`` paths) are redacted.

A key passed in a URL (OpenWISP devices do) is written by every access log that prints the path (OWASP
API2). ``RedactSecrets`` rewrites each record before any handler formats it. ``install_redaction()`` (called
by create_app) puts it on the loggers that print request lines (uvicorn's, httpx's, mangum's, upstat's:
a logger's filters see the records created on it) and on every handler of those loggers and of the root
logger (a handler's filters see every record propagated to it, whichever logger created it).
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[REDACTED]"

_QUERY = re.compile(r"(?i)(?<![\w-])((?:key|api_key|apikey|token|access_token)=)[^&\s\"'#]*")
_AUTH_HEADER = re.compile(
    r"(?i)((?:authorization|x-api-key)['\"]?\s*[:=,]\s*(?:b?['\"])?)(?:(bearer|basic|token)\s+)?[^\s'\",;)}\]]+"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+(?!\[REDACTED\])[^\s'\",;)}\]]+")
_API_KEY = re.compile(r"\b(upk_[a-z0-9]{12}_)[A-Za-z0-9_]+")
# A push monitor's URL is its credential: /v1/push/<token> (and the route template's own {token} kept).
_PUSH = re.compile(r"(/push/)(?!\{token\})(?!\[REDACTED\])[^/?#\s\"']+")

LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "httpx", "mangum", "upstat", "fastapi")


def _header(match: re.Match[str]) -> str:
    scheme = f"{match.group(2)} " if match.group(2) else ""
    return f"{match.group(1)}{scheme}{REDACTED}"


def redact(text: str) -> str:
    """``text`` with query keys, Authorization values and API key secrets replaced by [REDACTED]."""
    if "=" in text:
        text = _QUERY.sub(rf"\1{REDACTED}", text)
    text = _AUTH_HEADER.sub(_header, text)
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    if "upk_" in text:
        text = _API_KEY.sub(rf"\1{REDACTED}", text)
    if "/push/" in text:
        text = _PUSH.sub(rf"\1{REDACTED}", text)
    return text


def _redact_arg(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        return redact(value.decode("utf-8", "replace"))
    return value


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and traceback text when they hold a secret; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_message(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def _redact_message(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is the logging module's to report, not ours
        return
    clean = redact(message)
    if clean == message:
        return
    # Keep the format and its arguments when redacting them one by one gives the same text: formatters that
    # unpack the arguments (uvicorn's access log) still can. Otherwise (a secret split between the format
    # and an argument, as in "?key=%s"), the record carries the redacted text alone.
    msg = redact(record.msg) if isinstance(record.msg, str) else record.msg
    args: Any = record.args
    if isinstance(args, tuple):
        args = tuple(_redact_arg(a) for a in args)
    elif isinstance(args, dict):
        args = {k: _redact_arg(v) for k, v in args.items()}
    try:
        same = (str(msg) % args if args else str(msg)) == clean
    except (TypeError, ValueError, KeyError):
        same = False
    record.msg, record.args = (msg, args) if same else (clean, None)


_FILTER = RedactSecrets()


def install_redaction(loggers: tuple[str, ...] = LOGGERS) -> RedactSecrets:
    """Put the filter on ``loggers`` and on their handlers (idempotent); returns the filter."""
    for name in loggers:
        logger = logging.getLogger(name)
        _add(logger)
        for handler in logger.handlers:
            _add(handler)
    return _FILTER


def _add(target: logging.Filterer) -> None:
    if not any(isinstance(f, RedactSecrets) for f in target.filters):
        target.addFilter(_FILTER)
