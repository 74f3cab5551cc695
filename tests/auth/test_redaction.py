"""Log redaction: ?key= values, Authorization values and API key secrets never reach a formatted line."""

from __future__ import annotations

import logging

import pytest

from upstat.api.logging import RedactSecrets, install_redaction, redact

TOKEN = "upk_abcdefghijkl_" + "S" * 43 + "_abc123"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("GET /api/v1/monitoring/device/1/?key=s3cret&time=1 HTTP/1.1", "&time=1"),
        ("POST /x?a=1&KEY=s3cret", "?a=1&KEY="),
        ("headers: {'authorization': 'Bearer s3cret'}", "'authorization': 'Bearer "),
        ("[(b'authorization', b'Bearer s3cret')]", "b'authorization'"),
        ("Authorization: Basic s3cret", "Authorization: Basic "),
        ("x-api-key: s3cret", "x-api-key: "),
        (f"using {TOKEN}", "upk_abcdefghijkl_"),
        ("?access_token=s3cret#frag", "#frag"),
    ],
)
def test_secrets_are_replaced_and_the_rest_kept(line: str, kept: str) -> None:
    clean = redact(line)
    assert "s3cret" not in clean and "S" * 43 not in clean
    assert "[REDACTED]" in clean and kept in clean


def test_ordinary_lines_are_untouched() -> None:
    for line in ("GET /v1/chart?source=a&metric=b", "monkey=1 turkey=2", "no secrets here"):
        assert redact(line) == line


def record(msg: str, args: object, name: str = "test") -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)  # type: ignore[arg-type]


def test_uvicorn_access_records_keep_their_arguments() -> None:
    from uvicorn.logging import AccessFormatter

    rec = record(
        '%s - "%s %s HTTP/%s" %d', ("1.2.3.4:5", "GET", "/d/1/?key=s3cret", "1.1", 200), "uvicorn.access"
    )
    RedactSecrets().filter(rec)
    assert isinstance(rec.args, tuple) and len(rec.args) == 5
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(
        rec
    )
    assert "s3cret" not in line and "key=[REDACTED]" in line


def test_a_secret_split_between_format_and_argument_is_redacted() -> None:
    rec = record("GET /d/1/?key=%s&time=%d", ("s3cret", 5))
    RedactSecrets().filter(rec)
    assert rec.getMessage() == "GET /d/1/?key=[REDACTED]&time=5"


def test_tracebacks_are_redacted() -> None:
    try:
        raise ValueError(f"bad url http://h/x?key=s3cret token {TOKEN}")
    except ValueError:
        import sys

        rec = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    RedactSecrets().filter(rec)
    line = logging.Formatter().format(rec)
    assert "s3cret" not in line and "S" * 43 not in line and "ValueError" in line


def test_install_is_idempotent_and_reaches_handlers_added_before_it() -> None:
    handler = logging.NullHandler()
    logger = logging.getLogger("redaction-test")
    logger.addHandler(handler)
    try:
        install_redaction(("redaction-test",))
        install_redaction(("redaction-test",))
        assert sum(isinstance(f, RedactSecrets) for f in logger.filters) == 1
        assert sum(isinstance(f, RedactSecrets) for f in handler.filters) == 1
    finally:
        logger.removeHandler(handler)
        logger.filters.clear()
