"""FastAPI dependencies: settings, the Redis client, the engine and the caller, as ``Annotated`` aliases.

Tests override ``get_settings``/``get_redis`` through ``app.dependency_overrides`` when they need to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from upstat.auth import ANONYMOUS_READER, Principal
from upstat.config import Settings, get_settings
from upstat.errors import Forbidden, Unauthorized
from upstat.store.client import get_redis
from upstat.timeseries.engine import Engine

SettingsDep = Annotated[Settings, Depends(get_settings)]
RedisDep = Annotated[Any, Depends(get_redis)]


def get_engine(client: RedisDep) -> Engine:
    from upstat.timeseries.config import current_engine

    return current_engine(client)


EngineDep = Annotated[Engine, Depends(get_engine)]


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (None when absent)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization: expected 'Bearer <token>'", field="Authorization")
    return token.strip()


def _caller(request: Request, settings: Settings, client: Any, *, public: bool) -> Principal:
    token = bearer_token(request)
    if token is None:
        if public:
            return ANONYMOUS_READER
        raise Unauthorized("Authorization: a bearer token is required", field="Authorization")
    from upstat.auth.service import authenticate

    principal = authenticate(token, settings=settings, client=client)
    request.state.principal = principal
    return principal


def require(scope: str, *, public_setting: str | None = None) -> Callable[..., Principal]:
    """A dependency admitting callers holding ``scope`` (401 without a valid token, 403 without the scope).

    ``public_setting`` names a boolean setting (e.g. ``public_read``) that, when true, admits anonymous
    readers too.
    """

    def dependency(request: Request, settings: SettingsDep, client: RedisDep) -> Principal:
        public = bool(public_setting and getattr(settings, public_setting))
        principal = _caller(request, settings, client, public=public)
        if not principal.has(scope):
            raise Forbidden(f"Authorization: this key lacks the '{scope}' scope", field="Authorization")
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require("read", public_setting="public_read"))]
Writer = Annotated[Principal, Depends(require("write"))]
Admin = Annotated[Principal, Depends(require("admin"))]
