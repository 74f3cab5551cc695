"""One router module per reference document, each at that document's paths and in its field names.

:class:`BadRequestRoute` is the route class of routers whose document (or issue) wants request validation
failures answered as 400 naming the field, rather than FastAPI's 422: the validation error becomes an
:class:`~upstat.errors.InvalidInput`, which the installed handlers format in the route's dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from upstat.api.errors import field_path
from upstat.errors import InvalidInput


def validation_problem(exc: RequestValidationError) -> InvalidInput:
    """The first problem of a validation error as an InvalidInput whose message starts with the field path.

    The input itself is never echoed (it may hold NaN, which JSON cannot carry, or a secret)."""
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request", "type": "value_error"}
    field = field_path(first.get("loc", ()))
    kind = first.get("type", "")
    if kind == "json_invalid":
        return InvalidInput("body: not valid JSON", field="body")
    msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if field == "body" and kind in ("model_attributes_type", "model_type", "dict_type"):
        # Most often curl -d without a JSON content type: the body was not read as JSON at all.
        return InvalidInput(
            "body: expected a JSON object, sent with Content-Type: application/json", field="body"
        )
    if kind == "finite_number":
        msg = "must be a finite number (NaN and Infinity are refused)"
    if field == "body" and ": " in msg and " " not in msg.split(": ", 1)[0]:
        # A model-level rule names its field first ("url: a push monitor has no url").
        field, msg = msg.split(": ", 1)
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return InvalidInput(f"{field}: {msg}{suffix}", field=field)


class BadRequestRoute(APIRoute):
    """A route whose request validation failures are 400 InvalidInput errors naming the field."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                raise validation_problem(exc) from None

        return route
