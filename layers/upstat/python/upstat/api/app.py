"""The FastAPI application, assembled from one router module per area.

Each module in ``ROUTERS`` exposes ``router`` (an APIRouter). upstat's own routes live under /v1; each
reference document's routes live in upstat.dialects.<name> at that document's paths. A module may also
expose ``BODY_LIMITS`` (path -> name of the setting that bounds that path's request bodies) for routes
that take larger batches than ``UPSTAT_MAX_BODY_BYTES`` (registered when the module is included, before
its first request reaches the body limit).

A router is imported and included when a request first needs it (its paths start with one of the module's
prefixes; any other path, the OpenAPI document and the docs include every router first, so 404, 405 and the
document are as if all were there): building routes (their pydantic models, parameters, dependencies) is
most of the API's import, and a cold start then pays only for what its first request uses.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from starlette._utils import get_route_path

import upstat
from upstat.api import errors
from upstat.api.errors import ErrorBody
from upstat.api.logging import install_redaction
from upstat.api.middleware import BodyLimit, HeadAsGet, StoreFailures
from upstat.config import Settings, get_settings

# Each router module with the path prefixes it serves ("/" alone: that path only); the longest prefix
# matching a path names its module (tests/api/test_openapi.py checks every route against this table).
ROUTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("upstat.api.routes.meta", ("/healthz",)),
    ("upstat.api.routes.metrics", ("/metrics",)),
    (
        "upstat.api.routes.series",
        ("/v1/chart", "/v1/ingest", "/v1/retention", "/v1/series", "/v1/top", "/v1/total"),
    ),
    ("upstat.api.routes.keys", ("/v1/keys",)),
    ("upstat.api.routes.status_page", ("/v1/status/page",)),
    ("upstat.api.routes.badges", ("/v1/badges",)),
    ("upstat.api.routes.subscribers", ("/v1/subscribers",)),
    ("upstat.api.routes.feeds", ("/v1/status/feed.rss", "/v1/status/feed.atom")),
    ("upstat.api.routes.sources", ("/v1/sources",)),
    ("upstat.api.routes.organizations", ("/v1/organizations",)),
    (
        "upstat.api.routes.uptime",
        ("/v1/incidents", "/v1/maintenance", "/v1/push", "/v1/services", "/v1/status"),
    ),
    ("upstat.api.routes.backups", ("/v1/backups",)),
    ("upstat.api.routes.rules", ("/v1/rules",)),
    ("upstat.api.routes.channels", ("/v1/channels", "/v1/alerts")),
    ("upstat.dialects.openuptimes", ("/api",)),
    ("upstat.dialects.openvpn", ("/api/v1",)),
    ("upstat.dialects.duplistatus", ("/api/upload", "/api/chart-data")),
    ("upstat.dialects.netflow.routes", ("/v1/api",)),
    ("upstat.dialects.openwisp", ("/api/v1/monitoring",)),
    ("upstat.api.routes.pages", ("/", "/dashboard", "/status")),
)


def serves(prefix: str, path: str) -> bool:
    """Whether this prefix claims ``path``."""
    if prefix == "/":
        return path == "/"
    return path == prefix or path.startswith(prefix + "/")


def owner(path: str) -> str | None:
    """The router module serving ``path``: the one with the longest prefix claiming it (None: no module)."""
    best, length = None, -1
    for name, prefixes in ROUTERS:
        for p in prefixes:
            if len(p) > length and serves(p, path):
                best, length = name, len(p)
    return best


class Routers:
    """The routers an application has included so far, and the including of the others when needed."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.loaded: set[str] = set()
        self.body_limits: dict[str, int] = {}  # the modules' BODY_LIMITS, read by the BodyLimit middleware

    def include(self, name: str) -> None:
        if name not in self.loaded:
            self.loaded.add(name)
            module = importlib.import_module(name)
            self.app.include_router(module.router, responses=ERROR_RESPONSES)
            for path, setting in getattr(module, "BODY_LIMITS", {}).items():
                self.body_limits[path] = getattr(self.settings, setting)

    def include_all(self) -> None:
        for name, _ in ROUTERS:
            self.include(name)

    def include_for(self, path: str) -> None:
        """Include the router serving ``path``; every router when none claims it."""
        if len(self.loaded) == len(ROUTERS):
            return
        name = owner(path)
        if name is None:
            self.include_all()
        else:
            self.include(name)


class IncludeRouters:
    """ASGI middleware: include the router a request needs before routing it."""

    def __init__(self, app: Any, routers: Routers) -> None:
        self.app = app
        self.routers = routers

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            self.routers.include_for(get_route_path(scope))
        await self.app(scope, receive, send)


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


def create_app(settings: Settings | None = None, *, eager: bool = False) -> FastAPI:
    """A new application (tests build their own; Lambda and `make run` use ``get_app()``). ``eager``
    includes every router now instead of when a request first needs it."""
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
    routers = Routers(app, settings)
    app.state.routers = routers
    if eager:
        routers.include_all()
    app.add_middleware(StoreFailures)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, paths=routers.body_limits)
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
    app.add_middleware(IncludeRouters, routers=routers)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document without FastAPI's default 422 (bad requests answer 400 with the envelope)."""
    if app.openapi_schema:
        return app.openapi_schema
    app.state.routers.include_all()
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
    """The process-wide application (built once, reused by warm Lambda invocations). Under SnapStart every
    route is built before the snapshot; otherwise a router is built when a request first needs it."""
    settings = get_settings()
    return create_app(settings, eager=settings.lambda_initialization_type == "snap-start")
