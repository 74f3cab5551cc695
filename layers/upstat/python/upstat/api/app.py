"""The FastAPI application, assembled from one router module per area.

Each module in ``ROUTERS`` exposes ``router`` (an APIRouter). upstat's own routes live under /v1; each
reference document's routes live in upstat.dialects.<name> at that document's paths. A module may also
expose ``BODY_LIMITS`` (path -> name of the setting that bounds that path's request bodies) for routes
that take larger batches than ``UPSTAT_MAX_BODY_BYTES``.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

import upstat
from upstat.api import errors
from upstat.api.errors import ErrorBody
from upstat.api.logging import install_redaction
from upstat.api.middleware import BodyLimit, HeadAsGet, StoreFailures
from upstat.config import Settings, get_settings

ROUTERS: tuple[str, ...] = (
    "upstat.api.routes.meta",
    "upstat.api.routes.series",
    "upstat.api.routes.keys",
    "upstat.api.routes.status_page",
    "upstat.api.routes.sources",
    "upstat.api.routes.organizations",
    "upstat.api.routes.uptime",
    "upstat.api.routes.backups",
    "upstat.dialects.openuptimes",
    "upstat.dialects.openvpn",
    "upstat.dialects.duplistatus",
    "upstat.dialects.netflow.routes",
    "upstat.api.routes.pages",
)

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "Bad input: the message names the field"),
        (401, "Missing or unknown bearer token"),
        (403, "The token lacks the route's scope"),
        (413, "Request body over the configured limit"),
        (429, "Rate limit reached: see Retry-After"),
    )
}
ERROR_RESPONSES[429]["headers"] = {
    "Retry-After": {"description": "Seconds until a request is admitted again", "schema": {"type": "integer"}}
}

DESCRIPTION = """Uptime monitoring and time-series statistics on Redis.

Authenticate with `Authorization: Bearer <token>` (an API key `upk_...`, a source key, or the bootstrap
admin token). Errors of upstat's own routes are one JSON envelope: `status`, `error`, `message`, `field`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new application (tests build their own; Lambda and `make run` use ``get_app()``)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="upstat",
        version=upstat.__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    errors.install(app)
    install_redaction()  # ?key= values and Authorization never reach a log line
    body_limits: dict[str, int] = {}
    for name in ROUTERS:
        module = importlib.import_module(name)
        app.include_router(module.router, responses=ERROR_RESPONSES)
        for path, setting in getattr(module, "BODY_LIMITS", {}).items():
            body_limits[path] = getattr(settings, setting)
    app.add_middleware(StoreFailures)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, paths=body_limits)
    app.add_middleware(HeadAsGet)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        # Browser pages of these origins may call the API with a bearer token (no cookies: no credentials).
        # Preflights are answered here; a preflight from another origin gets no CORS headers (400).
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Content-Encoding", "Idempotency-Key"],
            expose_headers=["Retry-After", "Allow", "X-Request-Id"],
            max_age=600,
        )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document without FastAPI's default 422 (bad requests answer 400 with the envelope)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            # Validation failures answer 400 naming the field (upstat.api.errors), never FastAPI's 422.
            operation.get("responses", {}).pop("422", None)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    _json_schema_bounds(schema)
    _restore_examples(components)
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components.setdefault("ErrorBody", ErrorBody.model_json_schema())
    app.openapi_schema = schema
    return schema


_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _json_schema_bounds(node: Any) -> None:
    """Bounds in JSON Schema's words. pydantic writes a constraint on a type with its own validator (our
    ``WholeInt``) in pydantic-core's words (``ge``, ``le``) inside unions and lists, which no client reads."""
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            for short, word in _BOUNDS.items():
                if short in node:
                    node[word] = node.pop(short)
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False  # keys outside the patterns are refused, as validated
        for value in node.values():
            _json_schema_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _json_schema_bounds(value)


def _models(cls: type[BaseModel]) -> list[type[BaseModel]]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_models(sub))
    return out


def _restore_examples(components: dict[str, Any]) -> None:
    """Put back the ``null`` values FastAPI drops from examples (it encodes the whole document with
    ``exclude_none``, fastapi/fastapi#5559), so a published example stays valid for its model."""
    for model in _models(BaseModel):
        if not model.__module__.startswith("upstat."):
            continue
        extra = model.model_config.get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        if not examples:
            continue
        qualified = f"{model.__module__}.{model.__name__}".replace(".", "__")
        for name in (model.__name__, qualified):
            target = components.get(name)
            if target is None or "examples" not in target:
                continue
            fields = set(model.model_json_schema(by_alias=True).get("properties", {}))
            if set(target.get("properties", {})) == fields:  # this very model, not a namesake
                target["examples"] = examples


@lru_cache(maxsize=1)
def get_app() -> FastAPI:
    """The process-wide application (built once, reused by warm Lambda invocations)."""
    return create_app()
