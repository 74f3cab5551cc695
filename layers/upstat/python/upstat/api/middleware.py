"""Pure ASGI middleware (no BaseHTTPMiddleware: it buffers bodies and costs time on every request)."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("upstat.api")


class StoreFailures:
    """A Redis failure answers 503 ``store_unavailable`` with one log line naming its cause.

    Starlette's catch-all (``exception_handler(Exception)``) answers and then re-raises to the server: two
    full tracebacks a failure, the keep-alive connection reset, and mangum's "An error occurred running the
    application". Caught here, inside that middleware, the failure is handled like any other error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            from redis.exceptions import RedisError

            if started or not isinstance(exc, RedisError):
                raise
            await _store_unavailable(scope, exc, send)


async def _store_unavailable(scope: Scope, exc: Exception, send: Send) -> None:
    from upstat.api.errors import error_response, request_id

    rid = request_id(scope)
    method, path = scope.get("method", ""), scope.get("path", "")
    cause = f"{type(exc).__name__}: {exc}"
    extra = {"method": method, "path": path, "request_id": rid, "error": "store_unavailable"}
    log.error("store unavailable on %s %s (%s)", method, path, cause, extra=extra)
    from redis.exceptions import OutOfMemoryError

    if isinstance(exc, OutOfMemoryError):
        error, message = (
            "store_full",
            "the data store is out of memory: nothing was written (reads still work)",
        )
    else:
        error, message = "store_unavailable", "the data store is unavailable"
    response = error_response(path, 503, error, message, rid=rid)
    await response(scope, _no_receive, send)


class HeadAsGet:
    """Answer HEAD wherever GET is served: the GET route runs and only its status and headers are sent.

    Uptime checkers (and curl -I) ask with HEAD; Starlette routes it to nothing and answers 405. The body's
    Content-Length is kept, as HTTP says a HEAD answer reports the length GET would send."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, by Content-Length or while streaming. ``paths``
    gives some paths their own limit (routes that take large batches)."""

    def __init__(self, app: ASGIApp, max_bytes: int, paths: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.paths = paths if paths is not None else {}  # shared: routers add theirs when included

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope.get("path", ""), self.max_bytes)
        if _declared_length(scope) > limit:
            await self._refuse(scope, send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        from upstat.api.errors import error_response, request_id

        response = error_response(
            scope.get("path", ""),
            413,
            "payload_too_large",
            f"body: request body is larger than the limit of {limit} bytes",
            "body",
            rid=request_id(scope),
        )
        await response(scope, _no_receive, send)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


class _TooLarge(HTTPException):
    """Raised while the body streams in; an HTTPException so FastAPI's body reader passes it on as is."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"body: request body is larger than the limit of {max_bytes} bytes")


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
